"""The OpenAI-compatible backend against a real HTTP server on loopback that misbehaves."""

from __future__ import annotations

import asyncio
import math
import pickle
import socket
import time

import pytest

from rewardkit.judge import JudgeFailure, JudgeReply, JudgeRequest, OpenAIBackend
from rewardkit.judge.backends.openai_wire import retry_after as _retry_after

REQUEST = JudgeRequest(({"role": "user", "content": "Rate this. Rating: [[?]]"},), max_tokens=16)


def _backend(server, **options) -> OpenAIBackend:
    options = {
        "timeout": 2.0,
        "max_retries": 2,
        "backoff_base": 0.01,
        "backoff_max": 0.05,
        **options,
    }
    return OpenAIBackend("fake-judge", base_url=server.base_url, **options)


def _complete(backend, requests):
    async def go():
        try:
            return await backend.complete_many(requests)
        finally:
            await backend.aclose()

    return asyncio.run(go())


def test_replies_arrive_and_token_usage_is_counted(serve):
    server = serve(responder=lambda body: "Rating: [[7]]")
    backend = _backend(server)
    replies = _complete(backend, [REQUEST] * 3)
    assert [r.text for r in replies] == ["Rating: [[7]]"] * 3
    prompt_chars = len(REQUEST.messages[0]["content"])
    assert backend.usage.snapshot() == {
        "requests": 3,
        "retries": 0,
        "failures": 0,
        "prompt_tokens": 3 * (prompt_chars // 4 + 1),
        "completion_tokens": 3 * (len("Rating: [[7]]") // 4 + 1),
    }
    body = server.requests[0]
    assert body["model"] == "fake-judge"
    assert body["messages"] == list(REQUEST.messages)
    assert body["max_tokens"] == 16 and body["temperature"] == 0.0
    assert "logprobs" not in body


def test_429_waits_as_long_as_retry_after_says(serve):
    server = serve(faults=["rate_limit"], retry_after=0.5)
    backend = _backend(server, backoff_base=0.0)  # without Retry-After it would retry at once
    [reply] = _complete(backend, [REQUEST])
    assert isinstance(reply, JudgeReply)
    assert server.served == ["rate_limit", "ok"]
    assert server.arrivals[1] - server.arrivals[0] >= 0.5
    assert backend.usage.retries == 1


def test_retry_after_is_capped(serve):
    server = serve(faults=["rate_limit"] * 3, retry_after=30)
    backend = _backend(server, max_retry_after=0.1)
    start = time.monotonic()
    [reply] = _complete(backend, [REQUEST])
    assert isinstance(reply, JudgeFailure) and reply.reason == "rate_limited"
    assert time.monotonic() - start < 3


def test_retry_after_header_forms():
    assert _retry_after("2") == 2.0
    assert _retry_after("0.25") == 0.25
    assert _retry_after("-5") == 0.0
    assert _retry_after("soon") is None
    assert _retry_after(None) is None
    when = time.time() + 10
    http_date = time.strftime("%a, %d %b %Y %H:%M:%S GMT", time.gmtime(when))
    assert 8 <= _retry_after(http_date) <= 10.5


@pytest.mark.parametrize(
    ("fault", "reason"),
    [
        ("server_error", "judge_unavailable"),
        ("drop", "judge_unavailable"),
        ("malformed", "bad_judge_reply"),
        ("rate_limit", "rate_limited"),
    ],
)
def test_transient_faults_are_retried_then_reported(serve, fault, reason):
    once = serve(faults=[fault], retry_after=0.05)
    [reply] = _complete(_backend(once), [REQUEST])
    assert isinstance(reply, JudgeReply)
    assert once.served == [fault, "ok"]

    always = serve(faults=lambda i, body: fault, retry_after=0.05)
    backend = _backend(always, max_retries=2)
    [failure] = _complete(backend, [REQUEST])
    assert isinstance(failure, JudgeFailure)
    assert (failure.reason, failure.attempts) == (reason, 3)
    assert always.count == 3  # bounded: exactly max_retries + 1 attempts
    assert backend.usage.failures == 1


def test_replies_slower_than_the_timeout_are_timeouts(serve):
    server = serve(faults=lambda i, body: "slow", slow_seconds=5)
    backend = _backend(server, timeout=0.3, max_retries=1)
    start = time.monotonic()
    [failure] = _complete(backend, [REQUEST])
    elapsed = time.monotonic() - start
    assert isinstance(failure, JudgeFailure) and failure.reason == "timeout"
    assert server.count == 2
    assert elapsed < 2 * 0.3 + 3.0  # bounded by the timeouts, not by the 5 s reply


def test_client_errors_are_not_retried(serve):
    server = serve()
    backend = OpenAIBackend("m", base_url=server.base_url.replace("/v1", "/wrong"), max_retries=3)
    [failure] = _complete(backend, [REQUEST])
    assert failure.reason == "judge_rejected"
    assert failure.attempts == 1
    assert "HTTP 404" in failure.detail


def test_a_server_that_is_not_there_is_unavailable():
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    backend = OpenAIBackend(
        "m", base_url=f"http://127.0.0.1:{port}/v1", max_retries=1, backoff_base=0.01, timeout=1
    )
    [failure] = _complete(backend, [REQUEST])
    assert (failure.reason, failure.attempts) == ("judge_unavailable", 2)
    assert "ConnectError" in failure.detail


def test_concurrency_is_limited(serve):
    server = serve(latency=0.1)
    backend = _backend(server, max_concurrency=4)
    start = time.monotonic()
    replies = _complete(backend, [REQUEST] * 20)
    elapsed = time.monotonic() - start
    assert all(isinstance(r, JudgeReply) for r in replies)
    assert server.max_in_flight == 4
    assert 0.5 <= elapsed < 4.0  # 20 / 4 = 5 rounds of 0.1 s (slack for a loaded machine)


def test_full_jitter_backoff_stays_in_its_window():
    backend = OpenAIBackend("m", base_url="http://127.0.0.1:9/v1", backoff_base=0.5, backoff_max=3)
    for attempt, cap in [(0, 0.5), (1, 1.0), (2, 2.0), (5, 3.0)]:
        waits = [backend._backoff(attempt, None) for _ in range(200)]
        assert all(0 <= w <= cap for w in waits)
        assert max(waits) - min(waits) > cap / 2  # spread out, not a fixed delay
    assert 2.0 <= backend._backoff(0, 2.0) <= 2.2  # Retry-After wins, with a little jitter


def test_the_api_key_comes_from_the_named_variable_and_is_never_pickled(serve, monkeypatch):
    server = serve()
    monkeypatch.setenv("JUDGE_TEST_KEY", "sk-secret-123")
    backend = _backend(server, api_key_env="JUDGE_TEST_KEY")
    _complete(backend, [REQUEST])
    assert server.headers[0]["authorization"] == "Bearer sk-secret-123"
    assert b"sk-secret-123" not in pickle.dumps(backend)
    clone = pickle.loads(pickle.dumps(backend))
    assert isinstance(_complete(clone, [REQUEST])[0], JudgeReply)
    monkeypatch.delenv("JUDGE_TEST_KEY")
    with pytest.raises(ValueError, match="'JUDGE_TEST_KEY' is not set"):
        _backend(server, api_key_env="JUDGE_TEST_KEY")


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"base_url": "localhost:8000"}, "http"),
        ({"max_concurrency": 0}, "max_concurrency"),
        ({"timeout": 0}, "timeout"),
        ({"max_retries": -1}, "max_retries"),
        ({"model": ""}, "model name"),
    ],
)
def test_bad_configuration_raises_at_construction(options, message):
    options = {"model": "m", "base_url": "http://127.0.0.1:1/v1", **options}
    with pytest.raises(ValueError, match=message):
        OpenAIBackend(**options)


def test_logprobs_and_reasoning_content_are_read(serve):
    def responder(body):
        assert body["logprobs"] is True and body["top_logprobs"] == 2
        return {
            "content": "[[8]]",
            "logprobs": [
                {"token": "[[", "logprob": 0.0, "top_logprobs": []},
                {
                    "token": "8",
                    "logprob": math.log(0.75),
                    "top_logprobs": [
                        {"token": "8", "logprob": math.log(0.75)},
                        {"token": "9", "logprob": math.log(0.25)},
                    ],
                },
                {"token": "]]", "logprob": 0.0, "top_logprobs": []},
            ],
        }

    server = serve(responder=responder)
    request = JudgeRequest(REQUEST.messages, top_logprobs=2)
    [reply] = _complete(_backend(server), [request])
    assert [t.token for t in reply.logprobs] == ["[[", "8", "]]"]
    assert reply.logprobs[1].top[1] == ("9", pytest.approx(math.log(0.25)))


def test_one_backend_serves_several_event_loops(serve):
    server = serve()
    backend = _backend(server)
    for _ in range(3):  # each asyncio.run is a new loop, with its own client
        assert isinstance(_complete(backend, [REQUEST])[0], JudgeReply)
    assert server.count == 3


def test_a_reasoning_parsers_split_is_kept_and_an_unfinished_thought_is_no_verdict():
    from rewardkit.judge.backends.openai_wire import read_reply as _read_reply

    both = b'{"choices": [{"message": {"content": "Rating: [[6]]", "reasoning_content": "[[2]]"}}]}'
    assert _read_reply(both).text == "<think>[[2]]</think>Rating: [[6]]"
    unfinished = _read_reply(b'{"choices": [{"message": {"content": null, "reasoning": "[[3]]"}}]}')
    assert unfinished.text == "<think>[[3]]"  # parses as unclosed_think, not as a 3
    assert "no message content" in _read_reply(b'{"choices": [{"message": {"content": null}}]}')
    assert "malformed" in _read_reply(b'{"choices": []}')
