"""What a reply says beyond its text: cut off by max_tokens (``truncated``), with or without
log-probabilities (``score_kind``), and which reply's reason is reported after a re-ask."""

from __future__ import annotations

import math

from rewardkit.judge import SyncRubricJudgeReward

RUBRIC = [{"text": "Gives the final answer 12", "category": "essential"}]


def _reward(server, **options):
    settings = {"model": "fake-judge", "base_url": server.base_url, "cache": False}
    return SyncRubricJudgeReward(RUBRIC, **{**settings, "max_retries": 0, **options})


def _score(reward, n=1):
    return reward.score(prompts=["What is 3 * 4?"] * n, completions=["It is 12."] * n)


def test_a_reply_cut_off_by_max_tokens_is_truncated_and_asked_again_with_more(serve):
    def responder(body):
        if body["max_tokens"] < 200:
            return {"content": "Let me check the response step by", "finish_reason": "length"}
        return "Verdict: YES"

    server = serve(responder=responder)
    [result] = _score(_reward(server, max_tokens=100))
    assert (result.value, result.reason) == (1.0, "ok")
    first, second = server.requests
    assert second["max_tokens"] == 200  # twice the budget, not the same cut again
    assert second["messages"] == first["messages"]  # the same question, no format reminder


def test_a_truncated_reply_says_so_with_the_hint(serve):
    server = serve(responder=lambda body: {"content": "Let me", "finish_reason": "length"})
    [result] = _score(_reward(server, max_tokens=50, truncated_max_tokens=0))
    assert (result.value, result.reason) == (None, "truncated")
    assert "raise max_tokens" in result.details["error"]
    assert server.count == 1  # not asked again with the same budget


def test_a_reply_cut_off_inside_its_thinking_is_truncated_not_a_verdict(serve):
    def responder(body):
        thought = "The response says 12, so the verdict should be YES"
        return {"content": "", "reasoning_content": thought, "finish_reason": "length"}

    server = serve(responder=responder)
    [result] = _score(_reward(server, reask=0))
    assert (result.value, result.reason) == (None, "truncated")
    assert result.details["judge_text"][0].startswith("<think>The response says 12")
    assert "</think>" not in result.details["judge_text"][0]


def test_missing_logprobs_give_sampled_scores_one_warning_or_an_error(serve, caplog):
    server = serve(responder=lambda body: "Verdict: YES")  # like transformers serve: none
    reward = _reward(server, use_logprobs=True)
    results = _score(reward, 2) + _score(reward, 2)
    assert [(r.value, r.details["score_kind"]) for r in results] == [(1.0, "sampled")] * 4
    warnings = [r.getMessage() for r in caplog.records if "log-probabilities" in r.getMessage()]
    assert len(warnings) == 1 and "require_logprobs=True" in warnings[0]
    strict = _reward(server, use_logprobs=True, require_logprobs=True)
    assert [(r.value, r.reason) for r in _score(strict)] == [(None, "no_logprobs")]


def test_logprob_scores_say_so(serve):
    def responder(body):
        top = [
            {"token": "YES", "logprob": math.log(0.8)},
            {"token": "NO", "logprob": math.log(0.2)},
        ]
        return {
            "content": "Verdict: YES",
            "logprobs": [
                {"token": "Verdict: ", "logprob": 0.0, "top_logprobs": []},
                {"token": "YES", "logprob": math.log(0.8), "top_logprobs": top},
            ],
        }

    [result] = _score(_reward(serve(responder=responder), use_logprobs=True))
    assert result.value == 0.8 and result.details["score_kind"] == "logprob"
    [plain] = _score(_reward(serve(responder=responder)))
    assert plain.details["score_kind"] == "sampled"


def test_after_a_failed_reask_the_first_replys_reason_is_reported(serve):
    server = serve(
        responder=lambda body: "I am not sure about this one.",
        faults=lambda i, body: "server_error" if i == 1 else None,  # the re-ask fails
    )
    [result] = _score(_reward(server, reask=1))
    assert server.served == ["ok", "server_error"]
    assert result.reason == "unparseable_verdict"
    assert result.details["judge_text"] == ["I am not sure about this one."]
    assert result.details["reasks"] == 1


def test_after_a_reask_without_verdict_the_first_replys_reason_is_reported(serve):
    def responder(body):
        if body["max_tokens"] < 100:
            return {"content": "Checking", "finish_reason": "length"}
        return "Still no verdict here."

    server = serve(responder=responder)
    [result] = _score(_reward(server, reask=1, max_tokens=64))
    assert server.count == 2
    assert (result.reason, result.details["parse_reason"]) == ("truncated", "truncated")
