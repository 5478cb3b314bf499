"""The slime adapters called exactly as slime calls a custom reward (--custom-rm-path).

slime is not on PyPI (the package named slime there is another project), so its
load_function and its async_rm / batched_async_rm calls are reproduced from its source
(slime/utils/misc.py, slime/rollout/rm_hub/__init__.py).
"""

from __future__ import annotations

import asyncio
import importlib
from argparse import Namespace
from dataclasses import dataclass, field
from typing import Any

import pytest


@dataclass
class SlimeSample:
    """The fields of slime.utils.types.Sample that a reward reads."""

    prompt: Any = ""
    response: str = ""
    label: Any = None
    metadata: dict = field(default_factory=dict)
    custom_rm_path: str | None = None
    reward: Any = None


def load_function(path: str):
    module_path, _, attr = path.rpartition(".")
    return getattr(importlib.import_module(module_path), attr)


async def async_rm(args, sample, **kwargs):
    rm_function = load_function(args.custom_rm_path)
    return await rm_function(args, sample, **kwargs)


async def batched_async_rm(args, samples, **kwargs):
    rm_function = load_function(args.custom_rm_path)
    return await rm_function(args, samples, **kwargs)


RIGHT = "<think>6 * 7 = 42</think> \\boxed{42}"
WRONG = "<think>6 * 7 = 48</think> \\boxed{48}"


@pytest.fixture(autouse=True)
def math_reward(monkeypatch):
    monkeypatch.setenv("REWARDKIT_REWARD", "math")


def test_slime_custom_rm_one_sample_at_a_time():
    args = Namespace(custom_rm_path="rewardkit.integrations.slime.reward", reward_key=None)
    chat = [{"role": "user", "content": "What is 6 * 7?"}]
    samples = [SlimeSample("What is 6 * 7?", RIGHT, "42"), SlimeSample(chat, WRONG, "42")]

    async def rollout():
        return await asyncio.gather(*(async_rm(args, s) for s in samples))

    assert asyncio.run(rollout()) == [1.0, 0.1]


def test_slime_reward_key_reads_the_dict_form():
    args = Namespace(custom_rm_path="rewardkit.integrations.slime.reward", reward_key="score")
    sample = SlimeSample("q", WRONG, "42")
    sample.reward = asyncio.run(async_rm(args, sample))
    assert sample.reward[args.reward_key] == 0.1  # slime's get_reward_value
    assert sample.reward["reason"] == "wrong_answer" and sample.reward["acc"] == 0.0


def test_slime_group_rm_scores_the_group_in_one_call():
    args = Namespace(custom_rm_path="rewardkit.integrations.slime.group_reward", reward_key=None)
    group = [
        SlimeSample("q", RIGHT, "42"),
        SlimeSample("q", WRONG, "42"),
        SlimeSample("q", "", "42"),
    ]
    assert asyncio.run(batched_async_rm(args, group)) == [1.0, 0.1, 0.0]


def test_a_malformed_slime_sample_gets_a_reason_not_an_exception():
    args = Namespace(custom_rm_path="rewardkit.integrations.slime.group_reward", reward_key="score")
    group = [SlimeSample("q", None, "42"), SlimeSample("q", RIGHT, "42")]
    first, second = asyncio.run(batched_async_rm(args, group))
    assert (first["score"], first["reason"]) == (0.0, "bad_sample")
    assert second["score"] == 1.0
