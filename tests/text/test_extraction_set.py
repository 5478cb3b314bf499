"""The labelled extraction sets in ``data/extraction/``: whole completions against golds.

``completions.jsonl`` holds one category a row kind (gold forms, emphasis, labels, Chinese,
GLM boxes, JSON escapes, think tags, unbalanced and several boxes, lenient reading); each
row is its own test (``test_row[<category>-<line>]``). ``lenient_styles.jsonl`` holds whole
completions in three styles (Minerva, chat markdown, plain prose) read with
``extract="lenient"``; the set must agree with its labels on at least 95% of rows with no
false positive (the issue's target).
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from rewardkit.rewards.accuracy import BoxedAccuracy
from rewardkit.verify import verify

DATA = Path(__file__).resolve().parents[2] / "data" / "extraction"


def _load(name: str) -> list[dict]:
    with (DATA / name).open(encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


ROWS = _load("completions.jsonl")
STYLES = _load("lenient_styles.jsonl")
HOLDOUT = _load("holdout_completions.jsonl")  # written after the code: a second look
ONE_SIDED = {"no_gold", "unbalanced"}  # categories about refusing: negatives by nature


def test_every_category_has_positives_and_negatives():
    labels: dict[str, Counter] = {}
    for row in ROWS:
        labels.setdefault(row["category"], Counter())[row["correct"]] += 1
    lopsided = {c: dict(n) for c, n in labels.items() if c not in ONE_SIDED and len(n) < 2}
    assert not lopsided
    assert all(n[False] for c, n in labels.items())


@pytest.mark.parametrize(
    "row", [pytest.param(r, id=f"{r['category']}-{i}") for i, r in enumerate(ROWS)]
)
def test_row(row):
    # a generous timeout: these rows are about reading answers, not about a loaded machine
    verdict = verify(row["completion"], row["gold"], timeout=30, **row.get("options", {}))
    assert verdict.correct == row["correct"], (verdict, row.get("note"))
    if "reason" in row:
        assert verdict.reason == row["reason"], verdict


@pytest.mark.parametrize("name", ["lenient_styles", "holdout_completions"])
def test_whole_completions_agree_with_their_labels_in_lenient_mode(name):
    rows = {"lenient_styles": STYLES, "holdout_completions": HOLDOUT}[name]
    reward = BoxedAccuracy(extract="lenient", timeout=30)
    scores = reward(
        prompts=[r["prompt"] for r in rows],
        completions=[r["completion"] for r in rows],
        answer=[r["gold"] for r in rows],
    )
    predicted = [s == 1.0 for s in scores]
    labels = [r["correct"] for r in rows]
    agree = sum(p == y for p, y in zip(predicted, labels, strict=True)) / len(rows)
    false_positives = [r for r, p in zip(rows, predicted, strict=True) if p and not r["correct"]]
    assert {"minerva", "markdown", "prose"} <= {r["style"] for r in rows}
    assert false_positives == []
    assert agree >= 0.95
