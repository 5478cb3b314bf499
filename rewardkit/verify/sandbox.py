"""Hard time limits without signals: a pool of worker processes with a deadline per call.

Workers are forked from a *zygote*: one helper process (started with ``subprocess``, so
it works from the main thread, worker threads, asyncio code and daemonic child
processes, where ``multiprocessing`` may not start children) that imports the comparison
code once. A fresh worker is then ready in milliseconds, so a call that overruns its
deadline can have its worker killed and replaced without the next calls waiting for a
new interpreter. No call returns later than its timeout plus the time to kill a process.

Nothing outlives its parent: the zygote exits when the process that started it dies,
and each worker gets ``SIGKILL`` when its zygote exits (``PR_SET_PDEATHSIG`` on Linux;
elsewhere a thread of the worker polls its parent).

>>> import operator
>>> sandbox_call(operator.add, (2, 3), timeout=30).value
5
"""

from __future__ import annotations

import atexit
import os
import pickle
import select
import signal
import socket
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
_FORK_REPLY_SECONDS = 30.0  # a ready zygote answers a fork request in milliseconds


@dataclass(frozen=True)
class CallResult:
    """``status`` is ``ok`` (``value`` holds the result), ``timeout``, ``error`` (the
    function raised in the worker: ``error`` says what) or ``died`` (the worker process
    died during the call: killed from outside, or crashed)."""

    status: str
    value: Any = None
    error: str | None = None


def _send(sock: socket.socket, data: bytes) -> None:
    sock.sendall(_HEADER.pack(len(data)) + data)


def _receive(sock: socket.socket, deadline: float) -> bytes | None:
    """One message, or ``None`` when the deadline passes first; ``EOFError`` when the
    other side is gone."""
    header = _read_exactly(sock, _HEADER.size, deadline)
    if header is None:
        return None
    (size,) = _HEADER.unpack(header)
    return _read_exactly(sock, size, float("inf"))  # the rest is already on its way


def _read_exactly(sock: socket.socket, n: int, deadline: float) -> bytes | None:
    chunks: list[bytes] = []
    while n > 0:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return None
        readable, _, _ = select.select([sock], [], [], min(remaining, 3600))
        if not readable:
            continue
        chunk = sock.recv(min(n, 1 << 20))
        if not chunk:
            raise EOFError("the process on the other side exited")
        chunks.append(chunk)
        n -= len(chunk)
    return b"".join(chunks)


class _Worker:
    """One forked worker: its process id and our end of its socket."""

    def __init__(self, pid: int, sock: socket.socket) -> None:
        self.pid = pid
        self.sock = sock

    def kill(self) -> None:
        try:
            os.kill(self.pid, signal.SIGKILL)  # the zygote reaps it
        except OSError:
            pass
        self.sock.close()


class _Zygote:
    """The helper process that forks workers; started once, waited for by nobody.

    Its start-up (importing sympy) can take longer than a call's timeout: a call that
    cannot wait for it gets ``None`` and the start-up goes on for the next calls.
    """

    def __init__(self) -> None:
        env = dict(os.environ)
        root = str(Path(__file__).resolve().parents[2])
        env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH")) if p)
        env.setdefault("OMP_NUM_THREADS", "1")
        ours, theirs = socket.socketpair()
        try:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "rewardkit.verify.sandbox", str(os.getpid())],
                stdin=theirs,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                env=env,
                close_fds=True,
            )
        except BaseException:
            ours.close()
            raise
        finally:
            theirs.close()
        self.sock = ours
        self.ready = False
        self.lock = threading.Lock()

    def fork(self, deadline: float) -> _Worker | None:
        """A new worker; ``None`` when the zygote is not ready by ``deadline``.

        Raises ``OSError`` when the zygote died or could not fork.
        """
        wait = deadline - time.monotonic()
        if not self.lock.acquire(timeout=-1 if wait == float("inf") else max(wait, 0)):
            return None
        try:
            if not self.ready:
                if _receive(self.sock, deadline) is None:
                    return None
                self.ready = True
            ours, theirs = socket.socketpair()
            try:
                socket.send_fds(self.sock, [b"f"], [theirs.fileno()])
                reply = _receive(self.sock, time.monotonic() + _FORK_REPLY_SECONDS)
            except BaseException:  # interrupted mid-request: its reply would confuse the next
                self.proc.kill()
                ours.close()
                raise
            finally:
                theirs.close()
            if reply is None or not reply.isdigit():
                ours.close()
                raise OSError(f"the zygote could not fork a worker: {reply!r}")
            return _Worker(int(reply), ours)
        except (EOFError, ValueError) as exc:
            raise OSError(f"the zygote died: {exc}") from None
        finally:
            self.lock.release()

    def alive(self) -> bool:
        return self.proc.poll() is None

    def close(self) -> None:
        self.sock.close()  # the zygote exits on end of file, and its workers with it
        try:
            self.proc.wait(timeout=2)
        except subprocess.TimeoutExpired:
            self.proc.kill()


class WorkerPool:
    """Up to ``size`` worker processes, forked when first needed; thread-safe.

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
        self._zygote: _Zygote | None = None
        self._zygote_lock = threading.Lock()

    def call(self, fn: Callable[..., Any], args: tuple = (), *, timeout: float) -> CallResult:
        """Run ``fn(*args)`` in a worker; a picklable module-level ``fn`` and arguments.

        A worker found dead before it took the call (killed while idle) is replaced and
        the call tried once more; one that dies during the call gives ``died``. Raises
        ``OSError`` when no worker process can be started, ``RuntimeError`` when closed.
        An exception in the caller (``KeyboardInterrupt``) kills the worker of the call.
        """
        deadline = time.monotonic() + timeout
        payload = pickle.dumps((fn, args), protocol=pickle.HIGHEST_PROTOCOL)
        for attempt in range(2):
            worker = self._acquire(deadline)
            if worker is None:
                return CallResult("timeout", error="no worker free before the deadline")
            try:
                try:
                    _send(worker.sock, payload)
                except OSError as exc:  # died while idle: try a fresh one
                    self._discard(worker, dead=True)
                    if attempt == 0:
                        continue
                    return CallResult("died", error=f"worker died: {exc}")
                try:
                    reply = _receive(worker.sock, deadline)
                except (OSError, EOFError) as exc:
                    self._discard(worker, dead=True)
                    return CallResult("died", error=f"worker died: {exc}")
            except BaseException:
                self._discard(worker)
                raise
            if reply is None:
                self._discard(worker)
                return CallResult("timeout", error=f"over {timeout} s")
            self._release(worker)
            status, value = pickle.loads(reply)
            if status == "ok":
                return CallResult("ok", value)
            return CallResult("error", error=value)
        raise AssertionError("unreachable")  # pragma: no cover

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
            worker = self._fork(deadline)
        except BaseException:
            self._forget_one()
            raise
        if worker is None:
            self._forget_one()
        return worker

    def _fork(self, deadline: float) -> _Worker | None:
        """A new worker from the zygote; a dead zygote is restarted once."""
        for attempt in range(2):
            with self._zygote_lock:
                if self._zygote is None or not self._zygote.alive():
                    if self._zygote is not None:
                        self._zygote.close()
                    self._zygote = None
                    self._zygote = _Zygote()
                zygote = self._zygote
            try:
                return zygote.fork(deadline)
            except OSError:
                if attempt == 1:
                    raise
        raise AssertionError("unreachable")  # pragma: no cover

    def _forget_one(self) -> None:
        with self._cond:
            self._count -= 1
            self._cond.notify()

    def _release(self, worker: _Worker) -> None:
        with self._cond:
            if self._closed:
                worker.kill()
                return
            self._idle.append(worker)
            self._cond.notify()

    def _discard(self, worker: _Worker, dead: bool = False) -> None:
        """Kill a worker that overran (close one that died: its process id may already
        be another's); the next call forks a fresh one."""
        if dead:
            worker.sock.close()
        else:
            worker.kill()
        self._forget_one()

    def warm_up(self) -> None:
        """Start the zygote and all workers now so that first calls do not wait."""
        workers = []
        with self._cond:
            missing = self.size - self._count
            self._count += missing
        try:
            for _ in range(missing):
                worker = self._fork(float("inf"))
                assert worker is not None
                workers.append(worker)
        finally:
            with self._cond:
                self._count -= missing - len(workers)
        for worker in workers:
            self._release(worker)

    def close(self) -> None:
        """Stop every idle worker and the zygote; busy workers die with the zygote."""
        with self._cond:
            self._closed = True
            idle, self._idle = self._idle, []
            self._count -= len(idle)
        for worker in idle:
            worker.kill()
        with self._zygote_lock:
            if self._zygote is not None:
                self._zygote.close()
                self._zygote = None


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


def _die_with_parent(parent: int) -> None:
    """SIGKILL this process when ``parent`` exits, even while it computes in C code."""
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL, 0, 0, 0)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):  # not Linux: a thread watches (between bytecodes)

        def watch() -> None:
            while os.getppid() == parent:
                time.sleep(0.5)
            os._exit(0)

        threading.Thread(target=watch, daemon=True).start()
    if os.getppid() != parent:  # it died before we asked
        os._exit(0)


def _zygote(parent: int) -> None:
    """Zygote main loop: import the comparison code, then fork a worker per request."""
    sock = socket.socket(fileno=os.dup(0))
    os.close(0)
    # no parent-death signal here: it would fire when the *thread* that started us exits
    if os.getppid() != parent:
        return
    _warm_up()
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # the kernel reaps killed workers
    _send(sock, _READY)
    me = os.getpid()
    while True:
        readable, _, _ = select.select([sock], [], [], 0.5)
        if os.getppid() != parent:
            return
        if not readable:
            continue
        try:
            _, fds, _, _ = socket.recv_fds(sock, 16, 1)
        except OSError:
            return
        if not fds:
            return  # our parent closed the channel
        pid = os.fork()
        if pid == 0:
            sock.close()
            signal.signal(signal.SIGCHLD, signal.SIG_DFL)
            _serve(socket.socket(fileno=fds[0]), me)
            os._exit(0)
        os.close(fds[0])
        _send(sock, str(pid).encode())


def _warm_up() -> None:
    """Import the verifier and run one symbolic comparison: every worker forked later
    starts with sympy loaded and its caches warm."""
    from rewardkit.verify.answers import compare_answers
    from rewardkit.verify.options import VerifyOptions

    compare_answers("(x+1)^2", "x^2+2x+1", VerifyOptions(), symbolic=True)


def _serve(sock: socket.socket, zygote: int) -> None:
    """Worker main loop: read ``(fn, args)`` messages, answer each on the same socket."""
    _die_with_parent(zygote)
    sys.stdout = sys.stderr  # stray prints go nowhere
    try:
        import resource

        resource.setrlimit(resource.RLIMIT_AS, (_MEMORY_LIMIT, _MEMORY_LIMIT))
    except (ImportError, ValueError, OSError):
        pass
    while True:
        try:
            message = _receive(sock, float("inf"))
        except (OSError, EOFError):
            return
        try:
            fn, args = pickle.loads(message)
            reply = ("ok", fn(*args))
        except MemoryError:
            reply = ("error", "out of memory")
        except Exception as exc:  # noqa: BLE001  (any failure goes back to the parent)
            reply = ("error", f"{type(exc).__name__}: {exc}")
        try:
            data = pickle.dumps(reply, protocol=pickle.HIGHEST_PROTOCOL)
        except Exception as exc:  # noqa: BLE001  (an unpicklable result)
            data = pickle.dumps(("error", f"unpicklable result: {exc}"))
        try:
            _send(sock, data)
        except OSError:
            return


if __name__ == "__main__":
    _zygote(int(sys.argv[1]))
    os._exit(0)  # at once: the workers die with us (no interpreter teardown first)
