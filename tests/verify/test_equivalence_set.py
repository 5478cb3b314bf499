"""The team's labelled equivalence sets: their shape, their balance, and the verifier on every pair.

Each pair is its own test (``test_pair[<file>-<category>-<index>]``), so a failure names the
pair; ``<index>`` is the pair's 0-based line number in ``data/equivalence/<file>.jsonl``.
``pairs`` is the main set; the others were written after the verifier was finished, to see
how it does on answers its author had not seen (see ``data/equivalence/README.md``).
"""

from __future__ import annotations

import importlib
import importlib.util
import json
import sys
from collections import Counter
from pathlib import Path

import pytest

# `rewardkit.verify` the attribute is the function re-exported by `rewardkit`; take the module.
verify_module = importlib.import_module("rewardkit.verify")

DATA_DIR = Path(__file__).resolve().parents[2] / "data" / "equivalence"
PAIRS_PATH = DATA_DIR / "pairs.jsonl"

# Every kind of answer the verifier issue lists must be covered, with positives and negatives.
REQUIRED_CATEGORIES = {
    "integer", "thousands_separator", "decimal", "scientific", "fraction", "mixed_number",
    "percent", "degrees", "units", "currency", "constants", "roots", "trig", "log",
    "factorial", "binomial", "expression", "equation", "inequality", "interval", "set",
    "tuple", "matrix", "vector", "multiple_answers", "multiple_choice", "text", "base",
    "near_zero", "latex_wrappers", "hedging", "adversarial",
}  # fmt: skip
KEYS = {"pred", "gold", "equivalent", "category"}
OPTIONAL_KEYS = {"note", "options"}  # options: VerifyOptions fields the label assumes


def _load(path: Path) -> list[dict]:
    with path.open(encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


PAIRS = _load(PAIRS_PATH)
HOLDOUT = _load(DATA_DIR / "holdout.jsonl")
VARIANTS = _load(DATA_DIR / "math500_variants.jsonl")
HACKING = _load(DATA_DIR / "reward_hacking.jsonl")
HOLDOUT2 = _load(DATA_DIR / "holdout2.jsonl")
HOLDOUT3 = _load(DATA_DIR / "holdout3.jsonl")
ANSWER_FORMS = _load(DATA_DIR / "answer_forms.jsonl")
SETS = {
    "pairs": PAIRS,
    "holdout": HOLDOUT,
    "math500_variants": VARIANTS,
    "reward_hacking": HACKING,
    "holdout2": HOLDOUT2,
    "holdout3": HOLDOUT3,
    "answer_forms": ANSWER_FORMS,
}

# The interim verifier on main is a normalised string match; the real one (branch `verify`)
# adds `parse_math`. Until it is merged, the per-pair checks are expected to fall short.
_REAL_VERIFIER = hasattr(verify_module, "parse_math")


@pytest.mark.parametrize("name", list(SETS))
def test_every_row_follows_the_schema(name):
    rows = SETS[name]
    assert rows, f"no pairs in {name}.jsonl"
    for index, row in enumerate(rows):
        assert KEYS <= set(row) <= KEYS | OPTIONAL_KEYS, f"line {index}: keys {sorted(row)}"
        assert isinstance(row["pred"], str) and isinstance(row["gold"], str), f"line {index}"
        assert isinstance(row["equivalent"], bool), f"line {index}: label must be true/false"
        assert isinstance(row["category"], str) and row["category"], f"line {index}"
        assert isinstance(row.get("note", ""), str), f"line {index}: note must be a string"
        verify_module.VerifyOptions(**row.get("options", {}))  # known fields, valid values


def test_no_pair_appears_twice_in_either_set():
    rows = [row for rows in SETS.values() for row in rows]
    counts = Counter((row["pred"], row["gold"], str(row.get("options"))) for row in rows)
    assert [pair for pair, n in counts.items() if n > 1] == []


def test_set_is_large_and_balanced():
    assert len(PAIRS) >= 400
    labels: dict[str, Counter] = {}
    for row in PAIRS:
        labels.setdefault(row["category"], Counter())[row["equivalent"]] += 1
    missing = REQUIRED_CATEGORIES - set(labels)
    assert not missing, f"categories without pairs: {sorted(missing)}"
    one_sided = {name: dict(c) for name, c in labels.items() if c[True] == 0 or c[False] == 0}
    assert not one_sided, f"categories without both positives and negatives: {one_sided}"
    positives = sum(c[True] for c in labels.values())
    assert 0.3 <= positives / len(PAIRS) <= 0.7, "labels are lopsided"


def _cases() -> list:
    cases = []
    for name, rows in SETS.items():
        for index, row in enumerate(rows):
            marks = []
            if not _REAL_VERIFIER:
                marks.append(
                    pytest.mark.xfail(reason="interim string-match verifier", strict=False)
                )
            case_id = f"{name}-{row['category']}-{index}"
            cases.append(pytest.param(row, id=case_id, marks=marks))
    return cases


@pytest.mark.parametrize("row", _cases())
def test_pair(row):
    options = row.get("options", {})
    got = verify_module.equivalent(row["pred"], row["gold"], **options)
    assert isinstance(got, bool)
    assert got == row["equivalent"], (
        f"equivalent({row['pred']!r}, {row['gold']!r}, **{options}) returned {got}, labelled "
        f"{row['equivalent']}" + (f" ({row['note']})" if row.get("note") else "")
    )


def test_verifier_bench_runs_on_a_few_pairs(tmp_path, capsys, monkeypatch):
    """The benchmark that runs these sets against Math-Verify does not rot."""
    pytest.importorskip("math_verify")
    bench_path = DATA_DIR.parents[1] / "benchmarks" / "verifier_bench.py"
    spec = importlib.util.spec_from_file_location("verifier_bench", bench_path)
    bench = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, "verifier_bench", bench)  # dataclasses look it up
    spec.loader.exec_module(bench)
    out = tmp_path / "bench.json"
    argv = ["--sets", "team,hacking", "--limit", "6", "--no-thread-check", "--json", str(out)]
    assert bench.main(argv) == 0
    results = json.loads(out.read_text())
    for name in ("team", "hacking"):
        for tool in ("rewardkit", "math-verify"):
            summary = results[name][tool]
            assert summary["pairs"] == 6
            assert summary["correct"] + summary["false_positives"] + summary["false_negatives"] == 6
    assert "speed ratio" in capsys.readouterr().out
