"""Reward functions that plug into TRL trainers (``reward_funcs=[...]``)."""

import rewardkit.judge.reward  # noqa: F401  (registers the judge rewards, "rubric_judge")
from rewardkit.rewards.accuracy import BoxedAccuracy
from rewardkit.rewards.base import Reward, RewardResult, Sample
from rewardkit.rewards.registry import get_reward, register_reward, reward_names

__all__ = [
    "BoxedAccuracy",
    "Reward",
    "RewardResult",
    "Sample",
    "get_reward",
    "register_reward",
    "reward_names",
]
