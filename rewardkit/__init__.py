"""rewardkit: rewards, objectives, data filters and recipes for RL fine-tuning of
math-reasoning language models with TRL.

>>> from rewardkit import BoxedAccuracy
>>> BoxedAccuracy()(completions=[r"\\boxed{4}"], answer=["4"])
[1.0]
"""

from rewardkit.rewards import BoxedAccuracy, Reward, RewardResult, get_reward, reward_names
from rewardkit.text import completion_text, final_answer, split_think
from rewardkit.verify import Verdict, equivalent, verify, verify_batch

__version__ = "0.1.0"

# torch-based objectives load on first use, so that `import rewardkit` stays light
_LAZY = {"kl_penalty": "rewardkit.objectives", "pass_at_k": "rewardkit.objectives"}


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'rewardkit' has no attribute {name!r}")


__all__ = [
    "BoxedAccuracy",
    "Reward",
    "RewardResult",
    "Verdict",
    "completion_text",
    "equivalent",
    "final_answer",
    "get_reward",
    "kl_penalty",
    "pass_at_k",
    "reward_names",
    "split_think",
    "verify",
    "verify_batch",
]
