"""The options of answer comparison, one frozen (hashable, picklable) value.

>>> VerifyOptions(percent="value").percent
'value'
>>> VerifyOptions(percent="maybe")
Traceback (most recent call last):
...
ValueError: percent must be one of ('flexible', 'value', 'number'), got 'maybe'
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields, replace
from typing import Any

from rewardkit.text import EXTRACT_MODES, think_tag_pairs
from rewardkit.text.think import DEFAULT_THINK_TAGS

__all__ = [
    "BOX_POLICIES",
    "DECIMAL_POLICIES",
    "EXTRACT_MODES",
    "PERCENT_POLICIES",
    "UNIT_POLICIES",
    "VerifyOptions",
]

PERCENT_POLICIES = ("flexible", "value", "number")
UNIT_POLICIES = ("ignore", "match")
BOX_POLICIES = ("hedge", "last")
DECIMAL_POLICIES = ("as_written", "exact")


@dataclass(frozen=True)
class VerifyOptions:
    """How two answers are compared.

    Args:
        rel_tol: relative tolerance between numbers when one of them is a decimal
            (``0.333333`` vs ``1/3``). Exact numbers (integers, fractions, roots) are
            compared exactly, so tiny values never match by rounding.
        abs_tol: absolute tolerance added to ``rel_tol`` for decimals (default 0).
        percent: ``flexible`` (``50\\%`` equals ``0.5`` and ``50``), ``value`` (``50\\%``
            equals ``0.5`` only) or ``number`` (``50\\%`` equals ``50`` only).
        units: ``ignore`` (``5 cm`` equals ``5``) or ``match`` (unit words must agree).
        timeout: seconds one comparison may take before its verdict is ``timeout``.
        extract: how the answer is read from a completion: ``"conventions"`` (a box, else
            ``#### N``, ``The answer is ...``, ``Answer: ...``, bold, ...), ``"boxed"``
            (only a box; ``boxed_only=True`` is the old spelling) or ``"lenient"`` (also
            the last math span or number of the final statement: for evaluation).
        multiple_boxes: several different boxed answers are a ``"hedge"`` (not an answer,
            ``multiple_answers``) or the ``"last"`` one wins (self-correction). ``None``:
            ``"last"`` when ``extract="lenient"``, else ``"hedge"``. Rewards keep
            ``"hedge"``: paying the last box pays a policy for listing every option.
        think_tags: the think delimiters, a pair or a list of pairs (default
            ``<think>...</think>``).
        decimals: ``as_written`` (a predicted decimal with k places and at least 3
            significant digits equals an exact gold that rounds to it: ``3.14`` for
            ``\\frac{22}{7}``, not ``0.33`` for ``\\frac13``) or ``exact`` (only
            ``rel_tol``). A gold written as a decimal always compares with ``rel_tol``.
    """

    rel_tol: float = 1e-6
    abs_tol: float = 0.0
    percent: str = "flexible"
    units: str = "ignore"
    timeout: float = 5.0
    extract: str = "conventions"
    multiple_boxes: str | None = None
    think_tags: tuple[tuple[str, str], ...] = DEFAULT_THINK_TAGS
    decimals: str = "as_written"

    def __post_init__(self) -> None:
        if self.extract not in EXTRACT_MODES:
            raise ValueError(f"extract must be one of {EXTRACT_MODES}, got {self.extract!r}")
        if self.multiple_boxes is not None and self.multiple_boxes not in BOX_POLICIES:
            raise ValueError(
                f"multiple_boxes must be one of {BOX_POLICIES} or None, got {self.multiple_boxes!r}"
            )
        object.__setattr__(self, "think_tags", think_tag_pairs(self.think_tags))
        if self.percent not in PERCENT_POLICIES:
            raise ValueError(f"percent must be one of {PERCENT_POLICIES}, got {self.percent!r}")
        if self.decimals not in DECIMAL_POLICIES:
            raise ValueError(f"decimals must be one of {DECIMAL_POLICIES}, got {self.decimals!r}")
        if self.units not in UNIT_POLICIES:
            raise ValueError(f"units must be one of {UNIT_POLICIES}, got {self.units!r}")
        for name in ("rel_tol", "abs_tol"):
            value = getattr(self, name)
            if not (isinstance(value, (int, float)) and 0 <= value < 1):
                raise ValueError(f"{name} must be a number in [0, 1), got {value!r}")
        if not (
            isinstance(self.timeout, (int, float))
            and math.isfinite(self.timeout)
            and self.timeout > 0
        ):
            raise ValueError(f"timeout must be a positive number of seconds, got {self.timeout!r}")

    @property
    def boxed_only(self) -> bool:
        """Whether only a box counts (the old name of ``extract="boxed"``)."""
        return self.extract == "boxed"

    @property
    def box_policy(self) -> str:
        """``multiple_boxes`` with its default resolved."""
        if self.multiple_boxes is not None:
            return self.multiple_boxes
        return "last" if self.extract == "lenient" else "hedge"

    @classmethod
    def from_kwargs(cls, options: VerifyOptions | None = None, **kwargs: Any) -> VerifyOptions:
        """Options from keyword arguments, clearly rejecting unknown names.

        ``boxed_only=True`` / ``False`` is read as ``extract="boxed"`` / ``"conventions"``.

        >>> VerifyOptions.from_kwargs(timeout=2).timeout
        2
        >>> VerifyOptions.from_kwargs(boxed_only=True).extract
        'boxed'
        """
        base = options or _DEFAULT
        if "boxed_only" in kwargs:
            boxed_only = kwargs.pop("boxed_only")
            if not isinstance(boxed_only, bool):
                raise TypeError(f"boxed_only must be true or false, got {boxed_only!r}")
            if "extract" in kwargs and (kwargs["extract"] == "boxed") != boxed_only:
                extract = kwargs["extract"]
                raise ValueError(f"boxed_only={boxed_only} contradicts extract={extract!r}")
            kwargs.setdefault("extract", "boxed" if boxed_only else "conventions")
        if not kwargs:
            return base
        unknown = sorted(set(kwargs) - _NAMES)
        if unknown:
            raise TypeError(f"unknown verify options {unknown}; known: {sorted(_NAMES)}")
        return replace(base, **kwargs)


_DEFAULT = VerifyOptions()
_NAMES = frozenset(f.name for f in fields(VerifyOptions)) | {"boxed_only"}
