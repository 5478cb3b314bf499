"""The cascade inside TRL: GRPOTrainer awaits a reward that asks a verifier model."""

from __future__ import annotations

import dataclasses

from datasets import Dataset

from rewardkit.judge.testing_server import FakeJudgeServer
from rewardkit.rewards.accuracy import AsyncBoxedAccuracy
from rewardkit.verify import ModelVerifier


class BoxesItsLength(AsyncBoxedAccuracy):
    """The tiny model writes noise: read each completion as ``\\boxed{<length> apples}``,
    which the rules (units must match) reject, so every step asks the verifier."""

    def score_samples(self, samples):
        boxed = [
            dataclasses.replace(s, text=rf"\boxed{{{len(s.completion_ids or ()) % 3} apples}}")
            for s in samples
        ]
        return super().score_samples(boxed)


def test_grpo_trains_two_steps_with_the_cascade(tiny_model_path, tiny_grpo_config, tmp_path):
    from trl import GRPOTrainer

    faults = lambda i, body: "server_error" if i % 4 == 0 else None  # noqa: E731
    with FakeJudgeServer(faults=faults) as server:
        verifier = ModelVerifier(
            "tinyv", "tinyv", base_url=server.base_url, cache=tmp_path / "v.sqlite", max_retries=0
        )
        reward = BoxesItsLength(model_verifier=verifier, units="match", name="accuracy")
        trainer = GRPOTrainer(
            model=tiny_model_path,
            reward_funcs=[reward],
            args=tiny_grpo_config(),
            train_dataset=Dataset.from_dict(
                {"prompt": ["What is 2 + 3?"] * 8, "answer": ["2"] * 8, "question": ["2+3?"] * 8}
            ),
        )
        trainer.train()
        asked = server.count
    assert trainer.state.global_step == 2
    assert asked >= 1  # the trainer awaited the reward and the reward asked the model
    logged = trainer.state.log_history[0]
    assert logged["accuracy/model_verifier/forwarded"] == 1.0  # every completion was
    assert "accuracy/model_verifier/latency_s" in logged
    assert "accuracy/model_verifier/prompt_tokens" in logged
    reasons = {k for k in logged if k.startswith("accuracy/reason/")}
    assert (
        "accuracy/reason/ok_by_model" in reasons and "accuracy/reason/model_unavailable" in reasons
    )
