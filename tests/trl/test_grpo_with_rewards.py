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
