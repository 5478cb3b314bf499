"""What every judge backend takes and gives: requests, replies, failures, usage.

A backend turns :class:`JudgeRequest` objects (chat messages + sampling parameters) into
:class:`JudgeReply` objects, or into a :class:`JudgeFailure` with a reason
(``judge_unavailable``, ``timeout``, ``rate_limited``, ``bad_judge_reply``,
``judge_rejected``). :meth:`JudgeBackend.complete_many` never raises; the first failure of
each reason is logged at WARNING with its cause (once per backend), the rest at DEBUG.

>>> request = JudgeRequest(({"role": "user", "content": "Rate: [[?]]"},), max_tokens=8)
>>> request.sampling()
{'temperature': 0.0, 'max_tokens': 8}
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from rewardkit.judge.parse import TokenLogprob
from rewardkit.verify.errors import ServerConfigError

logger = logging.getLogger(__name__)

JUDGE_UNAVAILABLE = "judge_unavailable"
TIMEOUT = "timeout"
RATE_LIMITED = "rate_limited"
BAD_JUDGE_REPLY = "bad_judge_reply"
JUDGE_REJECTED = "judge_rejected"
FAILURE_REASONS = (JUDGE_UNAVAILABLE, TIMEOUT, RATE_LIMITED, BAD_JUDGE_REPLY, JUDGE_REJECTED)
TRUNCATED = "truncated"  # a reply cut off by max_tokens before its verdict (not a failure)


class JudgeConfigError(ServerConfigError):
    """The judge answered in a way that can never succeed (a wrong model name, a wrong URL,
    a field the server does not know): raised at the first call instead of scoring every
    completion ``None`` at every step."""


@dataclass(frozen=True)
class JudgeRequest:
    """Chat messages for the judge and how to sample its reply. ``top_logprobs > 0`` asks
    for that many alternatives per generated token (for G-Eval scores)."""

    messages: tuple[dict[str, str], ...]
    temperature: float = 0.0
    max_tokens: int = 1024
    top_logprobs: int = 0
    seed: int | None = None

    def sampling(self) -> dict[str, Any]:
        """The sampling parameters, as they enter the cache key."""
        params: dict[str, Any] = {"temperature": self.temperature, "max_tokens": self.max_tokens}
        if self.top_logprobs:
            params["top_logprobs"] = self.top_logprobs
        if self.seed is not None:
            params["seed"] = self.seed
        return params


@dataclass(frozen=True)
class JudgeReply:
    """The judge's text, the per-token log-probabilities when asked for (``None`` when the
    server sent none), token usage, why generation stopped (``"length"``: cut off by
    ``max_tokens``) and whether it came from the cache."""

    text: str
    logprobs: tuple[TokenLogprob, ...] | None = None
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cached: bool = False
    finish_reason: str | None = None

    @property
    def truncated(self) -> bool:
        return self.finish_reason == "length"

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "text": self.text,
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": self.completion_tokens,
        }
        if self.finish_reason is not None:
            data["finish_reason"] = self.finish_reason
        if self.logprobs is not None:
            data["logprobs"] = [
                [t.token, t.logprob, [list(x) for x in t.top]] for t in self.logprobs
            ]
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any], *, cached: bool = False) -> JudgeReply:
        logprobs = None
        if data.get("logprobs") is not None:
            logprobs = tuple(
                TokenLogprob(token, logprob, tuple((t, lp) for t, lp in top))
                for token, logprob, top in data["logprobs"]
            )
        return cls(
            text=data["text"],
            logprobs=logprobs,
            prompt_tokens=int(data.get("prompt_tokens", 0)),
            completion_tokens=int(data.get("completion_tokens", 0)),
            cached=cached,
            finish_reason=data.get("finish_reason"),
        )


@dataclass(frozen=True)
class JudgeFailure:
    """A request that got no usable reply: a ``reason`` from :data:`FAILURE_REASONS`, a
    human-readable ``detail`` (with the URL, the status and the server's message), how many
    ``attempts`` were made, and whether no request like it can ever succeed (``permanent``:
    a wrong model name, route or field)."""

    reason: str
    detail: str = ""
    attempts: int = 1
    permanent: bool = False


Outcome = JudgeReply | JudgeFailure


@dataclass
class Usage:
    """Running totals of what a backend spent; safe to update from several threads."""

    requests: int = 0
    retries: int = 0
    failures: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def add(self, **amounts: int) -> None:
        with self._lock:
            for key, amount in amounts.items():
                setattr(self, key, getattr(self, key) + amount)

    def snapshot(self) -> dict[str, int]:
        with self._lock:
            return {
                "requests": self.requests,
                "retries": self.retries,
                "failures": self.failures,
                "prompt_tokens": self.prompt_tokens,
                "completion_tokens": self.completion_tokens,
            }

    def __getstate__(self) -> dict[str, int]:
        return self.snapshot()

    def __setstate__(self, state: dict[str, int]) -> None:
        self.__init__(**state)


class JudgeBackend:
    """Base class of judge backends.

    Subclasses set ``kind`` and implement :meth:`complete` (one request) or override
    :meth:`complete_many` (to batch). ``model`` names the judge model; (``kind``,
    ``model``) is part of the cache key.
    """

    kind: str = "backend"

    def __init__(self, model: str) -> None:
        if not isinstance(model, str) or not model:
            raise ValueError(f"a judge backend needs a model name, got {model!r}")
        self.model = model
        self.usage = Usage()
        self._logged_reasons: set[str] = set()

    def __repr__(self) -> str:
        return f"{type(self).__name__}(model={self.model!r})"

    def identity(self) -> dict[str, str]:
        """What, besides the request, decides the reply: part of the cache key."""
        return {"backend": self.kind, "model": self.model}

    def default_call_timeout(self) -> float | None:
        """The deadline of one reward call when none is given (``None``: no deadline)."""
        return None

    def log_failure(self, failure: JudgeFailure) -> None:
        """The first failure of each reason at WARNING (its cause), later ones at DEBUG."""
        if failure.reason in self._logged_reasons:
            logger.debug("judge %r: %s: %s", self, failure.reason, failure.detail)
            return
        self._logged_reasons.add(failure.reason)
        logger.warning(
            "judge %r: first %s (after %d attempts): %s (later ones are logged at DEBUG)",
            self,
            failure.reason,
            failure.attempts,
            failure.detail,
        )

    async def complete(self, request: JudgeRequest) -> Outcome:
        """One reply or failure; must not raise."""
        raise NotImplementedError(f"{type(self).__name__} must implement complete")

    async def complete_many(
        self,
        requests: Sequence[JudgeRequest],
        on_result: Callable[[int, Outcome], None] | None = None,
    ) -> list[Outcome]:
        """Replies to all ``requests`` in order; ``on_result(i, outcome)`` is called as
        each one arrives (the cache stores verdicts there). Never raises."""

        async def one(i: int, request: JudgeRequest) -> Outcome:
            try:
                outcome = await self.complete(request)
            except Exception as exc:  # a backend bug must not end a training run
                logger.exception("judge backend %r failed", self)
                outcome = JudgeFailure(JUDGE_UNAVAILABLE, f"{type(exc).__name__}: {exc}")
            if isinstance(outcome, JudgeFailure):
                self.log_failure(outcome)
            if on_result is not None:
                on_result(i, outcome)
            return outcome

        return list(await asyncio.gather(*(one(i, r) for i, r in enumerate(requests))))

    async def aclose(self) -> None:
        """Release what the backend holds for the running event loop (connections)."""
