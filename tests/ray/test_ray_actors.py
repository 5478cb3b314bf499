"""Rewards held by Ray actors, called from the driver and from inside Ray tasks."""

from __future__ import annotations

import pytest

pytest.importorskip("ray")

from rewardkit import BoxedAccuracy  # noqa: E402
from rewardkit.ray import RewardActor, RewardActorPool  # noqa: E402

COMPLETIONS = [r"\boxed{4}", r"\boxed{5}", "no box", r"\boxed{4", r"\boxed{4}"]
ANSWERS = ["4"] * 5


def test_pool_scores_like_the_reward_in_order_with_reasons(ray_local):
    pool = RewardActorPool("boxed_accuracy", num_actors=2)
    assert pool.__name__ == "boxed_accuracy"
    local = BoxedAccuracy()
    assert pool(completions=COMPLETIONS, answer=ANSWERS) == local(
        completions=COMPLETIONS, answer=ANSWERS
    )
    reasons = [r["reason"] for r in pool.score(completions=COMPLETIONS, answer=ANSWERS)]
    assert reasons == [r.reason for r in local.score(completions=COMPLETIONS, answer=ANSWERS)]
    # TRL passes values that are not per-row columns (trainer_state): they go whole
    assert pool(completions=COMPLETIONS[:1], answer=ANSWERS[:1], trainer_state={"step": 3}) == [1.0]
    assert pool(completions=[], answer=[]) == []


def test_pool_is_usable_from_inside_a_ray_task(ray_local):
    pool = RewardActorPool("boxed_accuracy@boxed_only=false", num_actors=1)

    @ray_local.remote(num_cpus=0)
    def reward_worker(pool, completions, answers):  # as a framework's reward worker would
        return pool(completions=completions, answer=answers)

    completions = ["The answer is 12.", r"\boxed{13}"]
    assert ray_local.get(reward_worker.remote(pool, completions, ["12", "12"])) == [1.0, 0.0]


def test_actor_restarts_after_its_process_dies(ray_local):
    actor = ray_local.remote(max_restarts=-1, max_task_retries=-1)(RewardActor).remote("math")
    ray_local.kill(actor, no_restart=False)
    good = r"<think>2 + 2 = 4</think> \boxed{4}"
    assert ray_local.get(actor.__call__.remote(completions=[good], answer=["4"])) == [1.0]


def test_bad_pool_settings_fail_at_construction(ray_local):
    with pytest.raises(ValueError, match="num_actors must be at least 1"):
        RewardActorPool("boxed_accuracy", num_actors=0)
    with pytest.raises(KeyError, match="no_such_reward"):
        RewardActorPool("no_such_reward", num_actors=1)
