r"""Format rewards: is the reasoning inside one think span, and is there one final answer after it?

All of them understand chat templates that already open ``<think>`` in the prompt (Qwen3,
DeepSeek-R1 distills): the completion then starts inside the span and only closes it. TRL's
``think_format_reward`` pays 0 for every such completion; here it counts as well formed when
the prompt ends with ``<think>``, or when the prompt cannot be seen (chat prompts, where the
template adds the tag) and the completion closes a span it never opened.

>>> ThinkFormat()(completions=["<think>2+2=4</think> \\boxed{4}", "\\boxed{4}"])
[1.0, 0.0]
>>> ThinkFormat()(prompts=["Q: 2+2? <think>"], completions=["2+2=4</think> \\boxed{4}"])
[1.0]
"""

from __future__ import annotations

import functools
import re
from typing import Any

from rewardkit.rewards.base import OK, Reward, RewardResult, Sample
from rewardkit.rewards.registry import register_reward
from rewardkit.text import (
    ThinkSplit,
    ThinkTags,
    final_answer,
    scan_boxes,
    split_think,
    think_tag_pairs,
    think_tags_for,
)

__all__ = [
    "AnswerOutsideThink",
    "SingleBoxedAnswer",
    "ThinkFormat",
    "ThinkTagCount",
    "think_opened_in_prompt",
]


def think_opened_in_prompt(prompt: Any, think_tags: ThinkTags = None) -> bool | None:
    """Whether the prompt already opened the think span: ``True``/``False`` for a plain-string
    prompt (does it end with an open tag, ``<think>`` by default?), ``None`` when it cannot be
    told (no prompt, or chat messages, whose generation prompt the template adds out of sight).

    >>> think_opened_in_prompt("<|im_start|>assistant\\n<think>\\n")
    True
    >>> think_opened_in_prompt([{"role": "user", "content": "hi"}]) is None
    True
    """
    if isinstance(prompt, str):
        tail = prompt.rstrip()
        return any(tail.endswith(opening) for opening, _ in think_tag_pairs(think_tags))
    return None


def _span_opened_in_prompt(sample: Sample, status: str, think_tags: ThinkTags) -> bool:
    """Whether a completion that closes an unopened span is well formed for this prompt."""
    if status != "opened_in_prompt":
        return False
    in_prompt = think_opened_in_prompt(sample.prompt, think_tags)
    return in_prompt is None or in_prompt


def _answerable_split(sample: Sample, think_tags: ThinkTags) -> ThinkSplit | RewardResult:
    """The think split of a completion that can hold an answer, or the zero reward of one
    that cannot (empty, or its think span never closes)."""
    if not sample.text.strip():
        return RewardResult(0.0, "empty_completion")
    split = split_think(sample.text, think_tags)
    if split.status == "unclosed" or (
        split.status == "none" and think_opened_in_prompt(sample.prompt, think_tags)
    ):
        return RewardResult(0.0, "unclosed_think")
    return split


def _think_reason(sample: Sample, think_tags: ThinkTags) -> tuple[str, str | None, str]:
    """(reason, think text, answer text) for the think layout of one completion."""
    text = sample.text
    if not text.strip():
        return "empty_completion", None, ""
    split = split_think(text, think_tags)
    if split.status == "none":
        if think_opened_in_prompt(sample.prompt, think_tags):
            return "unclosed_think", text, ""
        return "no_think", None, text
    if split.status == "unclosed":
        return "unclosed_think", split.think, ""
    if split.status == "opened_in_prompt" and not _span_opened_in_prompt(
        sample, split.status, think_tags
    ):
        return "unopened_think", split.think, split.answer
    if split.status == "malformed":
        opening, closing = think_tags_for(text, think_tags)
        if text.count(opening) == 1 and text.count(closing) == 1:
            before = text[: text.find(opening)]
            if before.strip() and text.find(opening) < text.find(closing):
                return "text_before_think", split.think, split.answer
        return "malformed_tags", split.think, split.answer
    if not (split.think or "").strip():
        return "empty_think", split.think, split.answer
    if not split.answer.strip():
        return "empty_answer", split.think, split.answer
    return OK, split.think, split.answer


@functools.lru_cache(maxsize=64)
def _strict_layout_res(opening: str, closing: str) -> tuple[re.Pattern, re.Pattern]:
    """Strict layout: "<think>\\n...\\n</think>\\n..." (the DeepSeek-R1 / open-r1 format),
    where the opening line is absent when the prompt opened the span."""
    o, c = re.escape(opening), re.escape(closing)
    return re.compile(rf"\A{o}\n(?![ \t\n]*{c})"), re.compile(rf"\n{c}\n")


@register_reward("think_format")
class ThinkFormat(Reward):
    """1.0 when the completion has exactly one non-empty think span followed by a non-empty
    answer, 0.0 otherwise.

    Args:
        strict: also require the layout ``<think>\\n...\\n</think>\\n`` (tags on their own
            lines, nothing before ``<think>``). The lenient default accepts any whitespace.
        think_tags: the think delimiters, a pair such as ``("<reasoning>", "</reasoning>")``
            or a list of pairs (default ``<think>...</think>``).

    Reasons: ``ok``, ``no_think``, ``unclosed_think``, ``unopened_think`` (a ``</think>`` that
    the prompt did not open), ``malformed_tags`` (several spans, stray tags),
    ``text_before_think``, ``empty_think``, ``empty_answer``, ``empty_completion``, and with
    ``strict`` ``bad_layout``.

    >>> ThinkFormat(strict=True)(completions=["<think>\\nok\\n</think>\\nA", "<think>ok</think>A"])
    [1.0, 0.0]
    """

    name = "think_format"
    reasons = (
        OK,
        "no_think",
        "unclosed_think",
        "unopened_think",
        "malformed_tags",
        "text_before_think",
        "empty_think",
        "empty_answer",
        "empty_completion",
        "bad_layout",
    )

    def __init__(
        self, *, strict: bool = False, think_tags: ThinkTags = None, name: str | None = None
    ) -> None:
        super().__init__(name=name or ("think_format_strict" if strict else None))
        self.strict = strict
        self.think_tags = think_tag_pairs(think_tags)

    def score_sample(self, sample: Sample) -> RewardResult:
        reason, _, _ = _think_reason(sample, self.think_tags)
        if reason == OK and self.strict and not self._strict_layout(sample.text):
            reason = "bad_layout"
        return RewardResult(1.0 if reason == OK else 0.0, reason)

    def _strict_layout(self, text: str) -> bool:
        opening, closing = think_tags_for(text, self.think_tags)
        open_re, close_re = _strict_layout_res(opening, closing)
        if opening in text and not open_re.match(text):
            return False
        return close_re.search(text) is not None


@register_reward("single_boxed_answer")
class SingleBoxedAnswer(Reward):
    r"""1.0 when exactly one non-empty ``\boxed{}`` answer follows the think span, else 0.0.

    Boxes inside the think span (intermediate results) do not count; several boxes after it
    are hedging and earn nothing. Without a think span the whole completion is the answer
    region, unless ``require_think`` is set.

    Reasons: ``ok``, ``no_boxed``, ``several_boxed``, ``empty_boxed``, ``unbalanced_braces``
    (a box that never closes, even beside a closed one: ``\boxed{3 \boxed{4}``),
    ``unclosed_think``, ``no_think``, ``empty_completion``. ``think_tags`` as in
    :class:`ThinkFormat`.

    >>> SingleBoxedAnswer()(completions=[r"<think>\boxed{1}</think> \boxed{2}",
    ...                                  r"<think>x</think> \boxed{2} or \boxed{3}"])
    [1.0, 0.0]
    """

    name = "single_boxed_answer"
    reasons = (
        OK,
        "no_boxed",
        "several_boxed",
        "empty_boxed",
        "unbalanced_braces",
        "unclosed_think",
        "no_think",
        "empty_completion",
    )

    def __init__(
        self, *, require_think: bool = False, think_tags: ThinkTags = None, name: str | None = None
    ) -> None:
        super().__init__(name=name)
        self.require_think = require_think
        self.think_tags = think_tag_pairs(think_tags)

    def score_sample(self, sample: Sample) -> RewardResult:
        split = _answerable_split(sample, self.think_tags)
        if isinstance(split, RewardResult):
            return split
        if split.status == "none" and self.require_think:
            return RewardResult(0.0, "no_think")
        scan = scan_boxes(split.answer)
        boxes = scan.boxes
        details = {"n_boxed": len(boxes)}
        if scan.unbalanced:
            return RewardResult(0.0, "unbalanced_braces", details)
        if not boxes:
            return RewardResult(0.0, "no_boxed", details)
        if len(boxes) > 1:
            return RewardResult(0.0, "several_boxed", details)
        if not boxes[0].content.strip():
            return RewardResult(0.0, "empty_boxed", details)
        return RewardResult(1.0, OK, details)


@register_reward("think_tag_count")
class ThinkTagCount(Reward):
    r"""Partial credit for the pieces of the format, 0.25 each (a dense signal early in
    training, in the spirit of open-r1's ``tag_count_reward``):

    1. the span is opened exactly once (by the completion, or by the prompt with no
       ``<think>`` in the completion);
    2. ``</think>`` appears exactly once;
    3. the open tag comes before the close tag and the span is not empty;
    4. exactly one ``\boxed{}`` answer follows the span.

    ``think_tags`` as in :class:`ThinkFormat`.

    >>> ThinkTagCount()(prompts=["Q"] * 3,
    ...                 completions=[r"<think>a</think>\boxed{1}", "<think>a", "</think></think>"])
    [1.0, 0.25, 0.0]
    """

    name = "think_tag_count"
    reasons = (OK, "partial", "none")
    logged_details = ("parts",)

    def __init__(self, *, think_tags: ThinkTags = None, name: str | None = None) -> None:
        super().__init__(name=name)
        self.think_tags = think_tag_pairs(think_tags)

    def score_sample(self, sample: Sample) -> RewardResult:
        text = sample.text
        opening, closing = think_tags_for(text, self.think_tags)
        n_open, n_close = text.count(opening), text.count(closing)
        prompt_may_open = think_opened_in_prompt(sample.prompt, self.think_tags) is not False
        parts = []
        if n_open == 1 or (n_open == 0 and n_close >= 1 and prompt_may_open):
            parts.append("open")
        if n_close == 1:
            parts.append("close")
        first_open, first_close = text.find(opening), text.find(closing)
        if n_open == 0 and n_close >= 1 and prompt_may_open:
            span = text[:first_close]
        elif 0 <= first_open < first_close:
            span = text[first_open + len(opening) : first_close]
        else:
            span = ""
        if span.strip():
            parts.append("order")
        after = text[text.rfind(closing) :] if n_close else ""
        scan = scan_boxes(after)
        if after and opening not in after and not scan.unbalanced and len(scan.boxes) == 1:
            parts.append("answer")
        value = 0.25 * len(parts)
        reason = OK if len(parts) == 4 else ("partial" if parts else "none")
        return RewardResult(value, reason, {"parts": "+".join(parts)})


@register_reward("answer_outside_think")
class AnswerOutsideThink(Reward):
    r"""1.0 when a final answer is given after the think span, 0.0 when the only answer is
    hidden inside the reasoning or there is none.

    Reasons: ``ok``, ``answer_only_in_think``, ``no_answer``, ``unclosed_think``,
    ``empty_completion``.

    Args:
        boxed_only: only a ``\boxed{}`` answer counts (default); otherwise also ``#### N``,
            ``The answer is ...``, ``A: N`` and bold answers.
        think_tags: as in :class:`ThinkFormat`.

    >>> completions = [r"<think>so \boxed{3}</think>", r"<think>.</think>\boxed{3}"]
    >>> AnswerOutsideThink()(completions=completions)
    [0.0, 1.0]
    """

    name = "answer_outside_think"
    reasons = (OK, "answer_only_in_think", "no_answer", "unclosed_think", "empty_completion")

    def __init__(
        self, *, boxed_only: bool = True, think_tags: ThinkTags = None, name: str | None = None
    ) -> None:
        super().__init__(name=name)
        self.boxed_only = boxed_only
        self.think_tags = think_tag_pairs(think_tags)

    def score_sample(self, sample: Sample) -> RewardResult:
        split = _answerable_split(sample, self.think_tags)
        if isinstance(split, RewardResult):
            return split
        extract = "boxed" if self.boxed_only else "conventions"
        tags = self.think_tags
        outside = final_answer(split.answer, extract=extract, think_tags=tags)
        if outside.answer is not None:
            return RewardResult(1.0, OK, {"answer": outside.answer})
        inside = final_answer(split.think or "", extract=extract, think_tags=tags)
        if split.think is not None and inside.answer is not None:
            return RewardResult(0.0, "answer_only_in_think", {"answer": inside.answer})
        return RewardResult(0.0, "no_answer")
