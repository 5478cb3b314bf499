r"""Outcome rewards: is the final answer right?

>>> reward = BoxedAccuracy()
>>> reward(completions=[r"\boxed{4}", r"\boxed{5}", "no box"], answer=["4", "4", "4"])
[1.0, 0.0, 0.0]
"""

from __future__ import annotations

from collections.abc import Sequence

from rewardkit.rewards.base import OK, Reward, RewardResult, Sample
from rewardkit.rewards.registry import register_reward
from rewardkit.text import gold_answer
from rewardkit.verify import verify_batch

DEFAULT_GOLD_COLUMNS = ("solution", "answer", "ground_truth", "gold")


@register_reward("boxed_accuracy")
class BoxedAccuracy(Reward):
    """1.0 when the final boxed answer equals the gold answer, 0.0 when not, ``None``
    when the gold answer itself cannot be read.

    Args:
        gold_column: the dataset column holding the gold answer, or several to try in
            order (default: ``solution``, ``answer``, ``ground_truth``, ``gold``). A worked
            solution is fine: its boxed answer or GSM8K ``#### N`` is used.
        boxed_only: only a ``\boxed{}`` answer counts (default). When false, the other
            conventions (``#### N``, ``The answer is``, ``A: N``, bold) are read too.
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
        "no_gold",
    )
    logged_details = ("answer",)

    def __init__(
        self,
        gold_column: str | Sequence[str] = DEFAULT_GOLD_COLUMNS,
        *,
        boxed_only: bool = True,
        name: str | None = None,
    ) -> None:
        super().__init__(name=name)
        columns = (gold_column,) if isinstance(gold_column, str) else tuple(gold_column or ())
        if not columns or not all(isinstance(c, str) and c for c in columns):
            raise ValueError(f"gold_column must name one or more columns, got {gold_column!r}")
        self.gold_columns = columns
        self.boxed_only = boxed_only

    def score_samples(self, samples: Sequence[Sample]) -> list[RewardResult]:
        golds = [self._gold(s) for s in samples]
        readable = [i for i, gold in enumerate(golds) if gold is not None]
        verdicts = verify_batch(
            [(samples[i].text, golds[i]) for i in readable], boxed_only=self.boxed_only
        )
        results = [RewardResult(None, "no_gold") for _ in samples]
        for i, verdict in zip(readable, verdicts, strict=True):
            details = {"answer": verdict.answer, "gold": verdict.gold}
            results[i] = RewardResult(float(verdict.correct), verdict.reason, details)
        return results

    def _gold(self, sample: Sample) -> str | None:
        for column in self.gold_columns:
            if column in sample.columns:
                return gold_answer(sample.columns[column])
        return None
