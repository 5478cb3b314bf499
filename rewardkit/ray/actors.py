r"""Rewards held by Ray actors, for frameworks that score from inside Ray tasks.

verl's reward workers and NeMo-RL's environments run as Ray tasks and actors; rather than
posting to a server, they can hold actor handles and call them. :class:`RewardActor` is a
reward behind an actor (its verifier's worker processes live as long as the actor);
:class:`RewardActorPool` spreads one batch over several actors and is itself a TRL-shaped
reward function (picklable with its handles, so it can be passed into Ray tasks).

>>> ray = ensure_ray(num_cpus=1, include_dashboard=False)
>>> pool = RewardActorPool("boxed_accuracy", num_actors=1)
>>> pool(completions=[r"\boxed{4}", r"\boxed{5}"], answer=["4", "4"])
[1.0, 0.0]
>>> ray.shutdown()
"""

from __future__ import annotations

import math
from typing import Any

from rewardkit.ray.data import ensure_ray
from rewardkit.rewards import Reward, get_reward

__all__ = ["RewardActor", "RewardActorPool"]


class RewardActor:
    """A reward, by registered name (with ``@options``), ``module:attribute`` or object,
    to run as a Ray actor: ``ray.remote(RewardActor).remote("math")``.

    Both methods take TRL's keywords: ``prompts``, ``completions`` and dataset columns.
    """

    def __init__(self, reward: Any, **options: Any) -> None:
        self.reward = get_reward(reward, **options) if isinstance(reward, str) else reward
        self.name = getattr(self.reward, "__name__", type(self.reward).__name__)

    def __call__(self, prompts=None, completions=(), **columns: Any) -> list[float | None]:
        """One value (or ``None``) per completion."""
        return list(self.reward(prompts=prompts, completions=list(completions), **columns))

    def score(self, prompts=None, completions=(), **columns: Any) -> list[dict[str, Any]]:
        """Value, reason and details per completion (reason ``"ok"`` for plain functions)."""
        completions = list(completions)
        if isinstance(self.reward, Reward):
            results = self.reward.score(prompts, completions, None, **columns)
            return [{"value": r.value, "reason": r.reason, "details": r.details} for r in results]
        values = self(prompts, completions, **columns)
        return [{"value": v, "reason": "ok" if v is not None else "none"} for v in values]


class RewardActorPool:
    """``num_actors`` :class:`RewardActor` actors scoring one batch together, in order.

    A dead actor is restarted by Ray and its call retried. Calling the pool blocks until
    all parts are scored; :meth:`score` gives reasons too.
    """

    def __init__(
        self, reward: Any, *, num_actors: int = 2, num_cpus: float = 1, **options: Any
    ) -> None:
        if num_actors < 1:
            raise ValueError("num_actors must be at least 1")
        # built here too: a bad name or option fails here, not in an actor, and the
        # pool is named after it without asking an actor
        here = RewardActor(reward, **options)
        ray = ensure_ray()
        remote = ray.remote(num_cpus=num_cpus, max_restarts=-1, max_task_retries=-1)(RewardActor)
        self.actors = [remote.remote(reward, **options) for _ in range(num_actors)]
        self.__name__ = here.name

    def __call__(self, prompts=None, completions=(), **columns: Any) -> list[float | None]:
        return self._map("__call__", prompts, completions, columns)

    def score(self, prompts=None, completions=(), **columns: Any) -> list[dict[str, Any]]:
        return self._map("score", prompts, completions, columns)

    def _map(self, method: str, prompts, completions, columns: dict[str, Any]) -> list:
        import ray

        completions = list(completions)
        size = max(1, math.ceil(len(completions) / len(self.actors)))
        calls = []
        for actor, start in zip(self.actors, range(0, len(completions), size), strict=False):
            part = slice(start, start + size)
            calls.append(
                getattr(actor, method).remote(
                    prompts=None if prompts is None else list(prompts)[part],
                    completions=completions[part],
                    **{k: _part(v, part, len(completions)) for k, v in columns.items()},
                )
            )
        return [item for part in ray.get(calls) for item in part]


def _part(value: Any, part: slice, n: int) -> Any:
    """A column's rows for one part; values that are not per-row columns (TRL's
    ``trainer_state``, say) go whole to every part."""
    if isinstance(value, (list, tuple)) and len(value) == n:
        return list(value)[part]
    return value
