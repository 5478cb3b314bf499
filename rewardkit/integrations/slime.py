"""slime's custom reward functions: ``reward`` (one sample) and ``group_reward`` (``--group-rm``).

slime (``slime/rollout/rm_hub/__init__.py``) imports ``--custom-rm-path`` as
``module.function`` and awaits ``fn(args, sample)``, or with ``--group-rm``
``fn(args, samples)`` for a list; a sample has ``prompt``, ``response``, ``label`` and
``metadata``. The reward is a number, or, when slime runs with ``--reward-key``, the dict
``{"score", "reason", "acc"}`` (so ``--reward-key score``)::

    REWARDKIT_REWARD=math python train.py ... \\
        --custom-rm-path rewardkit.integrations.slime.reward
    # or: --group-rm --custom-rm-path rewardkit.integrations.slime.group_reward

>>> import asyncio
>>> from types import SimpleNamespace
>>> one = SimpleNamespace(prompt="2+2?", response="<think>4</think> \\\\boxed{4}", label="4")
>>> asyncio.run(reward(SimpleNamespace(reward_key=None), one))
1.0
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rewardkit.integrations.loading import ascore, load_reward
from rewardkit.rewards.base import RewardResult
from rewardkit.serve.protocols import BadRequest, slime

__all__ = ["group_reward", "reward"]


async def reward(args: Any, sample: Any, **kwargs: Any) -> float | dict[str, Any]:
    """The reward of one slime sample."""
    return (await group_reward(args, [sample], **kwargs))[0]


async def group_reward(args: Any, samples: Sequence[Any], **kwargs: Any) -> list:
    """The rewards of a group of slime samples, scored in one batch."""
    chosen, label_column = load_reward(kwargs.get("reward"), kwargs.get("config"))
    parsed, bad = [], {}
    for i, s in enumerate(samples):
        body = {"prompt": s.prompt, "response": s.response, "label": s.label}
        try:
            parsed.append(slime.parse(body, label_column))
        except BadRequest as exc:  # a malformed sample gets a reason, not a crashed rollout
            bad[i] = RewardResult(None, "bad_sample", {"error": str(exc)})
    scored = iter(await ascore(parsed, chosen))
    results = [bad[i] if i in bad else next(scored) for i in range(len(samples))]
    if getattr(args, "reward_key", None):
        return [slime.as_dict(r) for r in results]
    return [slime.value(r) for r in results]
