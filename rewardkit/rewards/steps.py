r"""Cutting the reasoning of a completion into steps, with their positions in characters
and tokens.

The reasoning is the think span (``<think>...</think>``, or from the start of the
completion up to ``</think>`` when the prompt opened it). A completion without a span is
reasoning up to its final-answer line (``A: 18``, ``#### 18``, ``The answer is ...``).

Steps are split, in order of preference (``mode="auto"``), at ``Step k:`` markers, at
numbered lines (``1.``, ``2)``), at blank lines, else one step a line. Fragments with fewer
than ``min_chars`` visible characters are merged into the step before them, and steps
beyond ``max_steps`` are merged into the last one.

>>> [s.text for s in segment_steps("<think>Step 1: 3 * 4 = 12\nStep 2: 12 + 1 = 13</think> 13")]
['Step 1: 3 * 4 = 12', 'Step 2: 12 + 1 = 13']
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Sequence
from typing import Any, NamedTuple

from rewardkit.text import ThinkTags, think_tags_for

__all__ = ["Step", "reasoning_span", "segment_steps", "token_end_indices", "with_token_spans"]

MODES = ("auto", "step_markers", "numbered", "blank_lines", "lines")

_STEP_MARKER_RE = re.compile(r"(?im)^[ \t]*(?:\*\*)?step[ \t]*\d+[ \t]*[:.)]")
_NUMBERED_RE = re.compile(r"(?m)^[ \t]*\d{1,3}[.)][ \t]+")
_BLANK_RE = re.compile(r"\n[ \t]*\n\s*")
_LINE_RE = re.compile(r"\n")
_VISIBLE_RE = re.compile(r"\S")
# The final-answer line: matched against the last line only (linear: no search for it).
_FINAL_LINE_RE = re.compile(
    r"(?:A[ \t]*:|Answer[ \t]*:|####|(?:The|So the|Thus the|Therefore the)"
    r"[ \t]+(?:final[ \t]+)?answer[ \t]+is)",
    re.IGNORECASE,
)


class Step(NamedTuple):
    """One reasoning step: its ``text`` and its span ``[start, end)`` in the completion's
    characters; ``token_start``/``token_end`` (``[start, end)`` over token indices) when
    the positions were aligned to tokens."""

    text: str
    start: int
    end: int
    token_start: int | None = None
    token_end: int | None = None


def reasoning_span(text: str, think_tags: ThinkTags = None) -> tuple[int, int]:
    r"""``(start, end)`` of the reasoning in ``text`` (see the module docstring);
    ``think_tags`` as in :func:`rewardkit.text.split_think`.

    >>> reasoning_span("<think>ab</think>c")
    (7, 9)
    >>> reasoning_span("2 + 2 = 4\nA: 4")
    (0, 9)
    >>> reasoning_span("<r>ab</r>c", ("<r>", "</r>"))
    (3, 5)
    """
    opening, closing = think_tags_for(text, think_tags)
    close = text.rfind(closing)
    opened = text.find(opening)
    if close >= 0:
        start = opened + len(opening) if 0 <= opened < close else 0
        return start, close
    if opened >= 0:
        return opened + len(opening), len(text)
    body = text.rstrip()
    last_line = body.rfind("\n")
    if last_line >= 0 and _FINAL_LINE_RE.match(body[last_line + 1 :].lstrip(" \t")):
        return 0, last_line
    return 0, len(text)


def segment_steps(
    text: str,
    *,
    mode: str = "auto",
    min_chars: int = 5,
    max_steps: int = 64,
    span: tuple[int, int] | None = None,
    think_tags: ThinkTags = None,
) -> list[Step]:
    """The steps of the reasoning in ``text`` (a completion), positions in ``text``.

    Args:
        mode: ``auto`` or one of ``step_markers``, ``numbered``, ``blank_lines``, ``lines``.
        min_chars: fragments with fewer visible characters merge into the previous step.
        max_steps: steps beyond this many merge into the last one.
        span: ``(start, end)`` of the reasoning; default :func:`reasoning_span`.
        think_tags: the think delimiters (default ``<think>...</think>``).

    >>> [s.text for s in segment_steps("First 2 + 2 = 4.\\n\\nok\\n\\nThen 4 * 3 = 12.")]
    ['First 2 + 2 = 4.\\n\\nok', 'Then 4 * 3 = 12.']
    """
    if mode not in MODES:
        raise ValueError(f"unknown mode {mode!r}: use one of {', '.join(MODES)}")
    if max_steps < 1:
        raise ValueError(f"max_steps must be >= 1, got {max_steps}")
    start, end = span if span is not None else reasoning_span(text, think_tags)
    region = text[start:end]
    cuts = _cut_points(region, mode)
    pieces = []
    bounds = [0, *cuts, len(region)]
    for a, b in itertools.pairwise(bounds):
        piece = region[a:b]
        stripped = piece.strip()
        if stripped:
            lead = len(piece) - len(piece.lstrip())
            pieces.append((start + a + lead, start + a + lead + len(stripped)))
    merged: list[tuple[int, int]] = []
    first_tiny = False
    for a, b in pieces:
        tiny = _tiny(text, a, b, min_chars)
        if merged and (tiny or first_tiny or len(merged) >= max_steps):
            merged[-1] = (merged[-1][0], b)  # a tiny first fragment joins the next step too
            first_tiny = False
        else:
            merged.append((a, b))
            first_tiny = tiny
    return [Step(text[a:b], a, b) for a, b in merged]


def _tiny(text: str, a: int, b: int, min_chars: int) -> bool:
    """Whether ``text[a:b]`` has fewer than ``min_chars`` non-whitespace characters (looks
    at no more of the text than it needs)."""
    head = text[a : min(b, a + 2 * min_chars)]
    if len(head) - head.count(" ") - head.count("\n") - head.count("\t") >= min_chars:
        return False  # the usual case, decided on a few characters
    found = itertools.islice(_VISIBLE_RE.finditer(text, a, b), min_chars)
    return sum(1 for _ in found) < min_chars


def _cut_points(region: str, mode: str) -> list[int]:
    if mode == "step_markers" or (mode == "auto" and ("tep" in region or "TEP" in region)):
        marks = [m.start() for m in _STEP_MARKER_RE.finditer(region)]
        if len(marks) >= 2 or (mode == "step_markers" and marks):
            return [m for m in marks if m > 0]
    if mode in ("auto", "numbered"):
        marks = [m.start() for m in _NUMBERED_RE.finditer(region)]
        if len(marks) >= 2 or (mode == "numbered" and marks):
            return [m for m in marks if m > 0]
    if mode in ("auto", "blank_lines"):
        marks = [m.end() for m in _BLANK_RE.finditer(region)]
        if marks or mode == "blank_lines":
            return marks
    return [m.end() for m in _LINE_RE.finditer(region)]


def token_end_indices(
    text: str,
    char_ends: Sequence[int],
    completion_ids: Sequence[int],
    tokenizer: Any = None,
) -> list[int]:
    """For each character offset in ``char_ends``, the index of the token of
    ``completion_ids`` that holds the character just before it (the step's last token).

    With a ``tokenizer`` the ids are decoded (``skip_special_tokens=True``, as TRL decodes
    completions) prefix by prefix, binary-searching the shortest prefix whose text reaches
    the offset. Without one the position is estimated proportionally (offset / length of
    the text), which is exact only for one-token-per-character vocabularies.

    >>> token_end_indices("abcd", [2, 4], [10, 11, 12, 13])
    [1, 3]
    """
    n = len(completion_ids)
    if n == 0:
        return [0 for _ in char_ends]
    if tokenizer is None:
        length = max(1, len(text))
        return [min(n - 1, max(0, -(-c * n // length) - 1)) for c in char_ends]
    ids = list(completion_ids)
    decoded: dict[int, int] = {}

    def prefix_len(k: int) -> int:
        if k not in decoded:
            decoded[k] = len(tokenizer.decode(ids[:k], skip_special_tokens=True))
        return decoded[k]

    out = []
    for c in char_ends:
        lo, hi = 1, n  # smallest k with prefix_len(k) >= c; the token is k - 1
        while lo < hi:
            mid = (lo + hi) // 2
            if prefix_len(mid) >= c:
                hi = mid
            else:
                lo = mid + 1
        out.append(lo - 1)
    return out


def with_token_spans(
    text: str,
    steps: Sequence[Step],
    completion_ids: Sequence[int] | None = None,
    tokenizer: Any = None,
) -> list[Step]:
    """The steps with ``token_start``/``token_end`` (``[start, end)`` token indices).

    With ``completion_ids`` the steps are aligned to those tokens (see
    :func:`token_end_indices`), each step running from the token after the previous step's
    last one. Without ids the text is tokenized with ``tokenizer`` and its character offsets
    (``return_offsets_mapping``, fast tokenizers) give each step's first and last token.

    >>> steps = [Step("ab", 0, 2), Step("cd", 3, 5)]
    >>> [(s.token_start, s.token_end) for s in with_token_spans("ab\\ncd", steps, [1, 2, 3, 4, 5])]
    [(0, 2), (2, 5)]
    """
    if completion_ids is None:
        if tokenizer is None:
            raise ValueError("with_token_spans needs completion_ids or a tokenizer")
        return _spans_from_offsets(text, steps, tokenizer)
    ends = token_end_indices(text, [s.end for s in steps], completion_ids, tokenizer)
    out, previous_end = [], 0
    for step, last in zip(steps, ends, strict=True):
        out.append(step._replace(token_start=previous_end, token_end=last + 1))
        previous_end = last + 1
    return out


def _spans_from_offsets(text: str, steps: Sequence[Step], tokenizer: Any) -> list[Step]:
    offsets = tokenizer(text, return_offsets_mapping=True, add_special_tokens=False)[
        "offset_mapping"
    ]
    out = []
    for step in steps:
        inside = [i for i, (a, b) in enumerate(offsets) if a < step.end and b > step.start]
        if inside:
            out.append(step._replace(token_start=inside[0], token_end=inside[-1] + 1))
        else:
            out.append(step)
    return out
