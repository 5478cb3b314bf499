"""Rewards that ask a verifier model: awaited by TRL beside the other async rewards.

A reward holding a :class:`~rewardkit.verify.ModelVerifier` (``BoxedAccuracy`` or the
``math`` reward with ``model_verifier=...``) gets an ``async __call__``: TRL's GRPOTrainer
awaits it beside its other async rewards while the rules and the model calls of the batch
run on a worker thread (the model calls of one batch concurrently, under the backend's
limit). Each call logs, besides the reward's reasons, what the verifier did for it:
``<name>/model_verifier/forwarded`` and ``/overturned`` (shares of the batch),
``/latency_s`` (seconds waiting for the model), ``/prompt_tokens``,
``/completion_tokens``, ``/cache_hits``, ``/unavailable`` and ``/unparseable``.

>>> import asyncio, inspect
>>> from rewardkit.rewards import BoxedAccuracy
>>> from rewardkit.verify import ModelVerifier
>>> mv = ModelVerifier("tinyv", "tinyv", base_url="http://127.0.0.1:1/v1", cache=False)
>>> inspect.iscoroutinefunction(BoxedAccuracy(model_verifier=mv).__call__)
True
>>> asyncio.run(BoxedAccuracy(model_verifier=mv)(completions=[r"\\boxed{4}"], answer=["4"]))
[1.0]
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from typing import Any

from rewardkit.rewards.base import Reward, RewardResult
from rewardkit.rewards.compose import Gate

__all__ = ["AsyncGate", "AsyncScoring", "model_verifiers"]

logger = logging.getLogger(__name__)

_COUNTS = ("forwarded", "overturned")  # logged as shares of the batch
_TOTALS = (
    "latency_s",
    "prompt_tokens",
    "completion_tokens",
    "cache_hits",
    "unavailable",
    "unparseable",
)


def model_verifiers(reward: Reward) -> list[Any]:
    """The model verifiers a reward and its components hold, each once."""
    found: dict[int, Any] = {}
    stack = [reward]
    while stack:
        current = stack.pop()
        verifier = getattr(current, "model_verifier", None)
        if verifier is not None:
            found.setdefault(id(verifier), verifier)
        stack.extend(getattr(current, "components", {}).values())
    return list(found.values())


class AsyncScoring(Reward):
    """Mixin: an ``async __call__`` that scores on a worker thread and logs the model
    verifiers' work for the batch."""

    async def __call__(  # type: ignore[override]
        self,
        prompts: Sequence[Any] | None = None,
        completions: Sequence[Any] | None = None,
        completion_ids: Sequence[Sequence[int]] | None = None,
        log_metric: Callable[[str, float], None] | None = None,
        log_extra: Callable[[str, list], None] | None = None,
        **kwargs: Any,
    ) -> list[float | None]:
        verifiers = model_verifiers(self)
        before = [v.spent() for v in verifiers]
        results = await asyncio.to_thread(
            self.score, prompts, completions, completion_ids, **kwargs
        )
        self._report(results, log_metric, log_extra)
        self._report_verifiers(verifiers, before, results, log_metric)
        return [r.value for r in results]

    def _report_verifiers(
        self,
        verifiers: list[Any],
        before: list[dict[str, float]],
        results: Sequence[RewardResult],
        log_metric: Callable[[str, float], None] | None,
    ) -> None:
        spent = {key: 0.0 for key in (*_COUNTS, *_TOTALS)}
        for verifier, start in zip(verifiers, before, strict=True):
            now = verifier.spent()
            for key in spent:
                spent[key] += now.get(key, 0) - start.get(key, 0)
        n = max(len(results), 1)
        logger.info("reward %s model verifier: %s", self.__name__, spent)
        if log_metric is None:
            return
        for key in _COUNTS:
            log_metric(f"{self.__name__}/model_verifier/{key}", spent[key] / n)
        for key in _TOTALS:
            log_metric(f"{self.__name__}/model_verifier/{key}", float(spent[key]))


class AsyncGate(AsyncScoring, Gate):
    """:class:`~rewardkit.rewards.compose.Gate` awaited (its reward asks a model)."""
