"""The foreign sets (other graders' test cases) stay well-formed and cite their sources.

They are measured by ``benchmarks/foreign_bench.py``, never asserted verdict by verdict here:
they are a check on data the team did not write.
"""

import json
from pathlib import Path

import pytest

DATA = Path(__file__).resolve().parents[2] / "data" / "equivalence"
FILES = {
    "foreign_graders.jsonl": ("prediction", "gold", "equivalent"),
    "foreign_completions.jsonl": ("completion", "gold", "correct"),
}


@pytest.mark.parametrize("name", sorted(FILES))
def test_rows_are_well_formed_and_cite_a_source(name):
    text_a, text_b, label = FILES[name]
    rows = [json.loads(line) for line in (DATA / name).read_text(encoding="utf-8").splitlines()]
    assert len(rows) >= 50
    for index, row in enumerate(rows):
        where = f"{name}:{index}"
        assert isinstance(row[text_a], str) and isinstance(row[text_b], str), where
        assert isinstance(row[label], bool), where
        assert "/" in row["source"] and row["category"], where
        assert set(row) <= {text_a, text_b, label, "source", "category", "note", "disputed"}, where
        if "disputed" in row:
            assert len(row["disputed"]) > 10, f"{where}: a disputed row says why"
    scored = [row for row in rows if "disputed" not in row]
    assert {True, False} <= {row[label] for row in scored}, "positives and negatives"
