"""The reward protocol every rewardkit reward follows.

A reward is a picklable callable object with a ``__name__``, called the way TRL's
GRPOTrainer and RLOOTrainer call reward functions::

    reward(prompts=..., completions=..., completion_ids=..., **dataset_columns)

It returns one ``float`` or ``None`` (cannot score: TRL skips it) per completion, accepts
plain-string and chat-format completions, and never raises on bad model output. Rich
results (value, machine-readable reason, details) come from :meth:`Reward.score`; inside a
trainer the share of each reason and chosen details are logged through TRL's
``log_metric`` / ``log_extra`` hooks.

>>> class Shouting(Reward):
...     name = "shouting"
...     def score_sample(self, sample):
...         return RewardResult(float(sample.text.isupper()))
>>> Shouting()(prompts=["hi"], completions=[[{"role": "assistant", "content": "HI"}]])
[1.0]
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from rewardkit.rewards.options import checked_init
from rewardkit.text import completion_text
from rewardkit.verify.errors import ServerConfigError

logger = logging.getLogger(__name__)

OK = "ok"
INTERNAL_ERROR = "internal_error"

# Keyword arguments TRL passes that are not dataset columns.
_TRAINER_KWARGS = frozenset({"trainer_state", "log_metric", "log_extra", "environments"})


@dataclass(frozen=True)
class RewardResult:
    """One completion's reward: ``value`` (``None`` when it cannot be scored), a short
    machine-readable ``reason`` (``"ok"`` when nothing went wrong) and free-form ``details``."""

    value: float | None
    reason: str = OK
    details: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Sample:
    """One completion as a reward sees it.

    ``text`` is the completion's text whatever its format; ``columns`` holds this row's
    dataset columns (the gold answer among them).
    """

    prompt: Any
    completion: Any
    text: str
    completion_ids: Sequence[int] | None = None
    columns: dict[str, Any] = field(default_factory=dict)


class Reward:
    """Base class of rewardkit rewards.

    Subclasses set ``name`` and implement :meth:`score_sample` (or :meth:`score_samples`
    to work on the whole batch). Constructor arguments are checked against their
    annotations (:mod:`rewardkit.rewards.options`). ``reasons`` lists the reasons a
    subclass can give, so that their shares are logged on every step, and
    ``logged_details`` the detail keys sent to the trainer's completions table.
    """

    name: str = "reward"
    reasons: tuple[str, ...] = (OK,)
    logged_details: tuple[str, ...] = ()
    # What a ``None`` from this reward counts as inside a WeightedSum: ``None`` (default)
    # makes the sum ``None``; a number (0.0 for rewards that abstain, such as a process
    # reward with no checkable step or a length penalty without token ids) is used instead.
    neutral: float | None = None

    def __init__(self, *, name: str | None = None) -> None:
        self.__name__ = name or self.name

    def __init_subclass__(cls, **kwargs: Any) -> None:
        # every reward's constructor checks its arguments against their annotations, so
        # BoxedAccuracy(boxed_only="no") fails instead of leaving the option on
        super().__init_subclass__(**kwargs)
        init = cls.__dict__.get("__init__")
        if init is not None:
            cls.__init__ = checked_init(init, cls.__dict__.get("name", cls.__name__))

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.__name__!r})"

    def __call__(
        self,
        prompts: Sequence[Any] | None = None,
        completions: Sequence[Any] | None = None,
        completion_ids: Sequence[Sequence[int]] | None = None,
        log_metric: Callable[[str, float], None] | None = None,
        log_extra: Callable[[str, list], None] | None = None,
        **kwargs: Any,
    ) -> list[float | None]:
        results = self.score(prompts, completions, completion_ids, **kwargs)
        self._report(results, log_metric, log_extra)
        return [r.value for r in results]

    def score(
        self,
        prompts: Sequence[Any] | None = None,
        completions: Sequence[Any] | None = None,
        completion_ids: Sequence[Sequence[int]] | None = None,
        **kwargs: Any,
    ) -> list[RewardResult]:
        """Score a batch and return one :class:`RewardResult` per completion."""
        return self.score_batch(make_samples(prompts, completions, completion_ids, kwargs))

    def score_batch(self, samples: Sequence[Sample]) -> list[RewardResult]:
        """:meth:`score_samples` that never raises: a failing batch is scored one by one.

        Composite rewards call it to score their components on samples already built.
        """
        try:
            results = list(self.score_samples(samples))
            if len(results) != len(samples):
                raise RuntimeError(f"{len(results)} results for {len(samples)} completions")
            return results
        except ServerConfigError:
            raise  # a misconfigured model server stops the run at its first call
        except Exception:  # a bug in a batch path must not end a training run
            logger.exception("reward %s failed on a batch; scoring one by one", self.__name__)
            return [self._score_safely(s) for s in samples]

    def score_samples(self, samples: Sequence[Sample]) -> list[RewardResult]:
        """Score many samples; the default scores them one at a time."""
        return [self._score_safely(s) for s in samples]

    def score_sample(self, sample: Sample) -> RewardResult:
        """Score one sample. Subclasses override this or :meth:`score_samples`."""
        raise NotImplementedError(f"{type(self).__name__} must implement score_sample")

    def _score_safely(self, sample: Sample) -> RewardResult:
        try:
            return self.score_sample(sample)
        except ServerConfigError:
            raise
        except Exception as exc:  # never raise into the trainer on bad model output
            logger.debug("reward %s failed on one sample", self.__name__, exc_info=True)
            return RewardResult(None, INTERNAL_ERROR, {"error": f"{type(exc).__name__}: {exc}"})

    def known_reasons(self) -> tuple[str, ...]:
        """Every reason this reward can give: its share is logged on every call (0 when
        absent), so that the shares of a logging window that spans several calls add up to
        1 (TRL averages a metric over the calls that logged it)."""
        return tuple(dict.fromkeys((*self.reasons, INTERNAL_ERROR)))

    def _report(
        self,
        results: Sequence[RewardResult],
        log_metric: Callable[[str, float], None] | None,
        log_extra: Callable[[str, list], None] | None,
    ) -> None:
        if not results:
            return
        if log_metric is not None:
            log_reason_shares(self, self.__name__, [r.reason for r in results], log_metric)
        if log_extra is not None:
            log_extra(f"{self.__name__}/reason", [r.reason for r in results])
            for key in self.logged_details:
                log_extra(
                    f"{self.__name__}/{key}", [_printable(r.details.get(key)) for r in results]
                )


def log_reason_shares(
    owner: Reward,
    prefix: str,
    reasons: Sequence[str],
    log_metric: Callable[[str, float], None],
    known: Sequence[str] | None = None,
) -> None:
    """Log ``<prefix>/reason/<reason>`` for every reason ``owner`` knows (``known``, by
    default its :meth:`~Reward.known_reasons`) or has given before under ``prefix``, 0 when
    absent.

    >>> logged = {}
    >>> log_reason_shares(Reward(), "r", ["ok", "odd"], logged.__setitem__)
    >>> logged
    {'r/reason/ok': 0.5, 'r/reason/internal_error': 0.0, 'r/reason/odd': 0.5}
    """
    counts = Counter(reasons)
    # reasons outside the known list are remembered, so that later calls log them too
    seen = owner.__dict__.setdefault("_seen_reasons", {}).setdefault(prefix, {})
    seen.update(dict.fromkeys(counts))
    for reason in dict.fromkeys((*(owner.known_reasons() if known is None else known), *seen)):
        log_metric(f"{prefix}/reason/{reason}", counts[reason] / len(reasons))


def _printable(value: Any) -> str:
    return "" if value is None else str(value)[:200]


def make_samples(
    prompts: Sequence[Any] | None,
    completions: Sequence[Any] | None,
    completion_ids: Sequence[Sequence[int]] | None,
    columns: dict[str, Any],
) -> list[Sample]:
    """Turn TRL's batch arguments into :class:`Sample` objects.

    Dataset columns are the keyword lists as long as ``completions``; the trainer's own
    keywords (``trainer_state``, ...) and anything else are left out.

    >>> make_samples(None, ["a"], None, {"answer": ["1"], "trainer_state": None})[0].columns
    {'answer': '1'}
    """
    if completions is None:
        raise TypeError("a reward needs `completions`")
    n = len(completions)
    if prompts is not None and len(prompts) != n:
        raise ValueError(f"{len(prompts)} prompts for {n} completions")
    if completion_ids is not None and len(completion_ids) != n:
        raise ValueError(f"{len(completion_ids)} completion_ids for {n} completions")
    row_columns = {
        key: value
        for key, value in columns.items()
        if key not in _TRAINER_KWARGS and isinstance(value, (list, tuple)) and len(value) == n
    }
    return [
        Sample(
            prompt=prompts[i] if prompts is not None else None,
            completion=completions[i],
            text=completion_text(completions[i]),
            completion_ids=completion_ids[i] if completion_ids is not None else None,
            columns={key: value[i] for key, value in row_columns.items()},
        )
        for i in range(n)
    ]
