r"""Scoring completion rows with rewardkit rewards (or any TRL reward function), weighted.

Each scored row gains ``rewards`` (each reward's value by name), ``reasons`` (each
reward's reason, ``"ok"`` for plain functions), ``reward`` (the weighted sum, as TRL sums
``reward_weights``: rewards that are ``None`` are left out, and the sum is ``None`` only
when all are) and ``correct`` (the correctness reward's value at least ``pass_threshold``,
``None`` when it could not be scored).

>>> scorer = Scorer(["boxed_accuracy"])
>>> row = next(scorer.score_rows([{"prompt": "2+2?", "completion": r"\boxed{4}", "answer": "4"}]))
>>> row["reward"], row["correct"], row["reasons"]
(1.0, True, {'boxed_accuracy': 'ok'})
"""

from __future__ import annotations

import enum
import inspect
import logging
import math
import os
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from itertools import islice
from typing import Any

from rewardkit.rewards import Reward, get_reward

__all__ = ["SCORE_FIELDS", "Scorer"]

logger = logging.getLogger(__name__)

# Fields that scoring adds, and fields of a completion row that are not dataset columns.
SCORE_FIELDS = ("reward", "rewards", "reasons", "correct")
# Public attributes that hold what a run did, not how it scores (a judge backend's usage
# counters and circuit breaker): left out of the fingerprint.
_RUNTIME_STATE = frozenset({"usage", "breaker"})
# Objects described by their type only (their state is weights, not settings).
_OPAQUE_MODULES = frozenset({"torch", "transformers", "tokenizers", "vllm"})
_NOT_COLUMNS = frozenset({"prompt", "completion", "prompt_id", "sample", *SCORE_FIELDS})


class Scorer:
    """Scores completion rows in batches with one or more rewards.

    Args:
        rewards: reward objects, reward functions, or registered names / ``module:attr``
            paths (built with :func:`rewardkit.rewards.get_reward`).
        weights: one weight per reward (default all 1.0).
        correct: the reward (name or position) whose value says a completion is correct,
            for pass rates, pass@k and KTO labels (default: the first).
        pass_threshold: the value from which ``correct`` is true.
        batch_size: rows per reward call.
        workers: processes to score in (1: in this process). Rewards must be picklable,
            as rewardkit rewards are.
    """

    def __init__(
        self,
        rewards: Sequence[Any] | Any,
        weights: Sequence[float] | None = None,
        *,
        correct: str | int = 0,
        pass_threshold: float = 1.0,
        batch_size: int = 512,
        workers: int = 1,
    ) -> None:
        if isinstance(rewards, (str, bytes)) or callable(rewards):
            rewards = [rewards]
        if not rewards:
            raise ValueError("give at least one reward")
        self.rewards = [get_reward(r) if isinstance(r, str) else r for r in rewards]
        for reward in self.rewards:
            if not callable(reward):
                raise TypeError(f"{reward!r} is not a reward function")
        self.names = _unique_names(self.rewards)
        self.weights = [1.0] * len(self.rewards) if weights is None else [float(w) for w in weights]
        if len(self.weights) != len(self.rewards):
            raise ValueError(f"{len(self.weights)} weights for {len(self.rewards)} rewards")
        if isinstance(correct, int):
            if not 0 <= correct < len(self.names):
                raise ValueError(f"correct={correct} is not the position of a reward")
            self.correct_name = self.names[correct]
        elif correct in self.names:
            self.correct_name = correct
        else:
            raise ValueError(f"correct={correct!r} is not one of the rewards {self.names}")
        if batch_size < 1 or workers < 1:
            raise ValueError("batch_size and workers must be at least 1")
        self.pass_threshold = float(pass_threshold)
        self.batch_size = batch_size
        self.workers = workers

    def fingerprint(self) -> dict[str, Any]:
        """The settings a resumed run must share: each reward's whole configuration, the
        weights and what counts as correct."""
        return {
            "rewards": dict(zip(self.names, (_describe(r) for r in self.rewards), strict=True)),
            "weights": self.weights,
            "correct": self.correct_name,
            "pass_threshold": self.pass_threshold,
        }

    def score_rows(self, rows: Iterable[dict[str, Any]]) -> Iterator[dict[str, Any]]:
        """Stream scored rows, in input order."""
        batches = _batches(iter(rows), self.batch_size)
        if self.workers == 1:
            for batch in batches:
                yield from self.score_batch(batch)
            return
        import multiprocessing

        # Submit a few batches ahead only (Pool.imap would read the whole input at once).
        pending: deque = deque()
        with multiprocessing.get_context("spawn").Pool(self.workers) as pool:
            for batch in batches:
                pending.append(pool.apply_async(self.score_batch, (batch,)))
                if len(pending) >= 2 * self.workers:
                    yield from pending.popleft().get()
            while pending:
                yield from pending.popleft().get()

    def score_batch(self, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Score one batch of rows (returns new row dicts)."""
        prompts = [row.get("prompt") for row in rows]
        completions = [row["completion"] for row in rows]
        keys = dict.fromkeys(k for row in rows for k in row if k not in _NOT_COLUMNS)
        columns = {k: [row.get(k) for row in rows] for k in keys}
        per_reward = [self._call(reward, prompts, completions, columns) for reward in self.rewards]
        scored = []
        for i, row in enumerate(rows):
            values = {
                name: results[0][i] for name, results in zip(self.names, per_reward, strict=True)
            }
            reasons = {
                name: results[1][i] for name, results in zip(self.names, per_reward, strict=True)
            }
            terms = [
                w * v for w, v in zip(self.weights, values.values(), strict=True) if v is not None
            ]
            judged = values[self.correct_name]
            scored.append(
                {
                    **row,
                    "reward": math.fsum(terms) if terms else None,
                    "rewards": values,
                    "reasons": reasons,
                    "correct": None if judged is None else judged >= self.pass_threshold,
                }
            )
        return scored

    @staticmethod
    def _call(
        reward: Callable[..., Any], prompts: list, completions: list, columns: dict[str, list]
    ) -> tuple[list[float | None], list[str]]:
        if isinstance(reward, Reward):  # values with reasons
            results = reward.score(prompts, completions, None, **columns)
            return [_number(r.value) for r in results], [r.reason for r in results]
        try:
            values = _plain_call(reward, prompts, completions, columns)
            return values, ["ok" if v is not None else "none" for v in values]
        except Exception:  # a bad row must not sink the batch: retry one row at a time
            logger.exception("reward %r failed on a batch; scoring one by one", reward)
        values, reasons = [], []
        for i in range(len(completions)):
            try:
                row_columns = {k: v[i : i + 1] for k, v in columns.items()}
                value = _plain_call(reward, prompts[i : i + 1], completions[i : i + 1], row_columns)
                values.append(value[0])
                reasons.append("ok" if value[0] is not None else "none")
            except Exception:
                logger.debug("reward %r failed on row %d", reward, i, exc_info=True)
                values.append(None)
                reasons.append("internal_error")
        return values, reasons


def _plain_call(
    reward: Callable[..., Any], prompts: list, completions: list, columns: dict[str, list]
) -> list[float | None]:
    values = [_number(v) for v in reward(prompts=prompts, completions=completions, **columns)]
    if len(values) != len(completions):
        raise ValueError(f"{reward!r} gave {len(values)} values for {len(completions)} rows")
    return values


def _describe(value: Any, depth: int = 0) -> Any:
    """A JSON description of a reward's whole configuration, nested objects included
    (``VerifyOptions``, a composite's components, ...), so that any changed option is
    noticed: plain values as they are, objects as their type and public attributes,
    functions and other opaque objects by their qualified name, paths as text. Private
    attributes (caches, loaded models, counters) and run-time state (``usage``,
    ``breaker``) are left out.

    >>> _describe(get_reward("boxed_accuracy@rel_tol=0.5"))["settings"]["verify_options"][
    ...     "settings"]["rel_tol"]
    0.5
    """
    if value is None or isinstance(value, (str, bool, int, float)):
        return value
    if depth > 8:
        return f"<{type(value).__qualname__}>"
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    if isinstance(value, enum.Enum):
        return f"{type(value).__qualname__}.{value.name}"
    if isinstance(value, dict):
        return {str(k): _describe(v, depth + 1) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        items = sorted(value, key=repr) if isinstance(value, (set, frozenset)) else value
        return [_describe(v, depth + 1) for v in items]
    if inspect.isfunction(value) or inspect.isclass(value) or inspect.isbuiltin(value):
        return f"{value.__module__}.{value.__qualname__}"
    kind = type(value)
    if kind.__module__.split(".")[0] in _OPAQUE_MODULES:  # a loaded model or tokenizer
        return f"<{kind.__module__}.{kind.__qualname__}>"
    state = getattr(value, "__dict__", None)
    if state is None and hasattr(type(value), "__slots__"):
        state = {k: getattr(value, k) for k in type(value).__slots__ if hasattr(value, k)}
    described: dict[str, Any] = {"type": f"{kind.__module__}.{kind.__qualname__}"}
    if state is not None:
        described["settings"] = {
            k: _describe(v, depth + 1)
            for k, v in sorted(state.items())
            if (not k.startswith("_") or k == "__name__") and k not in _RUNTIME_STATE
        }
    return described


def _number(value: Any) -> float | None:
    if value is None:
        return None
    value = float(value)
    return None if math.isnan(value) else value


def _unique_names(rewards: list[Any]) -> list[str]:
    names: list[str] = []
    for reward in rewards:
        name = getattr(reward, "__name__", type(reward).__name__)
        while name in names:
            name = f"{name}_{len(names)}"
        names.append(name)
    return names


def _batches(rows: Iterator[dict[str, Any]], size: int) -> Iterator[list[dict[str, Any]]]:
    while batch := list(islice(rows, size)):
        yield batch
