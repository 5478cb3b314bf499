"""The reward server deployed on Ray Serve: replicas answer every protocol as the plain
server does."""

from __future__ import annotations

import socket

import pytest

pytest.importorskip("ray")
pytest.importorskip("starlette")
httpx = pytest.importorskip("httpx")

from rewardkit.serve import load_config  # noqa: E402


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def deployed(ray_local):
    from ray import serve

    from rewardkit.ray.serve import run_on_ray

    config = load_config(
        {"routes": {"acc": "boxed_accuracy", "graded": "math"}, "processes": 1, "max_wait_ms": 2}
    )
    port = _free_port()
    urls = run_on_ray(config, port=port, num_replicas=2, num_cpus=0.5)
    yield urls
    serve.shutdown()


def test_replicas_answer_openrlhf_native_and_slime_routes(deployed):
    from ray import serve

    base, graded = deployed["acc"], deployed["graded"]
    with httpx.Client(timeout=60) as client:
        body = {
            "query": ["Q \\boxed{4}", "Q \\boxed{5}"],
            "prompts": ["Q", "Q"],
            "labels": ["4"] * 2,
        }
        reply = client.post(f"{base}/get_reward", json=body)
        assert reply.status_code == 200 and reply.json()["rewards"] == [1.0, 0.0]
        assert client.post(f"{base}/acc/get_reward", json=body).json()["rewards"] == [1.0, 0.0]
        native = client.post(
            f"{graded}/v1/score",
            json={
                "completions": ["<think>2+2=4</think> \\boxed{4}", "no box"],
                "answer": ["4", "4"],
            },
        ).json()
        assert [r["reason"] for r in native["results"]][0] == "ok"
        assert native["results"][1]["value"] == 0.0
        slime = client.post(
            f"{base}/slime", json={"prompt": "Q", "response": "\\boxed{4}", "label": "4"}
        )
        assert slime.json() == 1.0
        bad = client.post(f"{graded}/get_reward", content=b'{"query": [1}')
        assert bad.status_code == 400 and "not valid JSON" in bad.json()["error"]
        assert client.get(f"{graded}/health").json()["routes"]["graded"]["reward"] == "math"
        metrics = client.get(f"{base}/metrics").text
        assert "rewardkit_requests_total" in metrics
    status = serve.status().applications
    for name in ("rewardkit-acc", "rewardkit-graded"):
        deployment = next(iter(status[name].deployments.values()))
        assert deployment.replica_states.get("RUNNING") == 2


def test_bad_replica_settings_are_refused(ray_local):
    from rewardkit.ray.serve import build_serve_app

    with pytest.raises(ValueError, match="at least 1"):
        build_serve_app(load_config({"routes": {"a": "math"}}), num_replicas=0)
