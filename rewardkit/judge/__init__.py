"""LLM-as-judge rewards: rubrics, safe prompts, robust verdict parsing, backends, a cache.

>>> from rewardkit.judge import Rubric, Criterion
>>> Rubric([Criterion("States the final answer", category="essential")]).criteria[0].weight
5.0
"""

from rewardkit.judge.backends import (
    JudgeBackend,
    JudgeConfigError,
    JudgeFailure,
    JudgeReply,
    JudgeRequest,
    OpenAIBackend,
    TransformersBackend,
    make_backend,
)
from rewardkit.judge.cache import JudgeCache, default_cache_path
from rewardkit.judge.engine import JudgeClient, run_sync
from rewardkit.judge.prompts import PromptTemplates, fence, render
from rewardkit.judge.reward import RubricJudgeReward, SyncRubricJudgeReward
from rewardkit.judge.rubric import Criterion, Rubric, RubricError, load_rubric
from rewardkit.judge.steps import JudgeStepScorer, StepVerdict

__all__ = [
    "Criterion",
    "JudgeBackend",
    "JudgeCache",
    "JudgeClient",
    "JudgeConfigError",
    "JudgeFailure",
    "JudgeReply",
    "JudgeRequest",
    "JudgeStepScorer",
    "OpenAIBackend",
    "PromptTemplates",
    "Rubric",
    "RubricError",
    "RubricJudgeReward",
    "StepVerdict",
    "SyncRubricJudgeReward",
    "TransformersBackend",
    "default_cache_path",
    "fence",
    "load_rubric",
    "make_backend",
    "render",
    "run_sync",
]
