"""The judge against a real OpenAI-compatible server it was not written with:
``transformers serve`` on the tiny local model (random replies: assert on the protocol).

One server for the session (see ``tests/real_server.py``); each test is a few requests of a
few tokens, except the streaming one (one long generation, given up on after 1 s).
"""

from __future__ import annotations

import time

import pytest

from rewardkit.judge import SyncRubricJudgeReward
from rewardkit.judge.backends.base import JudgeConfigError

RUBRIC = [{"text": "Gives the final answer 42", "category": "essential"}]


def judge(server, **options):
    settings = {"model": server.model, "base_url": server.base_url, "cache": False, "reask": 0}
    return SyncRubricJudgeReward(RUBRIC, **{**settings, **options})


def score(reward, n=1):
    return reward.score(prompts=["What is 6 * 7?"] * n, completions=["42"] * n)


def test_a_reply_cut_off_by_max_tokens_is_truncated(real_judge_server):
    results = score(judge(real_judge_server, max_tokens=3), 2)
    assert [r.reason for r in results] == ["truncated"] * 2  # the server says finish_reason length
    assert "raise max_tokens" in results[0].details["error"]


def test_a_truncated_reply_is_asked_again_with_a_larger_budget(real_judge_server):
    reward = judge(real_judge_server, max_tokens=2, reask=1, truncated_max_tokens=4)
    [result] = score(reward)
    assert result.reason == "truncated" and result.details["reasks"] == 1
    assert reward.backend.usage.completion_tokens == 2 + 4


def test_dropped_logprobs_are_warned_about_once(real_judge_server, caplog):
    reward = judge(real_judge_server, max_tokens=2, use_logprobs=True)
    score(reward)
    score(reward)
    warnings = [r for r in caplog.records if "sent no log-probabilities" in r.getMessage()]
    assert len(warnings) == 1


def test_extra_body_wins_and_max_completion_tokens_is_understood(real_judge_server):
    reward = judge(real_judge_server, max_tokens=50, extra_body={"max_tokens": 3})
    score(reward)
    assert reward.backend.usage.completion_tokens == 3
    renamed = judge(real_judge_server, max_tokens=3, max_tokens_field="max_completion_tokens")
    score(renamed)
    assert renamed.backend.usage.completion_tokens == 3


@pytest.mark.parametrize(
    ("options", "says"),
    [
        ({"model": "no-such-judge"}, r"HTTP 400 from http://127\.0\.0\.1:\d+/v1/chat/completions"),
        ({"base_url": "ROOT"}, r"HTTP 404 .*ends in /v1, e\.g\. http://127\.0\.0\.1:\d+/v1"),
        ({"extra_body": {"no_such_field": 1}}, r"HTTP 422 .*no_such_field"),
    ],
    ids=["wrong-model", "missing-v1", "unknown-field"],
)
def test_a_misconfigured_judge_fails_the_first_call_with_its_cause(
    real_judge_server, options, says
):
    if options.get("base_url") == "ROOT":
        options = {"base_url": real_judge_server.root_url}
    reward = judge(real_judge_server, max_tokens=2, **options)
    with pytest.raises(JudgeConfigError, match=says):
        reward(prompts=["q"], completions=["a"])


def test_a_streamed_request_given_up_on_frees_the_server(real_judge_server):
    quick = judge(real_judge_server, max_tokens=2)
    score(quick)  # the server is idle
    slow = judge(real_judge_server, max_tokens=1000, stream=True, call_timeout=1.0)
    [result] = score(slow)
    assert result.reason == "timeout"
    start = time.monotonic()
    score(quick)
    # Not streamed, the server generates the abandoned 1,000 tokens first (~10 s measured);
    # streamed, the cancel reaches it and the next request is answered at once (~0.1 s).
    assert time.monotonic() - start < 5.0
