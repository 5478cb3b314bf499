"""The local transformers backend: batched generation with the tiny model, log-probabilities,
and the reward on top of it (a random model's verdicts are unparseable, never zeros)."""

from __future__ import annotations

import asyncio
import pickle

import pytest

from rewardkit.judge import JudgeReply, JudgeRequest, SyncRubricJudgeReward, TransformersBackend


def _request(text: str, **sampling) -> JudgeRequest:
    return JudgeRequest(({"role": "user", "content": text},), max_tokens=6, **sampling)


@pytest.fixture
def backend(tiny_model_path):
    backend = TransformersBackend(tiny_model_path, batch_size=2)
    model, _ = backend._load()
    calls = []
    generate = model.generate

    def counting_generate(*args, **kwargs):
        calls.append(kwargs["input_ids"].shape[0])
        return generate(*args, **kwargs)

    model.generate = counting_generate
    backend.generate_calls = calls
    return backend


def test_requests_are_generated_in_batches(backend):
    requests = [_request(f"Rate answer {i}") for i in range(3)]
    seen = []
    replies = asyncio.run(backend.complete_many(requests, lambda i, r: seen.append(i)))
    assert backend.generate_calls == [2, 1]
    assert sorted(seen) == [0, 1, 2]
    assert all(isinstance(r, JudgeReply) for r in replies)
    assert all(0 < r.completion_tokens <= 6 and r.prompt_tokens > 0 for r in replies)
    assert backend.usage.requests == 3
    # cut off by max_tokens (a random model rarely says its stop token): as a server says it
    assert any(r.completion_tokens == 6 for r in replies)
    assert [r.finish_reason for r in replies] == [
        "length" if r.completion_tokens == 6 else "stop" for r in replies
    ]
    # left padding: a prompt's reply does not depend on its batch mates
    alone = asyncio.run(backend.complete_many([requests[0]]))
    assert alone[0].text == replies[0].text


def test_top_logprobs_come_from_the_generation_logits(backend):
    [reply] = asyncio.run(backend.complete_many([_request("Rate this", top_logprobs=3)]))
    assert len(reply.logprobs) == reply.completion_tokens
    for token in reply.logprobs:
        assert len(token.top) == 3
        values = [lp for _, lp in token.top]
        assert values == sorted(values, reverse=True) and values[0] <= 0
        assert token.logprob == pytest.approx(values[0])  # greedy picks the most likely token


def test_different_sampling_parameters_are_not_batched_together(backend):
    requests = [_request("a"), _request("b", temperature=0.8, seed=1), _request("c")]
    replies = asyncio.run(backend.complete_many(requests))
    assert len(replies) == 3
    assert sorted(backend.generate_calls) == [1, 2]


def test_a_failing_model_gives_failures_not_exceptions(backend):
    def broken(*args, **kwargs):
        raise RuntimeError("CUDA out of memory")

    backend._model.generate = broken
    replies = asyncio.run(backend.complete_many([_request("a"), _request("b")]))
    assert [r.reason for r in replies] == ["judge_unavailable"] * 2
    assert "out of memory" in replies[0].detail


def test_the_reward_runs_on_the_local_judge_and_caches(backend, tmp_path):
    reward = SyncRubricJudgeReward(
        [{"text": "Gives the final answer 12", "category": "essential"}],
        backend=backend,
        max_tokens=6,
        reask=0,
        cache=tmp_path / "local.sqlite",
    )
    results = reward.score(prompts=["3 * 4?"] * 3, completions=["12", "13", "twelve"])
    assert len(results) == 3
    for r in results:  # a random model rarely says YES or NO; when it does not: None + reason
        assert (r.value is None) == (r.reason in {"unparseable_verdict", "truncated"})
        assert r.reason in {"ok", "unparseable_verdict", "truncated"}
    calls = len(backend.generate_calls)
    again = reward.score(prompts=["3 * 4?"] * 3, completions=["12", "13", "twelve"])
    assert [r.value for r in again] == [r.value for r in results]
    assert len(backend.generate_calls) == calls  # all from the cache


def test_the_backend_pickles_as_its_path(tiny_model_path):
    backend = TransformersBackend(tiny_model_path)
    clone = pickle.loads(pickle.dumps(backend))
    assert clone.identity() == {"backend": "transformers", "model": tiny_model_path}
    assert clone._model is None
    with pytest.raises(ValueError, match="batch_size"):
        TransformersBackend(tiny_model_path, batch_size=0)
