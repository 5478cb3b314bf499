"""TRL's GRPOTrainer trains with the default math reward and a process reward, and logs each
component of the composite through its log_metric hook."""

from __future__ import annotations

from datasets import Dataset

from rewardkit.rewards import OverlongPenalty, ProcessReward, get_reward

PROBLEMS = [("What is 2 + 3?", "5"), ("What is 7 - 4?", "3"), ("What is 6 * 2?", "12")] * 4


def test_grpo_two_steps_with_math_and_process_rewards(tiny_model_path, tiny_grpo_config):
    from trl import GRPOTrainer

    rows = {"prompt": [q for q, _ in PROBLEMS], "solution": [a for _, a in PROBLEMS]}
    config = tiny_grpo_config(beta=0.0)
    trainer = GRPOTrainer(
        model=tiny_model_path,
        reward_funcs=[
            get_reward("math"),
            ProcessReward(aggregation="sum", transform="clip"),
            OverlongPenalty(max_length=8, cache=4),
        ],
        args=config,
        train_dataset=Dataset.from_dict(rows),
    )
    trainer.train()

    assert trainer.state.global_step == 2
    logged = trainer.state.log_history[0]
    assert "rewards/math/mean" in logged and "rewards/process/mean" in logged
    assert "math/format/mean" in logged  # the composite's components are logged apart
    assert any(key.startswith("math/format/reason/") for key in logged)
    assert "overlong_penalty/reason/overlong" in logged
