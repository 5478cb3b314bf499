"""Registries mapping names to objective functions (KL estimators, advantages, losses, ...).

A trainer config chooses each piece by name; an unknown name raises a clear error listing the
known ones, at construction time.

>>> from rewardkit.objectives.registry import Registry
>>> squares = Registry("square function")
>>> @squares.register("square")
... def square(x):
...     return x * x
>>> squares.get("square")(3)
9
>>> squares.get("cube")
Traceback (most recent call last):
...
KeyError: "unknown square function 'cube'; known: square"
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


class Registry:
    """A named table of functions; ``register(name)`` is a decorator, ``get(name)`` looks one up."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._table: dict[str, Callable[..., Any]] = {}

    def register(self, *names: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        """Register the decorated function under each of ``names`` (the first is its main name)."""

        def decorator(fn: Callable[..., Any]) -> Callable[..., Any]:
            for name in names:
                if name in self._table and self._table[name] is not fn:
                    raise ValueError(f"{self.kind} {name!r} is already registered")
                self._table[name] = fn
            return fn

        return decorator

    def get(self, name: str) -> Callable[..., Any]:
        """The function registered as ``name``; ``KeyError`` listing the known names otherwise."""
        try:
            return self._table[name]
        except (KeyError, TypeError):
            raise KeyError(
                f"unknown {self.kind} {name!r}; known: {', '.join(self.names())}"
            ) from None

    def names(self) -> list[str]:
        """Registered names, sorted."""
        return sorted(self._table)

    def __contains__(self, name: object) -> bool:
        return name in self._table


KL_ESTIMATORS = Registry("KL estimator")
ADVANTAGE_ESTIMATORS = Registry("advantage estimator")
POLICY_LOSSES = Registry("policy loss")
LOSS_AGGREGATIONS = Registry("loss aggregation")

register_kl_estimator = KL_ESTIMATORS.register
register_adv_est = ADVANTAGE_ESTIMATORS.register
register_policy_loss = POLICY_LOSSES.register
register_loss_agg = LOSS_AGGREGATIONS.register
