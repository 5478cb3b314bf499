"""Every reward of this issue follows the protocol: TRL signature, both completion formats,
one value per completion, never raising on hostile input, picklable, reasons logged."""

from __future__ import annotations

import math
import pickle

import pytest

from rewardkit.rewards import (
    AllOf,
    AnswerOutsideThink,
    Clip,
    CosineLength,
    Gate,
    LengthGatedCorrectness,
    Normalize,
    OverlongPenalty,
    ProcessReward,
    RepetitionPenalty,
    SingleBoxedAnswer,
    ThinkFormat,
    ThinkTagCount,
    WeightedSum,
    get_reward,
    math_reward,
)
from rewardkit.text import completion_text


def _rewards():
    return [
        ThinkFormat(),
        ThinkFormat(strict=True),
        SingleBoxedAnswer(),
        ThinkTagCount(),
        AnswerOutsideThink(),
        OverlongPenalty(max_length=50, cache=10),
        CosineLength(max_length=50),
        RepetitionPenalty(ngram_size=3),
        LengthGatedCorrectness(max_tokens=40),
        ProcessReward(),
        ProcessReward(aggregation="sum", transform="clip"),
        ProcessReward(aggregation="first_error"),
        math_reward(),
        WeightedSum([("boxed_accuracy", 1.0), (ThinkFormat(), 0.2)]),
        Gate("boxed_accuracy", AllOf([ThinkFormat(), SingleBoxedAnswer()])),
        Clip(CosineLength(max_length=50), low=-1.0, high=1.0),
        Normalize(CosineLength(max_length=50), low=-10.0, high=2.0),
    ]


REWARDS = _rewards()
IDS = [r.__name__ + f"_{i}" for i, r in enumerate(REWARDS)]

HOSTILE = [
    None,
    "",
    "   ",
    "<think>",
    "</think>",
    "<think></think>",
    "<think><think>a</think></think>\\boxed{",
    "\\boxed{}" * 3,
    "<think>" + "1 + 1 = 2\n" * 5000 + "</think> \\boxed{2}",  # huge
    "<think>" + "(" * 3000 + "1" + ")" * 3000 + " = 1</think>\\boxed{1}",  # deep nesting
    "<think>2^999999 = 5 and 9^9^9^9 = 1</think>\\boxed{1}",  # exponent towers
    "<think>x/0 = 5, 1/0 = 3</think> \\boxed{3}",
    "<think>数学 ۳ + ٤ = ٧ 🤖 \u202e 3 + 4 = 7</think> \\boxed{７}",  # unicode digits, RTL mark
    "\x00\x01<think>\ud800</think>",  # NUL, lone surrogate
    "<think>2 + 2 = 4</think> \\boxed{4}",
]


def _call(reward, completions, **extra):
    n = len(completions)
    ids = [list(range(len(completion_text(c)) // 4)) for c in completions]
    return reward(
        prompts=["What is 2 + 2?"] * n,
        completions=completions,
        completion_ids=ids,
        answer=["4"] * n,
        **extra,
    )


@pytest.mark.parametrize("reward", REWARDS, ids=IDS)
def test_hostile_input_gives_one_value_each_and_never_raises(reward):
    values = _call(reward, HOSTILE)
    assert len(values) == len(HOSTILE)
    for v in values:
        assert v is None or (isinstance(v, float) and math.isfinite(v))
    results = reward.score(
        completions=HOSTILE,
        completion_ids=[list(range(len(completion_text(c)) // 4)) for c in HOSTILE],
        answer=["4"] * len(HOSTILE),
    )
    assert "internal_error" not in _all_reasons(results)  # handled, not merely caught


def _all_reasons(results):
    out = []
    for r in results:
        out.append(r.reason)
        out += _all_reasons(list((r.details.get("components") or {}).values()))
    return out


@pytest.mark.parametrize("reward", REWARDS, ids=IDS)
def test_plain_and_chat_completions_score_the_same(reward):
    texts = ["<think>2 + 2 = 4</think> \\boxed{4}", "<think>2 + 2 = 5</think> \\boxed{5}", "4"]
    chats = [[{"role": "assistant", "content": t}] for t in texts]
    assert _call(reward, texts) == _call(reward, chats)


@pytest.mark.parametrize("reward", REWARDS, ids=IDS)
def test_pickles_and_keeps_scoring(reward):
    clone = pickle.loads(pickle.dumps(reward))
    texts = ["<think>2 + 2 = 4</think> \\boxed{4}", "<think>3 * 3 = 10</think> \\boxed{9}"]
    assert clone.__name__ == reward.__name__
    assert _call(clone, texts) == _call(reward, texts)


@pytest.mark.parametrize("reward", REWARDS, ids=IDS)
def test_reasons_reach_log_metric_and_log_extra(reward):
    metrics, extras = {}, {}
    _call(
        reward,
        ["<think>2 + 2 = 4</think> \\boxed{4}", ""],
        log_metric=lambda k, v: metrics.__setitem__(k, v),
        log_extra=lambda k, v: extras.__setitem__(k, v),
    )
    shares = {k: v for k, v in metrics.items() if k.startswith(f"{reward.__name__}/reason/")}
    assert shares and abs(sum(shares.values()) - 1.0) < 1e-9
    assert len(extras[f"{reward.__name__}/reason"]) == 2


@pytest.mark.parametrize(
    "name",
    [
        "think_format",
        "single_boxed_answer",
        "think_tag_count",
        "answer_outside_think",
        "overlong_penalty",
        "cosine_length",
        "repetition_penalty",
        "process",
        "math",
    ],
)
def test_registered_by_name(name):
    reward = get_reward(name)
    assert callable(reward) and _call(reward, ["<think>a b c</think> \\boxed{4}"])


def test_length_gated_correctness_needs_its_budget():
    with pytest.raises(TypeError):
        get_reward("length_gated_correctness")
    assert (
        get_reward("length_gated_correctness", max_tokens=10).__name__ == "length_gated_correctness"
    )
