"""The team's labelled equivalence set: its shape, its balance, and the verifier on every pair.

Each pair is its own test (``test_pair[<category>-<index>]``), so a failure names the pair;
``<index>`` is the pair's 0-based line number in ``data/equivalence/pairs.jsonl``.
"""

from __future__ import annotations

import importlib
import json
from collections import Counter
from pathlib import Path

import pytest

# `rewardkit.verify` the attribute is the function re-exported by `rewardkit`; take the module.
verify_module = importlib.import_module("rewardkit.verify")

PAIRS_PATH = Path(__file__).resolve().parents[2] / "data" / "equivalence" / "pairs.jsonl"

# Every kind of answer the verifier issue lists must be covered, with positives and negatives.
REQUIRED_CATEGORIES = {
    "integer", "thousands_separator", "decimal", "scientific", "fraction", "mixed_number",
    "percent", "degrees", "units", "currency", "constants", "roots", "trig", "log",
    "factorial", "binomial", "expression", "equation", "inequality", "interval", "set",
    "tuple", "matrix", "vector", "multiple_answers", "multiple_choice", "text", "base",
    "near_zero", "latex_wrappers", "hedging", "adversarial",
}  # fmt: skip
KEYS = {"pred", "gold", "equivalent", "category"}
OPTIONAL_KEYS = {"note"}


def _load_pairs() -> list[dict]:
    with PAIRS_PATH.open(encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


PAIRS = _load_pairs()

# The interim verifier on main is a normalised string match; the real one (branch `verify`)
# adds `parse_math`. Until it is merged, the per-pair accuracy is expected to fall short.
_REAL_VERIFIER = hasattr(verify_module, "parse_math")


def test_every_row_follows_the_schema():
    assert PAIRS, f"no pairs in {PAIRS_PATH}"
    for index, row in enumerate(PAIRS):
        assert KEYS <= set(row) <= KEYS | OPTIONAL_KEYS, f"line {index}: keys {sorted(row)}"
        assert isinstance(row["pred"], str) and isinstance(row["gold"], str), f"line {index}"
        assert isinstance(row["equivalent"], bool), f"line {index}: label must be true/false"
        assert isinstance(row["category"], str) and row["category"], f"line {index}"
        assert isinstance(row.get("note", ""), str), f"line {index}: note must be a string"


def test_no_pair_appears_twice():
    counts = Counter((row["pred"], row["gold"]) for row in PAIRS)
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


@pytest.mark.xfail(
    not _REAL_VERIFIER,
    reason="the interim string-match verifier on main is not expected to pass the set",
    strict=False,
)
@pytest.mark.parametrize(
    "row", PAIRS, ids=[f"{row['category']}-{index}" for index, row in enumerate(PAIRS)]
)
def test_pair(row):
    got = verify_module.equivalent(row["pred"], row["gold"])
    assert isinstance(got, bool)
    assert got == row["equivalent"], (
        f"equivalent({row['pred']!r}, {row['gold']!r}) returned {got}, labelled "
        f"{row['equivalent']}" + (f" ({row['note']})" if row.get("note") else "")
    )
