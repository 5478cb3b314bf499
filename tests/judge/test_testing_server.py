"""The fake judge server itself: protocol, faults, toy verdicts and the command line."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest

from rewardkit.judge import Criterion, PromptTemplates, Rubric
from rewardkit.judge.testing_server import FakeJudgeServer, toy_judge

ROOT = Path(__file__).resolve().parents[2]
BODY = {"model": "m", "messages": [{"role": "user", "content": "hi"}]}


def test_replies_follow_the_chat_completions_shape(serve):
    server = serve(responder=lambda body: "Verdict: YES")
    reply = httpx.post(server.base_url + "/chat/completions", json=BODY).json()
    assert reply["choices"][0]["message"] == {"role": "assistant", "content": "Verdict: YES"}
    assert reply["usage"]["total_tokens"] == (
        reply["usage"]["prompt_tokens"] + reply["usage"]["completion_tokens"]
    )
    assert server.requests == [BODY]


def test_unknown_routes_and_bad_bodies_are_client_errors(serve):
    server = serve()
    root = server.base_url.removesuffix("/v1")
    assert httpx.post(root + "/v1/completions", json=BODY).status_code == 404
    bad = httpx.post(server.base_url + "/chat/completions", content=b"{not json")
    assert bad.status_code == 400
    assert server.count == 0  # neither reached the judge


def test_faults_are_served_in_order_then_ok(serve):
    server = serve(faults=["rate_limit", "malformed", "server_error"], retry_after=7)
    with httpx.Client(base_url=server.base_url) as client:
        replies = [client.post("/chat/completions", json=BODY) for _ in range(4)]
    assert [r.status_code for r in replies] == [429, 200, 500, 200]
    assert replies[0].headers["retry-after"] == "7"
    with pytest.raises(ValueError):
        replies[1].json()
    assert server.served == ["rate_limit", "malformed", "server_error", "ok"]


def test_a_dropped_connection_gets_no_reply(serve):
    server = serve(faults=["drop"])
    with pytest.raises(httpx.RemoteProtocolError):
        httpx.post(server.base_url + "/chat/completions", json=BODY)


def test_it_shuts_down_quietly_with_open_keep_alive_connections(caplog):
    server = FakeJudgeServer(faults=["ok", "slow"], slow_seconds=30).start()
    idle = httpx.Client(base_url=server.base_url)
    assert idle.post("/chat/completions", json=BODY).status_code == 200  # stays open

    def wait_for_the_slow_reply():
        with pytest.raises(httpx.RemoteProtocolError):  # the server went away
            httpx.post(server.base_url + "/chat/completions", json=BODY, timeout=10)

    busy = threading.Thread(target=wait_for_the_slow_reply, daemon=True)
    busy.start()
    while server.in_flight == 0:  # the slow request is being served
        time.sleep(0.01)
    server.stop()
    idle.close()
    busy.join(10)
    assert [r.getMessage() for r in caplog.records if r.levelname == "ERROR"] == []


def test_a_restart_refuses_connections_then_serves_on_the_same_port(serve):
    server = serve()
    server.restart(1.0)  # returns once the server is down
    with pytest.raises(httpx.ConnectError):
        httpx.post(server.base_url + "/chat/completions", json=BODY)
    time.sleep(1.5)
    assert httpx.post(server.base_url + "/chat/completions", json=BODY).status_code == 200
    assert server.restarts == 1


def test_streamed_replies_are_server_sent_events(serve):
    server = serve(responder=lambda body: {"content": "Verdict: YES", "reasoning_content": "hm"})
    with httpx.stream(
        "POST", server.base_url + "/chat/completions", json={**BODY, "stream": True}
    ) as response:
        lines = [line for line in response.iter_lines() if line]
    assert response.headers["content-type"] == "text/event-stream"
    assert lines[-1] == "data: [DONE]"
    chunks = [json.loads(line.removeprefix("data: ")) for line in lines[:-1]]
    deltas = [c["choices"][0]["delta"] for c in chunks]
    assert "".join(d.get("content", "") for d in deltas) == "Verdict: YES"
    assert "".join(d.get("reasoning_content", "") for d in deltas) == "hm"
    assert chunks[-1]["choices"][0]["finish_reason"] == "stop" and "usage" in chunks[-1]


def test_unknown_fault_names_are_rejected():
    with pytest.raises(ValueError, match="unknown faults"):
        FakeJudgeServer(faults=["explode"])


def test_the_toy_judge_reads_rewardkit_prompts():
    templates = PromptTemplates()
    rubric = Rubric([Criterion("Gives the answer 12", "essential")], scale=(1, 5))

    def body(messages):
        return {"messages": messages}

    met = templates.criterion_messages("q", "so 12", rubric.criteria[0])
    assert toy_judge(body(met)).endswith("Verdict: YES")
    assert toy_judge(body(templates.likert_messages("q", "a b c d e f", rubric))).endswith("[[5]]")
    ranked = toy_judge(body(templates.group_messages("q", ["a", "a b"], rubric)))
    assert ranked.endswith('{"ranking": [2, 1]}')
    steps = toy_judge(body(templates.first_error_messages("p", ["ok", "wrong"])))
    assert steps.endswith(r"\boxed{1}")


def test_the_command_line_server_prints_its_url_and_serves():
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    process = subprocess.Popen(
        [sys.executable, "-m", "rewardkit.judge.testing_server", "--latency", "0.01"],
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        url = process.stdout.readline().strip()
        assert url.startswith("http://127.0.0.1:") and url.endswith("/v1")
        reply = httpx.post(url + "/chat/completions", json=BODY, timeout=10)
        assert reply.json()["choices"][0]["message"]["content"] == "I cannot tell."
    finally:
        process.terminate()
        process.wait(timeout=10)
