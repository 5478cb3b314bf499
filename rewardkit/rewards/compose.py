r"""Composing rewards: weighted sums, gates, all-of conditions, clipping and normalisation.

Each combinator is itself a :class:`~rewardkit.rewards.base.Reward`: picklable, callable the
TRL way, never raising. It scores each component once per batch, keeps the component
results in ``details["components"]``, and when called by a trainer logs every component
separately through TRL's hooks: ``<composite>/<component>/mean`` and
``<composite>/<component>/reason/<reason>`` via ``log_metric`` (every reason the component
knows, 0 when absent, so a logging window's shares add up to 1), the per-completion reasons
via ``log_extra``. Nested composites log their own components under the same prefix.

``None`` in a weighted sum: a component that abstains (its ``neutral`` value is a number:
:class:`~rewardkit.rewards.process.ProcessReward` with no checkable step, the length
penalties without token ids) counts as that value, 0.0, and its share is logged as
``<composite>/<component>/neutral``; a ``None`` from a component that decides correctness
(accuracy without a gold answer, a judge that did not answer, a plain function) makes the
sum ``None``, so TRL skips the completion rather than train on half a reward.

Components can be rewardkit rewards, registered names, or plain TRL reward functions.

>>> from rewardkit.rewards.accuracy import BoxedAccuracy
>>> from rewardkit.rewards.format import ThinkFormat
>>> reward = Gate(BoxedAccuracy(), ThinkFormat())  # accuracy counts only when the format holds
>>> reward(completions=[r"<think>2+2=4</think>\boxed{4}", r"\boxed{4}"], answer=["4", "4"])
[1.0, 0.0]
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

from rewardkit.rewards.base import OK, Reward, RewardResult, Sample, log_reason_shares
from rewardkit.rewards.registry import get_reward

__all__ = [
    "AllOf",
    "Clip",
    "Composite",
    "FunctionReward",
    "Gate",
    "Normalize",
    "WeightedSum",
    "as_reward",
]

RewardLike = Reward | str | Callable[..., Any]


class FunctionReward(Reward):
    """A plain TRL reward function (``f(prompts, completions, completion_ids, **columns)``)
    seen as a :class:`Reward`, so it can be composed. ``None`` values get reason ``none``;
    the function raising gives ``None`` with reason ``internal_error`` for the whole batch.

    >>> length = FunctionReward(lambda completions, **kw: [float(len(c)) for c in completions])
    >>> length(completions=["ab"])
    [2.0]
    """

    reasons = (OK, "none")

    def __init__(self, function: Callable[..., Any], *, name: str | None = None) -> None:
        super().__init__(name=name or getattr(function, "__name__", type(function).__name__))
        self.function = function

    def score_samples(self, samples: Sequence[Sample]) -> list[RewardResult]:
        columns: dict[str, list[Any]] = {}
        for key in samples[0].columns if samples else ():
            columns[key] = [s.columns.get(key) for s in samples]
        has_ids = bool(samples) and all(s.completion_ids is not None for s in samples)
        values = self.function(
            prompts=[s.prompt for s in samples],
            completions=[s.completion for s in samples],
            completion_ids=[list(s.completion_ids) for s in samples] if has_ids else None,
            **columns,
        )
        return [RewardResult(None, "none") if v is None else RewardResult(float(v)) for v in values]


def as_reward(obj: RewardLike) -> Reward:
    """A :class:`Reward` from a reward object, a registered name, or a plain function.

    >>> as_reward("boxed_accuracy").__name__
    'boxed_accuracy'
    """
    if isinstance(obj, Reward):
        return obj
    if isinstance(obj, str):
        built = get_reward(obj)
        return built if isinstance(built, Reward) else FunctionReward(built, name=obj)
    if callable(obj):
        return FunctionReward(obj)
    raise TypeError(f"not a reward: {obj!r} (give a Reward, a registered name or a function)")


def _unique_names(rewards: Sequence[Reward]) -> list[str]:
    names: list[str] = []
    for reward in rewards:
        base = reward.__name__
        name, k = base, 2
        while name in names:
            name, k = f"{base}_{k}", k + 1
        names.append(name)
    return names


class Composite(Reward):
    """Base of the combinators: scores named components and logs each one separately.

    Subclasses implement :meth:`combine` from the component results of one completion.
    """

    reasons = (OK,)

    def __init__(self, components: Sequence[RewardLike], *, name: str | None = None) -> None:
        super().__init__(name=name)
        rewards = [as_reward(c) for c in components]
        if not rewards:
            raise ValueError(f"{type(self).__name__} needs at least one component")
        names = _unique_names(rewards)
        self.components: dict[str, Reward] = dict(zip(names, rewards, strict=True))

    def __repr__(self) -> str:
        inner = ", ".join(repr(c) for c in self.components.values())
        return f"{type(self).__name__}({inner}, name={self.__name__!r})"

    def score_samples(self, samples: Sequence[Sample]) -> list[RewardResult]:
        per_component = {name: r.score_batch(samples) for name, r in self.components.items()}
        results = []
        for i in range(len(samples)):
            parts = {name: rs[i] for name, rs in per_component.items()}
            value, reason = self.combine(parts)
            results.append(RewardResult(value, reason, {"components": parts}))
        return results

    def combine(self, parts: dict[str, RewardResult]) -> tuple[float | None, str]:
        raise NotImplementedError

    def known_reasons(self) -> tuple[str, ...]:
        """``ok`` and ``<component>:<reason>`` for every reason of every component."""
        prefixed = (f"{n}:{r}" for n, c in self.components.items() for r in c.known_reasons())
        return tuple(dict.fromkeys((OK, *prefixed)))

    def component_reasons(self, name: str) -> tuple[str, ...]:
        """The reasons logged for component ``name`` (``not_scored``: a gate kept it out)."""
        return self.components[name].known_reasons()

    def fills(self, name: str) -> bool:
        """Whether a ``None`` from component ``name`` is replaced by a value (logged as
        ``<component>/neutral``)."""
        return False

    def _report(self, results, log_metric, log_extra) -> None:  # type: ignore[override]
        super()._report(results, log_metric, log_extra)
        if results:
            _log_components(self, self.__name__, results, log_metric, log_extra)


def _first_failure(parts: dict[str, RewardResult]) -> str:
    for name, result in parts.items():
        if result.reason != OK:
            return f"{name}:{result.reason}"
    return OK


def _log_components(composite, prefix, results, log_metric, log_extra) -> None:
    """Log each component of composite ``results`` under ``prefix/<component>/...``."""
    for name, component in composite.components.items():
        parts = [r.details.get("components", {}).get(name) for r in results]
        parts = [p if p is not None else RewardResult(None, "not_scored") for p in parts]
        values = [p.value for p in parts if p.value is not None]
        if log_metric is not None:
            if values:
                log_metric(f"{prefix}/{name}/mean", sum(values) / len(values))
            log_reason_shares(
                composite,
                f"{prefix}/{name}",
                [p.reason for p in parts],
                log_metric,
                composite.component_reasons(name),
            )
            if composite.fills(name):
                neutral = [
                    p.value is None and r.value is not None
                    for p, r in zip(parts, results, strict=True)
                ]
                log_metric(f"{prefix}/{name}/neutral", sum(neutral) / len(neutral))
        if log_extra is not None:
            log_extra(f"{prefix}/{name}/reason", [p.reason for p in parts])
        if isinstance(component, Composite):
            _log_components(component, f"{prefix}/{name}", parts, log_metric, log_extra)


class WeightedSum(Composite):
    r"""``sum_k w_k * r_k`` over weighted components.

    Args:
        terms: ``(reward, weight)`` pairs; a reward can be an object, a registered name or
            a plain function.
        missing: value used for *every* component that returns ``None``. By default
            (``None``) each component decides: one that abstains counts as its ``neutral``
            value (0.0 for :class:`~rewardkit.rewards.process.ProcessReward`,
            :class:`~rewardkit.rewards.shaping.OverlongPenalty` and
            :class:`~rewardkit.rewards.shaping.RepetitionPenalty`; set ``reward.neutral =
            None`` to make one required), any other ``None`` makes the sum ``None``.

    The sum is ``None`` as well when no component scored at all. Its reason is the first
    component's that is not ``ok`` (``process:no_checkable_step``), or the ``None``
    component's.

    >>> from rewardkit.rewards.accuracy import BoxedAccuracy
    >>> from rewardkit.rewards.format import SingleBoxedAnswer
    >>> reward = WeightedSum([(BoxedAccuracy(), 1.0), (SingleBoxedAnswer(), 0.1)])
    >>> reward(completions=[r"\boxed{4}", r"\boxed{5}"], answer=["4", "4"])
    [1.1, 0.1]
    >>> from rewardkit.rewards.process import ProcessReward
    >>> WeightedSum([(BoxedAccuracy(), 1), (ProcessReward(), 0.5)])(  # no checkable step
    ...     completions=[r"<think>It is four.</think> \boxed{4}"], answer=["4"])
    [1.0]
    """

    def __init__(
        self,
        terms: Sequence[tuple[RewardLike, float]],
        *,
        missing: float | None = None,
        name: str | None = None,
    ) -> None:
        terms = list(terms)
        for term in terms:
            if not (isinstance(term, tuple) and len(term) == 2 and _is_number(term[1])):
                raise ValueError(f"WeightedSum terms are (reward, weight) pairs, got {term!r}")
        super().__init__([reward for reward, _ in terms], name=name or "weighted_sum")
        self.weights = dict(zip(self.components, (float(w) for _, w in terms), strict=False))
        self.missing = missing

    def fills(self, name: str) -> bool:
        return self._fill(name) is not None

    def _fill(self, name: str) -> float | None:
        return self.missing if self.missing is not None else self.components[name].neutral

    def combine(self, parts):
        total, scored = 0.0, 0
        for name, result in parts.items():
            value = result.value
            if value is None:
                value = self._fill(name)
                if value is None:
                    return None, f"{name}:{result.reason}"
            else:
                scored += 1
            total += self.weights[name] * value
        if not scored:
            return None, _first_failure(parts)
        return round(total, 12), _first_failure(parts)


def _is_number(x: Any) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)


class Gate(Composite):
    r"""``weight * reward + bonus`` when ``condition`` reaches ``threshold``, else
    ``closed_value`` (by default simply ``reward`` or 0.0).

    The gated reward is only computed for completions whose gate is open. The reason of a
    closed gate is the condition's (``<condition>:<reason>``).

    >>> from rewardkit.rewards.accuracy import BoxedAccuracy
    >>> from rewardkit.rewards.format import SingleBoxedAnswer
    >>> gated = Gate(BoxedAccuracy(), SingleBoxedAnswer())
    >>> gated(completions=[r"\boxed{4} \boxed{5}"], answer=["4"])
    [0.0]
    """

    def __init__(
        self,
        reward: RewardLike,
        condition: RewardLike,
        *,
        threshold: float = 1.0,
        closed_value: float = 0.0,
        weight: float = 1.0,
        bonus: float = 0.0,
        name: str | None = None,
    ) -> None:
        if not all(_is_number(x) for x in (threshold, closed_value, weight, bonus)):
            raise ValueError(
                "Gate's threshold, closed_value, weight and bonus must be finite numbers"
            )
        reward, condition = as_reward(reward), as_reward(condition)
        super().__init__([condition, reward], name=name or f"gated_{reward.__name__}")
        self.condition_name, self.reward_name = list(self.components)
        self.threshold = float(threshold)
        self.closed_value = float(closed_value)
        self.weight, self.bonus = float(weight), float(bonus)

    def known_reasons(self) -> tuple[str, ...]:
        condition = self.components[self.condition_name].known_reasons()
        return tuple(
            dict.fromkeys(
                (
                    *self.components[self.reward_name].known_reasons(),
                    *(f"{self.condition_name}:{r}" for r in condition),
                )
            )
        )

    def component_reasons(self, name: str) -> tuple[str, ...]:
        own = super().component_reasons(name)
        return (*own, "not_scored") if name == self.reward_name else own

    def score_samples(self, samples):
        condition = self.components[self.condition_name].score_batch(samples)
        is_open = [c.value is not None and c.value >= self.threshold for c in condition]
        open_samples = [s for s, ok in zip(samples, is_open, strict=False) if ok]
        scored = iter(self.components[self.reward_name].score_batch(open_samples))
        results = []
        for cond, ok in zip(condition, is_open, strict=False):
            parts = {self.condition_name: cond}
            if ok:
                parts[self.reward_name] = inner = next(scored)
                value = None if inner.value is None else self.weight * inner.value + self.bonus
                value = None if value is None else round(value, 12)
                reason = inner.reason
            else:
                value, reason = self.closed_value, f"{self.condition_name}:{cond.reason}"
            results.append(RewardResult(value, reason, {"components": parts}))
        return results


class AllOf(Composite):
    """1.0 when every condition scores at least ``threshold``, else 0.0 (logical and); the
    reason is the first failing condition's.

    >>> from rewardkit.rewards.format import SingleBoxedAnswer, ThinkFormat
    >>> AllOf([ThinkFormat(), SingleBoxedAnswer()])(completions=[r"<think>.</think>\\boxed{1}"])
    [1.0]
    """

    def __init__(
        self, conditions: Sequence[RewardLike], *, threshold: float = 1.0, name: str | None = None
    ) -> None:
        super().__init__(conditions, name=name or "all_of")
        self.threshold = float(threshold)

    def combine(self, parts):
        for name, result in parts.items():
            if result.value is None or result.value < self.threshold:
                return 0.0, f"{name}:{result.reason}"
        return 1.0, OK


class Clip(Composite):
    """The reward clipped to ``[low, high]`` (either bound may be ``None``).

    >>> Clip(lambda completions, **kw: [5.0, -5.0], low=-1, high=1)(completions=["a", "b"])
    [1.0, -1.0]
    """

    def __init__(
        self,
        reward: RewardLike,
        *,
        low: float | None = None,
        high: float | None = None,
        name: str | None = None,
    ) -> None:
        if low is not None and high is not None and low > high:
            raise ValueError(f"Clip needs low <= high, got low={low}, high={high}")
        reward = as_reward(reward)
        super().__init__([reward], name=name or f"clipped_{reward.__name__}")
        self.low = None if low is None else float(low)
        self.high = None if high is None else float(high)

    def known_reasons(self) -> tuple[str, ...]:
        (component,) = self.components.values()
        return component.known_reasons()

    def combine(self, parts):
        (result,) = parts.values()
        if result.value is None:
            return None, result.reason
        value = result.value
        if self.low is not None:
            value = max(self.low, value)
        if self.high is not None:
            value = min(self.high, value)
        return value, result.reason


class Normalize(Composite):
    """The reward mapped linearly from its known range ``[low, high]`` onto ``[0, 1]``
    (values outside are clipped), so components with different scales can be summed.

    >>> Normalize(lambda completions, **kw: [-10.0, 0.0, 2.0], low=-10, high=2)(completions="abc")
    [0.0, 0.8333333333333334, 1.0]
    """

    def __init__(
        self, reward: RewardLike, *, low: float, high: float, name: str | None = None
    ) -> None:
        if not (_is_number(low) and _is_number(high) and high > low):
            raise ValueError(f"Normalize needs finite low < high, got low={low}, high={high}")
        reward = as_reward(reward)
        super().__init__([reward], name=name or f"normalized_{reward.__name__}")
        self.low, self.high = float(low), float(high)

    def known_reasons(self) -> tuple[str, ...]:
        (component,) = self.components.values()
        return component.known_reasons()

    def combine(self, parts):
        (result,) = parts.values()
        if result.value is None:
            return None, result.reason
        scaled = (result.value - self.low) / (self.high - self.low)
        return min(1.0, max(0.0, scaled)), result.reason
