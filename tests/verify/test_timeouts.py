"""Hard time limits from every kind of caller: a timeout is a verdict, never a hang or an
exception, and no call returns later than its timeout plus half a second."""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import signal
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from rewardkit.verify import VerifyOptions, check, verify
from rewardkit.verify.sandbox import WorkerPool

TIMEOUT = 1.0
SLACK = 0.5
# Equal at every point, so all of them are evaluated; each evaluation of a symbolic binomial
# with a 20,000-term product takes seconds: a comparison crafted to be slow.
SLOW_PRED = r"\boxed{(1+x)\binom{x}{20000}}"
SLOW_GOLD = r"\binom{x}{20000}+x\binom{x}{20000}"


@pytest.fixture(scope="module")
def pool():
    pool = WorkerPool(size=2)
    pool.warm_up()
    yield pool
    pool.close()


def _timed(fn, *args, **kwargs):
    start = time.perf_counter()
    result = fn(*args, **kwargs)
    return result, time.perf_counter() - start


def test_pool_call_times_out_from_the_main_thread(pool):
    result, seconds = _timed(pool.call, time.sleep, (30,), timeout=TIMEOUT)
    assert result.status == "timeout"
    assert seconds <= TIMEOUT + SLACK


def test_pool_calls_time_out_from_worker_threads(pool):
    with ThreadPoolExecutor(max_workers=4) as executor:  # more callers than workers
        futures = [
            executor.submit(_timed, pool.call, time.sleep, (30,), timeout=TIMEOUT) for _ in range(4)
        ]
        results = [f.result() for f in futures]
    assert {r.status for r, _ in results} == {"timeout"}
    assert max(seconds for _, seconds in results) <= TIMEOUT + SLACK


def test_a_worker_killed_mid_call_is_replaced():
    pool = WorkerPool(size=1)
    try:
        first = pool.call(os.getpid, timeout=30)
        assert first.status == "ok"
        with ThreadPoolExecutor(max_workers=1) as executor:
            busy = executor.submit(pool.call, time.sleep, (30,), timeout=30)
            time.sleep(0.3)
            os.kill(first.value, signal.SIGKILL)  # the worker dies in the middle of a call
            died = busy.result(timeout=10)
        assert died.status == "died" and "died" in died.error
        after = pool.call(os.getpid, timeout=30)
        assert after.status == "ok" and after.value != first.value
        assert pool.call(time.sleep, (30,), timeout=TIMEOUT).status == "timeout"  # overran: killed
        again = pool.call(os.getpid, timeout=30)
        assert again.status == "ok" and again.value not in (first.value, after.value)
    finally:
        pool.close()


def test_a_worker_killed_while_idle_is_replaced_transparently():
    pool = WorkerPool(size=1)
    try:
        first = pool.call(os.getpid, timeout=30)
        os.kill(first.value, signal.SIGKILL)
        time.sleep(0.2)
        again = pool.call(os.getpid, timeout=30)
        assert again.status == "ok" and again.value != first.value
    finally:
        pool.close()


def test_an_error_in_the_worker_is_reported_not_raised(pool):
    result = pool.call(int, ("not a number",), timeout=30)
    assert result.status == "error" and "ValueError" in result.error


def test_slow_verification_is_a_timeout_verdict_from_the_main_thread():
    verdict, seconds = _timed(verify, SLOW_PRED, SLOW_GOLD, timeout=TIMEOUT)
    assert (verdict.correct, verdict.reason) == (False, "timeout")
    assert seconds <= TIMEOUT + SLACK


def test_slow_verification_is_a_timeout_verdict_from_a_thread_pool():
    with ThreadPoolExecutor(max_workers=3) as executor:
        futures = [
            executor.submit(_timed, verify, SLOW_PRED, SLOW_GOLD, timeout=TIMEOUT) for _ in range(3)
        ]
        results = [f.result() for f in futures]
    assert {v.reason for v, _ in results} == {"timeout"}
    assert max(seconds for _, seconds in results) <= TIMEOUT + SLACK


def test_slow_verification_is_a_timeout_verdict_from_asyncio():
    async def main():
        start = time.perf_counter()
        verdict = await asyncio.to_thread(verify, SLOW_PRED, SLOW_GOLD, timeout=TIMEOUT)
        return verdict, time.perf_counter() - start

    verdict, seconds = asyncio.run(main())
    assert verdict.reason == "timeout"
    assert seconds <= TIMEOUT + SLACK


def test_timeouts_are_not_cached():
    options = VerifyOptions(timeout=TIMEOUT)
    pred = SLOW_PRED.replace(r"\boxed", "")
    assert check(pred, SLOW_GOLD, options).reason == "timeout"
    outcome, seconds = _timed(check, pred, SLOW_GOLD, options)
    assert outcome.reason == "timeout" and seconds >= TIMEOUT * 0.9  # tried again, not cached
    assert check("(x+1)^2", "x^2+2x+1").reason == "ok"  # the pool still answers afterwards


def _verify_in_child(args):
    pred, gold = args
    return verify(pred, gold, timeout=30).reason


def test_verification_works_inside_daemonic_child_processes():
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(1) as child_pool:  # pool workers are daemonic: they cannot use multiprocessing
        reasons = child_pool.map(
            _verify_in_child, [(r"\boxed{(x+1)^2}", "x^2+2x+1"), (r"\boxed{(x+1)^2}", "x^2+1")]
        )
    assert reasons == ["ok", "wrong_answer"]


def test_verification_works_in_forked_children_after_the_parent_used_the_pool():
    assert verify(r"\boxed{(x+2)^2}", "x^2+4x+4").correct  # the parent's pool is running
    ctx = multiprocessing.get_context("fork")
    with ctx.Pool(1) as child_pool:
        reasons = child_pool.map(_verify_in_child, [(r"\boxed{(x+3)^2}", "x^2+6x+9")])
    assert reasons == ["ok"]
    assert verify(r"\boxed{(x+4)^2}", "x^2+8x+16").correct  # and the parent's still works


def test_several_slow_boxed_answers_share_one_deadline():
    slow = [rf"\boxed{{(1+x)\binom{{x}}{{{20000 - k}}}}}" for k in range(4)]
    verdict, seconds = _timed(verify, " ".join(slow), SLOW_GOLD, timeout=TIMEOUT)
    assert not verdict.correct and verdict.reason == "timeout"
    assert seconds <= TIMEOUT + SLACK


def test_no_worker_process_is_a_verdict_not_a_crash(monkeypatch):
    from rewardkit.verify import sandbox

    def refuse(*args, **kwargs):
        raise OSError("cannot start processes here")

    monkeypatch.setattr(sandbox.WorkerPool, "_fork", refuse)
    monkeypatch.setattr(sandbox, "_POOL", None)
    verdict = verify(r"\boxed{(x+9)^2}", "x^2+18x+81")
    assert (verdict.correct, verdict.reason) == (False, "no_sandbox")
    assert verify(r"\boxed{12}", "12").correct  # plain answers need no worker


_ORPHAN_SCRIPT = """
import os, sys, time
from rewardkit.verify.sandbox import WorkerPool
pool = WorkerPool(size=1)
print(pool.call(os.getpid, timeout=60).value, flush=True)
pool.call(time.sleep, (60,), timeout=60)
"""


@pytest.mark.skipif(not os.path.isdir("/proc"), reason="reads process states from /proc")
def test_workers_exit_when_their_parent_dies():
    import subprocess
    import sys
    from pathlib import Path

    root = str(Path(__file__).resolve().parents[2])
    parent = subprocess.Popen(
        [sys.executable, "-c", _ORPHAN_SCRIPT],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": root},
    )
    worker_pid = int(parent.stdout.readline())
    time.sleep(0.3)  # the worker is now busy sleeping
    parent.kill()
    parent.wait()
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and _alive(worker_pid):
        time.sleep(0.1)
    assert not _alive(worker_pid)


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(")")[-1].split()[0] != "Z"
    except OSError:
        return False
