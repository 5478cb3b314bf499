r"""Composable filters over the scored completions of one prompt.

A filter takes the rows of one prompt that are still kept and returns the ones it keeps
and, for every other, the reason it was dropped. :class:`FilterChain` runs filters in
order over each prompt's group; filters that look at the prompt as a whole (the pass-rate
band) see the whole group as it came in, so their verdict does not depend on their place
in the chain. Filters are built by name from a spec string such as
``"top_k_distinct:k=2,by=equations"``.

>>> rows = [{"prompt_id": 0, "completion": c, "reward": r, "correct": r == 1.0}
...         for c, r in [(r"\boxed{4}", 1.0), (r"so \boxed{4.0}", 1.0), (r"\boxed{5}", 0.0)]]
>>> kept, dropped = FilterChain([build_filter("top_k_distinct:k=2")]).apply(rows)
>>> [r["completion"] for r in kept], [d.reason for d in dropped]
(['\\boxed{4}', '\\boxed{5}'], ['duplicate_answer'])
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from rewardkit.filters.seen import SeenKeys
from rewardkit.text import all_boxed, completion_text, final_answer, split_think
from rewardkit.verify import equivalent

__all__ = [
    "FILTERS",
    "BestOfN",
    "CapPerPrompt",
    "Correct",
    "Dropped",
    "Filter",
    "FilterChain",
    "FormatFilter",
    "LengthFilter",
    "PassRateBand",
    "PromptGroup",
    "Threshold",
    "TopKDistinct",
    "build_filter",
    "equations",
    "filter_names",
    "iter_groups",
]

Row = dict[str, Any]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Dropped:
    """A row a filter dropped, the reason, and the filter's name."""

    row: Row
    reason: str
    filter: str


@dataclass(frozen=True)
class PromptGroup:
    """All the scored rows of one prompt as they came in, before any filter."""

    prompt_id: Any
    rows: Sequence[Row]

    @property
    def n_judged(self) -> int:
        """Rows whose correctness is known."""
        return sum(row.get("correct") is not None for row in self.rows)

    @property
    def n_correct(self) -> int:
        return sum(row.get("correct") is True for row in self.rows)

    @property
    def pass_rate(self) -> float | None:
        """Share of judged rows that are correct, ``None`` when none is judged."""
        judged = self.n_judged
        return self.n_correct / judged if judged else None


class Filter:
    """Base class: ``apply(rows, group)`` returns the kept rows and the drops."""

    name: ClassVar[str] = "filter"

    def apply(self, rows: list[Row], group: PromptGroup) -> tuple[list[Row], list[Dropped]]:
        raise NotImplementedError

    def __repr__(self) -> str:
        settings = ", ".join(f"{k}={v!r}" for k, v in vars(self).items() if not k.startswith("_"))
        return f"{type(self).__name__}({settings})"


class RowFilter(Filter):
    """A filter that judges each row on its own: ``reason(row)`` is ``None`` to keep it."""

    def reason(self, row: Row) -> str | None:
        raise NotImplementedError

    def apply(self, rows: list[Row], group: PromptGroup) -> tuple[list[Row], list[Dropped]]:
        kept, dropped = [], []
        for row in rows:
            why = self.reason(row)
            if why is None:
                kept.append(row)
            else:
                dropped.append(Dropped(row, why, self.name))
        return kept, dropped


def _value(row: Row, key: str) -> float | None:
    if key == "reward":
        return row.get("reward")
    rewards = row.get("rewards") or {}
    if key not in rewards:
        raise KeyError(f"row has no reward named {key!r} (it has {sorted(rewards)})")
    return rewards[key]


def _by_reward(rows: list[Row], key: str = "reward") -> list[Row]:
    """Rows from the best reward down; equal rewards keep their input order."""
    return sorted(rows, key=lambda row: -_value(row, key))  # sorted() is stable


class Threshold(RowFilter):
    """Keep rows whose reward (``key``: ``reward`` for the weighted sum, or a reward's
    name) is at least ``min`` and at most ``max``; rows without a value are dropped."""

    name = "threshold"

    def __init__(self, min: float | None = None, max: float | None = None, key: str = "reward"):
        if min is None and max is None:
            raise ValueError("threshold needs min, max or both")
        if min is not None and max is not None and min > max:
            raise ValueError(f"threshold min={min} is above max={max}")
        self.min, self.max, self.key = min, max, key

    def reason(self, row: Row) -> str | None:
        value = _value(row, self.key)
        if value is None:
            return "unscored"
        if self.min is not None and value < self.min:
            return "below_threshold"
        if self.max is not None and value > self.max:
            return "above_threshold"
        return None


class Correct(RowFilter):
    """Keep correct rows only (rejection sampling as in RFT and STaR)."""

    name = "correct"

    def reason(self, row: Row) -> str | None:
        correct = row.get("correct")
        return None if correct else ("unscored" if correct is None else "incorrect")


class BestOfN(Filter):
    """Keep the ``n`` rows of a prompt with the highest reward (ties: input order)."""

    name = "best_of_n"

    def __init__(self, n: int = 1, key: str = "reward"):
        if n < 1:
            raise ValueError(f"best_of_n needs n >= 1, got {n}")
        self.n, self.key = n, key

    def apply(self, rows: list[Row], group: PromptGroup) -> tuple[list[Row], list[Dropped]]:
        dropped = [Dropped(r, "unscored", self.name) for r in rows if _value(r, self.key) is None]
        ranked = _by_reward([r for r in rows if _value(r, self.key) is not None], self.key)
        dropped += [Dropped(r, "not_best_of_n", self.name) for r in ranked[self.n :]]
        best = {id(r) for r in ranked[: self.n]}
        return [r for r in rows if id(r) in best], dropped


# An arithmetic equality such as "16 - 3 = 13" or "3 x 2.5 = 7.5" in running text.
_NUMBER = r"\$?\d[\d,]*(?:\.\d+)?%?"
# Linear: it starts only where a number starts, and takes at most 16 operations.
_EQUATION_RE = re.compile(
    rf"(?<![\d,.$])\(?{_NUMBER}\)?(?:\s*[-+*/×÷x]\s*\(?{_NUMBER}\)?){{1,16}}\s*=\s*{_NUMBER}"
)
_CALCULATOR_RE = re.compile(r"<<([^<>]{1,200})>>")
_SPACES = re.compile(r"[\s$,]")


def equations(text: str) -> tuple[str, ...]:
    """The equations of a reasoning path, in order, spaces, ``$`` and commas removed.

    GSM8K-style calculator annotations ``<<a*b=c>>`` are used when present (as RFT,
    Yuan et al. 2023, dedups reasoning paths by their equation lists); otherwise
    arithmetic equalities are read from the text.

    >>> equations("She has 16 - 3 = <<16-3=13>>13 eggs, 13 * 2 = <<13*2=26>>26 dollars")
    ('16-3=13', '13*2=26')
    >>> equations("Half of 12 is 12 / 2 = 6, so 6 + 1 = 7.")
    ('12/2=6', '6+1=7')
    """
    found = _CALCULATOR_RE.findall(text) or _EQUATION_RE.findall(text)
    return tuple(_SPACES.sub("", e).replace("×", "*").replace("÷", "/") for e in found)


def _ngrams(text: str, n: int) -> frozenset[tuple[str, ...]]:
    words = text.lower().split()
    if len(words) < n:
        return frozenset({tuple(words)})
    return frozenset(zip(*(words[i:] for i in range(n)), strict=False))  # shortest wins


def _equivalent(a: str, b: str) -> bool:
    """The verifier's equivalence; an answer it fails on is only equal to itself."""
    try:
        return equivalent(a, b)
    except Exception:  # model output is untrusted: a verifier bug must not end the run
        logger.debug("equivalent(%r, %r) failed", a, b, exc_info=True)
        return False


class TopKDistinct(Filter):
    """Keep up to ``k`` distinct rows of a prompt, best reward first.

    ``by="answer"``: rows whose final answers (:func:`rewardkit.text.final_answer`) the
    verifier finds equivalent are duplicates; a row with no final answer is dropped.
    ``by="equations"``: rows with the same list of equations (:func:`equations`) are
    duplicates, as in RFT. ``by="ngram"``: rows whose word ``n``-gram sets overlap by a
    Jaccard similarity of at least ``max_similarity`` are near duplicates. ``k=None``
    keeps every distinct row.
    """

    name = "top_k_distinct"
    _REASONS: ClassVar[dict[str, str]] = {
        "answer": "duplicate_answer",
        "equations": "duplicate_equations",
        "ngram": "near_duplicate",
    }

    def __init__(
        self,
        k: int | None = None,
        by: str = "answer",
        n: int = 3,
        max_similarity: float = 0.7,
        key: str = "reward",
    ):
        if by not in self._REASONS:
            raise ValueError(f"top_k_distinct by={by!r}: use one of {sorted(self._REASONS)}")
        if k is not None and k < 1:
            raise ValueError(f"top_k_distinct needs k >= 1, got {k}")
        if n < 1 or not 0.0 <= max_similarity <= 1.0:
            raise ValueError("top_k_distinct needs n >= 1 and 0 <= max_similarity <= 1")
        self.k, self.by, self.n, self.max_similarity, self.key = k, by, n, max_similarity, key

    def apply(self, rows: list[Row], group: PromptGroup) -> tuple[list[Row], list[Dropped]]:
        dropped = [Dropped(r, "unscored", self.name) for r in rows if _value(r, self.key) is None]
        kept: list[Row] = []
        signatures: list[Any] = []
        for row in _by_reward([r for r in rows if _value(r, self.key) is not None], self.key):
            signature = self._signature(completion_text(row["completion"]))
            if signature is None:
                dropped.append(Dropped(row, "no_final_answer", self.name))
            elif any(self._same(signature, seen) for seen in signatures):
                dropped.append(Dropped(row, self._REASONS[self.by], self.name))
            elif self.k is not None and len(kept) >= self.k:
                dropped.append(Dropped(row, "over_k", self.name))
            else:
                kept.append(row)
                signatures.append(signature)
        chosen = {id(r) for r in kept}
        return [r for r in rows if id(r) in chosen], dropped

    def _signature(self, text: str) -> Any:
        if self.by == "answer":
            return final_answer(text).answer
        if self.by == "equations":
            return equations(text)
        return _ngrams(text, self.n)

    def _same(self, a: Any, b: Any) -> bool:
        if self.by == "answer":
            return a == b or _equivalent(a, b)
        if self.by == "equations":
            return a == b
        return len(a & b) / len(a | b) >= self.max_similarity


class PassRateBand(Filter):
    """Keep prompts whose pass rate (share of correct rows, over the whole group) lies in
    ``[lo, hi]``. With ``drop_extremes`` (default), prompts that are never solved or always
    solved are dropped whatever the band: every sample agrees, so they teach nothing."""

    name = "pass_rate"

    def __init__(self, lo: float = 0.0, hi: float = 1.0, drop_extremes: bool = True):
        if not 0.0 <= lo <= hi <= 1.0:
            raise ValueError(f"pass_rate needs 0 <= lo <= hi <= 1, got lo={lo}, hi={hi}")
        self.lo, self.hi, self.drop_extremes = lo, hi, drop_extremes

    def apply(self, rows: list[Row], group: PromptGroup) -> tuple[list[Row], list[Dropped]]:
        rate = group.pass_rate
        if rate is None:
            why = "unjudged_prompt"
        elif self.drop_extremes and rate == 0.0:
            why = "never_solved"
        elif self.drop_extremes and rate == 1.0:
            why = "always_solved"
        elif rate < self.lo:
            why = "pass_rate_below_band"
        elif rate > self.hi:
            why = "pass_rate_above_band"
        else:
            return rows, []
        return [], [Dropped(row, why, self.name) for row in rows]


class LengthFilter(RowFilter):
    """Keep completions whose length in ``unit`` (``chars``, ``words`` or ``tokens``, the
    last with ``tokenizer``, a tokenizer or its path) lies within ``[min, max]``."""

    name = "length"

    def __init__(
        self,
        min: int | None = None,
        max: int | None = None,
        unit: str = "chars",
        tokenizer: Any = None,
    ):
        if unit not in ("chars", "words", "tokens"):
            raise ValueError(f"length unit={unit!r}: use 'chars', 'words' or 'tokens'")
        if min is None and max is None:
            raise ValueError("length needs min, max or both")
        if unit == "tokens" and tokenizer is None:
            raise ValueError("length in tokens needs a tokenizer (an object or a path)")
        if isinstance(tokenizer, str):
            from transformers import AutoTokenizer

            tokenizer = AutoTokenizer.from_pretrained(tokenizer)
        self.min, self.max, self.unit = min, max, unit
        self._tokenizer = tokenizer

    def reason(self, row: Row) -> str | None:
        text = completion_text(row["completion"])
        if self.unit == "chars":
            size = len(text)
        elif self.unit == "words":
            size = len(text.split())
        else:
            size = len(self._tokenizer(text, add_special_tokens=False)["input_ids"])
        if self.min is not None and size < self.min:
            return "too_short"
        if self.max is not None and size > self.max:
            return "too_long"
        return None


class FormatFilter(RowFilter):
    """Keep well-formed completions: a final answer (``boxed_only``: a ``\\boxed{}`` one),
    optionally a closed think span, and at most ``max_boxed`` boxed answers after it."""

    name = "format"

    def __init__(
        self,
        require_answer: bool = True,
        require_think: bool = False,
        boxed_only: bool = False,
        max_boxed: int | None = None,
    ):
        if max_boxed is not None and max_boxed < 1:
            raise ValueError(f"format max_boxed must be at least 1, got {max_boxed}")
        self.require_answer, self.require_think = require_answer, require_think
        self.boxed_only, self.max_boxed = boxed_only, max_boxed

    def reason(self, row: Row) -> str | None:
        text = completion_text(row["completion"])
        split = split_think(text)
        if self.require_think and split.status not in ("closed", "opened_in_prompt"):
            return "no_think" if split.status == "none" else f"{split.status}_think"
        if self.require_answer:
            extraction = final_answer(text, conventions=not self.boxed_only)
            if extraction.answer is None:
                return extraction.reason
        if self.max_boxed is not None and len(all_boxed(split.answer)) > self.max_boxed:
            return "too_many_boxed"
        return None


class CapPerPrompt(Filter):
    """Keep at most ``n`` rows per prompt, the first ones in input order."""

    name = "cap"

    def __init__(self, n: int):
        if n < 1:
            raise ValueError(f"cap needs n >= 1, got {n}")
        self.n = n

    def apply(self, rows: list[Row], group: PromptGroup) -> tuple[list[Row], list[Dropped]]:
        return rows[: self.n], [Dropped(r, "over_cap", self.name) for r in rows[self.n :]]


FILTERS: dict[str, Callable[..., Filter]] = {
    cls.name: cls
    for cls in (
        Threshold,
        Correct,
        BestOfN,
        TopKDistinct,
        PassRateBand,
        LengthFilter,
        FormatFilter,
        CapPerPrompt,
    )
}


def filter_names() -> list[str]:
    """Names :func:`build_filter` knows."""
    return sorted(FILTERS)


def build_filter(spec: str) -> Filter:
    """Build a filter from ``"name"`` or ``"name:key=value,key=value"``.

    Values are read as JSON when they parse (numbers, ``true``, ``null``), else as text.

    >>> build_filter("pass_rate:lo=0.25,hi=0.75")
    PassRateBand(lo=0.25, hi=0.75, drop_extremes=True)
    """
    name, _, options = spec.partition(":")
    name = name.strip()
    if name not in FILTERS:
        raise KeyError(f"unknown filter {name!r}: use one of {', '.join(filter_names())}")
    kwargs: dict[str, Any] = {}
    for item in filter(None, (part.strip() for part in options.split(","))):
        key, eq, raw = item.partition("=")
        if not eq or not key.strip():
            raise ValueError(f"filter option {item!r} in {spec!r} is not key=value")
        try:
            value = json.loads(raw)
        except json.JSONDecodeError:
            value = raw.strip()
        kwargs[key.strip()] = value
    try:
        return FILTERS[name](**kwargs)
    except TypeError as exc:
        raise ValueError(f"bad options for filter {name!r}: {exc}") from None


class FilterChain:
    """Filters applied in order to each prompt's rows; every drop keeps its reason."""

    def __init__(self, filters: Iterable[Filter | str] = ()):
        self.filters = [build_filter(f) if isinstance(f, str) else f for f in filters]

    def apply(self, rows: Sequence[Row]) -> tuple[list[Row], list[Dropped]]:
        """Filter the rows of one prompt."""
        group = PromptGroup(rows[0].get("prompt_id") if rows else None, rows)
        kept, dropped = list(rows), []
        for step in self.filters:
            if not kept:
                break
            kept, lost = step.apply(kept, group)
            dropped += lost
        return kept, dropped


def iter_groups(rows: Iterable[Row], *, check: bool = True) -> Iterator[list[Row]]:
    """Group consecutive rows with the same ``prompt_id``.

    With ``check``, a prompt id that comes back after other prompts raises
    ``ValueError`` (its rows must be next to each other, as :mod:`generate` writes them;
    sort the input by ``prompt_id`` otherwise).

    >>> [len(g) for g in iter_groups([{"prompt_id": 1}, {"prompt_id": 1}, {"prompt_id": 2}])]
    [2, 1]
    """
    seen = SeenKeys() if check else None
    group: list[Row] = []
    for row in rows:
        if group and row.get("prompt_id") != group[0].get("prompt_id"):
            yield group
            group = []
        if not group and seen is not None and seen.add(row.get("prompt_id")):
            raise ValueError(
                f"rows of prompt {row.get('prompt_id')!r} are not next to each other; "
                "sort the input by prompt_id (or pass check=False if ids really repeat)"
            )
        group.append(row)
    if group:
        yield group
