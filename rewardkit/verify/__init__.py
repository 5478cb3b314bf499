r"""Math answer verification: is a model's final answer equal to the gold answer?

This first version compares answers after a light normalisation (spaces, ``$``, ``\left``,
``\right``, ``\text``, thousands separators, plain numbers); the safe parser and symbolic
comparison replace it behind the same interface.

>>> verify(r"so the answer is \boxed{1,000}", "1000").correct
True
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from rewardkit.text import final_answer

__all__ = ["Verdict", "equivalent", "verify", "verify_batch"]


@dataclass(frozen=True)
class Verdict:
    """The outcome of verifying one completion against one gold answer.

    ``reason`` is ``"ok"`` when correct, ``"wrong_answer"`` when an answer was found and
    differs, or why no comparison was possible (``no_answer``, ``parse_error``, ...).
    """

    correct: bool
    answer: str | None
    gold: str | None
    reason: str


_WRAPPERS = re.compile(r"\\left|\\right|\\!|\\,|\\;|\\ |\$")
_TEXT = re.compile(r"\\(?:text|mbox|mathrm|textbf)\{([^{}]*)\}")


def _normalise(answer: str) -> str:
    s = _TEXT.sub(r"\1", answer)
    s = _WRAPPERS.sub("", s)
    s = re.sub(r"(?<=\d),(?=\d{3}\b)", "", s)
    s = re.sub(r"\s+", "", s).rstrip(".")
    try:
        return repr(float(s))
    except ValueError:
        return s


def equivalent(pred: str, gold: str) -> bool:
    """Whether two answer strings are the same answer.

    >>> equivalent("$0.5$", "0.50")
    True
    """
    return _normalise(pred) == _normalise(gold)


def verify(completion: str, gold: str, *, boxed_only: bool = False) -> Verdict:
    """Extract the final answer of ``completion`` and compare it with ``gold``."""
    extraction = final_answer(completion, conventions=not boxed_only)
    if extraction.answer is None:
        return Verdict(False, None, gold, extraction.reason)
    correct = equivalent(extraction.answer, gold)
    return Verdict(correct, extraction.answer, gold, "ok" if correct else "wrong_answer")


def verify_batch(pairs: Iterable[tuple[str, str]], *, boxed_only: bool = False) -> list[Verdict]:
    """:func:`verify` over many ``(completion, gold)`` pairs."""
    return [verify(completion, gold, boxed_only=boxed_only) for completion, gold in pairs]
