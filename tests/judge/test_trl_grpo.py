"""TRL's GRPOTrainer awaits the async judge reward, on a judge that sometimes fails."""

from __future__ import annotations

from datasets import Dataset

from rewardkit.judge import RubricJudgeReward


def test_grpo_trains_with_the_async_judge_reward(
    tiny_model_path, tiny_grpo_config, tmp_path, serve
):
    from trl import GRPOTrainer

    server = serve(faults=lambda i, body: "server_error" if i % 5 == 0 else None)
    reward = RubricJudgeReward(
        [{"text": "Answers with a number", "category": "essential"}],
        mode="implicit",
        model="fake-judge",
        base_url=server.base_url,
        cache=tmp_path / "judge.sqlite",
        max_retries=0,
        timeout=5,
    )
    config = tiny_grpo_config()
    prompts = ["What is 2 + 3?", "What is 7 - 4?", "What is 6 * 2?"] * 4
    trainer = GRPOTrainer(
        model=tiny_model_path,
        reward_funcs=[reward],
        args=config,
        train_dataset=Dataset.from_dict({"prompt": prompts}),
    )
    trainer.train()

    assert trainer.state.global_step == 2
    assert server.count >= 8  # the trainer really awaited the judge
    logged = trainer.state.log_history[0]
    assert "rewards/rubric_judge/mean" in logged
    assert "rubric_judge/reason/ok" in logged
    assert "rubric_judge/reason/judge_unavailable" in logged
    assert "rubric_judge/judge/prompt_tokens" in logged
