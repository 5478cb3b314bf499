"""TRL's GRPOTrainer trains with rewardkit rewards, on plain and conversational data."""

from __future__ import annotations

import pytest
from datasets import Dataset

from rewardkit.rewards import BoxedAccuracy

PROBLEMS = [("What is 2 + 3?", "5"), ("What is 7 - 4?", "3"), ("What is 6 * 2?", "12")] * 4


class RecordingAccuracy(BoxedAccuracy):
    """BoxedAccuracy that remembers what the trainer passed it."""

    calls: list = []

    def score(self, prompts=None, completions=None, completion_ids=None, **kwargs):
        RecordingAccuracy.calls.append((completions, kwargs))
        return super().score(prompts, completions, completion_ids, **kwargs)


@pytest.mark.parametrize("conversational", [False, True], ids=["plain", "conversational"])
def test_grpo_trains_two_steps_with_boxed_accuracy(
    tiny_model_path, tiny_grpo_config, tmp_path, conversational
):
    from trl import GRPOTrainer

    if conversational:
        rows = {"prompt": [[{"role": "user", "content": q}] for q, _ in PROBLEMS]}
    else:
        rows = {"prompt": [q for q, _ in PROBLEMS]}
    rows["solution"] = [a for _, a in PROBLEMS]
    RecordingAccuracy.calls = []
    config = tiny_grpo_config()
    trainer = GRPOTrainer(
        model=tiny_model_path,
        reward_funcs=[RecordingAccuracy(name="boxed_accuracy")],
        args=config,
        train_dataset=Dataset.from_dict(rows),
    )
    trainer.train()

    assert trainer.state.global_step == 2
    assert RecordingAccuracy.calls, "the reward was never called"
    completions, kwargs = RecordingAccuracy.calls[0]
    assert isinstance(completions[0], list if conversational else str)
    assert set(kwargs["solution"]) <= {"5", "3", "12"}
    logged = trainer.state.log_history[0]
    assert "rewards/boxed_accuracy/mean" in logged
    assert "boxed_accuracy/reason/no_answer" in logged  # failure reasons reach the logs


def _reason_share_sums(logged: dict) -> dict[str, float]:
    """``{prefix: sum of prefix/reason/* shares}`` over one log entry."""
    sums: dict[str, float] = {}
    for key, value in logged.items():
        prefix, sep, _ = key.rpartition("/reason/")
        if sep and isinstance(value, float):
            sums[prefix] = sums.get(prefix, 0.0) + value
    return sums


def test_reason_shares_of_a_logging_window_add_up_to_one(tiny_model_path, tiny_grpo_config):
    """Two reward calls per logging window, with different reasons (a prompt that opened the
    think span gives unclosed_think, one that did not no_think): every reward's and every
    component's reason shares, averaged by TRL over the window, still add up to 1."""
    from trl import GRPOTrainer

    from rewardkit.rewards import OverlongPenalty, ProcessReward, WeightedSum, math_reward

    rows = {"prompt": ["What is 2 + 3? <think>", "What is 7 - 4?"], "solution": ["5", "3"]}
    combo = WeightedSum(
        [(math_reward(), 1.0), (ProcessReward(), 0.5), (OverlongPenalty(max_length=8), 1.0)],
        name="combo",
    )
    trainer = GRPOTrainer(
        model=tiny_model_path,
        reward_funcs=[math_reward(), combo],
        args=tiny_grpo_config(max_steps=4, logging_steps=2),
        train_dataset=Dataset.from_dict(rows),
    )
    trainer.train()
    windows = [entry for entry in trainer.state.log_history if "math/reason/ok" in entry]
    assert len(windows) == 2
    for logged in windows:
        sums = _reason_share_sums(logged)
        wrong = {prefix: total for prefix, total in sums.items() if abs(total - 1.0) > 1e-6}
        assert not wrong, f"reason shares that do not add up to 1: {wrong}"
        assert {"math", "math/format", "math/accuracy", "combo", "combo/math"} <= set(sums)
