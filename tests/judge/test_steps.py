"""JudgeStepScorer follows the step-scorer protocol: 1.0 before the first wrong step, 0.0 at
it, None after; None everywhere when the judge cannot say."""

from __future__ import annotations

import asyncio

import pytest

from rewardkit.judge import JudgeStepScorer
from rewardkit.judge.steps import scores_from_first_error
from rewardkit.judge.testing_server import fenced_blocks

STEPS = ["3 * 4 = 12", "12 + 2 = 15", "So the answer is 15."]


def _scorer(server, **options):
    options = {"cache": False, "timeout": 1, "max_retries": 0, "reask": 0, **options}
    return JudgeStepScorer(model="fake-judge", base_url=server.base_url, **options)


@pytest.mark.parametrize(
    ("reply", "scores"),
    [
        (r"Step 1 adds wrongly. \boxed{1}", [1.0, 0.0, None]),
        (r"The first step is already wrong: \boxed{0}", [0.0, None, None]),
        (r"\boxed{2}", [1.0, 1.0, 0.0]),
        (r"All steps are right. \boxed{-1}", [1.0, 1.0, 1.0]),
        ('<think>step 0 \\boxed{0}?</think>{"first_error": 1}', [1.0, 0.0, None]),
        (r"\boxed{3}", [None, None, None]),  # no such step
        ("I am not sure.", [None, None, None]),
    ],
)
def test_first_error_index_becomes_step_scores(serve, reply, scores):
    scorer = _scorer(serve(responder=lambda body: reply))
    assert scorer.score_steps("What is 3 * 4 + 2?", STEPS) == scores


def test_the_judge_sees_the_problem_and_numbered_fenced_steps(serve):
    server = serve()
    assert _scorer(server).score_steps("p", ["fine", "this is wrong", "after"]) == [1.0, 0.0, None]
    blocks = fenced_blocks(server.requests[0]["messages"][-1]["content"])
    assert blocks["problem"] == ["p"] and blocks["step"] == ["fine", "this is wrong", "after"]


def test_faults_and_bad_answers_give_reasons(serve):
    server = serve(faults=lambda i, body: "server_error")
    verdict = _scorer(server).judge_many([("p", STEPS)])[0]
    assert (verdict.scores, verdict.first_error, verdict.reason) == (
        [None] * 3,
        None,
        "judge_unavailable",
    )
    unsure = _scorer(serve(responder=lambda body: "hmm")).judge_many([("p", STEPS)])[0]
    assert unsure.reason == "unparseable_verdict"


def test_many_solutions_are_judged_concurrently_and_cached(serve, tmp_path):
    server = serve(latency=0.1)
    scorer = _scorer(server, cache=tmp_path / "steps.sqlite")
    items = [(f"p{i}", [f"step {i}", "wrong" if i % 2 else "ok"]) for i in range(8)]
    verdicts = scorer.judge_many(items)
    assert [v.first_error for v in verdicts] == [-1, 1] * 4
    assert server.max_in_flight > 1
    scorer.judge_many(items)
    assert server.count == 8


def test_no_steps_no_request(serve):
    server = serve()
    assert _scorer(server).score_steps("p", []) == []
    assert server.count == 0


def test_works_from_inside_a_running_event_loop(serve):
    scorer = _scorer(serve())

    async def caller():
        return scorer.score_steps("p", ["ok", "wrong"])

    assert asyncio.run(caller()) == [1.0, 0.0]


def test_scores_from_first_error():
    assert scores_from_first_error(3, -1) == [1.0, 1.0, 1.0]
    assert scores_from_first_error(3, 0) == [0.0, None, None]
    assert scores_from_first_error(1, 0) == [0.0]
