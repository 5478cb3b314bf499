"""A TRL reward function that scores on a running ``rewardkit serve``.

:class:`RemoteReward` posts each batch to the server's native route and returns the
values; TRL's GRPOTrainer awaits it beside its other rewards (it is ``async``). Requests
that fail (connection refused, 503, 5xx) are retried with exponential backoff, honouring
``Retry-After``; a batch the server rejects (4xx) or that still fails after ``retries``
gets ``None`` values (TRL skips them) and a logged reason, never an exception into the
trainer.

>>> reward = RemoteReward("http://127.0.0.1:8000", route="math")
>>> reward.__name__, reward.endpoint
('math', 'http://127.0.0.1:8000/math/v1/score')
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
from collections.abc import Callable, Sequence
from typing import Any

import httpx

__all__ = ["RemoteReward"]

logger = logging.getLogger(__name__)

_TRAINER_KWARGS = frozenset({"trainer_state", "log_metric", "log_extra", "environments"})
_RETRY_STATUS = frozenset({408, 425, 429, 500, 502, 503, 504})


class RemoteReward:
    """``await reward(prompts=..., completions=..., **columns)`` scored by a server.

    Args:
        url: the server's base URL (``http://host:8000``).
        route: the server route (default: the server's default route); also the name TRL
            logs the reward under unless ``name`` is given.
        timeout: seconds one request may take.
        retries: further attempts after a failed request; backoff doubles from ``backoff``
            seconds (with jitter) up to ``max_backoff``.
        columns: dataset columns to send (default: every list column TRL passes).
    """

    def __init__(
        self,
        url: str,
        *,
        route: str | None = None,
        name: str | None = None,
        timeout: float = 300.0,
        retries: int = 5,
        backoff: float = 0.5,
        max_backoff: float = 30.0,
        columns: Sequence[str] | None = None,
    ) -> None:
        if retries < 0 or backoff < 0 or timeout <= 0:
            raise ValueError("retries and backoff must be >= 0, timeout > 0")
        self.url = url.rstrip("/")
        self.route = route
        self.endpoint = f"{self.url}/{route}/v1/score" if route else f"{self.url}/v1/score"
        self.__name__ = name or route or "remote_reward"
        self.timeout = timeout
        self.retries = retries
        self.backoff = backoff
        self.max_backoff = max_backoff
        self.columns = tuple(columns) if columns is not None else None

    def __repr__(self) -> str:
        return f"RemoteReward({self.endpoint!r})"

    async def __call__(
        self,
        prompts: Sequence[Any] | None = None,
        completions: Sequence[Any] | None = None,
        completion_ids: Sequence[Sequence[int]] | None = None,
        log_metric: Callable[[str, float], None] | None = None,
        log_extra: Callable[[str, list], None] | None = None,
        **kwargs: Any,
    ) -> list[float | None]:
        completions = list(completions or [])
        if not completions:
            return []
        body = {"completions": completions, **self._columns(len(completions), kwargs)}
        if prompts is not None:
            body["prompts"] = list(prompts)
        reply = await self._post(body)
        if reply is None:
            if log_metric is not None:
                log_metric(f"{self.__name__}/reason/server_unavailable", 1.0)
            return [None] * len(completions)
        results = reply["results"]
        if log_metric is not None:
            for reason, share in reply.get("reasons", {}).items():
                log_metric(f"{self.__name__}/reason/{reason}", share)
        if log_extra is not None:
            log_extra(f"{self.__name__}/reason", [r["reason"] for r in results])
        return [r["value"] for r in results]

    def _columns(self, n: int, kwargs: dict[str, Any]) -> dict[str, list]:
        """The dataset columns to send: lists of ``n`` JSON values (a column JSON cannot
        hold, such as images, is left out with a warning rather than failing the step)."""
        names = self.columns if self.columns is not None else kwargs
        columns = {}
        for key in names:
            value = kwargs.get(key)
            if key in _TRAINER_KWARGS or not isinstance(value, (list, tuple)) or len(value) != n:
                continue
            try:
                json.dumps(value)
            except (TypeError, ValueError):
                logger.warning("%s: column %r is not JSON; not sent", self.__name__, key)
                continue
            columns[key] = list(value)
        return columns

    async def _post(self, body: dict[str, Any]) -> dict[str, Any] | None:
        """The server's reply, or ``None`` once the retries are spent or on a 4xx."""
        async with httpx.AsyncClient(timeout=self.timeout) as client:
            for attempt in range(self.retries + 1):
                wait = min(self.max_backoff, self.backoff * 2**attempt) * (1 + random.random())
                try:
                    response = await client.post(self.endpoint, json=body)
                except httpx.HTTPError as exc:
                    logger.warning("reward server %s: %s (try %d)", self.url, exc, attempt + 1)
                else:
                    if response.status_code == 200:
                        return response.json()
                    message = response.text[:300]
                    if response.status_code not in _RETRY_STATUS:
                        logger.error("reward server rejected a batch: %s", message)
                        return None
                    logger.warning("reward server %d: %s", response.status_code, message)
                    retry_after = response.headers.get("retry-after", "")
                    if retry_after.isdigit():
                        wait = min(self.max_backoff, max(wait, float(retry_after)))
                if attempt < self.retries:
                    await asyncio.sleep(wait)
        return None
