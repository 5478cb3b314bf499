"""The Scorer on its own: what a Ray Serve deployment or any other host wraps."""

from __future__ import annotations

import asyncio

import pytest
from serve_rewards import Contains

from rewardkit.rewards import Sample
from rewardkit.serve import Overloaded, Scorer, load_config


def _sample(text: str, label: str) -> Sample:
    return Sample(None, text, text, None, {"answer": label})


def test_one_scorer_serves_several_event_loops_one_after_another():
    scorer = Scorer(Contains(), processes=1)

    async def score(text):
        return [r.value for r in await scorer.score([_sample(text, "7")])]

    assert asyncio.run(score("7")) == [1.0]
    first_pool = scorer._pool
    assert asyncio.run(score("8")) == [0.0]  # a new loop: a new pool, the old one closed
    assert first_pool._closed and scorer._pool is not first_pool
    asyncio.run(scorer.close())


def test_a_closing_scorer_refuses_new_work_and_bad_settings_are_refused():
    async def main():
        scorer = Scorer(Contains(), executor="thread")
        await scorer.start()
        await scorer.close()
        scorer._closing = True
        with pytest.raises(Overloaded, match="shutting down"):
            await scorer.score([_sample("7", "7")])

    asyncio.run(main())
    with pytest.raises(ValueError, match="executor"):
        Scorer(Contains(), executor="gpu")
    with pytest.raises(ValueError, match="processes"):
        Scorer(Contains(), processes=0)


@pytest.mark.parametrize(
    "config, message",
    [
        ({}, "'routes'"),
        ({"routes": {"a": "math"}, "prot": 1}, "unknown key"),
        ({"routes": {"a": {"reward": "math", "weights": {"math": 1}}}}, "exactly one"),
        ({"routes": {"a": {"weights": {"math": "heavy"}}}}, "numbers"),
        ({"routes": {"a b": "math"}}, "route name"),
        ({"routes": {"a": "math"}, "default": "b"}, "default route"),
        ({"routes": {"a": "math"}, "max_body_mb": 0}, "max_body_mb"),
    ],
)
def test_config_mistakes_name_the_key(config, message):
    with pytest.raises(ValueError, match=message):
        load_config(config)
