"""Composition (weighted sums, gates, all-of, clip, normalise), per-component logging, and
the default "math" reward against the ways a policy can try to game it."""

from __future__ import annotations

import pickle

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rewardkit.rewards import (
    AllOf,
    BoxedAccuracy,
    Clip,
    FunctionReward,
    Gate,
    Normalize,
    SingleBoxedAnswer,
    ThinkFormat,
    WeightedSum,
    get_reward,
    math_reward,
)


def constant(value):
    return FunctionReward(lambda completions, **kw: [value] * len(completions), name=f"c{value}")


class Logs:
    def __init__(self):
        self.metrics, self.extras = {}, {}

    def metric(self, key, value):
        self.metrics[key] = value

    def extra(self, key, values):
        self.extras[key] = values


def test_weighted_sum_values_and_missing_components():
    reward = WeightedSum([(BoxedAccuracy(), 1.0), (SingleBoxedAnswer(), 0.25)])
    got = reward(completions=["\\boxed{4}", "\\boxed{5}", "nothing"], answer=["4"] * 3)
    assert got == [1.25, 0.25, 0.0]
    assert reward(completions=["\\boxed{4}"]) == [None]  # no gold: accuracy is None
    assert reward.score(completions=["\\boxed{4}"])[0].reason == "boxed_accuracy:no_gold"
    lenient = WeightedSum([(BoxedAccuracy(), 1.0), (SingleBoxedAnswer(), 0.25)], missing=0.0)
    assert lenient(completions=["\\boxed{4}"]) == [0.25]
    with pytest.raises(ValueError):
        WeightedSum([(BoxedAccuracy(), "heavy")])
    with pytest.raises(ValueError):
        WeightedSum([])
    with pytest.raises(TypeError):
        WeightedSum([(42, 1.0)])


def test_same_named_components_stay_apart():
    reward = WeightedSum([(constant(1.0), 1.0), (constant(1.0), 2.0)])
    assert list(reward.components) == ["c1.0", "c1.0_2"]
    assert reward(completions=["x"]) == [3.0]


def test_gate_only_scores_open_samples():
    calls = []

    def counting(completions, **kw):
        calls.append(len(completions))
        return [1.0] * len(completions)

    gate = Gate(counting, ThinkFormat(), closed_value=-1.0, weight=2.0, bonus=0.5)
    got = gate(completions=["<think>a</think> b", "no think", "<think>c</think> d"])
    assert got == [2.5, -1.0, 2.5]
    assert calls == [2]
    reasons = [r.reason for r in gate.score(completions=["no think"])]
    assert reasons == ["think_format:no_think"]
    with pytest.raises(ValueError):
        Gate(counting, ThinkFormat(), bonus=float("nan"))


def test_all_of_clip_and_normalize():
    fmt = AllOf([ThinkFormat(), SingleBoxedAnswer()])
    results = fmt.score(completions=["<think>a</think>\\boxed{1}", "<think>a</think> 1"])
    assert [(r.value, r.reason) for r in results] == [
        (1.0, "ok"),
        (0.0, "single_boxed_answer:no_boxed"),
    ]
    assert Clip(constant(3.0), high=1.0)(completions=["x"]) == [1.0]
    assert Clip(constant(-3.0), low=-1.0)(completions=["x"]) == [-1.0]
    assert Normalize(constant(5.0), low=0.0, high=10.0)(completions=["x"]) == [0.5]
    with pytest.raises(ValueError):
        Clip(constant(1.0), low=2.0, high=1.0)
    with pytest.raises(ValueError):
        Normalize(constant(1.0), low=1.0, high=1.0)


def test_each_component_is_logged_separately():
    logs = Logs()
    reward = math_reward()
    reward(
        completions=["<think>2+2=4</think> \\boxed{4}", "<think>x</think> \\boxed{4} \\boxed{5}"],
        answer=["4", "4"],
        log_metric=logs.metric,
        log_extra=logs.extra,
    )
    m = logs.metrics
    assert m["math/format/mean"] == 0.5
    assert m["math/accuracy/mean"] == 1.0  # scored only where the format held
    assert m["math/format/reason/ok"] == 0.5
    assert m["math/format/reason/single_boxed_answer:several_boxed"] == 0.5
    assert m["math/format/think_format/mean"] == 1.0  # nested components too
    assert m["math/format/single_boxed_answer/reason/several_boxed"] == 0.5
    assert m["math/reason/ok"] == 0.5
    assert logs.extras["math/format/reason"] == ["ok", "single_boxed_answer:several_boxed"]
    assert logs.extras["math/accuracy/reason"] == ["ok", "not_scored"]


def test_composites_pickle():
    reward = WeightedSum(
        [(math_reward(), 1.0), (Gate("boxed_accuracy", ThinkFormat()), 0.5)], name="combo"
    )
    clone = pickle.loads(pickle.dumps(reward))
    completions = ["<think>2+2=4</think> \\boxed{4}", "\\boxed{4}"]
    assert clone(completions=completions, answer=["4", "4"]) == reward(
        completions=completions, answer=["4", "4"]
    )
    assert clone.__name__ == "combo"


GOLD = ["12"]


@pytest.mark.parametrize(
    ("completion", "expected"),
    [
        ("<think>3 * 4 = 12</think> The answer is \\boxed{12}.", 1.0),
        ("<think>3 * 4 = 13</think> The answer is \\boxed{13}.", 0.1),
        # hedging: several boxed answers, even if one is right
        ("<think>3 * 4</think> \\boxed{12} or \\boxed{13}", 0.0),
        ("<think>3 * 4</think> \\boxed{11} \\boxed{12}", 0.0),
        # the answer only inside the think span
        ("<think>so \\boxed{12}</think>", 0.0),
        ("<think>so \\boxed{12}</think> I am done.", 0.0),
        # empty, unclosed or missing think
        ("<think></think> \\boxed{12}", 0.0),
        ("<think>   \n </think> \\boxed{12}", 0.0),
        ("<think>3 * 4 = 12 \\boxed{12}", 0.0),
        ("\\boxed{12}", 0.0),
        # several spans, stray tags, text before the span
        ("<think>a</think><think>b</think> \\boxed{12}", 0.0),
        ("I know! <think>a</think> \\boxed{12}", 0.0),
        # empty or broken boxes, no answer, nothing at all
        ("<think>a</think> \\boxed{}", 0.0),
        ("<think>a</think> \\boxed{12", 0.0),
        ("<think>a</think> 12", 0.0),
        ("", 0.0),
        (None, 0.0),
        # a huge completion is scored, not crashed on
        ("<think>" + "3 * 4 = 12\n" * 20000 + "</think> \\boxed{12}", 1.0),
    ],
)
def test_math_reward_pays_nothing_for_gaming(completion, expected):
    assert get_reward("math")(
        prompts=["What is 3 * 4?"], completions=[completion], answer=GOLD
    ) == [expected]


def test_math_reward_with_think_opened_by_the_template_and_options():
    prompt = "<|im_start|>assistant\n<think>\n"
    reward = math_reward()
    assert reward(
        prompts=[prompt], completions=["3 * 4 = 12\n</think>\n\\boxed{12}"], answer=GOLD
    ) == [1.0]
    no_think = math_reward(require_think=False, format_bonus=0.0)
    assert no_think(completions=["\\boxed{12}", "\\boxed{12} \\boxed{13}"], answer=GOLD * 2) == [
        1.0,
        0.0,
    ]
    assert reward(completions=["<think>a</think> \\boxed{12}"]) == [None]  # no gold: skipped
    with pytest.raises(ValueError):
        math_reward(format_bonus=1.0)


_PIECES = st.sampled_from(
    ["<think>", "</think>", "\\boxed{12}", "\\boxed{13}", "\\boxed{", "}", "3 * 4 = 12", "\n", " "]
)


@settings(max_examples=150, deadline=None)
@given(st.lists(_PIECES, max_size=12))
def test_math_reward_values_are_bounded_and_hedging_never_pays(pieces):
    text = "".join(pieces)
    (value,) = math_reward()(prompts=["Q"], completions=[text], answer=["12"])
    assert value in (0.0, 0.1, 1.0)
    after = text.rsplit("</think>", 1)[-1] if "</think>" in text else text
    if after.count("\\boxed{1") >= 2 or "</think>" not in text:
        assert value == 0.0


def test_score_batch_falls_back_to_one_by_one():
    """Reward.score_batch (used by composites on built samples) never raises."""
    from rewardkit.rewards import Reward, RewardResult
    from rewardkit.rewards.base import make_samples

    class Flaky(Reward):
        name = "flaky"

        def score_samples(self, samples):
            raise RuntimeError("batch path broken")

        def score_sample(self, sample):
            if sample.text == "bad":
                raise ValueError("no")
            return RewardResult(1.0)

    samples = make_samples(None, ["good", "bad"], None, {})
    results = Flaky().score_batch(samples)
    assert [(r.value, r.reason) for r in results] == [(1.0, "ok"), (None, "internal_error")]
    assert WeightedSum([(Flaky(), 1.0)])(completions=["good", "bad"]) == [1.0, None]


CORRECT_NO_STEP = "<think>It is four.</think> \\boxed{4}"


def test_an_abstaining_component_counts_as_neutral_not_as_none():
    from rewardkit.rewards import OverlongPenalty, ProcessReward

    with_process = WeightedSum([("math", 1), (ProcessReward(), 0.5)])
    assert with_process(completions=[CORRECT_NO_STEP], answer=["4"]) == [1.0]
    (result,) = with_process.score(completions=[CORRECT_NO_STEP], answer=["4"])
    assert result.reason == "process:no_checkable_step"  # the abstention stays visible
    checked = "<think>2 + 2 = 4</think> \\boxed{4}"
    assert with_process(completions=[checked], answer=["4"]) == [1.5]

    with_length = WeightedSum([("math", 1), (OverlongPenalty(max_length=100), 1)])
    texts = [CORRECT_NO_STEP, "<think>x</think> \\boxed{5}", "no format"]
    assert with_length(completions=texts, answer=["4"] * 3) == [1.0, 0.1, 0.0]  # no token ids


def test_a_none_from_the_component_that_decides_correctness_is_still_none():
    from rewardkit.rewards import OverlongPenalty, ProcessReward

    reward = WeightedSum([("math", 1), (ProcessReward(), 0.5), (OverlongPenalty(), 1)])
    (result,) = reward.score(completions=[CORRECT_NO_STEP])  # no gold answer
    assert (result.value, result.reason) == (None, "math:no_gold")
    only_neutral = WeightedSum([(ProcessReward(), 1), (OverlongPenalty(), 1)])
    assert only_neutral(completions=[CORRECT_NO_STEP]) == [None]  # nothing scored at all
    required = ProcessReward()
    required.neutral = None  # a process reward that must score
    strict = WeightedSum([("math", 1), (required, 0.5)])
    assert strict(completions=[CORRECT_NO_STEP], answer=["4"]) == [None]


def test_neutral_components_are_logged_with_their_share():
    from rewardkit.rewards import OverlongPenalty

    reward = WeightedSum([("math", 1), (OverlongPenalty(max_length=100), 1)], name="combo")
    logs = Logs()
    ids = [[1] * 10, None]
    for completion_ids in ([ids[0], ids[0]], None):  # with token ids, then without
        reward(
            completions=[CORRECT_NO_STEP] * 2,
            answer=["4", "4"],
            completion_ids=completion_ids,
            log_metric=logs.metric,
        )
        expected = 0.0 if completion_ids else 1.0
        assert logs.metrics["combo/overlong_penalty/neutral"] == expected
    assert "combo/math/neutral" not in logs.metrics  # math cannot be neutral


def test_every_known_reason_is_logged_in_every_call_composites_included():
    reward = math_reward()
    first, second = Logs(), Logs()
    reward(completions=["no think"], answer=["4"], log_metric=first.metric)
    reward(completions=[CORRECT_NO_STEP], answer=["4"], log_metric=second.metric)
    assert set(first.metrics) - {"math/format/mean", "math/accuracy/mean"} == set(
        second.metrics
    ) - {"math/format/mean", "math/accuracy/mean"}
    assert first.metrics["math/reason/ok"] == 0.0
    assert second.metrics["math/reason/format:think_format:no_think"] == 0.0
    assert second.metrics["math/accuracy/reason/not_scored"] == 0.0
    for logs in (first, second):
        prefixes = {k.rpartition("/reason/")[0] for k in logs.metrics if "/reason/" in k}
        for prefix in prefixes:
            total = sum(v for k, v in logs.metrics.items() if k.startswith(prefix + "/reason/"))
            assert total == pytest.approx(1.0), prefix
