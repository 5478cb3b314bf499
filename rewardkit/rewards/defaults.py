r"""The default reward for RL on math with a think span: registered as ``"math"``.

``math`` pays ``0.9 * accuracy + 0.1`` when the format holds and 0.0 when it does not:

- format (a gate, :class:`~rewardkit.rewards.compose.AllOf`): one non-empty think span
  followed by a non-empty answer (:class:`~rewardkit.rewards.format.ThinkFormat`, lenient,
  also when the chat template opened ``<think>``), and exactly one non-empty ``\boxed{}``
  after it (:class:`~rewardkit.rewards.format.SingleBoxedAnswer`);
- accuracy: :class:`~rewardkit.rewards.accuracy.BoxedAccuracy` on that box, computed only
  when the format holds.

So a right answer in format earns 1.0, a wrong one 0.1 (the format bonus keeps a signal
early in training), and hedging with several boxed answers, an answer only inside the think
span, an empty or unclosed think span, or no answer at all earn 0.0. It returns ``None``
(TRL skips it) only when the gold answer cannot be read.

>>> reward = math_reward()
>>> reward(completions=[r"<think>2+2=4</think> \boxed{4}", r"<think>2+2=5</think> \boxed{5}",
...                     r"<think>4</think> \boxed{4} \boxed{5}", r"<think>\boxed{4}</think>"],
...        answer=["4"] * 4)
[1.0, 0.1, 0.0, 0.0]
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rewardkit.rewards.accuracy import DEFAULT_GOLD_COLUMNS, DEFAULT_QUESTION_COLUMNS, BoxedAccuracy
from rewardkit.rewards.cascade import AsyncGate
from rewardkit.rewards.compose import AllOf, Gate
from rewardkit.rewards.format import SingleBoxedAnswer, ThinkFormat
from rewardkit.rewards.registry import register_reward
from rewardkit.text import ThinkTags

__all__ = ["math_reward"]


@register_reward("math")
def math_reward(
    *,
    format_bonus: float = 0.1,
    require_think: bool = True,
    strict: bool = False,
    gold_column: str | Sequence[str] = DEFAULT_GOLD_COLUMNS,
    think_tags: ThinkTags = None,
    model_verifier: Any = None,
    question_column: str | Sequence[str] = DEFAULT_QUESTION_COLUMNS,
    name: str = "math",
) -> Gate:
    """The default math reward (see the module docstring).

    Args:
        format_bonus: paid for the format alone; a right answer earns 1.0 in all cases.
        require_think: when false the format is only "exactly one boxed answer" (for models
            that do not think in tags).
        strict: use the strict think layout (``<think>\\n...\\n</think>\\n``).
        gold_column: the column(s) holding the gold answer.
        think_tags: the think delimiters, a pair such as ``("<reasoning>", "</reasoning>")``
            or a list of pairs (default ``<think>...</think>``), for the format and the
            answer alike.
        model_verifier: a :class:`~rewardkit.verify.ModelVerifier` (or its spec) asked
            when the rules reject an answer in format; the reward is then awaited.
        question_column: the column(s) holding the question for the model verifier.
    """
    if not 0.0 <= format_bonus < 1.0:
        raise ValueError(f"format_bonus must be in [0, 1), got {format_bonus}")
    conditions = [SingleBoxedAnswer(require_think=require_think, think_tags=think_tags)]
    if require_think:
        conditions.insert(0, ThinkFormat(strict=strict, think_tags=think_tags))
    accuracy = BoxedAccuracy(
        gold_column,
        extract="boxed",
        think_tags=think_tags,
        model_verifier=model_verifier,
        question_column=question_column,
        name="accuracy",
    )
    gate = Gate if accuracy.model_verifier is None else AsyncGate
    return gate(
        accuracy,
        AllOf(conditions, name="format"),
        weight=1.0 - format_bonus,
        bonus=format_bonus,
        name=name,
    )
