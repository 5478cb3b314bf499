"""Aggregation of step scores (incl. PURE's Clip and Delta), the process reward, its
token-level rewards and pluggable step scorers."""

from __future__ import annotations

import pickle

import pytest

from rewardkit.rewards import ProcessReward, aggregate, clip_transform, delta_transform
from rewardkit.rewards.aggregate import step_rewards

SCORES = [0.9, None, 0.2, 1.0]


@pytest.mark.parametrize(
    ("method", "expected"),
    [
        ("min", 0.2),
        ("product", 0.9 * 0.2 * 1.0),
        ("mean", (0.9 + 0.2 + 1.0) / 3),
        ("last", 1.0),
        ("first_error", 2 / 4),
        ("sum", 2.1),
    ],
)
def test_aggregations(method, expected):
    assert aggregate(SCORES, method) == pytest.approx(expected)


def test_aggregations_of_nothing():
    for method in ("min", "product", "mean", "last", "first_error"):
        assert aggregate([], method) is None
        assert aggregate([None, None], method) is None
    assert aggregate([None], "sum") == 0.0
    assert aggregate([1.0, 1.0], "first_error") == 1.0
    with pytest.raises(ValueError):
        aggregate([1.0], "median")
    with pytest.raises(ValueError):
        aggregate([1.0], "min", transform="square")


def test_clip_and_delta_transforms():
    assert clip_transform([0.9, None, 0.2, 1.0], threshold=0.5) == pytest.approx([0, 0, -0.3, 0])
    assert delta_transform([0.9, None, 0.2, 1.0]) == pytest.approx([0.7, 0.0, -0.8, 1.0])
    assert delta_transform([]) == [] and clip_transform([]) == []
    assert step_rewards([0.4, None], "none") == [0.4, 0.0]


def test_clip_and_delta_stop_farming_by_repeating_correct_steps():
    """Padding a solution with more correct steps must not raise the reward."""
    honest = [1.0, 0.0, 1.0]
    padded = [1.0] * 50 + [0.0, 1.0]
    assert aggregate(padded, "sum") > aggregate(honest, "sum")  # plain summation is farmed
    for transform in ("clip", "delta"):
        assert aggregate(padded, "sum", transform=transform) <= aggregate(
            honest, "sum", transform=transform
        )
    assert aggregate(padded, "min") == aggregate(honest, "min")
    assert aggregate([1.0] * 50, "sum", transform="clip") == 0.0  # correct steps earn nothing
    assert aggregate([0.3] + [1.0] * 50, "sum", transform="delta") == pytest.approx(0.3)


GOOD = "<think>Step 1: 3 * 4 = 12\nStep 2: 12 + 1 = 13</think> \\boxed{13}"
BAD = "<think>Step 1: 3 * 4 = 12\nStep 2: 12 + 1 = 14\nStep 3: 14 * 2 = 28</think> \\boxed{28}"
NEUTRAL = "<think>I think about it carefully.\nIt is thirteen.</think> \\boxed{13}"


def test_process_reward_with_the_arithmetic_checker():
    reward = ProcessReward()
    results = reward.score(completions=[GOOD, BAD, NEUTRAL, "", None])
    assert [(r.value, r.reason) for r in results] == [
        (1.0, "ok"),
        (0.0, "wrong_step"),
        (None, "no_checkable_step"),
        (None, "no_steps"),
        (None, "no_steps"),
    ]
    assert results[1].details["first_error"] == 1
    assert results[1].details["scores"] == [1.0, 0.0, 1.0]
    assert ProcessReward(aggregation="first_error")(completions=[GOOD, BAD]) == [1.0, 1 / 3]
    assert ProcessReward(aggregation="sum", transform="clip")(completions=[GOOD, BAD, NEUTRAL]) == [
        0.0,
        -0.5,
        0.0,
    ]
    assert ProcessReward(empty_value=1.0)(completions=[NEUTRAL]) == [1.0]


class HalfScorer:
    """A step scorer from outside: the protocol is just score_steps(problem, steps)."""

    def __init__(self):
        self.seen = []

    def score_steps(self, problem, steps):
        self.seen.append((problem, list(steps)))
        return [0.5] * len(steps)


class BrokenScorer:
    def score_steps(self, problem, steps):
        return [2.0] * len(steps)


class ShortScorer:
    def score_steps(self, problem, steps):
        return []


def test_any_object_following_the_protocol_is_a_scorer():
    scorer = HalfScorer()
    reward = ProcessReward(scorer, aggregation="mean")
    assert reward(prompts=["P"], completions=[GOOD], question=["What is 3*4+1?"]) == [0.5]
    assert scorer.seen == [("What is 3*4+1?", ["Step 1: 3 * 4 = 12", "Step 2: 12 + 1 = 13"])]
    reward(prompts=["the prompt"], completions=[GOOD])
    assert scorer.seen[-1][0] == "the prompt"  # no problem column: the prompt's text
    for bad in (BrokenScorer(), ShortScorer()):
        assert ProcessReward(bad).score(completions=[GOOD])[0].reason == "bad_scores"
    with pytest.raises(TypeError):
        ProcessReward(object())
    with pytest.raises(KeyError, match="arithmetic"):
        ProcessReward("oracle")
    with pytest.raises(ValueError):
        ProcessReward(aggregation="median")


def test_token_rewards_place_scores_on_step_end_tokens(tiny_model_path):
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(tiny_model_path)
    text = "<think>Step 1: 3 * 4 = 12\nStep 2: 12 + 1 = 14\nStep 3: 14 * 2 = 28</think> \\boxed{28}"
    ids = tok(text, add_special_tokens=False)["input_ids"]
    completion = tok.decode(ids, skip_special_tokens=True)  # as TRL decodes it
    reward = ProcessReward(aggregation="sum", transform="clip", tokenizer=tok)
    (row,) = reward.token_rewards(prompts=["Q"], completions=[completion], completion_ids=[ids])
    assert len(row) == len(ids)
    nonzero = [i for i, v in enumerate(row) if v != 0.0]
    assert [row[i] for i in nonzero] == [-0.5]  # only the wrong step is penalised
    # the penalised token is the one that ends step 2 ("... = 14")
    assert tok.decode(ids[: nonzero[0] + 1], skip_special_tokens=True).endswith("14")
    assert not tok.decode(ids[: nonzero[0]], skip_special_tokens=True).endswith("14")
    # plain scores: each step's score on its last token, the sum matches the steps
    plain = ProcessReward(tokenizer=tiny_model_path)  # a path loads lazily and pickles
    (row,) = pickle.loads(pickle.dumps(plain)).token_rewards(
        completions=[completion], completion_ids=[ids]
    )
    assert sorted(v for v in row if v) == [1.0, 1.0]
    assert sum(1 for v in row if v == 0.0) == len(ids) - 2


def test_token_rewards_edge_cases():
    reward = ProcessReward()
    rows = reward.token_rewards(
        completions=["", GOOD, "no reasoning at all"],
        completion_ids=[[], list(range(40)), [1, 2, 3]],
    )
    assert rows[0] == [] and len(rows[1]) == 40 and rows[2] == [0.0, 0.0, 0.0]
    assert rows[1][-1] == 1.0 or sum(rows[1]) == 2.0  # proportional placement without tokenizer
    with pytest.raises(ValueError):
        reward.token_rewards(completions=[GOOD])


def test_token_rewards_survive_a_failing_tokenizer():
    class Broken:
        def decode(self, ids, skip_special_tokens=True):
            raise KeyError("unknown id")

    reward = ProcessReward(aggregation="sum", transform="clip", tokenizer=Broken())
    (row,) = reward.token_rewards(completions=[BAD], completion_ids=[list(range(30))])
    assert len(row) == 30 and sum(row) == -0.5
