"""What goes over the wire: the user's ``extra_body`` wins, servers that want other field
names get them, failures carry their cause, a misconfigured judge fails at its first
call, and streamed replies read like plain ones (and stop the server when given up on)."""

from __future__ import annotations

import asyncio
import time

import pytest

from rewardkit.judge import JudgeRequest, OpenAIBackend, SyncRubricJudgeReward
from rewardkit.judge.backends.base import JudgeConfigError
from rewardkit.judge.backends.openai_wire import http_failure

RUBRIC = [{"text": "Gives the final answer 12", "category": "essential"}]
REQUEST = JudgeRequest(({"role": "user", "content": "Verdict?"},), max_tokens=16)


def _complete(backend, requests=(REQUEST,)):
    async def go():
        try:
            return await backend.complete_many(list(requests))
        finally:
            await backend.aclose()

    return asyncio.run(go())


def test_extra_body_wins_over_the_fields_the_backend_writes(serve):
    server = serve()
    extra = {"max_tokens": 7, "temperature": 0.5, "top_p": 0.9}
    _complete(OpenAIBackend("m", base_url=server.base_url, extra_body=extra))
    body = server.requests[0]
    assert (body["max_tokens"], body["temperature"], body["top_p"]) == (7, 0.5, 0.9)


def test_servers_that_want_max_completion_tokens_and_no_temperature_get_them(serve):
    server = serve()
    backend = OpenAIBackend(
        "m",
        base_url=server.base_url,
        max_tokens_field="max_completion_tokens",
        send_temperature=False,
    )
    _complete(backend)
    body = server.requests[0]
    assert body["max_completion_tokens"] == 16
    assert "max_tokens" not in body and "temperature" not in body
    with pytest.raises(ValueError, match="max_tokens_field"):
        OpenAIBackend("m", base_url=server.base_url, max_tokens_field="max_new_tokens")


def test_failures_carry_the_url_the_status_and_the_servers_message():
    url = "http://judge:8000/v1"
    unavailable = http_failure(503, '{"error": "engine overloaded"}', url, "m", 1)
    assert unavailable.reason == "judge_unavailable" and not unavailable.permanent
    assert unavailable.detail == (
        'HTTP 503 from http://judge:8000/v1/chat/completions: {"error": "engine overloaded"}'
    )
    assert len(http_failure(500, "x" * 100_000, url, "m", 1).detail) < 700  # bounded
    wrong_model = http_failure(
        404, '{"message": "The model `qwen` does not exist."}', url, "qwen", 1
    )
    assert wrong_model.permanent and "model list" in wrong_model.detail
    unknown = http_failure(422, "Unexpected fields in the request: {'bogus'}", url, "m", 1)
    assert unknown.permanent and "extra_body" in unknown.detail
    no_v1 = http_failure(404, '{"detail": "Not Found"}', "http://judge:8000", "m", 1)
    assert no_v1.permanent and "ends in /v1, e.g. http://judge:8000/v1" in no_v1.detail
    too_long = http_failure(
        400, "This model's maximum context length is 4096 tokens", url, "m", 1
    )  # about this request only: others may pass
    assert too_long.reason == "judge_rejected" and not too_long.permanent


def test_a_connection_error_names_the_url():
    backend = OpenAIBackend("m", base_url="http://127.0.0.1:9/v1", max_retries=0)
    [failure] = _complete(backend)
    assert "ConnectError from http://127.0.0.1:9/v1/chat/completions" in failure.detail


def test_a_judge_that_rejects_every_request_fails_the_first_call(serve):
    server = serve()
    wrong = server.base_url.replace("/v1", "/wrong")
    reward = SyncRubricJudgeReward(RUBRIC, model="m", base_url=wrong, cache=False)
    with pytest.raises(JudgeConfigError, match=r"HTTP 404 from .*/wrong/chat/completions"):
        reward(prompts=["q"], completions=["a"])


def test_after_a_reply_a_rejected_request_is_a_reason_not_an_error(serve):
    server = serve()
    reward = SyncRubricJudgeReward(RUBRIC, model="m", base_url=server.base_url, cache=False)
    assert reward(prompts=["q"], completions=["12"]) == [1.0]
    reward.backend.base_url = server.base_url.replace("/v1", "/wrong")  # the route goes away
    [result] = reward.score(prompts=["q"], completions=["12"])
    assert (result.value, result.reason) == (None, "judge_rejected")


def test_a_streamed_reply_reads_like_a_plain_one(serve):
    server = serve(
        responder=lambda body: {"content": "Looks right.\nVerdict: YES", "finish_reason": "length"}
    )
    [plain] = _complete(OpenAIBackend("m", base_url=server.base_url))
    [streamed] = _complete(OpenAIBackend("m", base_url=server.base_url, stream=True))
    assert server.requests[1]["stream"] is True
    assert (streamed.text, streamed.finish_reason) == (plain.text, plain.finish_reason)
    assert streamed.completion_tokens == plain.completion_tokens > 0


def test_a_streamed_request_given_up_on_stops_the_server(serve):
    server = serve(faults=lambda i, body: "slow", slow_seconds=30)
    reward = SyncRubricJudgeReward(
        RUBRIC, model="m", base_url=server.base_url, cache=False, stream=True, call_timeout=0.5
    )
    [result] = reward.score(prompts=["q"], completions=["a"])
    assert result.reason == "timeout"
    deadline = time.monotonic() + 5
    while server.abandoned == 0 and time.monotonic() < deadline:
        time.sleep(0.02)
    assert server.abandoned == 1  # the cancel reached the server, which stopped generating
