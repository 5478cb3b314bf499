r"""Outcome rewards: is the final answer right?

>>> reward = BoxedAccuracy()
>>> reward(completions=[r"\boxed{4}", r"\boxed{5}", "no box"], answer=["4", "4", "4"])
[1.0, 0.0, 0.0]
>>> reward(completions=[r"\boxed{5} or \boxed{4}"], answer=["4"])  # hedging is not an answer
[0.0]
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

from rewardkit.rewards.base import OK, Reward, RewardResult, Sample
from rewardkit.rewards.registry import register_reward
from rewardkit.text import ThinkTags, gold_answer
from rewardkit.verify import VerifyOptions, verify_batch

DEFAULT_GOLD_COLUMNS = ("solution", "answer", "ground_truth", "gold")


@register_reward("boxed_accuracy")
class BoxedAccuracy(Reward):
    """1.0 when the final boxed answer equals the gold answer, 0.0 when not, ``None``
    when the gold answer itself cannot be read.

    Args:
        gold_column: the dataset column holding the gold answer, or several to try in
            order (default: ``solution``, ``answer``, ``ground_truth``, ``gold``). A worked
            solution is fine: its boxed answer or GSM8K ``#### N`` is used.
        extract: ``"boxed"`` (default: only a box counts, ``\boxed{}`` or GLM's box
            markers; the right choice for RL, where the policy must commit in one place),
            ``"conventions"`` (also ``#### N``, ``The answer is``, ``Answer:``, ``A: N``,
            bold: for data whose answers are labelled, not boxed) or ``"lenient"`` (also
            the last math span or number of the final statement, the question's own
            values skipped: for evaluation and rejection sampling, not as a training
            signal, since prose is easier to game than a box).
        boxed_only: the old spelling: ``True`` is ``extract="boxed"``, ``False``
            ``extract="conventions"``.
        multiple_boxes: ``"hedge"`` (several different boxes score 0.0,
            ``multiple_answers``) or ``"last"`` (the last box wins, for self-correcting
            evaluation); default ``"hedge"`` except with ``extract="lenient"``.
        think_tags: the think delimiters, a pair such as ``("<reasoning>",
            "</reasoning>")`` or a list of pairs (default ``<think>...</think>``).
        **verify_options: comparison options of :class:`rewardkit.verify.VerifyOptions`
            (``rel_tol``, ``abs_tol``, ``percent``, ``units``, ``timeout``).

    Several different boxed answers after the think span (``\\boxed{3} or \\boxed{4}``,
    a gold box hidden in ``\\phantom``) score 0.0 with the verifier's reason
    ``multiple_answers``: the last box alone would pay a policy for hedging, since listing
    every option would then be a sure win. A box that never closes is
    ``unbalanced_braces``.
    """

    name = "boxed_accuracy"
    reasons = (
        OK,
        "wrong_answer",
        "no_answer",
        "unbalanced_braces",
        "unclosed_think",
        "empty_completion",
        "parse_error",
        "timeout",
        "multiple_answers",
        "too_long",
        "too_deep",
        "too_large",
        "no_sandbox",
        "no_gold",
    )
    logged_details = ("answer",)

    def __init__(
        self,
        gold_column: str | Sequence[str] = DEFAULT_GOLD_COLUMNS,
        *,
        extract: Literal["boxed", "conventions", "lenient"] = "boxed",
        boxed_only: bool | None = None,
        multiple_boxes: Literal["hedge", "last"] | None = None,
        think_tags: ThinkTags = None,
        name: str | None = None,
        **verify_options: Any,
    ) -> None:
        super().__init__(name=name)
        columns = (gold_column,) if isinstance(gold_column, str) else tuple(gold_column or ())
        if not columns or not all(isinstance(c, str) and c for c in columns):
            raise ValueError(f"gold_column must name one or more columns, got {gold_column!r}")
        self.gold_columns = columns
        if boxed_only is not None:
            extract = "boxed" if boxed_only else "conventions"
        self.verify_options = VerifyOptions.from_kwargs(
            extract=extract, multiple_boxes=multiple_boxes, think_tags=think_tags, **verify_options
        )
        self.extract = extract
        self.boxed_only = extract == "boxed"

    def score_samples(self, samples: Sequence[Sample]) -> list[RewardResult]:
        golds = [self._gold(s) for s in samples]
        readable = [i for i, gold in enumerate(golds) if gold is not None]
        verdicts = verify_batch(
            [(samples[i].text, golds[i], samples[i].prompt) for i in readable],
            options=self.verify_options,
        )
        results = [RewardResult(None, "no_gold") for _ in samples]
        for i, verdict in zip(readable, verdicts, strict=True):
            details = {"answer": verdict.answer, "gold": verdict.gold}
            results[i] = RewardResult(float(verdict.correct), verdict.reason, details)
        return results

    def _gold(self, sample: Sample) -> Any:
        """The gold column's value, or ``None`` when it is missing or cannot be read."""
        for column in self.gold_columns:
            if column in sample.columns:
                value = sample.columns[column]
                return value if gold_answer(value) is not None else None
        return None
