r"""Shaping rewards on completion length and repetition, counted in tokens.

Lengths are ``len(completion_ids)``, the token ids TRL passes to reward functions. Without
ids a reward returns ``None`` with reason ``no_token_ids``, unless built with
``estimate_tokens=True``: then the length is estimated as ``ceil(utf8_bytes / 4)`` (about
four bytes a token for English BPE vocabularies; an estimate, not a count) and repetition
is counted on whitespace-separated words.

>>> penalty = OverlongPenalty(max_length=10, cache=4)
>>> penalty(completions=["a"] * 3, completion_ids=[[1] * 6, [1] * 8, [1] * 11])
[0.0, -0.5, -1.0]
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from rewardkit.rewards.accuracy import BoxedAccuracy
from rewardkit.rewards.base import OK, Reward, RewardResult, Sample
from rewardkit.rewards.compose import RewardLike, as_reward
from rewardkit.rewards.registry import register_reward

__all__ = ["CosineLength", "LengthGatedCorrectness", "OverlongPenalty", "RepetitionPenalty"]

NO_TOKEN_IDS = "no_token_ids"


def _token_count(sample: Sample, estimate: bool) -> int | None:
    if sample.completion_ids is not None:
        return len(sample.completion_ids)
    if estimate:
        return math.ceil(len(sample.text.encode("utf-8", "replace")) / 4)
    return None


def _check_positive(**values: float) -> None:
    for key, value in values.items():
        if not (isinstance(value, (int, float)) and value > 0):
            raise ValueError(f"{key} must be positive, got {value!r}")


@register_reward("overlong_penalty")
class OverlongPenalty(Reward):
    r"""DAPO's soft overlong punishment (Yu et al. 2025, "DAPO", eq. 13).

    With ``L_max = max_length`` and ``L_cache = cache``::

        0                                   if |y| <= L_max - L_cache
        ((L_max - L_cache) - |y|) / L_cache if L_max - L_cache < |y| <= L_max
        -1                                  if |y| > L_max

    Defaults are DAPO's: ``L_max = 20480`` tokens with a ``4096``-token cache; without a
    ``cache`` the cache is DAPO's share of ``max_length``, a fifth (``max_length // 5``), so
    ``OverlongPenalty(max_length=512)`` punishes softly from 410 tokens. Set
    ``max_length`` to your trainer's ``max_completion_length``. Add it to the outcome reward
    (a :class:`~rewardkit.rewards.compose.WeightedSum`); it never pays anything positive.

    Reasons: ``ok``, ``in_cache`` (punished softly), ``overlong``, ``no_token_ids``.
    """

    name = "overlong_penalty"
    reasons = (OK, "in_cache", "overlong", NO_TOKEN_IDS)
    neutral = 0.0  # in a WeightedSum, no token ids means no penalty, not no reward

    def __init__(
        self,
        max_length: int = 20480,
        cache: int | None = None,
        *,
        estimate_tokens: bool = False,
        name: str | None = None,
    ) -> None:
        super().__init__(name=name)
        _check_positive(max_length=max_length)
        cache = max_length // 5 if cache is None else cache  # DAPO: 4096 of 20480
        if not (isinstance(cache, int) and 0 <= cache <= max_length):
            raise ValueError(f"cache must be an int in [0, max_length], got {cache!r}")
        self.max_length, self.cache, self.estimate_tokens = max_length, cache, estimate_tokens

    def score_sample(self, sample: Sample) -> RewardResult:
        n = _token_count(sample, self.estimate_tokens)
        if n is None:
            return RewardResult(None, NO_TOKEN_IDS)
        expected = self.max_length - self.cache  # L_max - L_cache
        details = {"tokens": n}
        if n <= expected:
            return RewardResult(0.0, OK, details)
        if n <= self.max_length:  # DAPO eq. 13, middle case: linear from 0 down to -1
            return RewardResult((expected - n) / self.cache, "in_cache", details)
        return RewardResult(-1.0, "overlong", details)


@register_reward("cosine_length")
class CosineLength(Reward):
    r"""Correctness-aware cosine length scaling (Yeo et al. 2025, "Demystifying Long
    Chain-of-Thought Reasoning in LLMs", sec. 4.2, eq. 1).

    With ``t`` the completion's token count and ``T = max_length``::

        CosFn(t, T, r_0, r_T) = r_T + 0.5 * (r_0 - r_T) * (1 + cos(pi * t / T))

    a correct answer earns ``CosFn(t, T, correct_short, correct_long)`` (shorter is better),
    a wrong one ``CosFn(t, T, wrong_short, wrong_long)`` (longer is better: keep thinking
    when unsure), and ``t >= T`` earns ``exceed``. Defaults are the paper's: correct 2 -> 1,
    wrong -10 -> 0, exceed -10. Correctness comes from ``correctness`` (default
    :class:`~rewardkit.rewards.accuracy.BoxedAccuracy`; a value >= 0.5 is correct).

    Reasons: ``correct``, ``wrong``, ``exceeded``, ``no_token_ids``, or the correctness
    reward's reason when it cannot score (``no_gold``, ...).

    >>> reward = CosineLength(max_length=100)
    >>> ids = [[0] * 0, [0] * 100]
    >>> reward(completions=[r"\boxed{4}"] * 2, completion_ids=ids, answer=["4", "5"])
    [2.0, -10.0]
    """

    name = "cosine_length"
    reasons = ("correct", "wrong", "exceeded", NO_TOKEN_IDS)

    def __init__(
        self,
        max_length: int = 14336,
        *,
        correct_short: float = 2.0,
        correct_long: float = 1.0,
        wrong_short: float = -10.0,
        wrong_long: float = 0.0,
        exceed: float = -10.0,
        correctness: RewardLike | None = None,
        estimate_tokens: bool = False,
        name: str | None = None,
    ) -> None:
        super().__init__(name=name)
        _check_positive(max_length=max_length)
        self.max_length = max_length
        self.correct_short, self.correct_long = float(correct_short), float(correct_long)
        self.wrong_short, self.wrong_long = float(wrong_short), float(wrong_long)
        self.exceed = float(exceed)
        self.correctness = as_reward(correctness if correctness is not None else BoxedAccuracy())
        self.estimate_tokens = estimate_tokens

    def known_reasons(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys((*super().known_reasons(), *self.correctness.known_reasons())))

    def cos_fn(self, t: int, short: float, long: float) -> float:
        """Yeo et al. 2025 eq. 1: ``long + 0.5 (short - long)(1 + cos(pi t / T))``."""
        # CosFn(t, T, r_0, r_T) = r_T + 0.5 (r_0 - r_T)(1 + cos(pi t / T))  (Yeo et al. 2025)
        return long + 0.5 * (short - long) * (1.0 + math.cos(math.pi * t / self.max_length))

    def score_samples(self, samples: Sequence[Sample]) -> list[RewardResult]:
        correctness = self.correctness.score_batch(samples)
        results = []
        for sample, verdict in zip(samples, correctness, strict=False):
            n = _token_count(sample, self.estimate_tokens)
            if n is None:
                results.append(RewardResult(None, NO_TOKEN_IDS))
            elif verdict.value is None:
                results.append(RewardResult(None, verdict.reason))
            elif n >= self.max_length:  # the paper's r_exceed
                results.append(RewardResult(self.exceed, "exceeded", {"tokens": n}))
            elif verdict.value >= 0.5:
                value = self.cos_fn(n, self.correct_short, self.correct_long)
                results.append(RewardResult(value, "correct", {"tokens": n}))
            else:
                value = self.cos_fn(n, self.wrong_short, self.wrong_long)
                results.append(RewardResult(value, "wrong", {"tokens": n}))
        return results


@register_reward("repetition_penalty")
class RepetitionPenalty(Reward):
    r"""Penalty for repeated token n-grams (Yeo et al. 2025, sec. 4.2 and appendix: each
    token that completes an n-gram already seen earns ``penalty``; the paper uses n = 40
    and -0.05).

    The scalar is the sum of those per-token penalties, ``penalty * n_repeated``, floored
    at ``min_value`` (our addition, so that a degenerate completion cannot outweigh every
    other reward). :meth:`token_rewards` gives the paper's dense form, each penalty on the
    token that completes the repeated n-gram.

    >>> penalty = RepetitionPenalty(ngram_size=2, penalty=-0.1)
    >>> penalty(completions=["x"], completion_ids=[[1, 2, 1, 2, 1]])
    [-0.2]
    """

    name = "repetition_penalty"
    reasons = (OK, "repetitive", NO_TOKEN_IDS)
    logged_details = ("repeated",)
    neutral = 0.0

    def __init__(
        self,
        ngram_size: int = 40,
        penalty: float = -0.05,
        *,
        min_value: float = -1.0,
        estimate_tokens: bool = False,
        name: str | None = None,
    ) -> None:
        super().__init__(name=name)
        if not (isinstance(ngram_size, int) and ngram_size >= 1):
            raise ValueError(f"ngram_size must be an int >= 1, got {ngram_size!r}")
        if penalty > 0 or min_value > 0:
            raise ValueError(f"penalty and min_value must be <= 0, got {penalty}, {min_value}")
        self.ngram_size, self.penalty, self.min_value = ngram_size, float(penalty), float(min_value)
        self.estimate_tokens = estimate_tokens

    def _units(self, sample: Sample) -> Sequence | None:
        if sample.completion_ids is not None:
            return sample.completion_ids
        if self.estimate_tokens:
            return sample.text.split()
        return None

    def repeated_positions(self, units: Sequence) -> list[int]:
        """Indices of the tokens that complete an n-gram seen before."""
        n = self.ngram_size
        seen: set[tuple] = set()
        repeated = []
        for end in range(n, len(units) + 1):
            gram = tuple(units[end - n : end])
            if gram in seen:
                repeated.append(end - 1)
            else:
                seen.add(gram)
        return repeated

    def score_sample(self, sample: Sample) -> RewardResult:
        units = self._units(sample)
        if units is None:
            return RewardResult(None, NO_TOKEN_IDS)
        n_repeated = len(self.repeated_positions(units))
        value = max(self.min_value, self.penalty * n_repeated)  # sum of per-token penalties
        return RewardResult(
            round(value, 12), "repetitive" if n_repeated else OK, {"repeated": n_repeated}
        )

    def token_rewards(
        self, prompts=None, completions=None, completion_ids=None, **columns
    ) -> list[list[float]]:
        """The dense form: ``penalty`` on each token that completes a repeated n-gram."""
        if completion_ids is None:
            raise ValueError("token_rewards needs completion_ids")
        out = []
        for ids in completion_ids:
            row = [0.0] * len(ids)
            for i in self.repeated_positions(ids):
                row[i] = self.penalty
            out.append(row)
        return out


@register_reward("length_gated_correctness")
class LengthGatedCorrectness(Reward):
    r"""The correctness reward, counted only when the completion fits in ``max_tokens``
    (``over_value`` otherwise): a hard length budget that cannot be bought with accuracy.

    Reasons: the correctness reward's, ``too_long``, ``no_token_ids``.

    >>> reward = LengthGatedCorrectness(max_tokens=3)
    >>> ids = [[1, 2], [1, 2, 3, 4]]
    >>> reward(completions=[r"\boxed{4}"] * 2, completion_ids=ids, answer=["4", "4"])
    [1.0, 0.0]
    """

    name = "length_gated_correctness"
    reasons = (OK, "too_long", NO_TOKEN_IDS)

    def __init__(
        self,
        max_tokens: int,
        *,
        correctness: RewardLike | None = None,
        over_value: float = 0.0,
        estimate_tokens: bool = False,
        name: str | None = None,
    ) -> None:
        super().__init__(name=name)
        _check_positive(max_tokens=max_tokens)
        self.max_tokens, self.over_value = max_tokens, float(over_value)
        self.correctness = as_reward(correctness if correctness is not None else BoxedAccuracy())
        self.estimate_tokens = estimate_tokens

    def known_reasons(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys((*super().known_reasons(), *self.correctness.known_reasons())))

    def score_samples(self, samples: Sequence[Sample]) -> list[RewardResult]:
        counts = [_token_count(s, self.estimate_tokens) for s in samples]
        fitting = [i for i, n in enumerate(counts) if n is not None and n <= self.max_tokens]
        scored = self.correctness.score_batch([samples[i] for i in fitting])
        results = [
            RewardResult(None, NO_TOKEN_IDS)
            if n is None
            else RewardResult(self.over_value, "too_long", {"tokens": n})
            for n in counts
        ]
        for i, verdict in zip(fitting, scored, strict=False):
            results[i] = RewardResult(verdict.value, verdict.reason, {"tokens": counts[i]})
        return results
