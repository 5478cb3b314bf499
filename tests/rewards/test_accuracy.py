"""BoxedAccuracy: the outcome reward on the final boxed answer."""

from __future__ import annotations

import pickle

import pytest

from rewardkit.rewards import BoxedAccuracy


def chat(text):
    return [{"role": "assistant", "content": text}]


def test_correct_wrong_and_missing_answers():
    reward = BoxedAccuracy()
    completions = [r"<think>2+3</think> \boxed{5}", r"\boxed{6}", "5", r"<think>\boxed{5}</think>"]
    results = reward.score(completions=completions, solution=["5"] * 4)
    assert [r.value for r in results] == [1.0, 0.0, 0.0, 0.0]
    assert [r.reason for r in results] == ["ok", "wrong_answer", "no_answer", "no_answer"]
    assert results[0].details == {"answer": "5", "gold": "5"}


def test_chat_completions():
    assert BoxedAccuracy()(completions=[chat(r"\boxed{5}")], answer=["5"]) == [1.0]


def test_gold_from_worked_solutions():
    reward = BoxedAccuracy()
    assert reward(completions=[r"\boxed{13}"], answer=["16 - 3 = 13\n#### 13"]) == [1.0]
    assert reward(completions=[r"\boxed{13}"], solution=[r"so it is $\boxed{13}$."]) == [1.0]


def test_unreadable_gold_is_none_not_zero():
    results = BoxedAccuracy().score(completions=[r"\boxed{1}", r"\boxed{1}"], answer=["", None])
    assert [(r.value, r.reason) for r in results] == [(None, "no_gold"), (None, "no_gold")]
    assert BoxedAccuracy().score(completions=[r"\boxed{1}"])[0].reason == "no_gold"


def test_gold_column_is_configurable_and_first_present_column_wins():
    reward = BoxedAccuracy(gold_column="target")
    assert reward(completions=[r"\boxed{2}"], target=["2"], answer=["3"]) == [1.0]
    assert BoxedAccuracy()(completions=[r"\boxed{2}"], solution=["2"], answer=["3"]) == [1.0]


def test_other_conventions_only_when_asked():
    assert BoxedAccuracy()(completions=["#### 7"], answer=["7"]) == [0.0]
    assert BoxedAccuracy(boxed_only=False)(completions=["#### 7"], answer=["7"]) == [1.0]


@pytest.mark.parametrize("bad", [None, "", (), ["ok", ""], [1]])
def test_bad_configuration_raises_at_construction(bad):
    with pytest.raises(ValueError, match="gold_column"):
        BoxedAccuracy(gold_column=bad)


def test_adversarial_completions_never_raise():
    nasty = [
        "",
        "\\boxed{",
        "}" * 10_000,
        "\\boxed{" * 5_000,
        "<think>" * 100,
        "\x00\ud7ff",
        "９" * 100,
    ]
    values = BoxedAccuracy()(completions=nasty, answer=["9"] * len(nasty))
    assert len(values) == len(nasty)
    assert all(v in (0.0, 1.0) for v in values)


def test_picklable_with_its_name():
    reward = pickle.loads(pickle.dumps(BoxedAccuracy(name="acc")))
    assert reward.__name__ == "acc"
    assert reward(completions=[r"\boxed{1}"], answer=["1"]) == [1.0]
