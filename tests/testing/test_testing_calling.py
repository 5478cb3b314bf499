"""Calling rewards the way TRL does: keywords, async rewards, deadlines."""

from __future__ import annotations

import asyncio
import time

import pytest

from rewardkit.testing.calling import call_like_trl, call_reward, is_async_reward, with_deadline


async def async_reward(completions, **kwargs):
    await asyncio.sleep(0)
    return [float(len(c)) for c in completions]


async def async_failing(completions, **kwargs):
    raise ValueError("bad batch")


class AsyncCallable:
    async def __call__(self, completions, **kwargs):
        return [1.0 for _ in completions]


def test_call_like_trl_passes_what_grpo_trainer_passes():
    seen = {}

    def reward(**kwargs):
        seen.update(kwargs)
        return [0.0]

    call_like_trl(reward, [[{"role": "assistant", "content": "hé"}]], ["p"], {"solution": ("4",)})
    assert set(seen) == {
        "prompts",
        "completions",
        "completion_ids",
        "trainer_state",
        "log_metric",
        "log_extra",
        "solution",
    }
    assert seen["completion_ids"] == [[104, 195, 169]]  # UTF-8 bytes of the text
    assert seen["solution"] == ["4"] and seen["prompts"] == ["p"]
    seen["log_metric"]("name", 1.0)  # the hooks accept what rewards send
    seen["log_extra"]("column", ["a"])


def test_async_rewards_are_awaited_outside_and_inside_a_running_loop():
    assert call_reward(async_reward, completions=["ab"]) == [2.0]

    async def inside():
        return call_reward(async_reward, completions=["abc"])

    assert asyncio.run(inside()) == [3.0]


def test_errors_of_async_rewards_reach_the_caller_from_inside_a_loop():
    async def inside():
        return call_reward(async_failing, completions=["a"])

    with pytest.raises(ValueError, match="bad batch"):
        asyncio.run(inside())


def test_is_async_reward():
    assert is_async_reward(async_reward) and is_async_reward(AsyncCallable())
    assert not is_async_reward(lambda completions, **kw: [0.0])


def test_with_deadline():
    assert with_deadline(lambda: 7, 1.0) == (7, None)
    start = time.perf_counter()
    assert with_deadline(lambda: time.sleep(2), 0.1) is None
    assert time.perf_counter() - start < 1.0
