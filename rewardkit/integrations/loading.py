"""The reward an adapter scores with, chosen by name, config file or environment.

>>> reward, label_column = load_reward("boxed_accuracy@boxed_only=false")
>>> reward.__name__, label_column
('boxed_accuracy', 'answer')
>>> [r.value for r in score([sample("A: 4", "4")], reward)]
[1.0]
"""

from __future__ import annotations

import asyncio
import functools
import os
from collections.abc import Sequence
from typing import Any

from rewardkit.rewards.base import Reward, RewardResult, Sample
from rewardkit.rewards.compose import as_reward
from rewardkit.serve.config import load_config, single_route
from rewardkit.text import completion_text

__all__ = ["ascore", "load_reward", "sample", "score"]

DEFAULT_REWARD = "math"


def load_reward(
    reward: str | None = None, config: str | None = None, route: str | None = None
) -> tuple[Reward, str]:
    """The reward and its label column: from the arguments, else ``REWARDKIT_REWARD`` /
    ``REWARDKIT_CONFIG`` + ``REWARDKIT_ROUTE``, else ``math``. Built once per setting."""
    reward = reward or os.environ.get("REWARDKIT_REWARD") or None
    config = config or os.environ.get("REWARDKIT_CONFIG") or None
    route = route or os.environ.get("REWARDKIT_ROUTE") or None
    if reward and config:
        raise ValueError("name a reward or a config, not both")
    label = os.environ.get("REWARDKIT_LABEL_COLUMN") or None
    return _build(reward, config, route, label)


@functools.lru_cache(maxsize=16)
def _build(
    reward: str | None, config: str | None, route: str | None, label: str | None
) -> tuple[Reward, str]:
    served = load_config(config) if config else single_route(reward or DEFAULT_REWARD)
    name = route or served.default
    chosen = next((r for r in served.routes if r.name == name), None)
    if chosen is None:
        known = ", ".join(r.name for r in served.routes)
        raise KeyError(f"route {name!r} is not in {config} (routes: {known})")
    return as_reward(chosen.build_reward()), label or chosen.label_column


def sample(response: Any, label: Any, label_column: str = "answer", **columns: Any) -> Sample:
    """One sample as the rewards see it."""
    return Sample(
        prompt=columns.pop("prompt", None),
        completion=response,
        text=completion_text(response),
        columns={**columns, label_column: label},
    )


def score(samples: Sequence[Sample], reward: Reward) -> list[RewardResult]:
    """Score in this thread (never raises: see ``Reward.score_batch``)."""
    return reward.score_batch(list(samples))


async def ascore(samples: Sequence[Sample], reward: Reward) -> list[RewardResult]:
    """Score without blocking the caller's event loop: awaited for an async reward (the
    judge), in a worker thread otherwise."""
    if hasattr(reward, "ascore_samples"):
        return list(await reward.ascore_samples(list(samples)))
    return await asyncio.to_thread(score, samples, reward)
