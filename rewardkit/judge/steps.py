"""A step scorer for process rewards: a judge finds the first wrong step (ProcessBench).

Following the step-scorer protocol ``score_steps(problem, steps) -> list[float | None]``,
:class:`JudgeStepScorer` asks the judge for the index of the earliest wrong step, as in
ProcessBench (Zheng et al., 2024): steps before it score 1.0, the wrong step 0.0, the
steps after it ``None`` (they cannot be judged on a broken premise); "no error" scores
every step 1.0. When the judge gives no usable answer, every step is ``None``.

>>> from rewardkit.judge.testing_server import FakeJudgeServer
>>> with FakeJudgeServer() as server:
...     scorer = JudgeStepScorer(model="fake-judge", base_url=server.base_url, cache=False)
...     scorer.score_steps("2 + 3 * 4?", ["3 * 4 = 12", "2 + 12 = 15 (wrong)", "So 15."])
[1.0, 0.0, None]
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rewardkit.judge.backends import JudgeBackend, make_backend
from rewardkit.judge.backends.base import JudgeConfigError, JudgeReply, JudgeRequest
from rewardkit.judge.cache import JudgeCache
from rewardkit.judge.engine import JudgeClient, resolve_cache, run_sync
from rewardkit.judge.parse import parse_first_error
from rewardkit.judge.prompts import PromptTemplates

logger = logging.getLogger(__name__)

NO_ERROR = -1


@dataclass(frozen=True)
class StepVerdict:
    """Step scores, the judged index of the first wrong step (``-1``: none, ``None``: no
    answer) and a reason (``ok``, ``unparseable_verdict``, ``truncated`` or a judge failure)."""

    scores: list[float | None]
    first_error: int | None
    reason: str


def scores_from_first_error(n_steps: int, first_error: int) -> list[float | None]:
    """Step scores from the index of the first wrong step.

    >>> scores_from_first_error(4, 1), scores_from_first_error(2, -1)
    ([1.0, 0.0, None, None], [1.0, 1.0])
    """
    if first_error == NO_ERROR:
        return [1.0] * n_steps
    return [1.0] * first_error + [0.0] + [None] * (n_steps - first_error - 1)


class JudgeStepScorer:
    """Scores solution steps with an LLM judge (same backends and cache as the rubric reward).

    Args:
        backend: ``"openai"`` (default), ``"transformers"`` or a ready ``JudgeBackend``.
        model, base_url, api_key_env: the judge, as for :class:`RubricJudgeReward`.
        cache: ``True`` (default cache file), a path, a ``JudgeCache`` or ``False``.
        reask: re-asks of a judge whose reply holds no step index.
        call_timeout: seconds for one whole call (default: the backend's).
        temperature, max_tokens: the judge's sampling parameters.
        templates: :class:`PromptTemplates` to reword the prompt.
        **backend_options: passed to the backend (``max_concurrency``, ``timeout``, ...).
    """

    def __init__(
        self,
        backend: JudgeBackend | str = "openai",
        *,
        model: str | None = None,
        base_url: str | None = None,
        api_key_env: str | None = None,
        cache: JudgeCache | str | Path | bool | None = True,
        reask: int = 1,
        call_timeout: float | None = None,
        temperature: float = 0.0,
        max_tokens: int = 2048,
        templates: PromptTemplates | None = None,
        **backend_options: Any,
    ) -> None:
        judge_backend = make_backend(
            backend, model=model, base_url=base_url, api_key_env=api_key_env, **backend_options
        )
        self.client = JudgeClient(
            judge_backend,
            resolve_cache(cache),
            reask=reask,
            call_timeout=call_timeout,
            truncated_max_tokens=2 * max_tokens,
        )
        self.temperature = float(temperature)
        self.max_tokens = max_tokens
        self.templates = templates or PromptTemplates()

    def score_steps(self, problem: str, steps: list[str]) -> list[float | None]:
        """One score per step: 1.0 before the first wrong step, 0.0 at it, ``None`` after."""
        return self.judge_many([(problem, steps)])[0].scores

    def judge_many(self, items: Sequence[tuple[str, Sequence[str]]]) -> list[StepVerdict]:
        """:meth:`ajudge_many` from synchronous code."""

        async def judge_and_close() -> list[StepVerdict]:
            try:
                return await self.ajudge_many(items)
            finally:
                await self.client.backend.aclose()

        return run_sync(judge_and_close)

    async def ajudge_many(self, items: Sequence[tuple[str, Sequence[str]]]) -> list[StepVerdict]:
        """Judge many (problem, steps) pairs concurrently; never raises."""
        verdicts: list[StepVerdict | None] = [None] * len(items)
        requests: list[JudgeRequest] = []
        asked: list[int] = []
        for k, (problem, steps) in enumerate(items):
            if not steps:
                verdicts[k] = StepVerdict([], None, "ok")
                continue
            messages = self.templates.first_error_messages(problem, list(steps))
            requests.append(
                JudgeRequest(
                    tuple(messages), temperature=self.temperature, max_tokens=self.max_tokens
                )
            )
            asked.append(k)
        sizes = [len(items[k][1]) for k in asked]

        def read(i: int, reply: JudgeReply) -> tuple[int | None, str]:
            verdict = parse_first_error(reply.text, sizes[i])
            return (None if verdict.value is None else int(verdict.value)), verdict.reason

        try:
            answers = await self.client.ask(requests, read)
        except JudgeConfigError:
            raise  # a misconfigured judge stops the run at its first call
        except Exception as exc:  # a bug here must not end a training run
            logger.exception("judge step scorer failed")
            return [
                v or StepVerdict([None] * len(items[k][1]), None, f"internal_error: {exc}")
                for k, v in enumerate(verdicts)
            ]
        for k, answer in zip(asked, answers, strict=True):
            n = len(items[k][1])
            if answer.failure is not None:
                verdicts[k] = StepVerdict([None] * n, None, answer.reason)
            elif answer.parsed is None:
                reason = "truncated" if answer.reason == "truncated" else "unparseable_verdict"
                verdicts[k] = StepVerdict([None] * n, None, reason)
            else:
                verdicts[k] = StepVerdict(
                    scores_from_first_error(n, answer.parsed), answer.parsed, "ok"
                )
        return [v for v in verdicts if v is not None]
