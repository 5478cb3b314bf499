"""The OpenRLHF adapter called exactly as OpenRLHF 0.11 calls a reward_func file.

OpenRLHF does not install here (it pins flash-attn and deepspeed builds that need CUDA),
so SingleTurnAgentExecutor's loading and call, and the way its samples generator turns
the reply into tensors, are reproduced from its source (openrlhf/utils/agent.py,
openrlhf/trainer/ppo_utils/samples_generator.py).
"""

from __future__ import annotations

import asyncio
import importlib.util

import pytest
import torch

import rewardkit.integrations.openrlhf as adapter


def openrlhf_load(path: str):
    spec = importlib.util.spec_from_file_location("reward_func", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.reward_func


async def openrlhf_fetch(reward_func, query, prompt, label):
    """_fetch_rewards_via_func (batch size 1, in a thread) and the executor's unpacking."""
    infos = await asyncio.gather(asyncio.to_thread(reward_func, [query], [prompt], [label]))
    info = infos[0]
    scores = info.get("scores")
    return {
        "reward": info.get("rewards"),
        "scores": info.get("rewards") if scores is None else scores,
        "extra_logs": info.get("extra_logs") or {},
    }


def openrlhf_experience_info(response):
    """_process_response_into_experience: what becomes tensors."""
    info = {
        "reward": torch.tensor([response["reward"]]),
        "score": torch.tensor([response["scores"]]),
    }
    for key, value in response["extra_logs"].items():
        if isinstance(value, torch.Tensor):
            value = value.flatten()[0].item()
        info[key] = torch.tensor([value])
    return info


PROMPT = "<|im_start|>user\nWhat is 6 * 7?<|im_end|>\n<|im_start|>assistant\n"


def test_openrlhf_loads_reward_func_and_its_reply_becomes_tensors(monkeypatch):
    monkeypatch.setenv("REWARDKIT_REWARD", "math")
    reward_func = openrlhf_load(adapter.__file__)
    right = PROMPT + "<think>6 * 7 = 42</think> \\boxed{42}<|im_end|>"
    wrong = PROMPT + "<think>6 * 7 = 48</think> \\boxed{48}<|im_end|>"
    infos = [
        openrlhf_experience_info(asyncio.run(openrlhf_fetch(reward_func, q, PROMPT, "42")))
        for q in (right, wrong)
    ]
    assert [float(i["reward"].flatten()[0]) for i in infos] == pytest.approx([1.0, 0.1])
    assert [float(i["acc"].flatten()[0]) for i in infos] == [1.0, 0.0]
    assert infos[0].keys() == infos[1].keys()  # the same logs every time, so they stack
    assert float(infos[1]["reason/other"].flatten()[0]) == 1.0  # wrong_answer: not declared
