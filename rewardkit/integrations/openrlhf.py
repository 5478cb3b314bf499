"""OpenRLHF's custom reward function: ``reward_func(queries, prompts, labels)``.

OpenRLHF (0.11, ``openrlhf/utils/agent.py``) takes a ``--remote_rm_url`` ending in ``.py``
as a file to load, and calls its ``reward_func`` in a thread with lists of decoded
queries (prompt + response), prompts and labels; it reads the same ``rewards``,
``scores`` and ``extra_logs`` as from the remote reward server, which this returns::

    REWARDKIT_REWARD=math python -m openrlhf.cli.train_ppo_ray ... \\
        --remote_rm_url /path/to/site-packages/rewardkit/integrations/openrlhf.py

>>> out = reward_func(["Q: 2+2? <think>4</think> \\\\boxed{4}"], ["Q: 2+2?"], ["4"])
>>> out["rewards"], out["extra_logs"]["acc"]
([1.0], [1.0])
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rewardkit.integrations.loading import load_reward, score
from rewardkit.serve.protocols import openrlhf

__all__ = ["reward_func"]


def reward_func(
    queries: Sequence[str], prompts: Sequence[str], labels: Sequence[Any], **kwargs: Any
) -> dict[str, Any]:
    """The server's OpenRLHF reply for these samples, scored in this process; options
    ``reward``, ``config`` and ``route`` as keywords or in the environment."""
    reward, label_column = load_reward(
        kwargs.get("reward"), kwargs.get("config"), kwargs.get("route")
    )
    body = {"query": list(queries), "prompts": list(prompts), "labels": list(labels)}
    samples, flags = openrlhf.parse(body, label_column)
    return openrlhf.reply(score(samples, reward), flags, reward.reasons)
