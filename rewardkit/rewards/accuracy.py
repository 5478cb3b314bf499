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
from rewardkit.rewards.cascade import AsyncScoring
from rewardkit.rewards.registry import register_reward
from rewardkit.text import ThinkTags, completion_text, gold_answer
from rewardkit.verify import ModelVerifier, VerifyOptions, model_verifier_from, verify_batch
from rewardkit.verify.model_verifier import MODEL_REASONS

DEFAULT_GOLD_COLUMNS = ("solution", "answer", "ground_truth", "gold")
DEFAULT_QUESTION_COLUMNS = ("question", "problem", "query", "instruction", "input")


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
        model_verifier: a :class:`~rewardkit.verify.ModelVerifier` (or its
            ``FORMAT[:MODEL]@URL`` string or mapping) asked about the answers the rules
            reject (``wrong_answer`` only); the reward is then awaited (``async``).
        question_column: the column(s) holding the question shown to the model verifier and
            read by ``extract="lenient"``
            (default: ``question``, ``problem``, ``query``, ``instruction``, ``input``;
            else the prompt's last user message).
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

    def __new__(cls, *args: Any, model_verifier: Any = None, **kwargs: Any) -> BoxedAccuracy:
        # with a model verifier the reward is awaited: TRL tells by the class's __call__
        if model_verifier is not None and cls is BoxedAccuracy:
            cls = AsyncBoxedAccuracy
        return super().__new__(cls)

    def __init__(
        self,
        gold_column: str | Sequence[str] = DEFAULT_GOLD_COLUMNS,
        *,
        extract: Literal["boxed", "conventions", "lenient"] = "boxed",
        boxed_only: bool | None = None,
        multiple_boxes: Literal["hedge", "last"] | None = None,
        think_tags: ThinkTags = None,
        model_verifier: ModelVerifier | str | dict | None = None,
        question_column: str | Sequence[str] = DEFAULT_QUESTION_COLUMNS,
        name: str | None = None,
        **verify_options: Any,
    ) -> None:
        super().__init__(name=name)
        self.gold_columns = _columns(gold_column, "gold_column")
        self.question_columns = _columns(question_column, "question_column")
        if boxed_only is not None:
            extract = "boxed" if boxed_only else "conventions"
        self.verify_options = VerifyOptions.from_kwargs(
            extract=extract, multiple_boxes=multiple_boxes, think_tags=think_tags, **verify_options
        )
        self.extract = extract
        self.boxed_only = extract == "boxed"
        self.model_verifier = model_verifier_from(model_verifier)
        if self.model_verifier is not None:
            self.reasons = (*type(self).reasons, *MODEL_REASONS)

    def score_samples(self, samples: Sequence[Sample]) -> list[RewardResult]:
        golds = [self._gold(s) for s in samples]
        readable = [i for i, gold in enumerate(golds) if gold is not None]
        questions = None
        if self.model_verifier is not None or self.extract == "lenient":
            questions = [self._question(samples[i]) for i in readable]
        verdicts = verify_batch(
            [(samples[i].text, golds[i]) for i in readable],
            options=self.verify_options,
            questions=questions,
            model_verifier=self.model_verifier,
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

    def _question(self, sample: Sample) -> str | None:
        for column in self.question_columns:
            value = sample.columns.get(column)
            if value is not None:
                return completion_text(value)
        prompt = sample.prompt
        if isinstance(prompt, (list, tuple)):  # a chat: the last user message
            users = [m for m in prompt if isinstance(m, dict) and m.get("role") == "user"]
            prompt = users[-1] if users else prompt
        return completion_text(prompt) or None


class AsyncBoxedAccuracy(AsyncScoring, BoxedAccuracy):
    """:class:`BoxedAccuracy` with a model verifier: ``await reward(...)`` (what
    ``BoxedAccuracy(model_verifier=...)`` builds)."""


def _columns(value: str | Sequence[str], what: str) -> tuple[str, ...]:
    columns = (value,) if isinstance(value, str) else tuple(value or ())
    if not columns or not all(isinstance(c, str) and c for c in columns):
        raise ValueError(f"{what} must name one or more columns, got {value!r}")
    return columns
