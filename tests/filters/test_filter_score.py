"""Scoring rows with several weighted rewards, plain functions, failures and workers."""

from __future__ import annotations

import pytest

from rewardkit.filters import Scorer
from rewardkit.rewards import BoxedAccuracy

ROWS = [
    {"prompt_id": 0, "prompt": "2+2?", "completion": r"\boxed{4}", "answer": "4"},
    {"prompt_id": 0, "prompt": "2+2?", "completion": r"\boxed{5}", "answer": "4"},
    {"prompt_id": 1, "prompt": "no gold", "completion": r"\boxed{1}", "answer": None},
    {"prompt_id": 2, "prompt": "chat", "completion": [{"role": "assistant", "content": "A: 9"}],
     "answer": "9"},
]  # fmt: skip


def length_bonus(prompts, completions, **kwargs):
    """A plain TRL-style reward function; sees dataset columns as keyword lists."""
    assert kwargs["answer"] == [r["answer"] for r in ROWS[: len(completions)]]
    return [0.5 if "4" in str(c) else None for c in completions]


def test_weighted_sum_skips_none_like_trl_and_correct_follows_the_chosen_reward():
    scorer = Scorer([BoxedAccuracy(boxed_only=False), length_bonus], weights=[1.0, 2.0])
    rows = list(scorer.score_rows(ROWS))
    assert [r["rewards"] for r in rows] == [
        {"boxed_accuracy": 1.0, "length_bonus": 0.5},
        {"boxed_accuracy": 0.0, "length_bonus": None},
        {"boxed_accuracy": None, "length_bonus": None},
        {"boxed_accuracy": 1.0, "length_bonus": None},
    ]
    assert [r["reward"] for r in rows] == [2.0, 0.0, None, 1.0]
    assert [r["correct"] for r in rows] == [True, False, None, True]
    assert rows[2]["reasons"] == {"boxed_accuracy": "no_gold", "length_bonus": "none"}
    assert rows[1]["answer"] == "4"  # the input columns stay
    by_bonus = Scorer([BoxedAccuracy(), length_bonus], correct="length_bonus", pass_threshold=0.5)
    assert [r["correct"] for r in by_bonus.score_rows(ROWS)] == [True, None, None, None]


def test_a_failing_plain_reward_marks_rows_instead_of_crashing():
    def fragile(prompts, completions, **kwargs):
        if any("5" in str(c) for c in completions):
            raise RuntimeError("cannot handle five")
        return [1.0] * len(completions)

    rows = list(Scorer([fragile], batch_size=4).score_rows(ROWS))
    assert [r["reward"] for r in rows] == [1.0, None, 1.0, 1.0]
    assert rows[1]["reasons"] == {"fragile": "internal_error"}

    def wrong_length(prompts, completions, **kwargs):
        return [1.0]

    assert [r["reasons"]["wrong_length"] for r in Scorer([wrong_length]).score_rows(ROWS[:2])] == [
        "ok",
        "ok",
    ]  # one row at a time, the length is right


def test_names_and_settings_are_checked_at_construction():
    with pytest.raises(KeyError, match="unknown reward 'nope'"):
        Scorer(["nope"])
    with pytest.raises(ValueError, match="2 weights for 1 rewards"):
        Scorer(["boxed_accuracy"], weights=[1, 2])
    with pytest.raises(ValueError, match="not one of the rewards"):
        Scorer(["boxed_accuracy"], correct="format")
    with pytest.raises(ValueError, match="at least one reward"):
        Scorer([])
    with pytest.raises(TypeError, match="not a reward function"):
        Scorer([42])
    twice = Scorer(["boxed_accuracy", "boxed_accuracy"])
    assert twice.names == ["boxed_accuracy", "boxed_accuracy_1"]


def test_fingerprint_changes_with_reward_options():
    a = Scorer([BoxedAccuracy()]).fingerprint()
    assert a == Scorer(["boxed_accuracy"]).fingerprint()
    assert a != Scorer([BoxedAccuracy(boxed_only=False)]).fingerprint()
    assert a != Scorer([BoxedAccuracy()], weights=[2.0]).fingerprint()


def test_two_workers_give_the_same_rows_in_order():
    rows = [dict(ROWS[i % 2], prompt_id=i) for i in range(50)]
    one = list(Scorer("boxed_accuracy", batch_size=8).score_rows(rows))
    two = list(Scorer("boxed_accuracy", batch_size=8, workers=2).score_rows(rows))
    assert one == two and len(two) == 50
