"""Reward functions that plug into TRL trainers (``reward_funcs=[...]``)."""

import rewardkit.judge.reward  # noqa: F401  (registers the judge rewards, "rubric_judge")
from rewardkit.rewards.accuracy import BoxedAccuracy
from rewardkit.rewards.aggregate import aggregate, clip_transform, delta_transform
from rewardkit.rewards.arithmetic import ArithmeticChecker
from rewardkit.rewards.base import Reward, RewardResult, Sample
from rewardkit.rewards.compose import AllOf, Clip, FunctionReward, Gate, Normalize, WeightedSum
from rewardkit.rewards.defaults import math_reward
from rewardkit.rewards.format import (
    AnswerOutsideThink,
    SingleBoxedAnswer,
    ThinkFormat,
    ThinkTagCount,
)
from rewardkit.rewards.prm import PRMStepScorer
from rewardkit.rewards.process import ProcessReward
from rewardkit.rewards.registry import get_reward, register_reward, reward_names
from rewardkit.rewards.shaping import (
    CosineLength,
    LengthGatedCorrectness,
    OverlongPenalty,
    RepetitionPenalty,
)
from rewardkit.rewards.steps import Step, segment_steps

__all__ = [
    "AllOf",
    "AnswerOutsideThink",
    "ArithmeticChecker",
    "BoxedAccuracy",
    "Clip",
    "CosineLength",
    "FunctionReward",
    "Gate",
    "LengthGatedCorrectness",
    "Normalize",
    "OverlongPenalty",
    "PRMStepScorer",
    "ProcessReward",
    "RepetitionPenalty",
    "Reward",
    "RewardResult",
    "Sample",
    "SingleBoxedAnswer",
    "Step",
    "ThinkFormat",
    "ThinkTagCount",
    "WeightedSum",
    "aggregate",
    "clip_transform",
    "delta_transform",
    "get_reward",
    "math_reward",
    "register_reward",
    "reward_names",
    "segment_steps",
]
