"""A verifier server that freezes, fails, truncates or is misconfigured: the cascade goes
through the judge's request path, so it gets the judge's deadline, circuit breaker,
truncation handling and configuration error (issue 16, for the model verifier)."""

from __future__ import annotations

import logging
import time

import pytest

from rewardkit.judge.backends.base import JudgeConfigError
from rewardkit.judge.testing_server import FakeJudgeServer
from rewardkit.rewards import BoxedAccuracy
from rewardkit.verify import ModelVerifier, verify_batch

WRONG = [(rf"\boxed{{{n} apples}}", str(n)) for n in range(12, 16)]  # rules: wrong_answer


def verifier(server, base_url=None, **options) -> ModelVerifier:
    settings = {"cache": False, "max_retries": 0, "timeout": 30, "breaker_failures": 0}
    return ModelVerifier(
        "tinyv", "verifier", base_url=base_url or server.base_url, **{**settings, **options}
    )


def test_a_frozen_verifier_costs_one_call_timeout_and_keeps_the_rules_verdict():
    with FakeJudgeServer(faults=lambda i, body: "freeze") as server:
        mv = verifier(server, call_timeout=1.0)
        start = time.monotonic()
        verdicts = verify_batch(WRONG, units="match", model_verifier=mv)
        took = time.monotonic() - start
        reward = BoxedAccuracy(model_verifier=mv, units="match")
        start = time.monotonic()
        results = reward.score(completions=[c for c, _ in WRONG], answer=[g for _, g in WRONG])
        took_reward = time.monotonic() - start
    assert server.count >= len(WRONG)  # they were sent: the deadline, not a refusal, ended them
    assert took < 1.0 + 10 and took_reward < 1.0 + 10  # per-request timeout is 30 s
    assert [(v.correct, v.reason) for v in verdicts] == [(False, "model_unavailable")] * 4
    assert [(r.value, r.reason) for r in results] == [(0.0, "model_unavailable")] * 4
    assert mv.stats.unavailable == 8


def test_the_call_timeout_default_is_the_backends_like_the_judges():
    mv = ModelVerifier("tinyv", "v", base_url="http://127.0.0.1:9/v1", cache=False, timeout=2)
    assert mv.client.deadline() == mv.backend.default_call_timeout() == 2 * 6 + 20 * 4
    timed = ModelVerifier("tinyv", "v", base_url="http://127.0.0.1:9/v1", cache=False,
                          timeout=2, retry_for=30)  # fmt: skip
    assert timed.client.deadline() == 30 + 2 * 2
    with pytest.raises(ValueError, match="call_timeout"):
        ModelVerifier("tinyv", "v", base_url="http://127.0.0.1:9/v1", call_timeout=0)


def test_after_consecutive_failures_the_breaker_answers_at_once_and_logs_once(caplog):
    with FakeJudgeServer(faults=lambda i, body: "server_error") as server:
        mv = verifier(server, breaker_failures=3, breaker_cooldown=60.0)
        first = verify_batch(WRONG, units="match", model_verifier=mv)
        sent = server.count
        start = time.monotonic()
        second = verify_batch(WRONG, units="match", model_verifier=mv)
        third = verify_batch(WRONG, units="match", model_verifier=mv)
        took = time.monotonic() - start
    assert sent <= len(WRONG) and server.count == sent  # nothing sent while the breaker is open
    assert took < 5.0  # answered at once (a per-request timeout is 30 s)
    assert {v.reason for v in (*first, *second, *third)} == {"model_unavailable"}
    opened = [r for r in caplog.records if "circuit breaker" in r.getMessage()]
    assert [r.levelname for r in opened] == ["WARNING"]


def _truncating(body):
    if body["max_tokens"] <= 8:  # the first budget: cut off inside the thinking
        return {"content": "", "reasoning_content": "Let me check the", "finish_reason": "length"}
    return "True"


def test_a_truncated_reply_is_reported_with_the_hint_and_re_asked_with_a_larger_budget(caplog):
    with FakeJudgeServer(responder=_truncating) as server:
        mv = verifier(server, max_tokens=8, truncated_max_tokens=0)
        with caplog.at_level(logging.WARNING):
            [cut] = verify_batch(WRONG[:1], units="match", model_verifier=mv)
        assert (cut.correct, cut.reason) == (False, "model_truncated")
        assert any("raise max_tokens" in r.getMessage() for r in caplog.records)
        assert server.count == 1  # truncated_max_tokens=0: not asked again
        again = verifier(server, max_tokens=8)  # default: re-asked with twice the budget
        [decided] = verify_batch(WRONG[:1], units="match", model_verifier=again)
    assert (decided.correct, decided.reason) == (True, "ok_by_model")
    assert [b["max_tokens"] for b in server.requests] == [8, 8, 16]


def test_a_reply_cut_off_after_a_verdict_word_is_not_read_as_a_verdict():
    cut = {"content": "True... wait, let me recheck: 12 apples vs", "finish_reason": "length"}
    with FakeJudgeServer(responder=lambda body: cut) as server:
        mv = verifier(server, truncated_max_tokens=0)
        [verdict] = verify_batch(WRONG[:1], units="match", model_verifier=mv)
    assert (verdict.correct, verdict.reason) == (False, "model_truncated")


def test_a_wrong_url_fails_the_first_call_loudly_like_the_judge():
    with FakeJudgeServer() as server:  # it serves /chat/completions with and without /v1
        mv = verifier(server, base_url=server.base_url.replace("/v1", "/wrong"))
        with pytest.raises(JudgeConfigError, match=r"HTTP 404 from .*/wrong/chat/completions"):
            verify_batch(WRONG, units="match", model_verifier=mv)
        reward = BoxedAccuracy(
            model_verifier=verifier(server, base_url=server.base_url + "x"), units="match"
        )
        with pytest.raises(JudgeConfigError, match="404"):
            reward.score(completions=[WRONG[0][0]], answer=[WRONG[0][1]])
        good = verifier(server)
        assert verify_batch(WRONG[:1], units="match", model_verifier=good)[0].reason == (
            "ok_by_model"
        )
        good.backend.base_url = server.base_url + "x"  # the route goes away after a reply
        [late] = verify_batch(WRONG[:1], units="match", model_verifier=good)
    assert late.reason == "model_unavailable"  # a reason now, not an error mid-run
