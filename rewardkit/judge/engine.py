"""Asking a judge many questions: through the cache, with re-asks, from sync or async code.

:class:`JudgeClient` sends requests to a backend, answers repeats from the cache, stores
each reply as it arrives, parses it, and re-asks (up to ``reask`` times) when a reply holds
no usable verdict. :func:`run_sync` runs a coroutine to completion from synchronous code,
also when the calling thread already runs an event loop.

>>> async def forty_two():
...     return 42
>>> run_sync(forty_two)
42
"""

from __future__ import annotations

import asyncio
import concurrent.futures
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any, NamedTuple, TypeVar

from rewardkit.judge.backends.base import JudgeBackend, JudgeFailure, JudgeReply, JudgeRequest
from rewardkit.judge.cache import JudgeCache
from rewardkit.judge.prompts import reask_messages

T = TypeVar("T")


class Answer(NamedTuple):
    """What came of one request: the ``parsed`` verdict (``None`` when there is none),
    the last ``reply``, the ``failure`` when no reply came, the parse ``reason`` and how
    many re-asks it took."""

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
    """A backend with a cache and re-asks.

    ``parse(index, reply) -> (verdict or None, reason)`` reads the reply to
    ``requests[index]``; a ``None`` verdict is
    re-asked (the conversation plus a request for the required format) up to ``reask``
    times.
    """

    def __init__(
        self, backend: JudgeBackend, cache: JudgeCache | None = None, *, reask: int = 0
    ) -> None:
        if not isinstance(reask, int) or reask < 0:
            raise ValueError(f"reask must be a non-negative integer, got {reask!r}")
        self.backend = backend
        self.cache = cache
        self.reask = reask
        self.cache_hits = 0

    async def ask(
        self,
        requests: Sequence[JudgeRequest],
        parse: Callable[[int, JudgeReply], tuple[T | None, str]],
    ) -> list[Answer]:
        """One :class:`Answer` per request, in order. Never raises on judge faults."""
        answers: list[Answer | None] = [None] * len(requests)
        pending = list(range(len(requests)))
        current = list(requests)
        for round_ in range(self.reask + 1):
            outcomes = await self.send([current[i] for i in pending])
            retry = []
            for i, outcome in zip(pending, outcomes, strict=True):
                if isinstance(outcome, JudgeFailure):
                    answers[i] = Answer(None, None, outcome, outcome.reason, round_)
                    continue
                parsed, reason = parse(i, outcome)
                answers[i] = Answer(parsed, outcome, None, reason, round_)
                if parsed is None and round_ < self.reask:
                    current[i] = JudgeRequest(
                        tuple(reask_messages(current[i].messages, outcome.text)),
                        temperature=current[i].temperature,
                        max_tokens=current[i].max_tokens,
                        top_logprobs=current[i].top_logprobs,
                        seed=current[i].seed,
                    )
                    retry.append(i)
            pending = retry
            if not pending:
                break
        return [a for a in answers if a is not None]

    async def send(self, requests: Sequence[JudgeRequest]) -> list[JudgeReply | JudgeFailure]:
        """Replies to ``requests``: cached ones from the cache, the rest from the backend
        (identical requests sent once), each stored the moment it arrives."""
        if not requests:
            return []
        identity = self.backend.identity()
        keys = [JudgeCache.key(identity, r) for r in requests]
        outcomes: dict[str, JudgeReply | JudgeFailure] = {}
        if self.cache is not None:
            outcomes.update(self.cache.get_many(keys))
            self.cache_hits += sum(key in outcomes for key in keys)
        missing = [key for key in dict.fromkeys(keys) if key not in outcomes]
        if missing:
            request_of = dict(zip(keys, requests, strict=True))

            def store(j: int, outcome: JudgeReply | JudgeFailure) -> None:
                if self.cache is not None and isinstance(outcome, JudgeReply):
                    self.cache.put(missing[j], outcome)

            replies = await self.backend.complete_many([request_of[k] for k in missing], store)
            outcomes.update(zip(missing, replies, strict=True))
        return [outcomes[key] for key in keys]


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
