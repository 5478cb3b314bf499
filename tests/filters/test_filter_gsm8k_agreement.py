"""Correctness recomputed by our verifier agrees with the released GSM8K labels."""

from __future__ import annotations

from filter_data import GSM8K_MODELS

from rewardkit.filters import Scorer, read_completions
from rewardkit.rewards import BoxedAccuracy


def test_verifier_agrees_with_released_labels(shared_data):
    rows = read_completions(
        shared_data / "gsm8k_example_model_solutions.jsonl",
        prompt_field="question",
        completion_fields=GSM8K_MODELS,
    )
    scorer = Scorer([BoxedAccuracy(boxed_only=False)])  # solutions end in "A: N", not boxed
    total = agree = 0
    disagreements = []
    for row in scorer.score_rows(rows):
        total += 1
        if row["correct"] == row["is_correct"]:
            agree += 1
        else:
            disagreements.append((row["prompt_id"], row["source"], row["completion"][-60:]))
    assert total == 1319 * 4
    assert agree / total >= 0.999, disagreements[:20]
