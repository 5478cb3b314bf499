r"""Table-driven tests of reward functions.

A :class:`RewardCase` is one completion, its dataset columns and the reward it must get;
:func:`reward_cases` turns a table of them (or of plain tuples) into ``pytest.param``
objects with readable ids, and :func:`check_case` scores one case and explains a mismatch.

    from rewardkit.testing import RewardCase, check_case, reward_cases

    CASES = reward_cases(
        [
            (r"\boxed{4}", 1.0),
            (r"\boxed{5}", 0.0),
            RewardCase(r"\boxed{3} or \boxed{4}", 0.0, id="hedged"),
        ],
        columns={"solution": "4"},
    )

    @pytest.mark.parametrize("case", CASES)
    def test_accuracy(case):
        check_case(BoxedAccuracy(), case)

>>> from rewardkit.rewards import BoxedAccuracy
>>> check_case(BoxedAccuracy(), RewardCase(r"\boxed{4}", 1.0, columns={"solution": "4"}))
1.0
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from rewardkit.testing.calling import call_like_trl

__all__ = ["RewardCase", "check_case", "reward_cases", "run_case"]


@dataclass(frozen=True)
class RewardCase:
    """One row of a reward's test table.

    ``completion`` is plain text or chat messages; ``expected`` the reward it must get
    (``None`` when it must be skipped), matched within ``tolerance``; ``columns`` the
    row's dataset columns (``{"solution": "4"}``); ``prompt`` its prompt; ``id`` the name
    pytest shows. With ``both_formats`` the case is checked as plain text and as a chat
    message.
    """

    completion: Any
    expected: float | None
    columns: Mapping[str, Any] = field(default_factory=dict)
    prompt: Any = None
    id: str | None = None
    tolerance: float = 1e-6
    both_formats: bool = False

    def __post_init__(self) -> None:
        if self.expected is not None and not isinstance(self.expected, (int, float)):
            raise TypeError(f"expected must be a number or None, got {self.expected!r}")
        if self.tolerance < 0:
            raise ValueError(f"tolerance must be at least 0, got {self.tolerance}")


def run_case(reward: Callable[..., Any], case: RewardCase, *, chat: bool | None = None) -> Any:
    """The reward ``reward`` gives ``case``, called as TRL calls it on a batch of one.

    ``chat=True`` / ``False`` sends the completion as a chat message / plain text;
    ``None`` sends it as written.
    """
    completion, prompt = case.completion, case.prompt
    if chat:
        if isinstance(completion, str):
            completion = [{"role": "assistant", "content": completion}]
        if isinstance(prompt, str):
            prompt = [{"role": "user", "content": prompt}]
    elif chat is False and not isinstance(completion, str):
        raise ValueError("chat=False needs a plain-text completion")
    columns = {key: [value] for key, value in case.columns.items()}
    values = list(call_like_trl(reward, [completion], [prompt], columns))
    if len(values) != 1:
        raise AssertionError(f"the reward returned {len(values)} values for 1 completion")
    return values[0]


def check_case(reward: Callable[..., Any], case: RewardCase) -> Any:
    """Score ``case`` and raise ``AssertionError`` unless it gets ``case.expected``.

    Returns the value the reward gave.
    """
    formats: list[bool | None] = [False, True] if case.both_formats else [None]
    value = None
    for chat in formats:
        value = run_case(reward, case, chat=chat)
        if not _matches(value, case.expected, case.tolerance):
            where = "" if chat is None else (" (chat)" if chat else " (plain)")
            name = getattr(reward, "__name__", type(reward).__name__)
            raise AssertionError(
                f"{name} gave {value!r}{where}, expected {case.expected!r} "
                f"for completion {_short(case.completion)} with columns {dict(case.columns)}"
            )
    return value


def _matches(value: Any, expected: float | None, tolerance: float) -> bool:
    if expected is None or value is None:
        return value is expected
    if isinstance(value, bool) or not isinstance(value, (int, float)) or math.isnan(value):
        return False
    return abs(value - expected) <= tolerance


def reward_cases(
    table: Iterable[RewardCase | tuple],
    *,
    columns: Mapping[str, Any] | None = None,
    prompt: Any = None,
) -> list[Any]:
    """Turn a table into ``pytest.param`` objects for ``@pytest.mark.parametrize``.

    Each row is a :class:`RewardCase` or a tuple ``(completion, expected[, columns[, id]])``.
    ``columns`` and ``prompt`` fill in what a row leaves out (a row's own columns win).
    Rows without an id get one made from the completion; duplicate ids get a suffix.

    >>> [p.id for p in reward_cases([("\\\\boxed{4}", 1.0), ("\\\\boxed{4}", 1.0)])]
    ['boxed_4-1.0', 'boxed_4-1.0-2']
    """
    import pytest  # only tests need it

    params = []
    seen: dict[str, int] = {}
    for row in table:
        case = row if isinstance(row, RewardCase) else _from_tuple(row)
        merged = {**(columns or {}), **case.columns}
        case = replace(
            case,
            columns=merged,
            prompt=case.prompt if case.prompt is not None else prompt,
        )
        case_id = case.id or f"{_slug(case.completion)}-{case.expected}"
        seen[case_id] = seen.get(case_id, 0) + 1
        if seen[case_id] > 1:
            case_id = f"{case_id}-{seen[case_id]}"
        params.append(pytest.param(case, id=case_id))
    return params


def _from_tuple(row: tuple) -> RewardCase:
    if not isinstance(row, tuple) or not 2 <= len(row) <= 4:
        raise ValueError(
            f"a table row is a RewardCase or (completion, expected[, columns[, id]]), got {row!r}"
        )
    completion, expected, *rest = row
    row_columns = rest[0] if rest else {}
    row_id = rest[1] if len(rest) > 1 else None
    return RewardCase(completion, expected, columns=row_columns, id=row_id)


def _slug(completion: Any) -> str:
    text = completion if isinstance(completion, str) else repr(completion)
    slug = re.sub(r"[^0-9A-Za-z]+", "_", text).strip("_")[:40]
    return slug or "empty"


def _short(completion: Any) -> str:
    text = repr(completion)
    return text if len(text) <= 120 else text[:117] + "..."
