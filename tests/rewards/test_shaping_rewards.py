"""Shaping rewards: DAPO overlong punishment, cosine length scaling, n-gram repetition,
length-gated correctness, checked against the papers' formulas."""

from __future__ import annotations

import math

import pytest

from rewardkit.rewards import (
    CosineLength,
    LengthGatedCorrectness,
    OverlongPenalty,
    RepetitionPenalty,
)


def ids(n):
    return list(range(n))


def test_overlong_matches_dapo_and_trl():
    from trl.rewards import get_soft_overlong_punishment

    ours = OverlongPenalty(max_length=100, cache=20)
    theirs = get_soft_overlong_punishment(max_completion_len=100, soft_punish_cache=20)
    lengths = [0, 50, 80, 81, 90, 99, 100, 101, 5000]
    completion_ids = [ids(n) for n in lengths]
    got = ours(completions=["x"] * len(lengths), completion_ids=completion_ids)
    assert got == pytest.approx(theirs(completion_ids=completion_ids))
    assert got == pytest.approx([0, 0, 0, -0.05, -0.5, -0.95, -1.0, -1.0, -1.0])
    reasons = [
        r.reason
        for r in ours.score(completions=["x"] * 3, completion_ids=[ids(1), ids(90), ids(101)])
    ]
    assert reasons == ["ok", "in_cache", "overlong"]


def test_overlong_without_ids_says_so_or_estimates():
    assert (
        OverlongPenalty(max_length=10, cache=5).score(completions=["a" * 100])[0].reason
        == "no_token_ids"
    )
    estimated = OverlongPenalty(max_length=10, cache=5, estimate_tokens=True)
    # 100 bytes ~ 25 tokens > 10: overlong; 20 bytes ~ 5 tokens: fine
    assert estimated(completions=["a" * 100, "a" * 20]) == [-1.0, 0.0]


@pytest.mark.parametrize(
    "kwargs", [{"max_length": 0}, {"max_length": 10, "cache": 11}, {"cache": -1}]
)
def test_overlong_rejects_bad_configuration(kwargs):
    with pytest.raises(ValueError):
        OverlongPenalty(**kwargs)


def test_cosine_length_formula_and_endpoints():
    reward = CosineLength(max_length=100)
    t = 30
    expected_correct = 1.0 + 0.5 * (2.0 - 1.0) * (1 + math.cos(math.pi * t / 100))
    expected_wrong = 0.0 + 0.5 * (-10.0 - 0.0) * (1 + math.cos(math.pi * t / 100))
    got = reward(
        completions=["\\boxed{4}", "\\boxed{5}", "\\boxed{4}", "\\boxed{5}", "\\boxed{4}"],
        completion_ids=[ids(t), ids(t), ids(0), ids(99), ids(100)],
        answer=["4"] * 5,
    )
    assert got[0] == pytest.approx(expected_correct)
    assert got[1] == pytest.approx(expected_wrong)
    assert got[2] == pytest.approx(2.0)  # correct and short: the most
    assert got[3] == pytest.approx(0.0, abs=0.01)  # wrong and long: near r_L^w = 0
    assert got[4] == -10.0  # exceeded
    # correct is monotone decreasing in length, wrong increasing
    lengths = [0, 10, 50, 90]
    correct = reward(
        completions=["\\boxed{4}"] * 4, completion_ids=[ids(n) for n in lengths], answer=["4"] * 4
    )
    wrong = reward(
        completions=["\\boxed{5}"] * 4, completion_ids=[ids(n) for n in lengths], answer=["4"] * 4
    )
    assert correct == sorted(correct, reverse=True) and wrong == sorted(wrong)
    assert min(correct) > max(wrong)


def test_cosine_length_unscorable_cases():
    reward = CosineLength(max_length=100)
    results = reward.score(
        completions=["\\boxed{4}", "\\boxed{4}"], completion_ids=[ids(3), ids(3)]
    )
    assert [(r.value, r.reason) for r in results] == [(None, "no_gold"), (None, "no_gold")]
    assert reward.score(completions=["\\boxed{4}"], answer=["4"])[0].reason == "no_token_ids"


def test_cosine_length_with_a_custom_correctness():
    always = CosineLength(
        max_length=10, correctness=lambda completions, **kw: [1.0] * len(completions)
    )
    assert always(completions=["x"], completion_ids=[ids(0)]) == [2.0]


def test_repetition_penalty_counts_repeated_ngrams():
    reward = RepetitionPenalty(ngram_size=3, penalty=-0.1, min_value=-0.5)
    got = reward(
        completions=["x"] * 4,
        completion_ids=[[1, 2, 3, 4, 5], [1, 2, 3, 1, 2, 3], [7] * 30, [1, 2]],
    )
    # [1,2,3,1,2,3]: (1,2,3) seen again once; [7]*30: 27 repeats, floored at -0.5
    assert got == [0.0, -0.1, -0.5, 0.0]
    dense = reward.token_rewards(completion_ids=[[1, 2, 3, 1, 2, 3]])
    assert dense == [[0.0, 0.0, 0.0, 0.0, 0.0, -0.1]]


def test_repetition_penalty_paper_defaults_and_fallback():
    reward = RepetitionPenalty()
    assert (reward.ngram_size, reward.penalty) == (40, -0.05)
    assert reward.score(completions=["a b"])[0].reason == "no_token_ids"
    words = RepetitionPenalty(ngram_size=2, estimate_tokens=True)
    assert words(completions=["the cat the cat the cat"]) == [pytest.approx(-0.15)]
    with pytest.raises(ValueError):
        RepetitionPenalty(penalty=0.5)
    with pytest.raises(ValueError):
        reward.token_rewards(completions=["x"])


def test_length_gated_correctness():
    reward = LengthGatedCorrectness(max_tokens=5, over_value=-0.5)
    results = reward.score(
        completions=["\\boxed{4}", "\\boxed{4}", "\\boxed{5}", "\\boxed{4}"],
        completion_ids=[ids(5), ids(6), ids(2), None],
        answer=["4"] * 4,
    )
    assert [(r.value, r.reason) for r in results] == [
        (1.0, "ok"),
        (-0.5, "too_long"),
        (0.0, "wrong_answer"),
        (None, "no_token_ids"),
    ]


@pytest.mark.parametrize("max_length", [1, 5, 512, 4096, 20480])
def test_the_default_cache_follows_max_length(max_length):
    penalty = OverlongPenalty(max_length=max_length)
    assert 0 <= penalty.cache <= max_length
    assert penalty.cache == (4096 if max_length == 20480 else max_length // 5)
    ids = [[0] * (max_length + 1)]
    assert penalty(completions=["x"], completion_ids=ids) == [-1.0]
