"""The think span of a completion, with configurable delimiters.

``think_tags`` is a pair such as ``("<reasoning>", "</reasoning>")`` or a sequence of pairs
(the first pair whose tags appear in a completion is the one it uses); ``None`` is
``<think>...</think>``.

>>> split_think("<reasoning>a</reasoning>b", ("<reasoning>", "</reasoning>")).answer
'b'
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

THINK_OPEN = "<think>"
THINK_CLOSE = "</think>"
DEFAULT_THINK_TAGS: tuple[tuple[str, str], ...] = ((THINK_OPEN, THINK_CLOSE),)

ThinkTags = Sequence[str] | Sequence[Sequence[str]] | None

__all__ = [
    "DEFAULT_THINK_TAGS",
    "THINK_CLOSE",
    "THINK_OPEN",
    "ThinkSplit",
    "ThinkTags",
    "answer_region",
    "split_think",
    "think_tag_pairs",
    "think_tags_for",
]


def think_tag_pairs(tags: ThinkTags) -> tuple[tuple[str, str], ...]:
    """``think_tags`` as a tuple of ``(open, close)`` pairs (hashable), validated.

    >>> think_tag_pairs(["<r>", "</r>"])
    (('<r>', '</r>'),)
    >>> think_tag_pairs(None) == DEFAULT_THINK_TAGS
    True
    """
    if tags is None:
        return DEFAULT_THINK_TAGS
    if isinstance(tags, (list, tuple)) and len(tags) == 2 and all(isinstance(t, str) for t in tags):
        tags = [tags]
    if isinstance(tags, str) or not isinstance(tags, (list, tuple)) or not tags:
        raise ValueError(
            f"think_tags must be an (open, close) pair or a list of pairs, got {tags!r}"
        )
    pairs = []
    for pair in tags:
        if not (
            isinstance(pair, (list, tuple))
            and len(pair) == 2
            and all(isinstance(t, str) and t.strip() for t in pair)
            and pair[0] != pair[1]
        ):
            raise ValueError(
                f"each think tag pair must be two different non-empty strings, got {pair!r}"
            )
        pairs.append((pair[0], pair[1]))
    return tuple(pairs)


def think_tags_for(text: str, tags: ThinkTags = None) -> tuple[str, str]:
    """The ``(open, close)`` pair a completion uses: the first whose close tag (else open
    tag) appears in it, else the first pair.

    >>> think_tags_for("x</r>y", [("<think>", "</think>"), ("<r>", "</r>")])
    ('<r>', '</r>')
    """
    if tags is None or tags is DEFAULT_THINK_TAGS:
        return THINK_OPEN, THINK_CLOSE
    pairs = think_tag_pairs(tags)
    if len(pairs) == 1:
        return pairs[0]
    for pair in pairs:
        if pair[1] in text:
            return pair
    for pair in pairs:
        if pair[0] in text:
            return pair
    return pairs[0]


@dataclass(frozen=True)
class ThinkSplit:
    """A completion cut into its reasoning and its answer region.

    ``think`` is the reasoning text (``None`` when the completion has no think span),
    ``answer`` the text after the last close tag (the whole text when there is no span,
    ``""`` when the span is never closed), and ``status`` one of ``"none"`` (no tags),
    ``"closed"``, ``"opened_in_prompt"`` (a close tag without an opening tag, as when the
    chat template already wrote ``<think>``), ``"unclosed"`` and ``"malformed"`` (several
    spans or stray tags).
    """

    think: str | None
    answer: str
    status: str


def split_think(text: str, think_tags: ThinkTags = None) -> ThinkSplit:
    """Split a completion at its think span.

    >>> split_think("<think>a</think>b")
    ThinkSplit(think='a', answer='b', status='closed')
    >>> split_think("a</think>b").status
    'opened_in_prompt'
    """
    opening, closing = think_tags_for(text, think_tags)
    n_open = text.count(opening)
    n_close = text.count(closing)
    if n_open == 0 and n_close == 0:
        return ThinkSplit(None, text, "none")
    if n_close == 0:
        start = text.find(opening) + len(opening)
        return ThinkSplit(text[start:], "", "unclosed")
    last_close = text.rfind(closing)
    answer = text[last_close + len(closing) :]
    first_open = text.find(opening)
    first_close = text.find(closing)
    if n_open == 0:
        return ThinkSplit(text[:last_close], answer, "opened_in_prompt")
    think_start = first_open + len(opening) if 0 <= first_open < first_close else 0
    think = text[think_start:last_close]
    wellformed = n_open == 1 and n_close == 1 and first_open < first_close
    if wellformed and not text[:first_open].strip():
        return ThinkSplit(think, answer, "closed")
    return ThinkSplit(think, answer, "malformed")


def answer_region(text: str, split: ThinkSplit | None = None, think_tags: ThinkTags = None) -> str:
    """The part of a completion its final answer is read from: after the think span, and
    before a span reopened after it (text in a reopened, unclosed span is reasoning).

    >>> answer_region("<think>a</think> \\\\boxed{3} <think>no, \\\\boxed{4}")
    ' \\\\boxed{3} '
    """
    region = (split or split_think(text, think_tags)).answer
    opening, _ = think_tags_for(text, think_tags)
    reopened = region.find(opening)
    return region if reopened < 0 else region[:reopened]
