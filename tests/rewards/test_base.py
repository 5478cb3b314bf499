"""The reward protocol: TRL's calling convention, both formats, reasons, logging, never raising."""

from __future__ import annotations

import pickle

import pytest

from rewardkit.rewards.base import Reward, RewardResult, make_samples


class LengthReward(Reward):
    name = "length"
    reasons = ("ok", "empty")
    logged_details = ("chars",)

    def score_sample(self, sample):
        if not sample.text:
            return RewardResult(0.0, "empty", {"chars": 0})
        return RewardResult(float(len(sample.text)), details={"chars": len(sample.text)})


class FragileReward(Reward):
    name = "fragile"

    def score_sample(self, sample):
        if "boom" in sample.text:
            raise ZeroDivisionError("boom")
        return RewardResult(1.0)


class BrokenBatchReward(FragileReward):
    def score_samples(self, samples):
        return [RewardResult(1.0)]  # wrong length: the base must recover one by one


def test_plain_and_chat_completions_score_alike():
    reward = LengthReward()
    plain = reward(prompts=["p", "p"], completions=["abc", ""])
    chat = reward(
        prompts=[[{"role": "user", "content": "p"}]] * 2,
        completions=[
            [{"role": "assistant", "content": "abc"}],
            [{"role": "assistant", "content": ""}],
        ],
    )
    assert plain == chat == [3.0, 0.0]


def test_name_and_pickling():
    reward = LengthReward(name="my_length")
    assert reward.__name__ == "my_length"
    clone = pickle.loads(pickle.dumps(reward))
    assert clone.__name__ == "my_length"
    assert clone(completions=["ab"]) == [2.0]


def test_exception_on_one_sample_becomes_none_with_reason():
    results = FragileReward().score(completions=["fine", "boom", "fine"])
    assert [r.value for r in results] == [1.0, None, 1.0]
    assert results[1].reason == "internal_error"
    assert "ZeroDivisionError" in results[1].details["error"]


def test_a_broken_batch_path_falls_back_to_one_by_one():
    assert BrokenBatchReward()(completions=["a", "boom"]) == [1.0, None]


def test_dataset_columns_arrive_per_row_and_trainer_kwargs_are_dropped():
    samples = make_samples(
        ["p1", "p2"],
        ["c1", "c2"],
        [[1, 2], [3]],
        {
            "answer": ["1", "2"],
            "trainer_state": object(),
            "environments": [None, None],
            "scalar": 3,
        },
    )
    assert [s.columns for s in samples] == [{"answer": "1"}, {"answer": "2"}]
    assert samples[1].completion_ids == [3]


@pytest.mark.parametrize(
    ("prompts", "ids"), [(["only one"], None), (None, [[1]])], ids=["prompts", "completion_ids"]
)
def test_mismatched_lengths_are_a_clear_error(prompts, ids):
    with pytest.raises(ValueError, match="for 2 completions"):
        make_samples(prompts, ["a", "b"], ids, {})


def test_missing_completions_is_a_clear_error():
    with pytest.raises(TypeError, match="completions"):
        LengthReward()(prompts=["p"])


def test_reason_shares_and_details_reach_trl_logging_hooks():
    metrics: dict[str, list[float]] = {}
    extras: dict[str, list] = {}
    LengthReward()(
        completions=["abc", "", ""],
        log_metric=lambda name, value: metrics.setdefault(name, []).append(value),
        log_extra=lambda column, values: extras.setdefault(column, []).extend(values),
    )
    assert metrics == {
        "length/reason/ok": [pytest.approx(1 / 3)],
        "length/reason/empty": [pytest.approx(2 / 3)],
        "length/reason/internal_error": [0.0],
    }
    assert extras == {"length/reason": ["ok", "empty", "empty"], "length/chars": ["3", "0", "0"]}


def test_declared_reasons_are_logged_even_when_absent():
    metrics: dict[str, float] = {}
    LengthReward()(completions=["abc"], log_metric=metrics.__setitem__)
    assert metrics["length/reason/empty"] == 0.0


def test_empty_batch():
    assert LengthReward()(prompts=[], completions=[]) == []
