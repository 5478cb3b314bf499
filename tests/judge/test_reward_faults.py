"""Under every fault the judge reward returns one value per completion, a reason for each
None, and raises nothing."""

from __future__ import annotations

import asyncio
import random
import time

import pytest

from rewardkit.judge import RubricJudgeReward, SyncRubricJudgeReward

RUBRIC = [
    {"text": "Gives the final answer 12", "category": "essential"},
    {"text": "Shows the multiplication", "category": "important"},
]
PROMPTS = ["What is 3 * 4?"] * 4
COMPLETIONS = ["3 * 4 = 12, the final answer is 12", "It is 12", "13", "I do not know"]

# A per-attempt timeout no reply of a loaded 2-core machine comes near (a timeout there
# would turn a rate limit or a 500 into a ``timeout``); SLOW is the timeout of the tests
# whose ``slow`` fault must time out: its replies come far later (SLOW_REPLY), so load
# can only make them later still.
FAST = {
    "timeout": 5.0,
    "max_retries": 1,
    "backoff_base": 0.01,
    "backoff_max": 0.02,
    "breaker_failures": 0,  # every request meets the fault (the breaker has its own tests)
}
SLOW, SLOW_REPLY = 1.5, 10.0
FAULT_REASONS = {
    "rate_limit": "rate_limited",
    "server_error": "judge_unavailable",
    "drop": "judge_unavailable",
    "malformed": "bad_judge_reply",
    "slow": "timeout",
}


def _reward(server, mode="explicit", **options):
    options = {"cache": False, **FAST, **options}
    return RubricJudgeReward(
        RUBRIC, mode=mode, model="fake-judge", base_url=server.base_url, **options
    )


def _call(reward, **columns):
    metrics: dict[str, float] = {}

    async def go():
        try:
            return await reward(
                prompts=PROMPTS,
                completions=COMPLETIONS,
                log_metric=lambda key, value: metrics.__setitem__(key, value),
                **columns,
            )
        finally:
            await reward.aclose()

    return asyncio.run(go()), metrics


def _run(reward, awaitable):
    async def go():
        try:
            return await awaitable
        finally:
            await reward.aclose()

    return asyncio.run(go())


@pytest.mark.parametrize("mode", ["explicit", "implicit", "group"])
@pytest.mark.parametrize("fault", sorted(FAULT_REASONS))
def test_a_judge_that_always_fails_gives_none_with_the_reason(serve, mode, fault):
    server = serve(faults=lambda i, body: fault, retry_after=0.05, slow_seconds=SLOW_REPLY)
    reward = _reward(server, mode, timeout=SLOW if fault == "slow" else FAST["timeout"])
    start = time.monotonic()
    values, metrics = _call(reward)
    assert values == [None] * 4
    assert metrics[f"rubric_judge/reason/{FAULT_REASONS[fault]}"] == 1.0
    assert metrics["rubric_judge/judge/failures"] > 0
    results = reward.score(prompts=PROMPTS, completions=COMPLETIONS)  # the sync path too
    assert [r.reason for r in results] == [FAULT_REASONS[fault]] * 4
    assert all(r.details.get("error") for r in results)
    # two calls, each bounded by its deadline (timeout * attempts), not hanging
    assert time.monotonic() - start < 2 * reward.client.deadline() + 3


@pytest.mark.parametrize("fault", sorted(FAULT_REASONS))
def test_a_judge_that_fails_once_still_scores_everything(serve, fault):
    server = serve(faults=[fault] * 3, retry_after=0.05, slow_seconds=SLOW_REPLY)
    timeout = SLOW if fault == "slow" else FAST["timeout"]
    values, metrics = _call(_reward(server, max_retries=2, timeout=timeout))
    # toy judge: a criterion is met when its last word appears; "12" weighs 5, "multiplication" 3
    assert values == [0.625, 0.625, 0.0, 0.0]
    assert metrics["rubric_judge/reason/ok"] == 1.0
    assert metrics["rubric_judge/judge/retries"] >= 3


def test_random_faults_with_latency_keep_every_slot_accounted_for(serve):
    rng = random.Random(0)
    kinds = [None, None, None, *FAULT_REASONS]

    def faults(index, body):
        return rng.choice(kinds)

    server = serve(faults=faults, latency=0.02, retry_after=0.05, slow_seconds=SLOW_REPLY)
    reward = _reward(server, max_retries=0, max_concurrency=8, timeout=SLOW)
    prompts = [f"Question {i // 4}" for i in range(32)]
    completions = [f"answer {i} is 12 with multiplication" for i in range(32)]
    results = _run(reward, reward.ascore(prompts=prompts, completions=completions))
    assert len(results) == 32
    reasons = {r.reason for r in results}
    assert "ok" in reasons and len(reasons) > 2
    for r in results:
        if r.value is None:
            assert r.reason in set(FAULT_REASONS.values())
        else:
            assert r.reason == "ok" and 0.0 <= r.value <= 1.0


def test_the_sync_reward_survives_faults_inside_a_running_event_loop(serve):
    server = serve(faults=["server_error", "drop"], retry_after=0.05)
    reward = SyncRubricJudgeReward(
        RUBRIC,
        mode="implicit",
        model="fake-judge",
        base_url=server.base_url,
        cache=False,
        **{**FAST, "max_retries": 0},
    )

    async def inside_a_loop():
        return reward(prompts=PROMPTS, completions=COMPLETIONS)

    values = asyncio.run(inside_a_loop())
    assert len(values) == 4
    assert values.count(None) == 2
    assert all(v is None or 0 <= v <= 1 for v in values)


def test_a_broken_backend_is_an_internal_error_not_an_exception(serve):
    server = serve()
    reward = _reward(server)

    async def explode(*args, **kwargs):
        raise RuntimeError("backend bug")

    reward.backend.complete = explode
    values, metrics = _call(reward)
    assert values == [None] * 4
    assert metrics["rubric_judge/reason/judge_unavailable"] == 1.0


def test_mismatched_columns_do_not_raise_into_the_trainer(serve):
    reward = _reward(serve())
    values = _run(reward, reward(prompts=PROMPTS[:2], completions=COMPLETIONS))
    assert values == [None] * 4


def test_an_outage_logs_its_cause_once_and_one_summary_not_one_line_per_request(serve, caplog):
    server = serve(faults=lambda i, body: "server_error")
    reward = _reward(server, max_retries=0)
    values, _ = _call(reward)
    values_again, _ = _call(reward)
    assert values == values_again == [None] * 4
    warnings = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    summary = "reward rubric_judge: 4 of 4 completions unscored: {'judge_unavailable': 4}"
    assert warnings[1:] == [summary, summary]
    cause = warnings[0]  # once per run: the URL, the status and the server's own message
    assert "first judge_unavailable" in cause
    assert f"HTTP 500 from {server.base_url}/chat/completions" in cause
    assert "internal error" in cause
