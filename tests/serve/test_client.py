"""RemoteReward: a TRL reward function scoring on a live server, with retries."""

from __future__ import annotations

import asyncio
import pickle

import httpx
import pytest
from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Route

from rewardkit.serve import RemoteReward, Scorer, create_app


@pytest.fixture(scope="module")
def url(live_module):
    return live_module(create_app({"acc": Scorer("boxed_accuracy", processes=1)}))


def test_remote_reward_scores_like_the_reward_in_process(url):
    from rewardkit import get_reward

    completions = ["\\boxed{4}", [{"role": "assistant", "content": "\\boxed{5}"}], "none"]
    columns = {"answer": ["4", "4", "4"], "trainer_state": None, "image": [object()] * 3}
    reward = RemoteReward(url, route="acc")
    metrics = {}
    values = asyncio.run(
        reward(
            prompts=["q"] * 3, completions=completions, log_metric=metrics.__setitem__, **columns
        )
    )
    # the column JSON cannot hold was left out; the others were sent
    assert values == get_reward("boxed_accuracy")(completions=completions, answer=columns["answer"])
    assert metrics["acc/reason/wrong_answer"] == pytest.approx(1 / 3)
    assert reward.__name__ == "acc"
    clone = pickle.loads(pickle.dumps(reward))
    assert asyncio.run(clone(completions=["\\boxed{2}"], answer=["2"])) == [1.0]


def test_remote_reward_retries_503_then_succeeds(live):
    calls = []

    async def flaky(request):
        calls.append(1)
        if len(calls) < 3:
            return JSONResponse({"error": "busy"}, status_code=503, headers={"Retry-After": "0"})
        body = await request.json()
        results = [{"value": 1.0, "reason": "ok", "details": {}} for _ in body["completions"]]
        return JSONResponse({"results": results, "reasons": {"ok": 1.0}})

    url = live(Starlette(routes=[Route("/v1/score", flaky, methods=["POST"])]))
    reward = RemoteReward(url, retries=3, backoff=0.01)
    assert asyncio.run(reward(completions=["a", "b"])) == [1.0, 1.0]
    assert len(calls) == 3


def test_remote_reward_gives_none_when_the_server_is_unreachable_or_refuses(url):
    reward = RemoteReward("http://127.0.0.1:9", retries=1, backoff=0.01, timeout=2)  # no one there
    assert asyncio.run(reward(completions=["a"])) == [None]
    refused = RemoteReward(url, route="nope", retries=3, backoff=0.01)  # 404: no retry
    assert asyncio.run(refused(completions=["a"])) == [None]


def test_remote_reward_in_a_two_step_trl_grpo_run(live, tiny_model_path, tiny_grpo_config):
    from datasets import Dataset
    from trl import GRPOTrainer

    url = live(create_app({"acc": Scorer("boxed_accuracy@boxed_only=false", processes=1)}))
    prompts = ["What is 2 + 3?", "What is 7 - 4?", "What is 6 * 2?"] * 4
    answers = ["5", "3", "12"] * 4
    trainer = GRPOTrainer(
        model=tiny_model_path,
        reward_funcs=[RemoteReward(url, route="acc")],
        args=tiny_grpo_config(),
        train_dataset=Dataset.from_dict({"prompt": prompts, "answer": answers}),
    )
    trainer.train()
    assert trainer.state.global_step == 2
    logged = trainer.state.log_history[0]
    assert "rewards/acc/mean" in logged
    assert any(key.startswith("acc/reason/") for key in logged)
    metrics = httpx.get(f"{url}/metrics").text
    assert 'rewardkit_requests_total{protocol="native",route="acc",status="200"} 2.0' in metrics
