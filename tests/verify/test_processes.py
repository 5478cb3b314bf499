"""The sandbox's processes and the verifier's caches under faults: parents killed mid-call,
forks while other threads verify, workers that fail to start or die, slow start-ups and
Ctrl-C. Nothing may be left running, deadlock, or be remembered as a verdict."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from rewardkit.verify import VerifyOptions, api, check, sandbox
from rewardkit.verify.cache import LRUCache
from rewardkit.verify.sandbox import WorkerPool

ROOT = str(Path(__file__).resolve().parents[2])
linux_only = pytest.mark.skipif(not os.path.isdir("/proc"), reason="reads process states")

# Workers started from a thread that exits, then both busy in one C call that holds the
# GIL (no Python thread of the worker can watch its parent meanwhile).
_BUSY_PARENT = """
import threading, time
from rewardkit.verify.sandbox import WorkerPool
pool = WorkerPool(size=2)
starter = threading.Thread(target=pool.warm_up)
starter.start()
starter.join()
threading.Thread(target=pool.call, args=(sum, (range(10**13),)), kwargs={"timeout": 600}).start()
time.sleep(0.5)
print("busy", flush=True)
pool.call(sum, (range(10**13),), timeout=600)
"""


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(")")[-1].split()[0] != "Z"
    except OSError:
        return False


def _wait_gone(pids: list[int], seconds: float) -> list[int]:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and any(_alive(p) for p in pids):
        time.sleep(0.1)
    return [p for p in pids if _alive(p)]


def _descendants(pid: int) -> list[int]:
    found = []
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return found
    for task in tasks:
        try:
            with open(f"/proc/{pid}/task/{task}/children") as f:
                children = [int(p) for p in f.read().split()]
        except OSError:
            continue
        for child in children:
            found += [child, *_descendants(child)]
    return found


@linux_only
@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM, signal.SIGINT])
def test_busy_workers_exit_when_their_parent_is_killed(sig):
    parent = subprocess.Popen(
        [sys.executable, "-c", _BUSY_PARENT],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": ROOT},
    )
    try:
        assert parent.stdout.readline().strip() == "busy"
        processes = _descendants(parent.pid)
        assert len(processes) == 3  # the zygote and two workers busy in a C loop
        assert _wait_gone(processes, 0.5) == processes  # they work on while the parent lives
        parent.send_signal(sig)
        if sig != signal.SIGKILL:
            time.sleep(2)
            parent.kill()  # a non-daemon thread may keep the parent: it dies anyway
        parent.wait(timeout=30)
        left = _wait_gone(processes, 10)
    finally:
        parent.kill()
    for pid in left:
        os.kill(pid, signal.SIGKILL)
    assert left == []


@linux_only
def test_workers_started_from_short_lived_threads_survive_those_threads():
    pool = WorkerPool(size=1)
    try:
        box = []
        thread = threading.Thread(target=lambda: box.append(pool.call(os.getpid, timeout=60)))
        thread.start()
        thread.join()
        time.sleep(0.5)  # the starting thread is gone; its worker must still serve
        again = pool.call(os.getpid, timeout=60)
        assert again.status == "ok" and again.value == box[0].value
    finally:
        pool.close()


def _hammer(stop: threading.Event) -> None:
    cache = api._CACHE
    i = 0
    while not stop.is_set():
        i += 1
        cache.put(("k", i % 50), i)
        cache.get(("k", (i + 7) % 50))


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_forking_while_threads_use_the_caches_does_not_deadlock_the_child():
    stop = threading.Event()
    threads = [threading.Thread(target=_hammer, args=(stop,), daemon=True) for _ in range(3)]
    for t in threads:
        t.start()
    hung = 0
    try:
        for _ in range(40):
            pid = os.fork()
            if pid == 0:  # the child: use both caches once, then leave
                try:
                    check("1/2", "0.5")
                    api._CACHE.put("child", 1)
                finally:
                    os._exit(0)
            deadline = time.monotonic() + 5
            while time.monotonic() < deadline:
                done, _ = os.waitpid(pid, os.WNOHANG)
                if done:
                    break
                time.sleep(0.01)
            else:
                hung += 1
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
    finally:
        stop.set()
        for t in threads:
            t.join()
    assert hung == 0


def _failing_starts(monkeypatch, n: int) -> None:
    """The next ``n`` worker starts fail as under memory pressure (EAGAIN)."""
    real = WorkerPool._fork
    left = [n]

    def flaky(self, deadline):
        if left[0] > 0:
            left[0] -= 1
            raise OSError(11, "Resource temporarily unavailable")
        return real(self, deadline)

    monkeypatch.setattr(WorkerPool, "_fork", flaky)
    monkeypatch.setattr(sandbox, "_POOL", None)


@pytest.fixture
def warm_default_pool():
    sandbox.default_pool().warm_up()  # a loaded machine may take seconds to start sympy


def test_a_failed_worker_start_is_not_remembered_as_a_verdict(monkeypatch):
    _failing_starts(monkeypatch, 2)
    pred, gold = r"(x+11)^2", "x^2+22x+121"
    assert check(pred, gold, VerifyOptions(timeout=60)).reason == "no_sandbox"  # both tries
    assert check(pred, gold, VerifyOptions(timeout=60)).reason == "ok"  # not remembered


def test_a_failed_worker_start_is_retried_once(monkeypatch):
    _failing_starts(monkeypatch, 1)
    assert check(r"(x+12)^2", "x^2+24x+144", VerifyOptions(timeout=60)).reason == "ok"


_KILLERS = """
import os, signal
from rewardkit.verify.answers import compare_answers

def killed(pred, gold, options):  # the OOM killer, from the worker's point of view
    os.kill(os.getpid(), signal.SIGKILL)

def killed_once(flag, pred, gold, options):
    if not os.path.exists(flag):
        open(flag, "w").close()
        os.kill(os.getpid(), signal.SIGKILL)
    return compare_answers(pred, gold, options, symbolic=True)
"""


@pytest.fixture
def killers(monkeypatch, tmp_path):
    """A module of worker functions importable by fresh workers (a fresh pool)."""
    (tmp_path / "rk_killers.py").write_text(_KILLERS)
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(tmp_path), ROOT]))
    monkeypatch.setattr(sandbox, "_POOL", None)
    import rk_killers

    sandbox.default_pool().warm_up()
    yield rk_killers
    sandbox.default_pool().close()


def test_a_worker_killed_from_outside_is_retried_and_not_cached(monkeypatch, killers):
    real = api._symbolic_compare
    pred, gold = r"(x+13)^2", "x^2+26x+169"
    monkeypatch.setattr(api, "_symbolic_compare", killers.killed)
    assert check(pred, gold).reason == "parse_error"  # killed on the try and the retry
    monkeypatch.setattr(api, "_symbolic_compare", real)
    assert check(pred, gold).reason == "ok"  # not remembered


def test_a_worker_killed_once_gives_the_real_verdict(monkeypatch, killers, tmp_path):
    import functools

    flag = tmp_path / "killed"
    monkeypatch.setattr(api, "_symbolic_compare", functools.partial(killers.killed_once, str(flag)))
    assert check(r"(x+14)^2", "x^2+28x+196").reason == "ok"
    assert flag.exists()


def test_worker_start_up_slower_than_the_timeout_does_not_livelock(monkeypatch, tmp_path):
    (tmp_path / "sitecustomize.py").write_text("import time\ntime.sleep(2.4)\n")
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(tmp_path), ROOT]))
    monkeypatch.setattr(sandbox, "_POOL", None)
    options = VerifyOptions(timeout=1.2)
    pairs = [(rf"(y+{k})^2", f"y^2+{2 * k}y+{k * k}") for k in range(2, 200)]
    reasons = []
    give_up = time.monotonic() + 120  # a loaded machine takes long to import sympy
    while pairs and time.monotonic() < give_up and "ok" not in reasons:
        reasons.append(check(*pairs.pop(), options).reason)  # waits for the start-up
    assert "ok" in reasons, reasons
    after = [check(*pairs.pop(), options).reason for _ in range(10)]
    assert after == ["ok"] * 10
    sandbox.default_pool().close()


def test_keyboard_interrupt_during_a_call_does_not_leak_its_worker():
    pool = WorkerPool(size=1)
    pool.warm_up()
    try:
        for _ in range(2):
            timer = threading.Timer(0.5, lambda: os.kill(os.getpid(), signal.SIGINT))
            timer.start()
            with pytest.raises(KeyboardInterrupt):
                pool.call(time.sleep, (30,), timeout=30)
            timer.join()
        start = time.monotonic()
        result = pool.call(os.getpid, timeout=10)
        assert result.status == "ok" and time.monotonic() - start < 10
        assert pool._count == 1
    finally:
        pool.close()


def test_verdicts_do_not_depend_on_slow_pairs_in_the_same_batch(warm_default_pool):
    from rewardkit.verify import verify_batch

    honest = [(rf"\boxed{{(x+{k})^2}}", f"x^2+{2 * k}x+{k * k}") for k in range(30, 42)]
    slow = [(rf"\boxed{{(1+x)\binom{{x}}{{{20000 - k}}}}}", r"\binom{x}{20000}") for k in range(12)]
    mixed = [p for pair in zip(honest, slow, strict=True) for p in pair]
    verdicts = verify_batch(mixed, processes=2, timeout=1.0)
    assert [v.reason for v in verdicts[::2]] == ["ok"] * len(honest)


def test_lru_cache_is_bounded_by_bytes():
    cache = LRUCache(maxsize=1000, maxbytes=10_000)
    for i in range(100):
        cache.put(i, "x" * 1000, nbytes=1000)
    assert len(cache) == 10 and cache.nbytes <= 10_000
    cache.put("huge", "y", nbytes=50_000)  # bigger than the whole cache: not stored
    assert cache.get("huge") is None and len(cache) == 10


def test_the_parse_cache_holds_no_more_memory_than_its_byte_cap(monkeypatch):
    import gc
    import tracemalloc

    from sympy.core.cache import clear_cache

    from rewardkit.verify import parser

    cap = 32 << 10
    monkeypatch.setattr(parser, "_CACHE", LRUCache(8192, maxbytes=cap))
    texts = ["+".join(f"z_{{{i}}}^{{{k}}}" for i in range(k, k + 30)) for k in range(2, 14)]
    tracemalloc.start()
    try:
        for text in texts:  # ~14 kB each when parsed: ~170 kB unbounded
            parser.parse_expression(text)
        clear_cache()
        gc.collect()
        held = tracemalloc.get_traced_memory()[0]
        parser._CACHE.clear()
        gc.collect()
        freed = held - tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    assert freed <= 2 * cap
