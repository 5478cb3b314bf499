"""RubricJudgeReward scores as documented in every mode, from async and sync callers."""

from __future__ import annotations

import asyncio
import inspect
import json
import math
import pickle

import pytest
from trl.trainer.utils import is_async_callable

from rewardkit.judge import Rubric, RubricJudgeReward, SyncRubricJudgeReward
from rewardkit.judge.testing_server import fenced_blocks
from rewardkit.rewards import get_reward, reward_names

RUBRIC = [
    {"text": "Gives the final answer 12", "category": "essential"},  # 5
    {"text": "Shows the multiplication", "category": "important"},  # 3
    {"text": "Mentions units", "category": "optional"},  # 1
    {"text": "Divides by zero", "category": "pitfall", "weight": -4},
]


def _user(body) -> str:
    return [m for m in body["messages"] if m["role"] == "user"][-1]["content"]


def _reward(server, rubric=RUBRIC, **options):
    options = {"cache": False, "timeout": 2, "max_retries": 0, **options}
    return SyncRubricJudgeReward(rubric, model="fake-judge", base_url=server.base_url, **options)


def test_explicit_mode_weighs_criteria_and_subtracts_pitfalls(serve):
    server = serve()  # toy judge: met when the criterion's last word is in the response
    reward = _reward(server)
    values = reward(
        prompts=["3 * 4?"] * 4,
        completions=[
            "12 by multiplication, no units",  # 5 + 3 + 1 = 9 of 9
            "12 by multiplication but I divide by zero",  # 5 + 3 - 4 = 4 of 9
            "13",  # 0
            "zero",  # only the pitfall: clipped to 0
        ],
    )
    assert values == pytest.approx([1.0, 4 / 9, 0.0, 0.0])
    metrics = {}
    reward(prompts=["3 * 4?"] * 2, completions=["12", "12 zero"], log_metric=metrics.__setitem__)
    criteria = {k: v for k, v in metrics.items() if "/criterion/" in k}
    assert criteria == {
        "rubric_judge/criterion/1": 1.0,  # both give 12
        "rubric_judge/criterion/2": 0.0,
        "rubric_judge/criterion/3": 0.0,
        "rubric_judge/criterion/4": 0.5,  # one divides by zero
    }
    assert server.count == 16 + 8  # one request per criterion per completion
    results = reward.score(prompts=["3 * 4?"], completions=["12 by multiplication"])
    assert results[0].details["verdict"] == "1 1 0 0"


def test_implicit_mode_normalises_the_rating(serve):
    ratings = {"best": 10, "worst": 1, "middle": 4}

    def responder(body):
        response = fenced_blocks(_user(body))["response"][0]
        return f"Fine.\nRating: [[{ratings[response]}]]"

    reward = _reward(serve(responder=responder), mode="implicit")
    assert reward(prompts=["q"] * 3, completions=["best", "worst", "middle"]) == pytest.approx(
        [1.0, 0.0, 1 / 3]
    )


def test_implicit_mode_uses_the_rubric_scale(serve):
    rubric = Rubric.from_dict({"criteria": RUBRIC, "scale": [1, 5]})
    server = serve(responder=lambda body: "[RESULT] 4")
    reward = _reward(server, rubric, mode="implicit")
    assert reward(prompts=["q"], completions=["a"]) == [0.75]
    assert "from 1 (worst) to 5 (best)" in _user(server.requests[0])


def test_group_mode_ranks_the_completions_of_each_prompt(serve):
    server = serve()  # toy judge: more distinct words rank higher
    reward = _reward(server, mode="group", num_generations=3)
    prompts = ["A"] * 3 + ["B"] * 3 + ["C"]
    completions = ["one", "one two three", "one two", "x y", "x", "x y z w", "alone"]
    results = reward.score(prompts=prompts, completions=completions)
    assert [r.value for r in results] == [0.0, 1.0, 0.5, 0.5, 0.0, 1.0, None]
    assert results[-1].reason == "singleton_group"
    assert server.count == 2  # one request per group
    sent = sorted(fenced_blocks(_user(request))["response"] for request in server.requests)
    assert sent == sorted([completions[:3], completions[3:6]])  # requests arrive in any order


def test_group_mode_splits_runs_longer_than_num_generations(serve):
    server = serve()
    reward = _reward(server, mode="group", num_generations=2)
    values = reward(prompts=["A"] * 4, completions=["a", "a b", "a b c", "a"])
    assert values == [0.0, 1.0, 1.0, 0.0]
    assert server.count == 2


def test_an_invalid_ranking_is_unparseable_not_zero(serve):
    reward = _reward(serve(responder=lambda body: '{"ranking": [1, 1]}'), mode="group", reask=0)
    results = reward.score(prompts=["A", "A"], completions=["a", "b"])
    assert [(r.value, r.reason) for r in results] == [(None, "unparseable_verdict")] * 2
    assert results[0].details["parse_reason"] == "out_of_range"


def test_unparseable_verdicts_are_re_asked_then_reported(serve):
    def stubborn(body):
        return "I refuse to grade."

    def learns(body):
        reasked = body["messages"][-1]["content"].startswith("Your last reply")
        return "Verdict: YES" if reasked else "It is good, mostly."

    reward = _reward(serve(responder=stubborn), reask=1)
    result = reward.score(prompts=["q"], completions=["a"])[0]
    assert (result.value, result.reason) == (None, "unparseable_verdict")
    assert result.details["parse_reason"] == "no_verdict"
    learner = serve(responder=learns)
    reward = _reward(learner, [RUBRIC[0]], reask=2)
    result = reward.score(prompts=["q"], completions=["a"])[0]
    assert (result.value, result.reason, result.details["reasks"]) == (1.0, "ok", 1)
    assert learner.count == 2
    assert learner.requests[1]["messages"][-2] == {
        "role": "assistant",
        "content": "It is good, mostly.",
    }


def test_without_reask_a_bad_verdict_costs_one_request(serve):
    server = serve(responder=lambda body: "")
    reward = _reward(server, [RUBRIC[0]], reask=0)
    assert (
        reward.score(prompts=["q"], completions=["a"])[0].details["parse_reason"] == "empty_reply"
    )
    assert server.count == 1


def test_the_async_reward_is_seen_as_async_by_trl_and_the_sync_one_is_not(serve):
    server = serve()
    async_reward = RubricJudgeReward(RUBRIC, model="m", base_url=server.base_url, cache=False)
    sync_reward = _reward(server)
    assert inspect.iscoroutinefunction(async_reward.__call__)
    assert is_async_callable(async_reward)
    assert not is_async_callable(sync_reward)
    assert async_reward.__name__ == "rubric_judge"
    assert is_async_callable(pickle.loads(pickle.dumps(async_reward)))
    completions = ["12 by multiplication", "no"]

    async def call():
        try:
            return await async_reward(prompts=["q", "q"], completions=completions)
        finally:
            await async_reward.aclose()

    from_async = asyncio.run(call())
    assert from_async == sync_reward(prompts=["q", "q"], completions=completions)
    assert [r.value for r in async_reward.score(prompts=["q", "q"], completions=completions)] == (
        from_async
    )


def test_many_concurrent_calls_share_one_event_loop(serve):
    server = serve(latency=0.2)
    reward = RubricJudgeReward(
        RUBRIC[:1], mode="implicit", model="m", base_url=server.base_url, cache=False
    )

    async def together():
        calls = [
            reward(prompts=["q"] * 4, completions=[f"c{i}{j}" for j in range(4)]) for i in range(4)
        ]
        try:
            return await asyncio.gather(*calls)
        finally:
            await reward.aclose()

    results = asyncio.run(together())
    assert [len(r) for r in results] == [4, 4, 4, 4]
    assert server.max_in_flight > 4  # the calls overlapped


def test_chat_completions_prompts_and_references_reach_the_judge(serve):
    server = serve()
    reward = _reward(server, [RUBRIC[0]], reference_column="solution")
    values = reward(
        prompts=[
            [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "3 * 4?"}]
        ],
        completions=[[{"role": "assistant", "content": "It is 12."}]],
        solution=["3 * 4 = 12"],
    )
    assert values == [1.0]
    blocks = fenced_blocks(_user(server.requests[0]))
    assert blocks["question"] == ["3 * 4?"]
    assert blocks["response"] == ["It is 12."]
    assert blocks["reference"] == ["3 * 4 = 12"]


def test_rubrics_can_come_per_row_and_bad_ones_are_reported(serve):
    server = serve()
    reward = _reward(server, None, rubric_column="rubric")
    good = json.dumps([{"text": "Says hello", "category": "essential"}])
    results = reward.score(
        prompts=["q"] * 3,
        completions=["hello there", "hello", "hello"],
        rubric=[good, '[{"text": "x", "category": "pitfall"}]', "rubric.yaml"],
    )
    assert results[0].value == 1.0
    assert results[1].reason == results[2].reason == "invalid_rubric"
    assert "only pitfalls" in results[1].details["error"]
    assert "not valid JSON" in results[2].details["error"]  # a cell is data, never a file path


def test_geval_scores_come_from_the_judges_logprobs(serve):
    def responder(body):
        assert body["top_logprobs"] == 3
        top = [
            {"token": "8", "logprob": math.log(0.5)},
            {"token": "6", "logprob": math.log(0.5)},
        ]
        return {
            "content": "Rating: [[8]]",
            "logprobs": [
                {"token": "Rating: [[", "logprob": 0.0, "top_logprobs": []},
                {"token": "8", "logprob": math.log(0.5), "top_logprobs": top},
                {"token": "]]", "logprob": 0.0, "top_logprobs": []},
            ],
        }

    rubric = Rubric.from_dict({"criteria": RUBRIC, "scale": [0, 10]})
    reward = _reward(
        serve(responder=responder), rubric, mode="implicit", use_logprobs=True, top_logprobs=3
    )
    assert reward(prompts=["q"], completions=["a"]) == [pytest.approx(0.7)]  # E[r] = 7 of 10


def test_huge_and_unicode_completions_are_cut_and_fenced(serve):
    server = serve(responder=lambda body: "Rating: [[5]]")
    reward = _reward(server, mode="implicit", max_response_chars=1000)
    huge = "∑ π 😀 " * 100_000
    assert reward(prompts=["q"], completions=[huge]) == [pytest.approx(4 / 9)]
    response = fenced_blocks(_user(server.requests[0]))["response"][0]
    assert response.startswith("∑ π 😀") and "more characters cut" in response
    assert len(response) < 1100


def test_reasons_and_usage_reach_the_trainer_logs(serve):
    server = serve(faults=["server_error"])
    reward = _reward(server, [RUBRIC[0]])
    metrics, extras = {}, {}
    reward(
        prompts=["q", "q"],
        completions=["12", "13"],
        log_metric=metrics.__setitem__,
        log_extra=extras.__setitem__,
    )
    assert metrics["rubric_judge/reason/ok"] == 0.5
    assert metrics["rubric_judge/reason/judge_unavailable"] == 0.5
    assert metrics["rubric_judge/judge/requests"] == 2.0
    assert metrics["rubric_judge/judge/prompt_tokens"] > 0
    assert sorted(extras["rubric_judge/reason"]) == ["judge_unavailable", "ok"]
    assert "rubric_judge/verdict" in extras


def test_the_reward_pickles_and_works_after(serve):
    server = serve()
    reward = pickle.loads(pickle.dumps(_reward(server, cache=True)))
    assert reward(prompts=["q"], completions=["12 multiplication units"]) == [1.0]


def test_registry_builds_both_forms(serve):
    server = serve()
    assert {"rubric_judge", "rubric_judge_sync"} <= set(reward_names())
    reward = get_reward("rubric_judge", rubric=RUBRIC, model="m", base_url=server.base_url)
    assert isinstance(reward, RubricJudgeReward) and is_async_callable(reward)
    sync = get_reward("rubric_judge_sync", rubric=RUBRIC, model="m", base_url=server.base_url)
    assert not is_async_callable(sync)


@pytest.mark.parametrize(
    ("options", "error", "message"),
    [
        ({"mode": "pairwise"}, ValueError, "unknown judge mode 'pairwise'"),
        ({"rubric": None}, ValueError, "needs a rubric"),
        ({"model": None}, ValueError, "needs model="),
        ({"backend": "anthropic"}, ValueError, "unknown judge backend 'anthropic'"),
        ({"num_generations": 1}, ValueError, "num_generations"),
        ({"use_logprobs": True, "top_logprobs": 0}, ValueError, "top_logprobs"),
        ({"reask": -1}, ValueError, "reask"),
        ({"rubric": [{"text": "x", "category": "nope"}]}, ValueError, "unknown category"),
        ({"max_concurrencyy": 3}, TypeError, "max_concurrencyy"),
    ],
)
def test_configuration_errors_raise_at_construction(options, error, message):
    options = {"rubric": RUBRIC, "model": "m", "base_url": "http://127.0.0.1:1/v1", **options}
    with pytest.raises(error, match=message):
        RubricJudgeReward(**options)


def test_explicit_geval_uses_the_probability_of_yes(serve):
    def responder(body):
        top = [
            {"token": " YES", "logprob": math.log(0.8)},
            {"token": " NO", "logprob": math.log(0.2)},
        ]
        return {
            "content": "Verdict: YES",
            "logprobs": [
                {"token": "Verdict:", "logprob": 0.0, "top_logprobs": []},
                {"token": " YES", "logprob": math.log(0.8), "top_logprobs": top},
            ],
        }

    reward = _reward(serve(responder=responder), [RUBRIC[0]], use_logprobs=True)
    assert reward(prompts=["q"], completions=["a"]) == [pytest.approx(0.8)]


def test_the_rubric_description_reaches_the_judge(serve):
    server = serve(responder=lambda body: "Rating: [[5]]")
    rubric = Rubric.from_dict({"criteria": RUBRIC, "description": "Grade the proof's rigour"})
    _reward(server, rubric, mode="implicit")(prompts=["q"], completions=["a"])
    assert fenced_blocks(_user(server.requests[0]))["rubric"][0].startswith(
        "Goal: Grade the proof's rigour\n1. [essential, 5]"
    )


def test_lone_surrogates_from_a_bad_decode_are_still_judged(serve):
    server = serve(responder=lambda body: "Rating: [[10]]")
    reward = _reward(server, mode="implicit")
    assert reward(prompts=["q\udc80"], completions=["broken \ud800 text"]) == [1.0]
    assert fenced_blocks(_user(server.requests[0]))["response"] == ["broken ? text"]
