"""Every route and protocol over real HTTP (httpx -> uvicorn on loopback)."""

from __future__ import annotations

import httpx
import pytest

from rewardkit.serve import Scorer, create_app, load_config
from rewardkit.serve.app import app_from_config

RIGHT = r"<think>2+2 is 4</think> The answer is \boxed{4}."
WRONG = r"<think>2+2 is 5</think> The answer is \boxed{5}."


@pytest.fixture(scope="module")
def url(live_module):
    return live_module(create_app({"math": Scorer("math", processes=1)}))


def test_openrlhf_takes_the_response_after_the_prompt(url):
    prompt = "<|user|>What is 2+2? \\boxed{5} is wrong.<|assistant|>"  # a box inside the prompt
    body = {"query": [prompt + RIGHT, prompt + WRONG], "prompts": [prompt] * 2, "labels": ["4"] * 2}
    reply = httpx.post(f"{url}/get_reward", json=body, timeout=60).json()
    assert reply["rewards"] == [1.0, 0.1] and reply["scores"] == [1.0, 0.1]
    logs = reply["extra_logs"]
    assert logs["acc"] == [1.0, 0.0] and logs["prompt_not_prefix"] == [0.0, 0.0]
    assert all(isinstance(v, list) and len(v) == 2 for v in logs.values())  # tensors, per sample
    # the same route under its own prefix
    assert httpx.post(f"{url}/math/get_reward", json=body, timeout=60).json() == reply


def test_openrlhf_says_when_the_prompt_is_not_a_prefix(url):
    body = {"query": [RIGHT], "prompts": ["Question?"], "labels": ["4"]}  # prompt lost
    reply = httpx.post(f"{url}/get_reward", json=body, timeout=60).json()
    assert reply["extra_logs"]["prompt_not_prefix"] == [1.0]
    assert reply["rewards"] == [1.0]  # the whole query was scored


def test_slime_number_and_dict_forms(url):
    body = {"prompt": "What is 2+2?", "response": WRONG, "label": "4"}
    assert httpx.post(f"{url}/slime", json=body, timeout=60).json() == 0.1
    reply = httpx.post(f"{url}/math/slime/dict", json=body, timeout=60).json()
    assert (reply["score"], reply["reason"], reply["acc"]) == (0.1, "wrong_answer", 0.0)
    chat = {"prompt": [{"role": "user", "content": "2+2?"}], "response": RIGHT, "label": 4}
    assert httpx.post(f"{url}/slime", json=chat, timeout=60).json() == 1.0


def test_native_route_plain_and_chat_completions_with_reasons(url):
    body = {
        "prompts": ["2+2?"] * 3,
        "completions": [RIGHT, [{"role": "assistant", "content": WRONG}], "no answer, sorry"],
        "answer": ["4", "4", "4"],
        "unused_column": [1, 2, 3],
    }
    reply = httpx.post(f"{url}/v1/score", json=body, timeout=60).json()
    assert reply["reward"] == "math"
    assert [r["value"] for r in reply["results"]] == [1.0, 0.1, 0.0]
    assert reply["results"][1]["reason"] == "wrong_answer"
    answer = reply["results"][1]["details"]["components"]["accuracy"]["details"]["answer"]
    assert answer == "5"
    assert sum(reply["reasons"].values()) == pytest.approx(1.0)
    assert reply["reasons"]["ok"] == pytest.approx(1 / 3)


def test_health_and_prometheus_metrics(url):
    httpx.post(f"{url}/slime", json={"response": RIGHT, "label": "4"}, timeout=60)
    httpx.post(f"{url}/slime", json={"responses": RIGHT}, timeout=60)
    health = httpx.get(f"{url}/health").json()
    assert health["status"] == "ok" and health["routes"]["math"]["pending"] == 0
    text = httpx.get(f"{url}/metrics").text
    assert 'rewardkit_requests_total{protocol="slime",route="math",status="200"}' in text
    assert 'rewardkit_requests_total{protocol="slime",route="math",status="422"}' in text
    assert 'rewardkit_reasons_total{reason="ok",route="math"}' in text
    assert "rewardkit_request_seconds_bucket{" in text
    assert 'rewardkit_queue_depth{route="math"} 0.0' in text


def test_a_config_serves_several_rewards_each_at_its_route(live, tmp_path):
    config = tmp_path / "serve.yaml"
    config.write_text(
        "default: strict\n"
        "processes: 1\n"
        "routes:\n"
        "  loose: boxed_accuracy@boxed_only=false\n"
        "  strict:\n"
        "    reward: boxed_accuracy\n"
        "    label_column: solution\n"
        "  blend:\n"
        "    weights: {boxed_accuracy: 0.5, 'serve_rewards:Contains': 0.5}\n"
        "    executor: thread\n"
    )
    url = live(app_from_config(load_config(config)))
    body = {"query": ["Q: the answer is 7"], "prompts": ["Q:"], "labels": ["7"]}
    assert httpx.post(f"{url}/loose/get_reward", json=body, timeout=60).json()["rewards"] == [1.0]
    assert httpx.post(f"{url}/strict/get_reward", json=body, timeout=60).json()["rewards"] == [0.0]
    assert httpx.post(f"{url}/get_reward", json=body, timeout=60).json()["rewards"] == [0.0]
    native = {"completions": ["\\boxed{14/2}"], "answer": ["7"]}
    reply = httpx.post(f"{url}/blend/v1/score", json=native, timeout=60).json()
    assert reply["results"][0]["value"] == 0.5  # accuracy 1.0 * 0.5 + contains 0.0 * 0.5
    assert httpx.get(f"{url}/health").json()["default"] == "strict"


def test_the_openrlhf_adapter_returns_what_the_server_returns(url):
    from rewardkit.integrations.openrlhf import reward_func

    prompt = "<|im_start|>user\nWhat is 2+2?<|im_end|>\n<|im_start|>assistant\n"
    body = {
        "query": [prompt + RIGHT, "no prefix " + WRONG],
        "prompts": [prompt, prompt],
        "labels": ["4", "4"],
    }
    served = httpx.post(f"{url}/get_reward", json=body, timeout=60).json()
    in_process = reward_func(body["query"], body["prompts"], body["labels"], reward="math")
    assert served == in_process
    assert in_process["extra_logs"]["prompt_not_prefix"] == [0.0, 1.0]


def test_a_route_with_a_model_verifier_behind_the_rules(live):
    from rewardkit.judge.testing_server import FakeJudgeServer

    with FakeJudgeServer() as judge:
        verifier = {"format": "tinyv", "model": "TinyV", "base_url": judge.base_url}
        config = load_config(
            {
                "routes": {
                    "verified": {
                        "reward": "boxed_accuracy",
                        "options": {
                            "model_verifier": {**verifier, "cache": False},
                            "units": "match",
                        },
                    }
                }
            }
        )
        app = app_from_config(config)
        assert app.state.scorers["verified"].executor == "thread"
        url = live(app)
        body = {"completions": ["\\boxed{12 apples}", "\\boxed{13}"], "answer": ["12", "12"]}
        reply = httpx.post(f"{url}/v1/score", json=body, timeout=60).json()
    assert [r["reason"] for r in reply["results"]] == ["ok_by_model", "wrong_by_model"]
    assert [r["value"] for r in reply["results"]] == [1.0, 0.0]
