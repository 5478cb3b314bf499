"""verl's custom reward function: ``compute_score`` (sync) and ``compute_score_async``.

verl (0.9, ``verl/trainer/ppo/reward.py`` and the reward loop's ``NaiveRewardManager``)
loads ``custom_reward_function.path`` as a file and calls ``name`` with keywords
``data_source``, ``solution_str`` (the decoded response), ``ground_truth``, ``extra_info``
and the config's ``reward_kwargs``; a coroutine function is awaited, a plain one runs in
an executor. The dict's ``score`` is the reward and every key is logged::

    reward:
      custom_reward_function:
        path: /path/to/site-packages/rewardkit/integrations/verl.py
        name: compute_score            # or compute_score_async
        reward_kwargs: {reward: "math@strict=true"}   # or {config: serve.yaml, route: math}

>>> out = compute_score("gsm8k", "<think>2+2=4</think> \\\\boxed{4}", "4")
>>> out["score"], out["reason"], out["acc"]
(1.0, 'ok', 1.0)
"""

from __future__ import annotations

from typing import Any

from rewardkit.integrations.loading import ascore, load_reward, sample, score
from rewardkit.rewards.base import RewardResult
from rewardkit.serve.results import accuracy, answer, number

__all__ = ["compute_score", "compute_score_async"]


def compute_score(
    data_source: Any,
    solution_str: str,
    ground_truth: Any,
    extra_info: dict | None = None,
    *,
    reward: str | None = None,
    config: str | None = None,
    route: str | None = None,
    **kwargs: Any,
) -> dict[str, Any]:
    """``{"score", "reason", "acc", "answer"}`` for one response (other verl keywords,
    such as ``reward_router_address``, are accepted and unused)."""
    chosen, label_column = load_reward(reward, config, route)
    return _as_dict(score([_sample(solution_str, ground_truth, extra_info, label_column)], chosen))


async def compute_score_async(
    data_source: Any,
    solution_str: str,
    ground_truth: Any,
    extra_info: dict | None = None,
    *,
    reward: str | None = None,
    config: str | None = None,
    route: str | None = None,
    **kwargs: Any,
) -> dict[str, Any]:
    """:func:`compute_score` for verl's async path: scored off its event loop."""
    chosen, label_column = load_reward(reward, config, route)
    one = _sample(solution_str, ground_truth, extra_info, label_column)
    return _as_dict(await ascore([one], chosen))


def _sample(solution_str: str, ground_truth: Any, extra_info: Any, label_column: str):
    columns = {k: v for k, v in (extra_info or {}).items() if isinstance(k, str)}
    columns.pop(label_column, None)
    return sample(solution_str, ground_truth, label_column, **columns)


def _as_dict(results: list[RewardResult]) -> dict[str, Any]:
    result = results[0]
    return {
        "score": number(result.value),
        "reason": result.reason,
        "acc": accuracy(result),
        "answer": answer(result),
    }
