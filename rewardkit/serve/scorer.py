"""The scorer behind every route: one reward, micro-batching, worker processes, deadlines.

Requests hand :meth:`Scorer.score` their samples; a dispatcher gathers the samples of
concurrent requests (OpenRLHF and slime send one sample a request) for up to
``max_wait`` seconds, or until a worker is free, into batches of at most ``max_batch``,
and scores each batch with one ``score_batch`` call:

- ``executor="process"`` (rule-based rewards, the default): in a worker process of the
  verifier's sandbox pool, with a hard deadline of ``timeout`` seconds. A batch that
  overruns has its worker killed and its samples scored again one by one, so only the
  sample that hangs ends with reason ``timeout``.
- ``executor="async"`` (rewards with ``ascore_samples``: the LLM judge) on the event loop,
  ``executor="thread"`` (a model verifier in this process) in a thread.

At most ``max_pending`` samples wait or run at once; past that :meth:`score` raises
:class:`Overloaded` (the server answers 503 with ``Retry-After``). The object knows
nothing of HTTP: the Starlette app and a Ray Serve deployment both wrap it.

>>> import asyncio
>>> from rewardkit.rewards import BoxedAccuracy, Sample
>>> scorer = Scorer(BoxedAccuracy(), executor="thread")
>>> sample = Sample(None, "\\\\boxed{2}", "\\\\boxed{2}", None, {"answer": "2"})
>>> async def main():
...     async with scorer:
...         return await scorer.score([sample])
>>> [r.value for r in asyncio.run(main())]
[1.0]
"""

from __future__ import annotations

import asyncio
import functools
import inspect
import logging
import pickle
import time
from collections import deque
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from rewardkit.rewards.base import INTERNAL_ERROR, RewardResult, Sample
from rewardkit.rewards.compose import as_reward
from rewardkit.serve.worker import score_batch
from rewardkit.verify.sandbox import CallResult, WorkerPool

__all__ = ["EXECUTORS", "Overloaded", "Scorer", "TooManySamples"]

logger = logging.getLogger(__name__)

EXECUTORS = ("auto", "process", "thread", "async")
TIMEOUT = "timeout"
_START_TIMEOUT = 120.0  # seconds a fresh worker may take to import the reward


class Overloaded(RuntimeError):
    """The scorer holds ``max_pending`` samples already (or is shutting down)."""

    def __init__(self, message: str, retry_after: float = 1.0) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class TooManySamples(ValueError):
    """One call holds more samples than the scorer ever holds at once: it would never fit."""


class Scorer:
    """Scores samples with one reward for many concurrent callers (see the module doc).

    Args:
        reward: a rewardkit reward, a registered name or a plain TRL reward function.
        executor: ``process``, ``thread``, ``async``, or ``auto`` (``async`` for a reward
            with ``ascore_samples``, ``thread`` for another async reward, else ``process``).
        processes: worker processes (or threads) scoring batches at once.
        max_batch: samples in one ``score_batch`` call.
        max_wait: seconds the first sample of a batch waits for others.
        timeout: seconds one batch (and, when scored alone, one sample) may take.
        max_pending: samples waiting or being scored before new requests get 503.
    """

    def __init__(
        self,
        reward: Any,
        *,
        executor: str = "auto",
        processes: int = 2,
        max_batch: int = 64,
        max_wait: float = 0.005,
        timeout: float = 30.0,
        max_pending: int = 4096,
    ) -> None:
        if executor not in EXECUTORS:
            raise ValueError(f"executor must be one of {EXECUTORS}, got {executor!r}")
        for name, value in (("processes", processes), ("max_batch", max_batch)):
            if not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be a positive integer, got {value!r}")
        if not (timeout > 0 and max_wait >= 0 and max_pending >= 1):
            raise ValueError("timeout must be positive, max_wait >= 0 and max_pending >= 1")
        self.reward = as_reward(reward)
        self.name = self.reward.__name__
        self.reasons = tuple(self.reward.reasons)
        if executor == "auto":
            executor = _auto_executor(self.reward)
        self.executor = executor
        self.processes = processes
        self.max_batch = max_batch
        self.max_wait = max_wait
        self.timeout = float(timeout)
        self.max_pending = max_pending
        self._blob = pickle.dumps(self.reward) if executor == "process" else b""
        self._pool: WorkerPool | None = None
        self._threads: ThreadPoolExecutor | None = None
        self._queue: deque[tuple[Sample, asyncio.Future]] = deque()
        self._pending = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._dispatcher: asyncio.Task | None = None
        self._running: set[asyncio.Task] = set()
        self._closing = False

    def __repr__(self) -> str:
        return f"Scorer({self.reward!r}, executor={self.executor!r})"

    @property
    def pending(self) -> int:
        """Samples accepted and not answered yet (waiting or being scored)."""
        return self._pending

    async def __aenter__(self) -> Scorer:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def start(self) -> None:
        """Bind to the running loop and start the workers (so first requests do not wait)."""
        if self._loop is asyncio.get_running_loop():
            return
        if self._loop is not None:  # used from an earlier event loop: its work died with it
            self._stop_workers()
            self._queue.clear()
            self._pending = 0
        self._loop = asyncio.get_running_loop()
        self._closing = False
        self._wakeup = asyncio.Event()
        self._gate = asyncio.Semaphore(self.processes)  # batches being formed or scored
        self._workers = asyncio.Semaphore(self.processes)  # calls holding a worker
        # threads: one per batch in flight plus room for one-by-one rescoring
        self._threads = ThreadPoolExecutor(4 * self.processes, thread_name_prefix="rewardkit")
        if self.executor == "process":
            self._pool = WorkerPool(size=self.processes)
            await self._loop.run_in_executor(self._threads, self._pool.warm_up)
            empty = (self._blob, [])
            warm = [self._call(score_batch, empty, _START_TIMEOUT) for _ in range(self.processes)]
            await asyncio.gather(*warm)  # each worker loads the reward
        self._dispatcher = self._loop.create_task(self._dispatch())

    async def score(self, samples: Sequence[Sample]) -> list[RewardResult]:
        """One result per sample, in order; raises :class:`Overloaded` when full."""
        if not samples:
            return []
        if len(samples) > self.max_pending:
            raise TooManySamples(
                f"{len(samples)} samples in one request; at most {self.max_pending}: split it"
            )
        if self._closing:
            raise Overloaded("the server is shutting down", retry_after=5.0)
        if self._pending + len(samples) > self.max_pending:
            raise Overloaded(
                f"{self._pending} samples are waiting (at most {self.max_pending}); retry later"
            )
        await self.start()
        futures = [self._loop.create_future() for _ in samples]
        self._queue.extend(zip(samples, futures, strict=True))
        self._pending += len(samples)
        self._wakeup.set()
        return list(await asyncio.gather(*futures))

    async def close(self, grace: float = 60.0) -> None:
        """Finish every accepted sample (up to ``grace`` seconds), then stop the workers."""
        if self._loop is None:
            return
        self._closing = True
        deadline = time.monotonic() + grace
        while (self._queue or self._running) and time.monotonic() < deadline:
            self._wakeup.set()
            await asyncio.sleep(0.01)
        self._stop_workers()
        self._loop = None

    def _stop_workers(self) -> None:
        if self._dispatcher is not None:
            self._dispatcher.cancel()
        if self._pool is not None:
            self._pool.close()
        if self._threads is not None:
            self._threads.shutdown(wait=False, cancel_futures=True)
        self._dispatcher = self._pool = self._threads = None

    async def _dispatch(self) -> None:
        while True:
            await self._wakeup.wait()
            if not self._queue:
                self._wakeup.clear()
                continue
            if len(self._queue) < self.max_batch and self.max_wait > 0:
                await asyncio.sleep(self.max_wait)
            await self._gate.acquire()  # while every worker is busy, the batch grows
            size = min(self.max_batch, len(self._queue))
            batch = [self._queue.popleft() for _ in range(size)]
            if not self._queue:
                self._wakeup.clear()
            task = self._loop.create_task(self._run(batch))
            self._running.add(task)
            task.add_done_callback(self._running.discard)

    async def _run(self, batch: list[tuple[Sample, asyncio.Future]]) -> None:
        samples = [sample for sample, _ in batch]
        try:
            try:
                status, value = await self._attempt(samples)
            finally:
                self._gate.release()
            if status != "ok":
                value = await self._one_by_one(samples, status, value)
        except Exception as exc:  # noqa: BLE001  (never leave a request without an answer)
            logger.exception("scoring a batch of %s failed", self.name)
            value = [_failure(INTERNAL_ERROR, f"{type(exc).__name__}: {exc}")] * len(batch)
        for (_, future), result in zip(batch, value, strict=True):
            if not future.done():
                future.set_result(result)
        self._pending -= len(batch)

    async def _one_by_one(self, samples: list[Sample], status: str, error: str) -> list:
        """After a batch overran or failed: each sample alone, so only the bad one fails."""
        if len(samples) > 1:
            logger.warning("%s: a batch of %d: %s; one by one", self.name, len(samples), error)
            alone = await asyncio.gather(*(self._attempt([s]) for s in samples))
        else:
            alone = [(status, error)]
        results = []
        for status, value in alone:
            if status == "ok":
                results.append(value[0])
            else:
                results.append(_failure(TIMEOUT if status == TIMEOUT else INTERNAL_ERROR, value))
        return results

    async def _attempt(self, samples: list[Sample]) -> tuple[str, Any]:
        """``("ok", results)``, ``("timeout", message)`` or ``("error", message)``."""
        async with self._workers:
            if self.executor == "process":
                return await self._in_worker(samples)
            try:
                if self.executor == "async":
                    work = self.reward.ascore_samples(samples)
                else:
                    work = self._loop.run_in_executor(
                        self._threads, self.reward.score_batch, samples
                    )
                results = await asyncio.wait_for(work, self.timeout)
            except asyncio.TimeoutError:
                return TIMEOUT, f"over {self.timeout:g} s"
            except Exception as exc:  # noqa: BLE001
                return "error", f"{type(exc).__name__}: {exc}"
            if len(results) != len(samples):
                return "error", f"{len(results)} results for {len(samples)} samples"
            return "ok", list(results)

    async def _in_worker(self, samples: list[Sample]) -> tuple[str, Any]:
        """One call in a worker; the caller holds a worker slot, so one is idle."""
        result = await self._call(score_batch, (self._blob, samples), self.timeout)
        if result.status == TIMEOUT:
            # the worker was killed and a fresh one is starting: wait for it here, so that
            # its start-up does not count against the next call's deadline
            await self._call(score_batch, (self._blob, []), _START_TIMEOUT)
        if result.status == "ok":
            return "ok", result.value
        return result.status, result.error or result.status

    async def _call(self, fn: Any, args: tuple, timeout: float) -> CallResult:
        call = functools.partial(self._pool.call, fn, args, timeout=timeout)
        try:
            return await self._loop.run_in_executor(self._threads, call)
        except (OSError, RuntimeError) as exc:  # no worker could be started, or pool closed
            return CallResult("error", error=f"no worker: {exc}")


def _auto_executor(reward: Any) -> str:
    """``async`` for a reward with ``ascore_samples`` (the judge); ``thread`` for another
    async reward (a model verifier behind the rules: network-bound, and its client does not
    belong in a sandbox worker); ``process`` for the rest (rule-based, CPU-bound)."""
    if hasattr(reward, "ascore_samples"):
        return "async"
    if inspect.iscoroutinefunction(type(reward).__call__):
        return "thread"
    return "process"


def _failure(reason: str, error: str) -> RewardResult:
    return RewardResult(None, reason, {"error": error})
