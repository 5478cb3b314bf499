"""Load and faults: batching, a hanging sample beside fast ones, overload, graceful shutdown."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
from serve_rewards import Contains

from rewardkit.serve import Scorer, create_app

HERE = Path(__file__).resolve().parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


async def _post_all(url: str, bodies: list[dict], timeout: float = 120) -> list[httpx.Response]:
    async with httpx.AsyncClient(timeout=timeout) as client:
        return await asyncio.gather(*(client.post(url, json=b) for b in bodies))


def _slime(i: int, text: str | None = None) -> dict:
    return {"prompt": f"p{i}", "response": text or f"the answer is {i}", "label": str(i)}


def test_concurrent_single_sample_requests_are_scored_in_few_batches(live, tmp_path, monkeypatch):
    log = tmp_path / "batches.txt"
    monkeypatch.setenv("REWARDKIT_TEST_LOG", str(log))
    scorer = Scorer(Contains(delay=0.2), processes=1, max_batch=64, max_wait=0.005)
    url = live(create_app({"c": scorer}))
    replies = asyncio.run(_post_all(f"{url}/slime", [_slime(i) for i in range(40)]))
    assert [r.json() for r in replies] == [1.0] * 40
    sizes = [int(n) for n in log.read_text().split()]
    sizes = [n for n in sizes if n]  # the warm-up calls score nothing
    assert sum(sizes) == 40 and len(sizes) <= 5, sizes  # one worker, 0.2 s a batch


def test_a_hanging_sample_times_out_alone_and_the_others_are_scored(live):
    scorer = Scorer(Contains(), processes=2, timeout=2.0)
    url = live(create_app({"c": scorer}))
    bodies = [_slime(i) for i in range(12)]
    bodies.insert(5, _slime(99, "HANG forever"))
    start = time.perf_counter()
    replies = asyncio.run(_post_all(f"{url}/slime/dict", bodies))
    elapsed = time.perf_counter() - start
    results = [r.json() for r in replies]
    assert results[5]["reason"] == "timeout" and results[5]["score"] == 0.0
    others = results[:5] + results[6:]
    assert [r["score"] for r in others] == [1.0] * 12, others
    assert elapsed < 30  # two deadlines at most, never the 60 s the sample would take
    # the killed worker was replaced: the server still scores
    assert httpx.post(f"{url}/slime", json=_slime(7), timeout=60).json() == 1.0


def test_overload_answers_503_with_retry_after(live):
    scorer = Scorer(Contains(delay=1.0), processes=1, max_pending=3, max_wait=0.0)
    url = live(create_app({"c": scorer}))
    replies = asyncio.run(_post_all(f"{url}/slime", [_slime(i) for i in range(10)]))
    statuses = [r.status_code for r in replies]
    assert statuses.count(200) >= 3 and statuses.count(503) >= 1, statuses
    busy = next(r for r in replies if r.status_code == 503)
    assert int(busy.headers["retry-after"]) >= 1 and "retry later" in busy.json()["error"]
    assert httpx.post(f"{url}/slime", json=_slime(1), timeout=60).json() == 1.0  # recovers
    metrics = httpx.get(f"{url}/metrics").text
    assert 'status="503"' in metrics
    # a request that could never fit is refused for good, not told to retry
    body = {"completions": ["7"] * 5, "answer": ["7"] * 5}
    too_many = httpx.post(f"{url}/v1/score", json=body, timeout=60)
    assert too_many.status_code == 413 and "at most 3" in too_many.json()["error"]


def test_shutdown_finishes_the_batch_in_flight(tmp_path):
    config = tmp_path / "serve.yaml"
    config.write_text("processes: 1\nroutes:\n  slow: 'serve_rewards:Contains@delay=3.0'\n")
    port = free_port()
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(HERE), *sys.path])}
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "rewardkit.cli",
            "serve",
            "--config",
            str(config),
            "--port",
            str(port),
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 120
        while True:
            try:
                if httpx.get(f"{url}/health", timeout=5).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline and server.poll() is None, server.stdout.read()
            time.sleep(0.2)

        async def request_then_stop():
            async with httpx.AsyncClient(timeout=120) as client:
                pending = asyncio.ensure_future(client.post(f"{url}/slow/slime", json=_slime(3)))
                await asyncio.sleep(1.0)  # the batch is being scored now
                server.send_signal(signal.SIGTERM)
                return await pending

        response = asyncio.run(request_then_stop())
        assert response.status_code == 200 and response.json() == 1.0
        # uvicorn ends by re-raising the signal it handled, after the graceful shutdown
        assert server.wait(timeout=60) in (0, -signal.SIGTERM)
        assert b"Traceback" not in server.stdout.read()
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()
