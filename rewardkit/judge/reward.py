"""Rubric rewards scored by an LLM judge, for TRL trainers and any other caller.

:class:`RubricJudgeReward` is an ``async`` callable: TRL's GRPOTrainer sees the
coroutine ``__call__`` and awaits it beside the other async rewards, so judge requests
overlap with other work. :class:`SyncRubricJudgeReward` is the same reward with a plain
``__call__`` (and ``score`` works on both) for callers without an event loop, including
code already running inside one.

Three modes:

- ``explicit``: one yes/no verdict per criterion; score = sum_j w_j c_j / sum_{w_j>0} w_j,
  clipped to [0, 1], pitfalls subtracting (see :meth:`Rubric.explicit_score`);
- ``implicit``: one Likert rating of the whole rubric, normalised to [0, 1];
- ``group``: the group-relative option: the completions of one prompt (consecutive rows
  with the same prompt, ``num_generations`` at most) are judged together and ranked;
  the best gets 1.0, the worst 0.0, evenly spaced between. The group's first row gives
  the rubric. When a trainer spreads one prompt's completions over several processes,
  each process ranks the ones it holds.

A completion the judge cannot score gets ``None`` (TRL skips it) and a reason:
``judge_unavailable``, ``timeout``, ``rate_limited``, ``bad_judge_reply``,
``judge_rejected``, ``truncated`` (the reply was cut off by ``max_tokens``: raise it),
``unparseable_verdict``, ``no_logprobs`` (with ``require_logprobs``), ``invalid_rubric``,
``singleton_group`` or ``internal_error``. Each scored result's details say whether its
score came from log-probabilities (``score_kind: "logprob"``) or from the sampled verdict
(``"sampled"``). Nothing raises into the trainer, except :class:`JudgeConfigError` at the
first call when the judge rejects a request in a way no request can get past (a wrong
model name, a wrong URL, an unknown field): a misconfigured judge stops the run at once.

>>> from rewardkit.judge.testing_server import FakeJudgeServer
>>> with FakeJudgeServer() as server:
...     reward = SyncRubricJudgeReward(
...         [{"text": "Gives the final answer 42", "category": "essential"}],
...         model="fake-judge", base_url=server.base_url, cache=False)
...     reward(prompts=["What is 6 * 7?"] * 2,
...            completions=["6 * 7 = 42, so the final answer is 42.", "It is 41."])
[1.0, 0.0]
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from rewardkit.judge.backends import JudgeBackend, make_backend
from rewardkit.judge.backends.base import (
    BAD_JUDGE_REPLY,
    JUDGE_REJECTED,
    JUDGE_UNAVAILABLE,
    RATE_LIMITED,
    TIMEOUT,
    TRUNCATED,
    JudgeConfigError,
    JudgeRequest,
)
from rewardkit.judge.cache import JudgeCache
from rewardkit.judge.engine import Answer, JudgeClient, resolve_cache, run_sync
from rewardkit.judge.parse import parse_ranking
from rewardkit.judge.prompts import PromptTemplates
from rewardkit.judge.rubric import Rubric, load_rubric
from rewardkit.judge.samples import judged_texts, prompt_groups, sample_rubric
from rewardkit.judge.verdicts import SAMPLED, read_rating, read_yes_no
from rewardkit.rewards.base import INTERNAL_ERROR, OK, Reward, RewardResult, Sample, make_samples
from rewardkit.rewards.registry import register_reward

logger = logging.getLogger(__name__)

UNPARSEABLE_VERDICT = "unparseable_verdict"
INVALID_RUBRIC = "invalid_rubric"
SINGLETON_GROUP = "singleton_group"
NO_LOGPROBS = "no_logprobs"
MODES = ("explicit", "implicit", "group")
_DETAIL_CHARS = 2000


@register_reward("rubric_judge")
class RubricJudgeReward(Reward):
    """An LLM judge scores each completion against a rubric; ``await reward(...)``.

    Args:
        rubric: a :class:`Rubric`, a path to a YAML/JSON/TOML rubric, or a list/dict of
            criteria. May be ``None`` when every row brings its own (``rubric_column``).
        mode: ``"explicit"``, ``"implicit"`` or ``"group"`` (see the module docs).
        backend: ``"openai"`` (default), ``"transformers"`` or a ready ``JudgeBackend``.
        model: the judge model (a server's model name, or a local path for transformers).
        base_url: the OpenAI-compatible API root, e.g. ``http://localhost:8000/v1``.
        api_key_env: the environment variable holding the API key, if the server wants one.
        cache: ``True`` (default: the user cache directory), a path, a ``JudgeCache``, or
            ``False``.
        reask: how many times to re-ask a judge whose reply holds no verdict.
        truncated_max_tokens: ``max_tokens`` of the re-ask of a reply cut off by
            ``max_tokens`` (default: twice ``max_tokens``; ``0``: report ``truncated``
            without asking again).
        call_timeout: seconds for one whole call (default: the backend's, 440 s for the
            OpenAI backend's defaults); what has not come back is ``None``, ``timeout``.
        cache_namespace: a label in every cache key, for a new checkpoint served under the
            old model name (the key already holds the backend, URL, model, messages, every
            sampling parameter and ``extra_body``).
        rubric_column: a dataset column with a per-row rubric (overrides ``rubric``).
        reference_column: a dataset column with a reference answer shown to the judge.
        num_generations: the group size in ``group`` mode (default: runs of equal prompts).
        temperature, max_tokens, seed: the judge's sampling parameters.
        use_logprobs: score from the judge's top log-probabilities (G-Eval) when the
            backend returns them; ``top_logprobs`` alternatives are asked for. A server
            that sends none gets one warning and sampled scores (``score_kind``).
        require_logprobs: with ``use_logprobs``, a score without log-probabilities is
            ``None`` with reason ``no_logprobs`` instead of a sampled score.
        templates: :class:`PromptTemplates` to reword the prompts.
        max_response_chars: completions are cut to this many characters for the judge.
        **backend_options: passed to the backend (``max_concurrency``, ``timeout``,
            ``max_retries``, ``batch_size``, ...).
    """

    name = "rubric_judge"
    reasons = (
        OK,
        UNPARSEABLE_VERDICT,
        JUDGE_UNAVAILABLE,
        TIMEOUT,
        RATE_LIMITED,
        BAD_JUDGE_REPLY,
        JUDGE_REJECTED,
        TRUNCATED,
        NO_LOGPROBS,
        INVALID_RUBRIC,
        SINGLETON_GROUP,
        INTERNAL_ERROR,
    )
    logged_details = ("verdict", "score_kind")

    def __init__(
        self,
        rubric: Rubric | str | Path | Sequence | dict | None = None,
        *,
        mode: str = "explicit",
        backend: JudgeBackend | str = "openai",
        model: str | None = None,
        base_url: str | None = None,
        api_key_env: str | None = None,
        cache: JudgeCache | str | Path | bool | None = True,
        reask: int = 1,
        truncated_max_tokens: int | None = None,
        call_timeout: float | None = None,
        cache_namespace: str = "",
        rubric_column: str | None = None,
        reference_column: str | None = None,
        num_generations: int | None = None,
        temperature: float = 0.0,
        max_tokens: int = 1024,
        seed: int | None = None,
        use_logprobs: bool = False,
        require_logprobs: bool = False,
        top_logprobs: int = 5,
        templates: PromptTemplates | None = None,
        max_response_chars: int = 20_000,
        name: str | None = None,
        **backend_options: Any,
    ) -> None:
        super().__init__(name=name)
        if mode not in MODES:
            raise ValueError(f"unknown judge mode {mode!r}: use one of {', '.join(MODES)}")
        if rubric is None and rubric_column is None:
            raise ValueError("a rubric judge needs a rubric, or a rubric_column with one per row")
        self.rubric = load_rubric(rubric) if rubric is not None else None
        if num_generations is not None and (
            not isinstance(num_generations, int) or num_generations < 2
        ):
            raise ValueError(f"num_generations must be an integer >= 2, got {num_generations!r}")
        if not isinstance(max_tokens, int) or max_tokens < 1:
            raise ValueError(f"max_tokens must be a positive integer, got {max_tokens!r}")
        if not isinstance(max_response_chars, int) or max_response_chars < 1:
            raise ValueError(
                f"max_response_chars must be a positive integer, got {max_response_chars!r}"
            )
        if temperature < 0:
            raise ValueError(f"temperature must be >= 0, got {temperature!r}")
        if use_logprobs and (not isinstance(top_logprobs, int) or not 1 <= top_logprobs <= 20):
            raise ValueError(f"top_logprobs must be an integer in [1, 20], got {top_logprobs!r}")
        judge_backend = make_backend(
            backend, model=model, base_url=base_url, api_key_env=api_key_env, **backend_options
        )
        if require_logprobs and not use_logprobs:
            raise ValueError("require_logprobs=True needs use_logprobs=True")
        self.mode = mode
        self.client = JudgeClient(
            judge_backend,
            resolve_cache(cache),
            reask=reask,
            call_timeout=call_timeout,
            truncated_max_tokens=2 * max_tokens
            if truncated_max_tokens is None
            else truncated_max_tokens,
            cache_namespace=cache_namespace,
        )
        self.rubric_column = rubric_column
        self.reference_column = reference_column
        self.num_generations = num_generations
        self.temperature = float(temperature)
        self.max_tokens = max_tokens
        self.seed = seed
        self.use_logprobs = use_logprobs
        self.require_logprobs = require_logprobs
        self._warned_no_logprobs = False
        self.top_logprobs = top_logprobs if use_logprobs else 0
        self.templates = templates or PromptTemplates()
        self.max_response_chars = max_response_chars

    @property
    def backend(self) -> JudgeBackend:
        return self.client.backend

    async def aclose(self) -> None:
        """Close the judge connections held for the running event loop (they are kept
        between calls so a trainer's loop reuses them)."""
        await self.backend.aclose()

    async def __call__(
        self,
        prompts: Sequence[Any] | None = None,
        completions: Sequence[Any] | None = None,
        completion_ids: Sequence[Sequence[int]] | None = None,
        log_metric: Callable[[str, float], None] | None = None,
        log_extra: Callable[[str, list], None] | None = None,
        **kwargs: Any,
    ) -> list[float | None]:
        before = self._spent()
        results = await self.ascore(prompts, completions, completion_ids, **kwargs)
        self._report(results, log_metric, log_extra)
        self._report_usage(before, results, log_metric)
        return [r.value for r in results]

    async def ascore(
        self,
        prompts: Sequence[Any] | None = None,
        completions: Sequence[Any] | None = None,
        completion_ids: Sequence[Sequence[int]] | None = None,
        **kwargs: Any,
    ) -> list[RewardResult]:
        """Like :meth:`score`, awaited: one :class:`RewardResult` per completion."""
        try:
            samples = make_samples(prompts, completions, completion_ids, kwargs)
        except (TypeError, ValueError) as exc:
            return self._malformed_batch(exc, completions)
        return await self.ascore_samples(samples)

    def _malformed_batch(
        self, exc: Exception, completions: Sequence[Any] | None
    ) -> list[RewardResult]:
        """One ``internal_error`` per completion of a batch the trainer passed malformed."""
        logger.error("reward %s got a malformed batch: %s", self.__name__, exc)
        return [RewardResult(None, INTERNAL_ERROR, {"error": str(exc)})] * len(completions or ())

    async def ascore_samples(self, samples: Sequence[Sample]) -> list[RewardResult]:
        """Score samples with the judge; never raises."""
        try:
            if self.mode == "group":
                return await self._score_groups(samples)
            return await self._score_each(samples)
        except JudgeConfigError:
            raise  # a misconfigured judge stops the run at its first call
        except Exception as exc:  # a bug here must not end a training run
            logger.exception("reward %s failed on a batch", self.__name__)
            error = {"error": f"{type(exc).__name__}: {exc}"}
            return [RewardResult(None, INTERNAL_ERROR, error) for _ in samples]

    def score_batch(self, samples: Sequence[Sample]) -> list[RewardResult]:
        """:meth:`score_samples`, which never raises but for :class:`JudgeConfigError`."""
        return self.score_samples(samples)

    def score_samples(self, samples: Sequence[Sample]) -> list[RewardResult]:
        """The synchronous path behind :meth:`score` (safe inside a running event loop)."""

        async def score_and_close() -> list[RewardResult]:
            try:
                return await self.ascore_samples(samples)
            finally:
                await self.aclose()

        return run_sync(score_and_close)

    # -- the modes ---------------------------------------------------------------

    async def _score_each(self, samples: Sequence[Sample]) -> list[RewardResult]:
        results: list[RewardResult | None] = [None] * len(samples)
        requests: list[JudgeRequest] = []
        owners: list[int] = []
        rubrics: dict[int, Rubric] = {}
        for i, sample in enumerate(samples):
            rubric = self._rubric_for(sample)
            if not isinstance(rubric, Rubric):
                results[i] = RewardResult(None, INVALID_RUBRIC, {"error": rubric})
                continue
            rubrics[i] = rubric
            question, response, reference = self._texts(sample)
            if self.mode == "explicit":
                for criterion in rubric.criteria:
                    messages = self.templates.criterion_messages(
                        question, response, criterion, reference
                    )
                    requests.append(self._request(messages))
                    owners.append(i)
            else:
                messages = self.templates.likert_messages(question, response, rubric, reference)
                requests.append(self._request(messages))
                owners.append(i)
        if self.mode == "explicit":
            answers = await self.client.ask(
                requests, lambda k, reply: read_yes_no(reply, self.use_logprobs)
            )
        else:
            scales = [rubrics[i].scale for i in owners]
            answers = await self.client.ask(
                requests,
                lambda k, reply: read_rating(reply, *scales[k], self.use_logprobs),
            )
        self._check_logprobs(answers)
        per_sample: dict[int, list[Answer]] = {}
        for i, answer in zip(owners, answers, strict=True):
            per_sample.setdefault(i, []).append(answer)
        for i, sample_answers in per_sample.items():
            results[i] = self._combine(rubrics[i], sample_answers)
        return [r if r is not None else RewardResult(None, INTERNAL_ERROR) for r in results]

    def _combine(self, rubric: Rubric, answers: list[Answer]) -> RewardResult:
        verdicts = [None if a.parsed is None else a.parsed.value for a in answers]
        kinds = {a.parsed.kind for a in answers if a.parsed is not None}
        details: dict[str, Any] = {
            "verdict": " ".join("-" if v is None else f"{v:g}" for v in verdicts),
            "judge_text": [(a.reply.text[:_DETAIL_CHARS] if a.reply else None) for a in answers],
            "reasks": sum(a.reasks for a in answers),
        }
        failures = [a for a in answers if a.failure is not None]
        if failures:
            details["error"] = failures[0].failure.detail
            return RewardResult(None, failures[0].reason, details)
        unparsed = [a for a in answers if a.parsed is None]
        if unparsed:
            return self._unparsed(unparsed[0], details)
        details["score_kind"] = SAMPLED if SAMPLED in kinds else kinds.pop()
        if self.require_logprobs and details["score_kind"] == SAMPLED:
            details["error"] = "the judge's reply had no usable log-probabilities"
            return RewardResult(None, NO_LOGPROBS, details)
        if self.mode == "explicit":
            details["criteria"] = verdicts
            return RewardResult(rubric.explicit_score(verdicts), OK, details)
        return RewardResult(rubric.normalise_likert(verdicts[0]), OK, details)

    async def _score_groups(self, samples: Sequence[Sample]) -> list[RewardResult]:
        results: list[RewardResult | None] = [None] * len(samples)
        requests: list[JudgeRequest] = []
        groups: list[list[int]] = []
        for members in prompt_groups(samples, self.num_generations):
            if len(members) < 2:
                results[members[0]] = RewardResult(None, SINGLETON_GROUP)
                continue
            rubric = self._rubric_for(samples[members[0]])
            if not isinstance(rubric, Rubric):
                for i in members:
                    results[i] = RewardResult(None, INVALID_RUBRIC, {"error": rubric})
                continue
            question, _, _ = self._texts(samples[members[0]])
            responses = [self._texts(samples[i])[1] for i in members]
            requests.append(
                self._request(self.templates.group_messages(question, responses, rubric))
            )
            groups.append(members)
        sizes = [len(g) for g in groups]
        answers = await self.client.ask(
            requests, lambda k, reply: parse_ranking(reply.text, sizes[k])
        )
        for members, answer in zip(groups, answers, strict=True):
            details: dict[str, Any] = {
                "judge_text": answer.reply.text[:_DETAIL_CHARS] if answer.reply else None,
                "reasks": answer.reasks,
            }
            if answer.failure is not None:
                details["error"] = answer.failure.detail
                for i in members:
                    results[i] = RewardResult(None, answer.reason, details)
                continue
            if answer.parsed is None:
                unparsed = self._unparsed(answer, details)
                for i in members:
                    results[i] = unparsed
                continue
            details["score_kind"] = SAMPLED  # a ranking is read from the text
            n = len(members)
            for rank, position in enumerate(answer.parsed):
                # score = 1 - rank / (n - 1): best 1.0, worst 0.0
                results[members[position]] = RewardResult(
                    1.0 - rank / (n - 1), OK, {**details, "verdict": f"rank {rank + 1}/{n}"}
                )
        return [r if r is not None else RewardResult(None, INTERNAL_ERROR) for r in results]

    # -- helpers -----------------------------------------------------------------

    def _request(self, messages: list[dict[str, str]]) -> JudgeRequest:
        return JudgeRequest(
            tuple(messages),
            temperature=self.temperature,
            max_tokens=self.max_tokens,
            top_logprobs=self.top_logprobs,
            seed=self.seed,
        )

    def _unparsed(self, answer: Answer, details: dict[str, Any]) -> RewardResult:
        """No verdict: ``truncated`` (with the hint) or ``unparseable_verdict``, the first
        reply's reason either way."""
        details = {**details, "parse_reason": answer.reason}
        if answer.reason == TRUNCATED:
            tokens = answer.reply.completion_tokens if answer.reply else 0
            details["error"] = (
                f"the judge's reply was cut off by max_tokens ({tokens} tokens, "
                "finish_reason 'length') before its verdict: raise max_tokens"
            )
            return RewardResult(None, TRUNCATED, details)
        return RewardResult(None, UNPARSEABLE_VERDICT, details)

    def _check_logprobs(self, answers: Sequence[Answer]) -> None:
        """One warning when log-probabilities were asked for and the judge sent none."""
        if not self.use_logprobs or self._warned_no_logprobs:
            return
        if any(a.reply is not None and a.reply.logprobs is None for a in answers):
            self._warned_no_logprobs = True
            logger.warning(
                "reward %s: use_logprobs=True but the judge %r sent no log-probabilities "
                "(some servers drop them); its scores are the sampled verdicts "
                "(score_kind='sampled'); pass require_logprobs=True to make that an error",
                self.__name__,
                self.backend,
            )

    def _rubric_for(self, sample: Sample) -> Rubric | str:
        return sample_rubric(sample, self.rubric, self.rubric_column)

    def _texts(self, sample: Sample) -> tuple[str, str, str | None]:
        return judged_texts(sample, self.max_response_chars, self.reference_column)

    def _spent(self) -> dict[str, int]:
        return {**self.backend.usage.snapshot(), "cache_hits": self.client.cache_hits}

    def _report_usage(
        self,
        before: dict[str, int],
        results: Sequence[RewardResult],
        log_metric: Callable[[str, float], None] | None,
    ) -> None:
        """Log what this call spent, and one warning when completions went unscored."""
        after = self._spent()
        spent = {key: after[key] - before.get(key, 0) for key in after}
        logger.info("reward %s judge usage: %s", self.__name__, spent)
        unscored = Counter(r.reason for r in results if r.value is None)
        if unscored:
            logger.warning(
                "reward %s: %d of %d completions unscored: %s",
                self.__name__,
                sum(unscored.values()),
                len(results),
                dict(unscored),
            )
        if log_metric is None:
            return
        for key, amount in spent.items():
            log_metric(f"{self.__name__}/judge/{key}", float(amount))
        if self.mode == "explicit" and self.rubric_column is None and self.rubric is not None:
            # share of scored completions meeting criterion k (making it, for a pitfall)
            met = [r.details["criteria"] for r in results if "criteria" in r.details]
            for k in range(len(self.rubric.criteria) if met else 0):
                share = sum(m[k] for m in met) / len(met)
                log_metric(f"{self.__name__}/criterion/{k + 1}", share)


@register_reward("rubric_judge_sync")
class SyncRubricJudgeReward(RubricJudgeReward):
    """:class:`RubricJudgeReward` with a synchronous ``__call__`` for callers without an
    event loop (it also works from inside one: the judging then runs on a worker thread)."""

    name = "rubric_judge"

    def __call__(  # type: ignore[override]
        self,
        prompts: Sequence[Any] | None = None,
        completions: Sequence[Any] | None = None,
        completion_ids: Sequence[Sequence[int]] | None = None,
        log_metric: Callable[[str, float], None] | None = None,
        log_extra: Callable[[str, list], None] | None = None,
        **kwargs: Any,
    ) -> list[float | None]:
        before = self._spent()
        try:
            results = self.score(prompts, completions, completion_ids, **kwargs)
        except (TypeError, ValueError) as exc:
            results = self._malformed_batch(exc, completions)
        self._report(results, log_metric, log_extra)
        self._report_usage(before, results, log_metric)
        return [r.value for r in results]
