"""Bad bodies of every kind get a 4xx that names the problem, and the server keeps serving."""

from __future__ import annotations

import httpx
import pytest

from rewardkit.serve import Scorer, create_app

LIMIT = 4096


@pytest.fixture(scope="module")
def url(live_module):
    scorer = Scorer("boxed_accuracy", processes=1)
    return live_module(create_app({"acc": scorer}, max_body_bytes=LIMIT))


GOOD = {"query": ["Q \\boxed{4}"], "prompts": ["Q"], "labels": ["4"]}


@pytest.mark.parametrize(
    "path, content, status, message",
    [
        ("/get_reward", b'{"query": ["a"', 400, "not valid JSON"),
        ("/get_reward", b"", 400, "empty"),
        ("/get_reward", b"\xff\xfe{}", 400, "not UTF-8"),
        ("/get_reward", b"[1, 2]", 422, "JSON object"),
        ("/get_reward", b'{"queries": ["a"]}', 422, "unknown field 'queries'"),
        ("/get_reward", b'{"query": "a"}', 422, "'query' must be a list"),
        ("/get_reward", b'{"query": [1]}', 422, "query[0] must be a string"),
        ("/get_reward", b'{"query": ["a", "b"], "prompts": ["a"]}', 422, "'prompts' has 1 items"),
        ("/get_reward", b'{"query": ["a"], "labels": [["x"]]}', 422, "labels[0]"),
        ("/slime", b'{"prompt": "p", "label": "4"}', 422, "missing field 'response'"),
        ("/slime", b'{"response": 4}', 422, "'response' must be a string"),
        ("/slime", b'{"response": "r", "lable": "4"}', 422, "unknown field 'lable'"),
        ("/v1/score", b'{"completions": ["a", "b"], "answer": ["1"]}', 422, "'answer' has 1"),
        ("/v1/score", b'{"completions": ["a"], "answer": "1"}', 422, "column 'answer'"),
        ("/v1/score", b'{"completions": [{"x": 1}]}', 422, "completions[0]"),
        ("/v1/score", b'{"prompts": ["a"]}', 422, "missing field 'completions'"),
        ("/v1/score", b"[" * 100_000 + b"]" * 100_000, 413, "bytes"),
        ("/v1/score", b"[" * 1500 + b"]" * 1500, 400, "nested too deeply"),
    ],
)
def test_bad_body_gets_a_4xx_naming_the_problem(url, path, content, status, message):
    response = httpx.post(f"{url}{path}", content=content, timeout=60)
    assert response.status_code == status, response.text
    assert message in response.json()["error"]
    assert httpx.post(f"{url}/get_reward", json=GOOD, timeout=60).json()["rewards"] == [1.0]


def test_an_oversized_body_without_content_length_is_cut_off(url):
    def chunks():  # chunked transfer: no Content-Length to refuse up front
        for _ in range(10):
            yield b" " * 1024

    response = httpx.post(f"{url}/v1/score", content=chunks(), timeout=60)
    assert response.status_code == 413 and str(LIMIT) in response.json()["error"]


def test_wrong_method_and_unknown_route_are_4xx(url):
    assert httpx.get(f"{url}/get_reward").status_code == 405
    assert httpx.post(f"{url}/nope/get_reward", json=GOOD).status_code == 404


def test_unicode_and_huge_samples_are_scored_not_refused(url):
    weird = ["\U0001f600 \\boxed{4}", "\x00\x01\\boxed{", "\\boxed{" + "9" * 3000 + "}", ""]
    body = {"query": weird, "prompts": [""] * 4, "labels": ["4", "4", "4", None]}
    reply = httpx.post(f"{url}/get_reward", json=body, timeout=60).json()
    assert reply["rewards"] == [1.0, 0.0, 0.0, 0.0]
    assert reply["extra_logs"]["unscored"] == [0.0, 0.0, 0.0, 1.0]  # no gold: None -> 0.0
