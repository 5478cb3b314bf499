"""Hard time limits without signals: a pool of worker processes with a deadline per call.

Each worker is a separate Python process (started with ``subprocess``, so it works from
the main thread, worker threads, asyncio code and even daemonic child processes, where
``multiprocessing`` may not start children). A call that overruns its deadline gets a
``timeout`` result; its worker is killed and a fresh one started in its place. No call
returns later than its timeout plus the time to kill a process.

>>> import operator
>>> sandbox_call(operator.add, (2, 3), timeout=30).value
5
"""

from __future__ import annotations

import atexit
import os
import pickle
import select
import struct
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["CallResult", "WorkerPool", "default_pool", "sandbox_call"]

_HEADER = struct.Struct("!I")
_MEMORY_LIMIT = 2 << 30  # bytes of address space per worker
_READY = b"ready"


@dataclass(frozen=True)
class CallResult:
    """``status`` is ``ok`` (``value`` holds the result), ``timeout`` or ``error``
    (``error`` says what went wrong in the worker)."""

    status: str
    value: Any = None
    error: str | None = None


class _Worker:
    def __init__(self) -> None:
        env = dict(os.environ)
        root = str(Path(__file__).resolve().parents[2])
        env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH")) if p)
        env.setdefault("OMP_NUM_THREADS", "1")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "rewardkit.verify.sandbox"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env=env,
            close_fds=True,
        )
        self.ready = False
        self.calls = 0

    def send(self, payload: bytes) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(_HEADER.pack(len(payload)) + payload)
        self.proc.stdin.flush()

    def receive(self, deadline: float) -> bytes | None:
        """One message, or ``None`` when the deadline passes first."""
        header = self._read_exactly(_HEADER.size, deadline)
        if header is None:
            return None
        (size,) = _HEADER.unpack(header)
        return self._read_exactly(size, deadline)

    def _read_exactly(self, n: int, deadline: float) -> bytes | None:
        assert self.proc.stdout is not None
        fd = self.proc.stdout.fileno()
        chunks: list[bytes] = []
        while n > 0:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return None
            readable, _, _ = select.select([fd], [], [], remaining)
            if not readable:
                return None
            chunk = os.read(fd, min(n, 1 << 20))
            if not chunk:
                raise EOFError("worker exited")
            chunks.append(chunk)
            n -= len(chunk)
        return b"".join(chunks)

    def kill(self) -> None:
        try:
            self.proc.kill()
        except OSError:
            pass
        try:
            self.proc.wait(timeout=0.2)
        except subprocess.TimeoutExpired:
            threading.Thread(target=self.proc.wait, daemon=True).start()
        for stream in (self.proc.stdin, self.proc.stdout):
            try:
                if stream is not None:
                    stream.close()
            except OSError:
                pass


class WorkerPool:
    """Up to ``size`` worker processes, started when first needed; thread-safe.

    >>> pool = WorkerPool(size=1)
    >>> pool.call(divmod, (7, 2), timeout=30)
    CallResult(status='ok', value=(3, 1), error=None)
    >>> pool.close()
    """

    def __init__(self, size: int = 2) -> None:
        if size < 1:
            raise ValueError(f"a pool needs at least one worker, got size={size}")
        self.size = size
        self._idle: list[_Worker] = []
        self._count = 0
        self._cond = threading.Condition()
        self._closed = False

    def call(self, fn: Callable[..., Any], args: tuple = (), *, timeout: float) -> CallResult:
        """Run ``fn(*args)`` in a worker; a picklable module-level ``fn`` and arguments.

        A worker found dead before it took the call (killed while idle) is replaced and
        the call tried once more; one that dies during the call gives an ``error``.
        """
        deadline = time.monotonic() + timeout
        payload = pickle.dumps((fn, args), protocol=pickle.HIGHEST_PROTOCOL)
        for attempt in range(2):
            worker = self._acquire(deadline)
            if worker is None:
                return CallResult("timeout", error="no worker free before the deadline")
            try:
                if not worker.ready:
                    if worker.receive(deadline) is None:
                        return self._discard(worker, CallResult("timeout", error="starting"))
                    worker.ready = True
                worker.send(payload)
            except (OSError, EOFError, ValueError) as exc:
                result = self._discard(worker, CallResult("error", error=f"worker died: {exc}"))
                if attempt == 0:
                    continue
                return result
            break
        try:
            reply = worker.receive(deadline)
        except (OSError, EOFError, ValueError) as exc:
            return self._discard(worker, CallResult("error", error=f"worker died: {exc}"))
        if reply is None:
            return self._discard(worker, CallResult("timeout", error=f"over {timeout} s"))
        self._release(worker)
        status, value = pickle.loads(reply)
        if status == "ok":
            return CallResult("ok", value)
        return CallResult("error", error=value)

    def _acquire(self, deadline: float) -> _Worker | None:
        with self._cond:
            while True:
                if self._closed:
                    raise RuntimeError("the worker pool is closed")
                if self._idle:
                    return self._idle.pop()
                if self._count < self.size:
                    self._count += 1
                    break
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return None
                self._cond.wait(remaining)
        try:
            return _Worker()
        except OSError:
            with self._cond:
                self._count -= 1
                self._cond.notify()
            raise

    def _release(self, worker: _Worker) -> None:
        with self._cond:
            if self._closed:
                worker.kill()
                return
            self._idle.append(worker)
            self._cond.notify()

    def _discard(self, worker: _Worker, result: CallResult) -> CallResult:
        """Kill a worker that overran or died and start its replacement at once."""
        worker.kill()
        replacement = None
        if not self._closed:
            try:
                replacement = _Worker()
            except OSError:
                replacement = None
        with self._cond:
            if replacement is not None and not self._closed:
                self._idle.append(replacement)
            else:
                self._count -= 1
                if replacement is not None:
                    replacement.kill()
            self._cond.notify()
        return result

    def warm_up(self) -> None:
        """Start all workers now so that first calls do not wait for them."""
        with self._cond:
            while self._count < self.size:
                self._idle.append(_Worker())
                self._count += 1

    def close(self) -> None:
        """Stop every idle worker; busy ones stop when their call ends."""
        with self._cond:
            self._closed = True
            idle, self._idle = self._idle, []
            self._count -= len(idle)
        for worker in idle:
            worker.kill()


_POOL: WorkerPool | None = None
_POOL_PID = -1
_POOL_LOCK = threading.Lock()


def default_pool(size: int | None = None) -> WorkerPool:
    """This process's shared pool (a new one after a fork); grown to ``size`` if asked."""
    global _POOL, _POOL_PID
    with _POOL_LOCK:
        if _POOL is None or _POOL_PID != os.getpid() or _POOL._closed:
            _POOL = WorkerPool(size=size or 2)
            _POOL_PID = os.getpid()
        elif size is not None and size > _POOL.size:
            with _POOL._cond:
                _POOL.size = size
        return _POOL


def sandbox_call(fn: Callable[..., Any], args: tuple = (), *, timeout: float) -> CallResult:
    """``fn(*args)`` in the shared pool with a hard deadline of ``timeout`` seconds."""
    return default_pool().call(fn, args, timeout=timeout)


def _forget_pool_after_fork() -> None:
    """A forked child starts its own pool; the parent's workers stay the parent's."""
    global _POOL, _POOL_LOCK
    _POOL = None
    _POOL_LOCK = threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_pool_after_fork)


@atexit.register
def _close_default_pool() -> None:
    if _POOL is not None and _POOL_PID == os.getpid():
        _POOL.close()


def _serve() -> None:
    """Worker main loop: read ``(fn, args)`` messages on stdin, answer on stdout."""
    out = os.fdopen(os.dup(sys.stdout.fileno()), "wb")
    sys.stdout = sys.stderr  # stray prints must not corrupt the channel
    try:
        import resource

        resource.setrlimit(resource.RLIMIT_AS, (_MEMORY_LIMIT, _MEMORY_LIMIT))
    except (ImportError, ValueError, OSError):
        pass
    import rewardkit.verify.answers  # noqa: F401  (import the comparison code before "ready")

    parent = os.getppid()

    def exit_with_parent() -> None:  # an orphaned worker must not compute on for minutes
        while os.getppid() == parent:
            time.sleep(0.5)
        os._exit(0)

    threading.Thread(target=exit_with_parent, daemon=True).start()

    stdin = sys.stdin.buffer

    def write(data: bytes) -> None:
        out.write(_HEADER.pack(len(data)) + data)
        out.flush()

    write(_READY)
    while True:
        header = stdin.read(_HEADER.size)
        if len(header) < _HEADER.size:
            return
        (size,) = _HEADER.unpack(header)
        fn, args = pickle.loads(stdin.read(size))
        try:
            reply = ("ok", fn(*args))
        except MemoryError:
            reply = ("error", "out of memory")
        except Exception as exc:  # noqa: BLE001  (any failure goes back to the parent)
            reply = ("error", f"{type(exc).__name__}: {exc}")
        write(pickle.dumps(reply, protocol=pickle.HIGHEST_PROTOCOL))


if __name__ == "__main__":
    _serve()
