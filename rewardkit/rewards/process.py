r"""Process rewards: segment the reasoning into steps, score each step, aggregate.

A step scorer is any object with ``score_steps(problem, steps) -> list[float | None]`` (one
score in ``[0, 1]`` per step, ``None`` for "cannot tell"); an optional
``score_steps_batch(problems, steps_lists)`` is used when present. rewardkit provides:

- :class:`~rewardkit.rewards.arithmetic.ArithmeticChecker` (``scorer="arithmetic"``, the
  default): rule-based, fast, checks the computations a step states;
- :class:`~rewardkit.rewards.prm.PRMStepScorer`: a Hugging Face token-classification PRM;
- ``rewardkit.judge.JudgeStepScorer``: an LLM judge that names the first wrong step
  (pass the object: ``ProcessReward(scorer=JudgeStepScorer(...))``).

:meth:`ProcessReward.token_rewards` places each step's (transformed) reward on the step's
last token, for trainers that take token-level rewards.

>>> reward = ProcessReward()  # arithmetic checker, min over steps
>>> reward(completions=["<think>3 * 4 = 12\n12 + 1 = 13</think> \\boxed{13}",
...                     "<think>3 * 4 = 12\n12 + 1 = 14</think> \\boxed{14}"])
[1.0, 0.0]
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from rewardkit.rewards.aggregate import _check, aggregate, step_rewards
from rewardkit.rewards.arithmetic import ArithmeticChecker
from rewardkit.rewards.base import OK, Reward, RewardResult, Sample, make_samples
from rewardkit.rewards.registry import register_reward
from rewardkit.rewards.steps import Step, segment_steps, token_end_indices
from rewardkit.text import ThinkTags, completion_text, think_tag_pairs

__all__ = ["ProcessReward", "StepScorer"]

logger = logging.getLogger(__name__)

DEFAULT_PROBLEM_COLUMNS = ("problem", "question")


class StepScorer:
    """The step scorer protocol (documentation only: any object with this method works)."""

    def score_steps(self, problem: str, steps: Sequence[str]) -> list[float | None]:
        """One score in ``[0, 1]`` (or ``None``: neutral) per step."""
        raise NotImplementedError


STEP_SCORERS = {"arithmetic": ArithmeticChecker}


def _build_scorer(scorer: Any) -> Any:
    if isinstance(scorer, str):
        factory = STEP_SCORERS.get(scorer)
        if factory is None:
            raise KeyError(
                f"unknown step scorer {scorer!r}: use one of {', '.join(STEP_SCORERS)} or pass "
                "an object with score_steps(problem, steps), e.g. PRMStepScorer(...)"
            )
        return factory()
    if not callable(getattr(scorer, "score_steps", None)):
        raise TypeError(f"{scorer!r} has no score_steps(problem, steps) method")
    return scorer


@register_reward("process")
class ProcessReward(Reward):
    r"""A process reward over the reasoning steps.

    Args:
        scorer: ``"arithmetic"`` or a step scorer object.
        aggregation: ``min`` (default; PURE's min-form), ``product``, ``mean``, ``last``,
            ``first_error`` or ``sum``.
        transform: ``none``, ``clip`` or ``delta`` (see :mod:`rewardkit.rewards.aggregate`).
        threshold: a step scoring below it is wrong (``first_error``, reasons) and the
            ``clip`` threshold.
        empty_value: the reward when no step could be scored (default ``None``: skipped by
            TRL); ``sum`` gives 0.0 anyway.
        mode, min_chars, max_steps: step segmentation
            (:func:`~rewardkit.rewards.steps.segment_steps`).
        problem_column: dataset column(s) with the problem text given to the scorer;
            the prompt's text when none is present.
        tokenizer: a tokenizer (or its path) used by :meth:`token_rewards` to map steps to
            tokens; without one the mapping is proportional (approximate).
        think_tags: the think delimiters whose span holds the reasoning, a pair such as
            ``("<reasoning>", "</reasoning>")`` or a list of pairs (default ``<think>``).

    Reasons: ``ok``, ``wrong_step`` (a step below ``threshold``), ``no_checkable_step``,
    ``no_steps``, ``bad_scores`` (the scorer returned the wrong number of scores or values
    outside ``[0, 1]``), ``scorer_error`` (it raised; the error is in the details).
    """

    name = "process"
    reasons = (OK, "wrong_step", "no_checkable_step", "no_steps", "bad_scores", "scorer_error")
    logged_details = ("first_error",)
    neutral = 0.0  # in a WeightedSum, no checkable step is no signal, not a failed sum

    def __init__(
        self,
        scorer: Any = "arithmetic",
        *,
        aggregation: str = "min",
        transform: str = "none",
        threshold: float = 0.5,
        empty_value: float | None = None,
        mode: str = "auto",
        min_chars: int = 5,
        max_steps: int = 64,
        problem_column: str | Sequence[str] = DEFAULT_PROBLEM_COLUMNS,
        tokenizer: Any = None,
        think_tags: ThinkTags = None,
        name: str | None = None,
    ) -> None:
        super().__init__(name=name)
        self.think_tags = think_tag_pairs(think_tags)
        _check(method=aggregation, transform=transform)
        segment_steps("", mode=mode, max_steps=max_steps)  # validates the options
        self.scorer = _build_scorer(scorer)
        self.aggregation, self.transform, self.threshold = aggregation, transform, threshold
        self.empty_value = empty_value
        self.mode, self.min_chars, self.max_steps = mode, min_chars, max_steps
        columns = (problem_column,) if isinstance(problem_column, str) else tuple(problem_column)
        self.problem_columns = columns
        self.tokenizer_ref = tokenizer
        self._tokenizer = None if isinstance(tokenizer, str) else tokenizer

    def __getstate__(self) -> dict:
        state = dict(self.__dict__)
        if isinstance(self.tokenizer_ref, str):
            state["_tokenizer"] = None
        return state

    @property
    def tokenizer(self) -> Any:
        if self._tokenizer is None and isinstance(self.tokenizer_ref, str):
            from transformers import AutoTokenizer

            self._tokenizer = AutoTokenizer.from_pretrained(self.tokenizer_ref)
        return self._tokenizer

    # ------------------------------------------------------------------ scoring

    def steps(self, text: str) -> list[Step]:
        """The reasoning steps of a completion's text."""
        return segment_steps(
            text,
            mode=self.mode,
            min_chars=self.min_chars,
            max_steps=self.max_steps,
            think_tags=self.think_tags,
        )

    def _problem(self, sample: Sample) -> str:
        for column in self.problem_columns:
            value = sample.columns.get(column)
            if isinstance(value, str):
                return value
        return completion_text(sample.prompt)

    def step_scores(self, samples: Sequence[Sample]) -> list[tuple[list[Step], Any]]:
        """For each sample, its steps and their scores: a list, ``None`` when the scorer
        returned something invalid, or the exception it raised."""
        steps = [self.steps(s.text) for s in samples]
        problems = [self._problem(s) for s in samples]
        todo = [i for i, st in enumerate(steps) if st]
        texts = [[step.text for step in steps[i]] for i in todo]
        out: list[tuple[list[Step], Any]] = [(st, []) for st in steps]
        try:
            batch = getattr(self.scorer, "score_steps_batch", None)
            if callable(batch):
                scored = list(batch([problems[i] for i in todo], texts))
            else:
                score = self.scorer.score_steps
                scored = [score(problems[i], t) for i, t in zip(todo, texts, strict=True)]
        except Exception as exc:  # a failing scorer (model, network) must not end training
            logger.warning("step scorer %r failed: %s", self.scorer, exc, exc_info=True)
            for i in todo:
                out[i] = (steps[i], exc)
            return out
        for i, scores in zip(todo, scored, strict=False):
            out[i] = (steps[i], _valid(scores, len(steps[i])))
        return out

    def score_samples(self, samples: Sequence[Sample]) -> list[RewardResult]:
        results = []
        for steps, scores in self.step_scores(samples):
            if not steps:
                results.append(RewardResult(self._empty(), "no_steps", {"n_steps": 0}))
                continue
            if isinstance(scores, Exception):
                error = f"{type(scores).__name__}: {scores}"
                results.append(RewardResult(None, "scorer_error", {"error": error}))
                continue
            if scores is None:
                results.append(RewardResult(None, "bad_scores", {"n_steps": len(steps)}))
                continue
            wrong = [i for i, s in enumerate(scores) if s is not None and s < self.threshold]
            details = {
                "n_steps": len(steps),
                "scores": scores,
                "first_error": wrong[0] if wrong else None,
            }
            if all(s is None for s in scores):
                results.append(RewardResult(self._empty(), "no_checkable_step", details))
                continue
            value = aggregate(
                scores, self.aggregation, transform=self.transform, threshold=self.threshold
            )
            results.append(RewardResult(value, "wrong_step" if wrong else OK, details))
        return results

    def _empty(self) -> float | None:
        return 0.0 if self.aggregation == "sum" else self.empty_value

    # ------------------------------------------------------------------ token level

    def token_rewards(
        self,
        prompts: Sequence[Any] | None = None,
        completions: Sequence[Any] | None = None,
        completion_ids: Sequence[Sequence[int]] | None = None,
        **columns: Any,
    ) -> list[list[float]]:
        """One list per completion, ``len(completion_ids[i])`` long: each step's reward (after
        ``transform``) on the step's last token, 0.0 elsewhere.

        A trainer that sums token rewards (returns-to-go) pays raw step scores once per
        step, which a policy farms by adding correct steps: use ``transform="clip"`` or
        ``"delta"`` for token-level training (PURE, Cheng et al. 2025). Step ends are mapped
        to tokens exactly when the reward has a ``tokenizer``, proportionally otherwise.
        """
        if completion_ids is None:
            raise ValueError("token_rewards needs completion_ids")
        samples = make_samples(prompts, completions, completion_ids, columns)
        out = []
        for sample, (steps, scores) in zip(samples, self.step_scores(samples), strict=False):
            ids = list(sample.completion_ids or [])
            row = [0.0] * len(ids)
            if ids and steps and isinstance(scores, list) and scores:
                values = step_rewards(scores, self.transform, threshold=self.threshold)
                char_ends = [s.end for s in steps]
                try:
                    ends = token_end_indices(sample.text, char_ends, ids, self.tokenizer)
                except Exception:  # a tokenizer failing on these ids: place proportionally
                    logger.warning(
                        "token alignment failed; placing steps proportionally", exc_info=True
                    )
                    ends = token_end_indices(sample.text, char_ends, ids, None)
                for index, value in zip(ends, values, strict=False):
                    row[index] += value
            out.append(row)
        return out


def _valid(scores: Any, n: int) -> list[float | None] | None:
    """The scores if they are ``n`` values in ``[0, 1]`` or ``None``; ``None`` otherwise."""
    try:
        scores = list(scores)
    except TypeError:
        return None
    if len(scores) != n:
        return None
    out: list[float | None] = []
    for s in scores:
        if s is None:
            out.append(None)
        elif isinstance(s, (int, float)) and not isinstance(s, bool) and 0.0 <= s <= 1.0:
            out.append(float(s))
        else:
            return None
    return out
