"""Reward results as JSON: values, reasons, details, reason shares and the accuracy part.

Shared by the server's protocols and the in-process adapters, so both answer alike.

>>> from rewardkit.rewards import RewardResult
>>> to_json(RewardResult(0.0, "wrong_answer", {"answer": "5"}))
{'value': 0.0, 'reason': 'wrong_answer', 'details': {'answer': '5'}}
>>> reason_shares([RewardResult(1.0), RewardResult(0.0, "no_answer")])
{'ok': 0.5, 'no_answer': 0.5}
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from typing import Any

from rewardkit.rewards.base import OK, RewardResult

__all__ = ["accuracy", "answer", "jsonable", "number", "reason_shares", "to_json"]

_ACCURACY_NAMES = ("accuracy", "boxed_accuracy")
_MAX_DEPTH = 8


def jsonable(value: Any, depth: int = 0) -> Any:
    """``value`` with every part JSON can hold kept and the rest turned into text."""
    if isinstance(value, (str, bool, int)) or value is None:
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if depth >= _MAX_DEPTH:
        return str(value)[:200]
    if isinstance(value, RewardResult):
        return to_json(value, depth + 1)
    if isinstance(value, dict):
        return {str(k): jsonable(v, depth + 1) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v, depth + 1) for v in value]
    return str(value)[:200]


def number(value: float | None) -> float:
    """A value the frameworks can hold: ``None`` and non-finite values are 0.0.

    >>> number(None), number(float("nan")), number(0.5)
    (0.0, 0.0, 0.5)
    """
    if value is None or not math.isfinite(value):
        return 0.0
    return float(value)


def to_json(result: RewardResult, depth: int = 0) -> dict[str, Any]:
    """One result as ``{"value", "reason", "details"}``."""
    return {
        "value": jsonable(result.value, depth),
        "reason": result.reason,
        "details": jsonable(result.details, depth),
    }


def reason_shares(results: Sequence[RewardResult]) -> dict[str, float]:
    """The share of each reason in a batch, most common first."""
    counts = Counter(r.reason for r in results)
    return {reason: n / len(results) for reason, n in counts.most_common()}


def accuracy(result: RewardResult) -> float:
    """Whether the answer was right (1.0 / 0.0): the value of a component named
    ``accuracy`` or ``boxed_accuracy`` when the reward is a composite, else whether the
    reward scored ``ok`` with a positive value.

    >>> accuracy(RewardResult(0.1, "wrong_answer"))
    0.0
    """
    component = _find_accuracy(result.details, 0)
    if component is not None:
        return float(bool(component.value) and component.reason == OK)
    return float(result.reason == OK and bool(result.value) and result.value > 0)


def answer(result: RewardResult) -> str:
    """The final answer the reward read ("" when none), from its details or its accuracy
    component's.

    >>> answer(RewardResult(0.0, "wrong_answer", {"answer": "5"}))
    '5'
    """
    component = _find_accuracy(result.details, 0)
    details = component.details if component is not None else result.details
    found = details.get("answer") if isinstance(details, dict) else None
    return "" if found is None else str(found)[:200]


def _find_accuracy(details: dict[str, Any], depth: int) -> RewardResult | None:
    components = details.get("components") if isinstance(details, dict) else None
    if not isinstance(components, dict) or depth > _MAX_DEPTH:
        return None
    for name in _ACCURACY_NAMES:
        if isinstance(components.get(name), RewardResult):
            return components[name]
    for part in components.values():
        if isinstance(part, RewardResult):
            found = _find_accuracy(part.details, depth + 1)
            if found is not None:
                return found
    return None
