"""The "seen before?" check behind "rows of one prompt are adjacent": never a false refusal."""

from __future__ import annotations

import math

import pytest

from rewardkit.filters import iter_groups, read_completions
from rewardkit.filters.seen import SeenKeys

# Six prompts that together set every Bloom-filter bit of a seventh (found by search over
# "q<i>" for the default 2^26 bits and 6 hashes): a Bloom filter alone calls it seen.
COVERING = ["q909801", "q1118534", "q1269447", "q5918825", "q10024716", "q43417874"]
TARGET = "Is this prompt new?"


def test_a_bloom_false_positive_does_not_refuse_a_valid_input():
    records = [{"prompt": p, "completion": "x"} for p in [*COVERING, TARGET]]
    rows = list(read_completions(records))
    assert [r["prompt_id"] for r in rows] == list(range(7))
    seen = SeenKeys()
    assert [seen.add(p) for p in COVERING] == [False] * 6
    assert seen.add(TARGET) is False and seen.bloom_hits == 1  # a hit, confirmed as new
    groups = list(iter_groups([{"prompt_id": p} for p in [*COVERING, TARGET]]))
    assert len(groups) == 7


def test_a_saturated_bloom_filter_still_answers_exactly():
    seen = SeenKeys(bloom_bits=1 << 10)  # nearly every bit set after a few hundred keys
    keys = [f"prompt {i} ∑" for i in range(150_000)]  # past several sorted runs
    assert not any(seen.add(k) for k in keys)
    assert seen.bloom_hits > 100_000 and len(seen) == len(keys)
    assert all(seen.add(k) for k in keys[::997]) and seen.add(keys[-1])
    assert not seen.add("a new one")


def test_false_positive_rates_at_ten_million_prompts():
    n = 10**7
    # The documented bound on any false refusal over 10^7 distinct prompts.
    assert SeenKeys.false_refusal_bound(n) == pytest.approx(2.7e-6, rel=0.02)
    # The Bloom filter's own rate at 10^7 keys (only a lookup's cost), from its sizing...
    predicted = (1 - math.exp(-6 * n / 2**26)) ** 6
    assert predicted == pytest.approx(0.042, abs=0.001)
    # ...and measured at the same load (keys per bit) on a filter 1/128 the size. Probes
    # are added too (add() is the only query), so the load grows a little while measuring.
    scale, probes = 128, 3000
    seen = SeenKeys(bloom_bits=2**26 // scale)
    for i in range(n // scale):
        seen.add(i)
    before = seen.bloom_hits
    assert not any(seen.add(f"new {i}") for i in range(probes))  # exact: never "seen"
    rate = (seen.bloom_hits - before) / probes
    at_midpoint = (1 - math.exp(-6 * (n / scale + probes / 2) / (2**26 / scale))) ** 6
    assert rate == pytest.approx(at_midpoint, rel=0.3)  # about 3 standard deviations


def test_a_real_repeat_is_still_refused():
    records = [{"prompt": p, "completion": "x"} for p in ["a", "b", "a"]]
    with pytest.raises(ValueError, match="record 2: its prompt came before"):
        list(read_completions(records))
    with pytest.raises(ValueError, match="prompt 'a' are not next to each other"):
        list(iter_groups([{"prompt_id": p} for p in ["a", "b", "a"]]))
