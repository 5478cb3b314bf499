"""Rewards by name: the registry that configs, the CLI and the audit look rewards up in.

>>> reward = get_reward("boxed_accuracy")
>>> reward.__name__
'boxed_accuracy'
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

from rewardkit.rewards.options import check_options, parse_options

_REGISTRY: dict[str, Callable[..., Any]] = {}


def register_reward(name: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Class or factory decorator that makes a reward constructible by ``name``."""

    def decorate(factory: Callable[..., Any]) -> Callable[..., Any]:
        if name in _REGISTRY and _REGISTRY[name] is not factory:
            raise ValueError(f"a reward named {name!r} is already registered")
        _REGISTRY[name] = factory
        return factory

    return decorate


def reward_names() -> list[str]:
    """The names :func:`get_reward` knows, sorted."""
    _load_builtins()
    return sorted(_REGISTRY)


def get_reward(spec: str, **kwargs: Any) -> Callable[..., Any]:
    """Build a reward from a registered name or a ``module:attribute`` path.

    A class or factory found either way is called with ``kwargs``; any other callable
    found by path (a plain reward function, a reward object) is returned as it is. Options
    can also follow the name after ``@`` as ``key=value`` pairs separated by commas, as on
    the command line; each value is read by the option's type
    (:func:`~rewardkit.rewards.options.parse_options`: ``boxed_only=off`` is ``False``,
    ``boxed_only=maybe`` an error naming the option and its type):

    >>> get_reward("boxed_accuracy@boxed_only=False,gold_column=target").boxed_only
    False
    """
    spec, _, options = spec.partition("@")
    spec = spec.strip()
    raw = _split_options(options, spec)
    _load_builtins()
    if spec in _REGISTRY:
        factory = _REGISTRY[spec]
        kwargs = {**parse_options(factory, raw, spec), **kwargs}
        if not isinstance(factory, type):  # classes check their own arguments
            check_options(factory, kwargs, spec)
        return factory(**kwargs)
    if ":" not in spec:
        raise KeyError(
            f"unknown reward {spec!r}: use one of {', '.join(sorted(_REGISTRY))} "
            "or a 'module:attribute' path"
        )
    module_name, _, attribute = spec.partition(":")
    try:
        target: Any = importlib.import_module(module_name)
        for part in attribute.split("."):
            target = getattr(target, part)
    except (ImportError, AttributeError) as exc:
        raise KeyError(f"cannot load reward {spec!r}: {exc}") from exc
    if isinstance(target, type):
        return target(**{**parse_options(target, raw, spec), **kwargs})
    kwargs = {**raw, **kwargs}
    if not callable(target):
        raise TypeError(f"{spec!r} is not callable")
    if kwargs:
        raise TypeError(f"{spec!r} is not a class, so it takes no options (got {sorted(kwargs)})")
    return target


def _split_options(options: str, spec: str) -> dict[str, str]:
    parsed: dict[str, str] = {}
    for item in filter(None, (part.strip() for part in options.split(","))):
        key, eq, raw = item.partition("=")
        if not eq or not key.strip():
            raise ValueError(f"reward option {item!r} of {spec!r} is not key=value")
        parsed[key.strip()] = raw
    return parsed


def _load_builtins() -> None:
    importlib.import_module("rewardkit.rewards")
