"""A reward call ends by its deadline whatever the judge does: frozen, down, restarting,
closing connections; a judge that is down is not asked again until its cool-down ends."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest

from rewardkit.judge import JudgeReply, JudgeRequest, OpenAIBackend, SyncRubricJudgeReward
from rewardkit.judge.engine import JudgeClient

RUBRIC = [{"text": "Gives the final answer 12", "category": "essential"}]
REQUEST = JudgeRequest(({"role": "user", "content": "Rating: [[?]]"},), max_tokens=16)


def _reward(server, **options):
    return SyncRubricJudgeReward(
        RUBRIC,
        mode="implicit",
        model="fake-judge",
        base_url=server.base_url,
        cache=False,
        **options,
    )


def _completions(n):
    return [f"answer {i} " + "word " * i for i in range(n)]


def _wait_for(condition, seconds=5.0):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and not condition():
        time.sleep(0.02)
    return condition()


def test_a_frozen_judge_costs_one_call_timeout_and_leaves_no_request_running(serve, caplog):
    server = serve(faults=lambda i, body: "freeze")
    # The case: timeout=3, max_concurrency=2 took 36 s for 12 requests.
    reward = _reward(server, timeout=3, max_concurrency=2, max_retries=4, call_timeout=1.0)
    start = time.monotonic()
    results = reward.score(prompts=["q"] * 12, completions=_completions(12))
    elapsed = time.monotonic() - start
    assert [r.reason for r in results] == ["timeout"] * 12
    assert all("call_timeout of 1 s reached" in r.details["error"] for r in results)
    assert elapsed < 1.0 + 2.0  # the deadline (generous slack for a loaded machine)
    assert server.count == 2  # the other 10 were still waiting for a connection slot
    # nothing keeps running: the frozen requests' connections were closed by the client
    assert _wait_for(lambda: server.open_connections == 0)
    assert server.abandoned == 2
    causes = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert any("first timeout" in m and "12 unanswered" in m for m in causes)


def test_the_default_deadline_follows_the_retry_settings():
    backend = OpenAIBackend("m", base_url="http://127.0.0.1:9/v1", timeout=2, max_retries=3)
    assert backend.default_call_timeout() == 2 * (3 + 2) + 20 * 3
    assert JudgeClient(backend).deadline() == backend.default_call_timeout()
    assert JudgeClient(backend, call_timeout=5).deadline() == 5
    timed = OpenAIBackend("m", base_url="http://127.0.0.1:9/v1", timeout=2, retry_for=30)
    assert timed.default_call_timeout() == 30 + 2 * 2
    assert OpenAIBackend("m").default_call_timeout() == 440  # the documented default
    with pytest.raises(ValueError, match="call_timeout"):
        JudgeClient(backend, call_timeout=0)


def test_a_judge_that_is_down_is_not_asked_again_until_its_cool_down_ends(serve, caplog):
    down = {"now": True}
    server = serve(faults=lambda i, body: "server_error" if down["now"] else None)
    reward = _reward(server, max_retries=0, breaker_failures=3, breaker_cooldown=1.0)
    first = reward.score(prompts=["q"] * 4, completions=_completions(4))
    assert {r.reason for r in first} == {"judge_unavailable"}
    sent = server.count
    start = time.monotonic()
    second = reward.score(prompts=["q"] * 4, completions=_completions(4))
    assert time.monotonic() - start < 1.0  # answered at once, nothing sent
    assert server.count == sent
    assert [r.reason for r in second] == ["judge_unavailable"] * 4
    assert all("circuit breaker open" in r.details["error"] for r in second)
    reward.score(prompts=["q"] * 4, completions=_completions(4))
    opened = [r for r in caplog.records if "circuit breaker" in r.getMessage()]
    assert [r.levelname for r in opened] == ["WARNING"]  # logged once, not per request
    down["now"] = False
    time.sleep(1.1)
    third = reward.score(prompts=["q"] * 4, completions=_completions(4))
    assert [r.reason for r in third] == ["ok"] * 4  # the cool-down ended: asked again


def test_requests_queued_for_a_slot_are_refused_once_the_breaker_opens(serve):
    server = serve(faults=lambda i, body: "server_error")
    reward = _reward(server, max_concurrency=1, max_retries=0, breaker_failures=3)
    results = reward.score(prompts=["q"] * 8, completions=_completions(8))
    assert server.count == 3  # the other 5 waited for the one slot, then were not sent
    assert [r.reason for r in results] == ["judge_unavailable"] * 8
    assert sum("circuit breaker open" in r.details["error"] for r in results) == 5


def test_retry_for_rides_out_a_restart_without_losing_a_completion(serve):
    server = serve(latency=1.0)  # the batch is in flight when the server goes down
    reward = _reward(
        server,
        retry_for=15,
        timeout=2,
        max_concurrency=2,  # most of the batch waits for a slot: it meets the open breaker
        backoff_base=0.2,
        backoff_max=0.5,
        breaker_failures=3,
        breaker_cooldown=1.0,
    )
    threading.Timer(0.1, server.restart, (2.5,)).start()  # down mid-batch for 2.5 s
    start = time.monotonic()
    results = reward.score(prompts=["q"] * 8, completions=_completions(8))
    assert server.restarts == 1
    assert reward.backend.breaker.opened >= 1
    assert [r.reason for r in results] == ["ok"] * 8
    assert time.monotonic() - start >= 2.5


def test_with_retry_for_a_new_request_waits_out_the_cool_down_instead_of_failing(serve):
    down = {"now": True}
    server = serve(faults=lambda i, body: "server_error" if down["now"] else None)
    reward = _reward(
        server,
        retry_for=3.0,
        backoff_base=0.05,
        backoff_max=0.1,
        breaker_failures=2,
        breaker_cooldown=2.0,
    )
    first = reward.score(prompts=["q"] * 2, completions=_completions(2))
    assert [r.reason for r in first] == ["judge_unavailable"] * 2  # down for all of retry_for
    assert not reward.backend.breaker.allows()  # re-opened at ~2 s for 2 s more
    down["now"] = False
    sent = server.count
    start = time.monotonic()
    second = reward.score(prompts=["q"] * 2, completions=_completions(2))
    assert [r.reason for r in second] == ["ok"] * 2
    assert time.monotonic() - start > 0.2  # it waited for the cool-down to end
    assert server.count == sent + 2  # and sent nothing meanwhile


def test_retry_for_stops_retrying_when_its_time_is_up(serve):
    server = serve(faults=lambda i, body: "server_error")
    backend = OpenAIBackend(
        "m",
        base_url=server.base_url,
        retry_for=1.0,
        backoff_base=0.1,
        backoff_max=0.2,
        breaker_failures=0,
    )
    start = time.monotonic()
    [failure] = asyncio.run(backend.complete_many([REQUEST]))
    assert failure.reason == "judge_unavailable" and failure.attempts > 2
    assert 0.7 < time.monotonic() - start < 1.0 + 2.0
    with pytest.raises(ValueError, match="retry_for"):
        OpenAIBackend("m", base_url=server.base_url, retry_for=-1)


def test_a_retry_after_a_500_does_not_reuse_the_connection_the_server_closed(serve):
    server = serve(faults=["error_then_close"])
    backend = OpenAIBackend(
        "m", base_url=server.base_url, max_concurrency=1, max_retries=1, backoff_base=0.0
    )
    [reply] = asyncio.run(backend.complete_many([REQUEST]))
    assert isinstance(reply, JudgeReply), reply
    assert server.served == ["error_then_close", "ok"]
    assert backend.usage.retries == 1  # one retry, not lost to the closed connection
