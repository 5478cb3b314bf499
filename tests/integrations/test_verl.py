"""The verl adapter called exactly as verl 0.9 calls a custom reward function.

verl does not install here (it pins transformers<5.11 and needs ray), so its loader and
its NaiveRewardManager call are reproduced from its source (verl/trainer/ppo/reward.py,
verl/utils/import_utils.py, verl/experimental/reward_loop/reward_manager/naive.py).
"""

from __future__ import annotations

import asyncio
import importlib.util
import inspect
import os
from functools import partial

import pytest

import rewardkit.integrations.verl as adapter

RIGHT = "<think>16 - 3 - 4 = 9, 9 * 2 = 18</think> She makes \\boxed{18} dollars."
WRONG = "<think>16 - 3 = 13</think> \\boxed{26}"


def verl_get_custom_reward_fn(path: str, name: str, reward_kwargs: dict):
    """verl's get_custom_reward_fn + load_extern_object: load by file path, merge kwargs."""
    spec = importlib.util.spec_from_file_location(
        f"custom_module_{hash(os.path.abspath(path))}", path
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    raw_fn = getattr(module, name)

    def call(*args, **kwargs):
        return raw_fn(*args, **{**kwargs, **reward_kwargs})

    async def call_async(*args, **kwargs):
        return await raw_fn(*args, **{**kwargs, **reward_kwargs})

    if not inspect.iscoroutinefunction(raw_fn):
        return partial(call)
    return partial(call_async)


async def verl_run_single(compute_score, response_str, ground_truth, extra_info):
    """NaiveRewardManager.run_single after decoding the response."""
    extra_info = dict(extra_info)
    extra_info["num_turns"] = None
    extra_info["rollout_reward_scores"] = {}
    loop = asyncio.get_running_loop()
    kwargs = dict(
        data_source="openai/gsm8k",
        solution_str=response_str,
        ground_truth=ground_truth,
        extra_info=extra_info,
    )
    if inspect.iscoroutinefunction(compute_score):
        result = await compute_score(**kwargs)
    else:
        result = await loop.run_in_executor(None, lambda: compute_score(**kwargs))
    if isinstance(result, dict):
        return {"reward_score": result["score"], "reward_extra_info": dict(result)}
    return {"reward_score": result, "reward_extra_info": {"acc": result}}


@pytest.mark.parametrize("name", ["compute_score", "compute_score_async"])
def test_verl_loads_the_file_and_calls_it_sync_and_async(name):
    fn = verl_get_custom_reward_fn(adapter.__file__, name, {"reward": "math"})
    assert inspect.iscoroutinefunction(fn) == name.endswith("async")
    right = asyncio.run(verl_run_single(fn, RIGHT, "18", {"index": 0, "split": "train"}))
    wrong = asyncio.run(verl_run_single(fn, WRONG, "18", {"index": 1}))
    assert right["reward_score"] == 1.0 and right["reward_extra_info"]["acc"] == 1.0
    assert wrong["reward_score"] == pytest.approx(0.1)
    assert wrong["reward_extra_info"]["reason"] == "wrong_answer"
    assert wrong["reward_extra_info"]["acc"] == 0.0 and wrong["reward_extra_info"]["answer"] == "26"


def test_verl_reward_from_the_environment_or_a_config(monkeypatch, tmp_path):
    fn = verl_get_custom_reward_fn(adapter.__file__, "compute_score", {})
    plain = "She makes 18 dollars.\nA: 18"
    monkeypatch.setenv("REWARDKIT_REWARD", "boxed_accuracy@boxed_only=false")
    assert asyncio.run(verl_run_single(fn, plain, "18", {}))["reward_score"] == 1.0
    monkeypatch.delenv("REWARDKIT_REWARD")
    config = tmp_path / "serve.yaml"
    config.write_text(
        "routes:\n  boxed: boxed_accuracy\n  loose: boxed_accuracy@boxed_only=false\n"
    )
    kwargs = {"config": str(config), "route": "loose"}
    fn = verl_get_custom_reward_fn(adapter.__file__, "compute_score", kwargs)
    assert asyncio.run(verl_run_single(fn, plain, "18", {}))["reward_score"] == 1.0
    monkeypatch.setenv("REWARDKIT_CONFIG", str(config))  # default route: strict boxed
    fn = verl_get_custom_reward_fn(adapter.__file__, "compute_score", {})
    assert asyncio.run(verl_run_single(fn, plain, "18", {}))["reward_score"] == 0.0


def test_verl_odd_inputs_score_with_a_reason_never_raise():
    fn = verl_get_custom_reward_fn(adapter.__file__, "compute_score", {"reward": "math"})
    for response, gold in [("", "18"), ("\U0001f600" * 5000, "18"), (RIGHT, None), (RIGHT, [1])]:
        out = asyncio.run(verl_run_single(fn, response, gold, {}))
        assert out["reward_score"] == 0.0 and isinstance(out["reward_extra_info"]["reason"], str)
