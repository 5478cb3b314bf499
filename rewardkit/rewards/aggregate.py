r"""Turning step scores into one reward: min, product, mean, last, first-error position, sum,
and the Clip and Delta transforms.

Step scores are in ``[0, 1]`` or ``None`` (neutral: the scorer could not tell). Neutral steps
are left out of every aggregate; a transform gives them 0.

Why transforms: summing raw step scores pays a policy for *more* steps, so it learns to pad
its reasoning with correct but useless steps. Cheng et al. 2025 ("Stop Summation: Min-Form
Credit Assignment Is All Process Reward Model Needs for Reasoning", PURE) show this reward
hacking and compare two fixes from Gao et al. 2024 ("On Designing Effective RL Reward at
Training Time for LLM Reasoning"):

- Clip: ``r'_t = min(r_t - eta, 0)``: a step at or above the threshold ``eta`` earns
  nothing, a doubtful one is penalised, so the sum is <= 0 and more steps never help;
- Delta: ``r'_t = r_t - r_{t+1}`` (and ``r'_T = r_T``): the sum telescopes to ``r_1``, the
  first step's score, whatever the number of steps.

and PURE's own min-form (``min``): the reward is the worst step.

>>> aggregate([1.0, None, 0.0, 1.0], "min")
0.0
>>> aggregate([1.0, None, 0.0, 1.0], "first_error")
0.5
>>> step_rewards([0.9, 0.2, 1.0], "clip", threshold=0.5)
[0.0, -0.3, 0.0]
>>> aggregate([0.9, 0.2, 1.0], "sum", transform="delta")
0.9
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence

__all__ = [
    "AGGREGATIONS",
    "TRANSFORMS",
    "aggregate",
    "clip_transform",
    "delta_transform",
    "step_rewards",
]

AGGREGATIONS = ("min", "product", "mean", "last", "first_error", "sum")
TRANSFORMS = ("none", "clip", "delta")


def clip_transform(scores: Sequence[float | None], threshold: float = 0.5) -> list[float]:
    """Clip (Gao et al. 2024, used in PURE): ``min(r_t - eta, 0)``; neutral steps give 0.

    >>> clip_transform([1.0, 0.0, None], threshold=0.5)
    [0.0, -0.5, 0.0]
    """
    return [0.0 if s is None else min(s - threshold, 0.0) for s in scores]


def delta_transform(scores: Sequence[float | None]) -> list[float]:
    """Delta (Gao et al. 2024, used in PURE): ``r_t - r_{t+1}`` between consecutive scored
    steps, the last scored step keeps its score; neutral steps give 0.

    >>> delta_transform([0.9, None, 0.5, 0.7])
    [0.4, 0.0, -0.2, 0.7]
    """
    out = [0.0] * len(scores)
    scored = [i for i, s in enumerate(scores) if s is not None]
    for here, nxt in itertools.pairwise(scored):
        out[here] = round(scores[here] - scores[nxt], 12)  # r'_t = r_t - r_{t+1}
    if scored:
        out[scored[-1]] = float(scores[scored[-1]])  # r'_T = r_T
    return out


def step_rewards(
    scores: Sequence[float | None], transform: str = "none", *, threshold: float = 0.5
) -> list[float]:
    """Per-step rewards after ``transform`` (``none`` keeps the scores, neutral gives 0).

    >>> step_rewards([1.0, None], "none")
    [1.0, 0.0]
    """
    _check(transform=transform)
    if transform == "clip":
        return clip_transform(scores, threshold)
    if transform == "delta":
        return delta_transform(scores)
    return [0.0 if s is None else float(s) for s in scores]


def aggregate(
    scores: Sequence[float | None],
    method: str = "min",
    *,
    transform: str = "none",
    threshold: float = 0.5,
) -> float | None:
    """One value from step scores; ``None`` when no step was scored (``sum`` gives 0.0).

    ``first_error`` is the position of the first step scoring below ``threshold`` as a share
    of the steps (0.0: the first step is wrong), 1.0 when none is wrong (ProcessBench's
    question, turned into a reward). With a transform, ``sum`` adds the transformed rewards
    and the other methods apply to them instead of the raw scores.
    """
    _check(method=method, transform=transform)
    if transform != "none":
        values: list[float | None] = list(step_rewards(scores, transform, threshold=threshold))
        if method != "sum":
            values = [v if s is not None else None for v, s in zip(values, scores, strict=False)]
    else:
        values = list(scores)
    if method == "sum":
        return round(sum(v for v in values if v is not None), 12)
    if method == "first_error":
        if all(s is None for s in scores):
            return None
        for i, s in enumerate(scores):
            if s is not None and s < threshold:
                return i / len(scores)
        return 1.0
    scored = [float(v) for v in values if v is not None]
    if not scored:
        return None
    if method == "min":
        return min(scored)
    if method == "product":
        return math.prod(scored)
    if method == "mean":
        return sum(scored) / len(scored)
    return scored[-1]  # last


def _check(*, method: str | None = None, transform: str | None = None) -> None:
    if method is not None and method not in AGGREGATIONS:
        raise ValueError(f"unknown aggregation {method!r}: use one of {', '.join(AGGREGATIONS)}")
    if transform is not None and transform not in TRANSFORMS:
        raise ValueError(f"unknown transform {transform!r}: use one of {', '.join(TRANSFORMS)}")
