"""The judge against a real OpenAI-compatible server it was not written with:
``transformers serve`` on the tiny local model (random replies: assert on the protocol)."""

from __future__ import annotations

from rewardkit.judge import SyncRubricJudgeReward

RUBRIC = [{"text": "Gives the final answer 42", "category": "essential"}]


def judge(server, **options):
    settings = {"model": server.model, "base_url": server.base_url, "cache": False}
    return SyncRubricJudgeReward(RUBRIC, **{**settings, **options})


def test_the_server_answers_and_nothing_is_scored_without_a_reason(real_judge_server):
    reward = judge(real_judge_server, max_tokens=4, reask=0)
    results = reward.score(prompts=["What is 6 * 7?"] * 2, completions=["42", "41"])
    assert len(results) == 2
    assert all(r.value is not None or r.reason != "ok" for r in results)
    assert reward.backend.usage.requests == 2
