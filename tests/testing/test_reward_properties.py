"""Property-based tests of every registered rewardkit reward that needs no model or network.

For arbitrary text, in both completion formats, each reward returns one value per
completion, each ``None`` or a finite float in the reward's range, the same values when
called again, and never raises. A reward registered by name is covered automatically;
one that needs a model, a network or constructor arguments goes into ``EXCLUDED`` with
the reason.
"""

from __future__ import annotations

import math

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rewardkit.rewards import get_reward, reward_names

# name -> why it is not property-tested here
EXCLUDED: dict[str, str] = {}
# name -> (low, high) when the range is not [0, 1]
RANGES: dict[str, tuple[float, float]] = {}
DEFAULT_RANGE = (0.0, 1.0)

SETTINGS = settings(
    max_examples=100,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)

# fmt: off
FRAGMENTS = [
    "<think>", "</think>", "\\boxed{", "\\boxed{4}", "}", "{", "\\frac{1}{2}", "####",
    "The answer is ",
    "A: ", "**", "$", "\\text{", "\\left(", "\\right)", "4", "3.5", "-1", "x", "=", "\n", " ",
    "\uff14", "\u0417", "\U0001f9ee", "\x00", "\u200b", "^", "\\sqrt{", "\\", "1,000",
]
# fmt: on

texts = st.one_of(
    st.text(max_size=300),
    st.lists(st.sampled_from(FRAGMENTS) | st.text(max_size=5), max_size=40).map("".join),
)
golds = st.one_of(
    st.none(), st.sampled_from(["4", "\\frac{1}{2}", "x+1", "#### 7", ""]), st.text(max_size=20)
)


def reward_under_test(name):
    if name in EXCLUDED:
        pytest.skip(f"{name}: {EXCLUDED[name]}")
    try:
        return get_reward(name)
    except TypeError as exc:
        pytest.fail(f"{name} cannot be built without arguments ({exc}): add it to EXCLUDED")


@pytest.mark.parametrize("name", reward_names())
@SETTINGS
@given(
    batch=st.lists(st.tuples(texts, golds), min_size=1, max_size=4),
    chat=st.booleans(),
)
def test_reward_properties(name, batch, chat):
    reward = reward_under_test(name)
    low, high = RANGES.get(name, DEFAULT_RANGE)
    completions = [[{"role": "assistant", "content": text}] if chat else text for text, _ in batch]
    columns = {"solution": [gold for _, gold in batch]}
    first = reward(prompts=["q"] * len(batch), completions=completions, **columns)
    again = reward(prompts=["q"] * len(batch), completions=completions, **columns)
    assert len(first) == len(batch)
    for value in first:
        if value is not None:
            assert isinstance(value, float) and math.isfinite(value)
            assert low <= value <= high
    assert first == again


@pytest.mark.parametrize("name", reward_names())
@SETTINGS
@given(text=texts, gold=st.sampled_from(["4", "\\frac{1}{2}", "x+1"]))
def test_reward_scores_plain_and_chat_alike(name, text, gold):
    reward = reward_under_test(name)
    plain = reward(completions=[text], solution=[gold])
    chat = reward(completions=[[{"role": "assistant", "content": text}]], solution=[gold])
    assert plain == chat


def test_every_registered_reward_is_covered_or_excluded_with_a_reason():
    assert reward_names(), "no reward is registered"
    assert set(EXCLUDED) <= set(reward_names()), "EXCLUDED names a reward that no longer exists"
    assert all(reason for reason in EXCLUDED.values())
