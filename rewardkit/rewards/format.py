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

import re
from typing import Any

from rewardkit.rewards.base import OK, Reward, RewardResult, Sample
from rewardkit.rewards.registry import register_reward
from rewardkit.text import (
    THINK_CLOSE,
    THINK_OPEN,
    ThinkSplit,
    all_boxed,
    final_answer,
    split_think,
)

__all__ = [
    "AnswerOutsideThink",
    "SingleBoxedAnswer",
    "ThinkFormat",
    "ThinkTagCount",
    "think_opened_in_prompt",
]


def think_opened_in_prompt(prompt: Any) -> bool | None:
    """Whether the prompt already opened the think span: ``True``/``False`` for a plain-string
    prompt (does it end with ``<think>``?), ``None`` when it cannot be told (no prompt, or chat
    messages, whose generation prompt the template adds out of sight).

    >>> think_opened_in_prompt("<|im_start|>assistant\\n<think>\\n")
    True
    >>> think_opened_in_prompt([{"role": "user", "content": "hi"}]) is None
    True
    """
    if isinstance(prompt, str):
        return prompt.rstrip().endswith(THINK_OPEN)
    return None


def _span_opened_in_prompt(sample: Sample, status: str) -> bool:
    """Whether a completion that closes an unopened span is well formed for this prompt."""
    if status != "opened_in_prompt":
        return False
    in_prompt = think_opened_in_prompt(sample.prompt)
    return in_prompt is None or in_prompt


def _answerable_split(sample: Sample) -> ThinkSplit | RewardResult:
    """The think split of a completion that can hold an answer, or the zero reward of one
    that cannot (empty, or its think span never closes)."""
    if not sample.text.strip():
        return RewardResult(0.0, "empty_completion")
    split = split_think(sample.text)
    if split.status == "unclosed" or (
        split.status == "none" and think_opened_in_prompt(sample.prompt)
    ):
        return RewardResult(0.0, "unclosed_think")
    return split


def _think_reason(sample: Sample) -> tuple[str, str | None, str]:
    """(reason, think text, answer text) for the think layout of one completion."""
    text = sample.text
    if not text.strip():
        return "empty_completion", None, ""
    split = split_think(text)
    if split.status == "none":
        if think_opened_in_prompt(sample.prompt):
            return "unclosed_think", text, ""
        return "no_think", None, text
    if split.status == "unclosed":
        return "unclosed_think", split.think, ""
    if split.status == "opened_in_prompt" and not _span_opened_in_prompt(sample, split.status):
        return "unopened_think", split.think, split.answer
    if split.status == "malformed":
        if text.count(THINK_OPEN) == 1 and text.count(THINK_CLOSE) == 1:
            before = text[: text.find(THINK_OPEN)]
            if before.strip() and text.find(THINK_OPEN) < text.find(THINK_CLOSE):
                return "text_before_think", split.think, split.answer
        return "malformed_tags", split.think, split.answer
    if not (split.think or "").strip():
        return "empty_think", split.think, split.answer
    if not split.answer.strip():
        return "empty_answer", split.think, split.answer
    return OK, split.think, split.answer


# Strict layout: "<think>\n...\n</think>\n..." (the DeepSeek-R1 / open-r1 format), where the
# opening line is absent when the prompt opened the span.
_STRICT_OPEN_RE = re.compile(r"\A<think>\n(?!\s*</think>)")
_STRICT_CLOSE_RE = re.compile(r"\n</think>\n")


@register_reward("think_format")
class ThinkFormat(Reward):
    """1.0 when the completion has exactly one non-empty think span followed by a non-empty
    answer, 0.0 otherwise.

    Args:
        strict: also require the layout ``<think>\\n...\\n</think>\\n`` (tags on their own
            lines, nothing before ``<think>``). The lenient default accepts any whitespace.

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

    def __init__(self, *, strict: bool = False, name: str | None = None) -> None:
        super().__init__(name=name or ("think_format_strict" if strict else None))
        self.strict = strict

    def score_sample(self, sample: Sample) -> RewardResult:
        reason, _, _ = _think_reason(sample)
        if reason == OK and self.strict and not self._strict_layout(sample.text):
            reason = "bad_layout"
        return RewardResult(1.0 if reason == OK else 0.0, reason)

    @staticmethod
    def _strict_layout(text: str) -> bool:
        if THINK_OPEN in text and not _STRICT_OPEN_RE.match(text):
            return False
        return _STRICT_CLOSE_RE.search(text) is not None


@register_reward("single_boxed_answer")
class SingleBoxedAnswer(Reward):
    r"""1.0 when exactly one non-empty ``\boxed{}`` answer follows the think span, else 0.0.

    Boxes inside the think span (intermediate results) do not count; several boxes after it
    are hedging and earn nothing. Without a think span the whole completion is the answer
    region, unless ``require_think`` is set.

    Reasons: ``ok``, ``no_boxed``, ``several_boxed``, ``empty_boxed``, ``unbalanced_braces``,
    ``unclosed_think``, ``no_think``, ``empty_completion``.

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

    def __init__(self, *, require_think: bool = False, name: str | None = None) -> None:
        super().__init__(name=name)
        self.require_think = require_think

    def score_sample(self, sample: Sample) -> RewardResult:
        split = _answerable_split(sample)
        if isinstance(split, RewardResult):
            return split
        if split.status == "none" and self.require_think:
            return RewardResult(0.0, "no_think")
        boxes = all_boxed(split.answer)
        details = {"n_boxed": len(boxes)}
        if not boxes:
            reason = "unbalanced_braces" if "\\boxed" in split.answer else "no_boxed"
            return RewardResult(0.0, reason, details)
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

    >>> ThinkTagCount()(prompts=["Q"] * 3,
    ...                 completions=[r"<think>a</think>\boxed{1}", "<think>a", "</think></think>"])
    [1.0, 0.25, 0.0]
    """

    name = "think_tag_count"
    reasons = (OK, "partial", "none")
    logged_details = ("parts",)

    def score_sample(self, sample: Sample) -> RewardResult:
        text = sample.text
        n_open, n_close = text.count(THINK_OPEN), text.count(THINK_CLOSE)
        prompt_may_open = think_opened_in_prompt(sample.prompt) is not False
        parts = []
        if n_open == 1 or (n_open == 0 and n_close >= 1 and prompt_may_open):
            parts.append("open")
        if n_close == 1:
            parts.append("close")
        first_open, first_close = text.find(THINK_OPEN), text.find(THINK_CLOSE)
        if n_open == 0 and n_close >= 1 and prompt_may_open:
            span = text[:first_close]
        elif 0 <= first_open < first_close:
            span = text[first_open + len(THINK_OPEN) : first_close]
        else:
            span = ""
        if span.strip():
            parts.append("order")
        after = text[text.rfind(THINK_CLOSE) :] if n_close else ""
        if after and THINK_OPEN not in after and len(all_boxed(after)) == 1:
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

    >>> completions = [r"<think>so \boxed{3}</think>", r"<think>.</think>\boxed{3}"]
    >>> AnswerOutsideThink()(completions=completions)
    [0.0, 1.0]
    """

    name = "answer_outside_think"
    reasons = (OK, "answer_only_in_think", "no_answer", "unclosed_think", "empty_completion")

    def __init__(self, *, boxed_only: bool = True, name: str | None = None) -> None:
        super().__init__(name=name)
        self.boxed_only = boxed_only

    def score_sample(self, sample: Sample) -> RewardResult:
        split = _answerable_split(sample)
        if isinstance(split, RewardResult):
            return split
        outside = final_answer(split.answer, conventions=not self.boxed_only)
        if outside.answer is not None:
            return RewardResult(1.0, OK, {"answer": outside.answer})
        inside = final_answer(split.think or "", conventions=not self.boxed_only)
        if split.think is not None and inside.answer is not None:
            return RewardResult(0.0, "answer_only_in_think", {"answer": inside.answer})
        return RewardResult(0.0, "no_answer")
