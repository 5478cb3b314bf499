"""Extraction fixes the audit led to: hedged boxes and boxes in a reopened think span."""

from __future__ import annotations

import pytest

from rewardkit.rewards import BoxedAccuracy
from rewardkit.text import answer_region, final_answer


@pytest.mark.parametrize(
    ("text", "region"),
    [
        ("<think>a</think> \\boxed{3} <think>no, \\boxed{4}", " \\boxed{3} "),
        ("<think>a</think> \\boxed{3}", " \\boxed{3}"),
        ("no tags \\boxed{3}", "no tags \\boxed{3}"),
        ("<think>a</think><think>b</think> end", " end"),
        ("<think>unclosed", ""),
    ],
)
def test_answer_region(text, region):
    assert answer_region(text) == region


def test_final_answer_ignores_a_span_reopened_after_the_answer():
    text = "<think>work</think> The answer is \\boxed{33}.\n<think>\nActually \\boxed{43}."
    assert final_answer(text).answer == "33"


@pytest.mark.parametrize(
    ("completion", "value", "reason"),
    [
        (r"\boxed{33} or \boxed{43}", 0.0, "multiple_answers"),
        (r"\boxed{43} or \boxed{33}", 0.0, "multiple_answers"),
        (r"\boxed{33}\phantom{\boxed{43}}", 0.0, "multiple_answers"),
        (r"\boxed{43} and again \boxed{43}", 1.0, "ok"),
        (r"\boxed{43} that is \boxed{43.0}", 1.0, "ok"),  # the same answer written twice
        (r"<think>maybe \boxed{33}</think> \boxed{43}", 1.0, "ok"),  # boxes in the think span
    ],
)
def test_boxed_accuracy_pays_one_committed_answer_only(completion, value, reason):
    [result] = BoxedAccuracy().score(completions=[completion], solution=["43"])
    assert (result.value, result.reason) == (value, reason)


def test_a_gold_box_in_a_span_reopened_after_a_wrong_answer_is_not_paid():
    text = r"<think>a</think> \boxed{33} <think> or \boxed{43}"
    [result] = BoxedAccuracy().score(completions=[text], solution=["43"])
    assert result.value == 0.0 and result.details["answer"] == "33"


def test_multiple_answers_is_logged_as_a_reason():
    logged = {}
    BoxedAccuracy()(
        completions=[r"\boxed{1} \boxed{2}"], solution=["2"], log_metric=logged.__setitem__
    )
    assert logged["boxed_accuracy/reason/multiple_answers"] == 1.0
