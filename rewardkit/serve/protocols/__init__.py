"""The request and reply shapes of each RL framework, one module a protocol.

Each module turns a decoded JSON body into :class:`~rewardkit.rewards.base.Sample` objects
(raising :class:`BadRequest` that names the problem) and results back into the reply the
framework reads. Nothing here knows about HTTP, so the in-process adapters reuse them.

>>> check_fields({"query": []}, required=("query",), optional=("prompts",))
>>> try:
...     check_fields({"queries": []}, required=("query",), optional=("prompts",))
... except BadRequest as exc:
...     print(exc)
missing field 'query'; unknown field 'queries' (this route takes query, prompts)
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

__all__ = ["BadRequest", "check_fields", "check_list", "is_completion"]


class BadRequest(ValueError):
    """A request the server cannot score; ``status`` is the HTTP status to answer with."""

    def __init__(self, message: str, status: int = 422) -> None:
        super().__init__(message)
        self.status = status


def check_fields(
    body: Any, *, required: Iterable[str], optional: Iterable[str] = (), strict: bool = True
) -> None:
    """The body is a JSON object with every ``required`` field (and, when ``strict``, no
    field outside ``required`` and ``optional``)."""
    if not isinstance(body, Mapping):
        raise BadRequest(f"the body must be a JSON object, got {type(body).__name__}")
    required, optional = tuple(required), tuple(optional)
    problems = [f"missing field {name!r}" for name in required if name not in body]
    if strict:
        known = set(required) | set(optional)
        problems += [f"unknown field {name!r}" for name in body if name not in known]
    if problems:
        raise BadRequest(
            f"{'; '.join(problems)} (this route takes {', '.join(required + optional)})"
        )


def check_list(body: Mapping[str, Any], name: str, n: int | None, *, item=None) -> list | None:
    """``body[name]`` as a list of ``n`` items (any length when ``n`` is None); ``None``
    when absent. ``item`` is a predicate with a description: ``(test, "a string")``."""
    value = body.get(name)
    if value is None:
        return None
    if not isinstance(value, list):
        raise BadRequest(f"field {name!r} must be a list, got {type(value).__name__}")
    if n is not None and len(value) != n:
        raise BadRequest(f"field {name!r} has {len(value)} items but there are {n} completions")
    if item is not None:
        test, what = item
        for i, element in enumerate(value):
            if not test(element):
                raise BadRequest(f"{name}[{i}] must be {what}, got {type(element).__name__}")
    return value


def is_completion(value: Any) -> bool:
    """A plain-text completion or a chat one (a list of ``{"role", "content"}`` messages)."""
    if isinstance(value, str):
        return True
    return isinstance(value, list) and all(isinstance(m, dict) and "content" in m for m in value)
