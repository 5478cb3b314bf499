"""Asking a judge many questions: through the cache, with re-asks, within a deadline.

:class:`JudgeClient` sends requests to a backend, answers repeats from the cache, stores
each reply as it arrives, parses it, and re-asks (up to ``reask`` times) when a reply holds
no usable verdict: a reply cut off by ``max_tokens`` is asked again with a larger budget
(``truncated_max_tokens``), any other with a reminder of the format. The whole call ends by
``call_timeout``: what has not come back by then is a ``timeout`` and nothing keeps
running. A 4xx that no request can get past (a wrong model name) raises
:class:`JudgeConfigError` at the first call. :func:`run_sync` runs a coroutine to
completion from synchronous code, also when the calling thread already runs an event loop.

>>> async def forty_two():
...     return 42
>>> run_sync(forty_two)
42
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import dataclasses
import functools
import math
import sys
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any, NamedTuple, TypeVar

from rewardkit.judge.backends.base import (
    TIMEOUT,
    TRUNCATED,
    JudgeBackend,
    JudgeConfigError,
    JudgeFailure,
    JudgeReply,
    JudgeRequest,
)
from rewardkit.judge.cache import JudgeCache
from rewardkit.judge.prompts import reask_messages

T = TypeVar("T")


class Answer(NamedTuple):
    """What came of one request: the ``parsed`` verdict (``None`` when there is none), the
    ``reply`` it came from (when no verdict came: the first reply, whose ``reason`` is the
    one reported, ``truncated`` for a reply cut off by ``max_tokens``), the ``failure``
    when no reply came, and how many re-asks it took."""

    parsed: Any
    reply: JudgeReply | None
    failure: JudgeFailure | None
    reason: str
    reasks: int = 0


def resolve_cache(cache: JudgeCache | str | Path | bool | None) -> JudgeCache | None:
    """``True``: the default cache file; a path: that file; ``False``/``None``: no cache."""
    if cache is True:
        return JudgeCache()
    if cache is False or cache is None:
        return None
    if isinstance(cache, JudgeCache):
        return cache
    if isinstance(cache, (str, Path)):
        return JudgeCache(cache)
    raise TypeError(f"cache must be True, False, a path or a JudgeCache, got {cache!r}")


class JudgeClient:
    """A backend with a cache, re-asks and a deadline per call.

    ``parse(index, reply) -> (verdict or None, reason)`` reads the reply to
    ``requests[index]``; a ``None`` verdict is re-asked up to ``reask`` times.

    Args:
        reask: re-asks of a reply without a verdict.
        call_timeout: seconds for a whole :meth:`ask` (connection slots, retries and
            re-asks included); ``None``: the backend's default
            (:meth:`JudgeBackend.default_call_timeout`); ``math.inf``: no deadline. A local
            transformers generation already running cannot be stopped: it finishes in
            the background.
        truncated_max_tokens: ``max_tokens`` of the re-ask of a reply cut off by
            ``max_tokens``; ``None`` or not larger: such replies are not re-asked.
        cache_namespace: a label in every cache key (a checkpoint served under an old name).
        reask_unparsed: ``False``: re-ask only replies cut off by ``max_tokens`` (a
            verifier model trained on one prompt gets no format reminder).
    """

    def __init__(
        self,
        backend: JudgeBackend,
        cache: JudgeCache | None = None,
        *,
        reask: int = 0,
        call_timeout: float | None = None,
        truncated_max_tokens: int | None = None,
        cache_namespace: str = "",
        reask_unparsed: bool = True,
    ) -> None:
        if not isinstance(reask, int) or reask < 0:
            raise ValueError(f"reask must be a non-negative integer, got {reask!r}")
        if call_timeout is not None and not call_timeout > 0:
            raise ValueError(
                f"call_timeout must be a positive number of seconds, got {call_timeout!r}"
            )
        if truncated_max_tokens is not None and (
            not isinstance(truncated_max_tokens, int) or truncated_max_tokens < 0
        ):
            raise ValueError(
                f"truncated_max_tokens must be a non-negative integer, got {truncated_max_tokens!r}"
            )
        if not isinstance(cache_namespace, str):
            raise ValueError(f"cache_namespace must be a string, got {cache_namespace!r}")
        self.backend = backend
        self.cache = cache
        self.reask = reask
        self.call_timeout = call_timeout
        self.truncated_max_tokens = truncated_max_tokens
        self.cache_namespace = cache_namespace
        self.reask_unparsed = reask_unparsed
        self.cache_hits = 0
        self.answered = False  # any reply ever came (then a 4xx is about its request)

    def deadline(self) -> float:
        """Seconds one :meth:`ask` may take."""
        if self.call_timeout is not None:
            return self.call_timeout
        default_of = getattr(self.backend, "default_call_timeout", None)
        default = default_of() if default_of is not None else None  # a minimal backend
        return math.inf if default is None else default

    async def ask(
        self,
        requests: Sequence[JudgeRequest],
        parse: Callable[[int, JudgeReply], tuple[T | None, str]],
    ) -> list[Answer]:
        """One :class:`Answer` per request, in order, within :meth:`deadline`. Raises only
        :class:`JudgeConfigError`, on a first call that no request can get past."""
        answers: list[Answer | None] = [None] * len(requests)
        seconds = self.deadline()
        try:
            if math.isinf(seconds):
                await self._rounds(requests, parse, answers)
            else:
                await _within(seconds, self._rounds(requests, parse, answers))
        except (asyncio.TimeoutError, TimeoutError):
            unfinished = answers.count(None)
            late = JudgeFailure(
                TIMEOUT, f"call_timeout of {seconds:g} s reached ({unfinished} unanswered)", 0
            )
            usage = getattr(self.backend, "usage", None)  # a minimal backend may lack these
            if hasattr(usage, "add"):
                usage.add(failures=unfinished)
            if callable(getattr(self.backend, "log_failure", None)):
                self.backend.log_failure(late)
            answers = [a or Answer(None, None, late, TIMEOUT) for a in answers]
        self._check_configuration(answers)
        return [a for a in answers if a is not None]

    async def _rounds(
        self,
        requests: Sequence[JudgeRequest],
        parse: Callable[[int, JudgeReply], tuple[T | None, str]],
        answers: list[Answer | None],
    ) -> None:
        """Ask, parse and re-ask; ``answers[i]`` is set the moment request ``i`` has one
        (the first reply's, until a re-ask brings a verdict)."""
        pending = list(range(len(requests)))
        current = list(requests)
        for round_ in range(self.reask + 1):
            arrived = functools.partial(self._arrived, answers, list(pending), round_, parse)
            outcomes = await self.send([current[i] for i in pending], arrived)
            retry = []
            for i, outcome in zip(pending, outcomes, strict=True):
                answer = answers[i]
                if answer is None or answer.parsed is not None or round_ == self.reask:
                    continue
                if not isinstance(outcome, JudgeReply):
                    continue
                asked = self._reask(current[i], outcome)
                if asked is not None:
                    current[i] = asked
                    retry.append(i)
            pending = retry
            if not pending:
                break

    def _arrived(
        self,
        answers: list[Answer | None],
        pending: list[int],
        round_: int,
        parse: Callable[[int, JudgeReply], tuple[Any, str]],
        j: int,
        outcome: JudgeReply | JudgeFailure,
    ) -> None:
        """Record the outcome of ``requests[pending[j]]`` the moment it arrives."""
        i = pending[j]
        previous = answers[i]
        if isinstance(outcome, JudgeFailure):
            parsed, reply, failure, reason = None, None, outcome, outcome.reason
        else:
            self.answered = True
            parsed, reason = parse(i, outcome)
            if parsed is None and outcome.truncated:
                reason = TRUNCATED
            reply, failure = outcome, None
        if parsed is not None or previous is None:
            answers[i] = Answer(parsed, reply, failure, reason, round_)
        else:  # the re-ask brought no verdict either: report the first reply's reason
            answers[i] = previous._replace(reasks=round_)

    def _reask(self, request: JudgeRequest, reply: JudgeReply) -> JudgeRequest | None:
        """The re-ask of an unusable reply, or ``None`` when asking again cannot help."""
        if reply.truncated:
            budget = self.truncated_max_tokens
            if budget is None or budget <= request.max_tokens:
                return None  # the same budget would be cut off again
            return dataclasses.replace(request, max_tokens=budget)
        if not self.reask_unparsed:
            return None
        return dataclasses.replace(
            request, messages=tuple(reask_messages(request.messages, reply.text))
        )

    def _check_configuration(self, answers: Sequence[Answer | None]) -> None:
        if self.answered:
            return
        for answer in answers:
            if answer is not None and answer.failure is not None and answer.failure.permanent:
                raise JudgeConfigError(
                    f"the judge rejected the first request, and would reject every one: "
                    f"{answer.failure.detail}"
                )

    async def send(
        self,
        requests: Sequence[JudgeRequest],
        on_result: Callable[[int, JudgeReply | JudgeFailure], None] | None = None,
    ) -> list[JudgeReply | JudgeFailure]:
        """Replies to ``requests``: cached ones from the cache, the rest from the backend
        (identical requests sent once), each stored the moment it arrives, when
        ``on_result(index, outcome)`` is also called."""
        if not requests:
            return []
        identity = self.backend.identity()
        if self.cache_namespace:
            identity = {**identity, "namespace": self.cache_namespace}
        keys = [JudgeCache.key(identity, r) for r in requests]
        positions: dict[str, list[int]] = {}
        for index, key in enumerate(keys):
            positions.setdefault(key, []).append(index)
        outcomes: dict[str, JudgeReply | JudgeFailure] = {}

        def deliver(key: str, outcome: JudgeReply | JudgeFailure) -> None:
            outcomes[key] = outcome
            if on_result is not None:
                for index in positions[key]:
                    on_result(index, outcome)

        if self.cache is not None:
            for key, reply in self.cache.get_many(keys).items():
                self.cache_hits += len(positions[key])
                deliver(key, reply)
        missing = [key for key in positions if key not in outcomes]
        if missing:

            def store(j: int, outcome: JudgeReply | JudgeFailure) -> None:
                if self.cache is not None and isinstance(outcome, JudgeReply):
                    self.cache.put(missing[j], outcome)
                deliver(missing[j], outcome)

            await self.backend.complete_many([requests[positions[k][0]] for k in missing], store)
        return [outcomes[key] for key in keys]


async def _within(seconds: float, awaitable: Awaitable[T]) -> T:
    """``await awaitable``, cancelled (and ``TimeoutError`` raised) after ``seconds``."""
    if sys.version_info >= (3, 11):
        async with asyncio.timeout(seconds):
            return await awaitable
    return await asyncio.wait_for(awaitable, seconds)


def run_sync(coroutine_function: Callable[[], Awaitable[T]]) -> T:
    """Run ``coroutine_function()`` to completion and return its result.

    With no event loop running in this thread, it runs in a fresh one; inside a running
    loop (a notebook, an async server) it runs in a fresh loop on a worker thread, so it
    never blocks on or re-enters the caller's loop.
    """

    async def main() -> Any:
        return await coroutine_function()

    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(main())
    with concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="rewardkit-judge") as pool:
        return pool.submit(asyncio.run, main()).result()
