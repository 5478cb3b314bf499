"""Calling a reward function the way TRL's trainers call it.

GRPOTrainer passes everything as keywords: ``prompts``, ``completions``,
``completion_ids``, ``trainer_state``, ``log_metric``, ``log_extra`` and every dataset
column as a list; async reward functions are awaited. The testing tools call rewards
through :func:`call_like_trl` so that a reward that works here works in a trainer.

>>> call_like_trl(lambda completions, **kw: [len(kw["completion_ids"][0])], ["hé"], None, {})
[3]
"""

from __future__ import annotations

import asyncio
import inspect
import threading
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from rewardkit.text import completion_text

__all__ = ["call_like_trl", "call_reward", "is_async_reward", "with_deadline"]


def call_reward(reward: Callable[..., Any], **kwargs: Any) -> Any:
    """Call a reward with keywords; await it when it is async (from any thread or loop).

    >>> async def half(completions, **kw):
    ...     return [0.5 for _ in completions]
    >>> call_reward(half, completions=["a"])
    [0.5]
    """
    result = reward(**kwargs)
    if not inspect.isawaitable(result):
        return result
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(_awaited(result))
    box: dict[str, Any] = {}  # a loop runs in this thread: await in a fresh one

    def run() -> None:
        try:
            box["value"] = asyncio.run(_awaited(result))
        except BaseException as exc:  # re-raised in the caller's thread
            box["error"] = exc

    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    worker.join()
    if "error" in box:
        raise box["error"]
    return box["value"]


async def _awaited(awaitable: Any) -> Any:
    return await awaitable


def call_like_trl(
    reward: Callable[..., Any],
    completions: Sequence[Any],
    prompts: Sequence[Any] | None,
    columns: Mapping[str, Sequence[Any]],
) -> Any:
    """Call ``reward`` on one batch with the keywords GRPOTrainer passes.

    ``completion_ids`` are the UTF-8 bytes of each completion's text, a stand-in for token
    ids that keeps length- and repetition-based rewards meaningful; the logging hooks
    accept and drop what they are given.
    """
    return call_reward(
        reward,
        prompts=list(prompts) if prompts is not None else [None] * len(completions),
        completions=list(completions),
        completion_ids=[list(completion_text(c).encode("utf-8")) for c in completions],
        trainer_state=None,
        log_metric=_ignore,
        log_extra=_ignore,
        **{key: list(values) for key, values in columns.items()},
    )


def is_async_reward(reward: Any) -> bool:
    """Whether calling ``reward`` gives a coroutine (an async function or ``async __call__``)."""
    return inspect.iscoroutinefunction(reward) or inspect.iscoroutinefunction(type(reward).__call__)


def with_deadline(fn: Callable[[], Any], seconds: float) -> tuple[Any, BaseException | None] | None:
    """Run ``fn`` in a daemon thread: ``(result, error)``, or ``None`` when it overran.

    An overrunning call is abandoned, not killed (Python cannot stop a thread).

    >>> with_deadline(lambda: 1 / 0, 1.0)[1]
    ZeroDivisionError('division by zero')
    """
    box: dict[str, Any] = {}

    def run() -> None:
        try:
            box["value"] = fn()
        except BaseException as exc:  # handed back to the caller
            box["error"] = exc

    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    worker.join(seconds)
    if worker.is_alive():
        return None
    return box.get("value"), box.get("error")


def _ignore(*args: Any) -> None:
    """Stands in for the trainer's ``log_metric`` / ``log_extra`` hooks."""
