"""verify() on whole completions, hedging, verify_batch, and the reward built on them."""

from __future__ import annotations

import time

import pytest

import rewardkit
from rewardkit import BoxedAccuracy
from rewardkit.verify import Verdict, verify, verify_batch


def test_the_package_exports_the_verifier():
    for name in ("equivalent", "verify", "verify_batch", "Verdict"):
        assert hasattr(rewardkit, name)
    from rewardkit.verify import MathParseError, parse_math  # noqa: F401


@pytest.mark.parametrize(
    ("completion", "gold", "correct", "answer", "reason"),
    [
        (r"<think>2+2=4</think> So \boxed{4}.", "4", True, "4", "ok"),
        (r"Thus $\boxed{\frac{1}{2}}$", "0.5", True, r"\frac{1}{2}", "ok"),
        (r"first \boxed{3}, then \boxed{5}", "5", False, "5", "multiple_answers"),
        (r"\boxed{5} and again \boxed{5}", "5", True, "5", "ok"),  # identical repeats are fine
        (r"(a) \boxed{3} (b) \boxed{5}", "3, 5", True, "3, 5", "ok"),  # several asked for
        (r"\boxed{3} or \boxed{5}", "3", False, "5", "multiple_answers"),
        (r"\boxed{0.5} that is \boxed{\frac12}", "1/2", True, r"\frac12", "ok"),
        (r"\boxed{3 \text{ or } 4}", "3", False, r"3 \text{ or } 4", "wrong_answer"),
        (r"\boxed{3, 4}", "3", False, "3, 4", "wrong_answer"),
        (r"<think>\boxed{7}</think> I am not sure.", "7", False, None, "no_answer"),
        (r"<think>\boxed{3}</think> \boxed{7}", "7", True, "7", "ok"),  # think boxes are drafts
        (r"<think>still thinking \boxed{7}", "7", False, None, "unclosed_think"),
        ("", "7", False, None, "empty_completion"),
        (r"\boxed{7", "7", False, None, "unbalanced_braces"),
        ("16 - 3 = 13\n#### 13", "13", True, "13", "ok"),
        ("so 9 * 2 = 18\nA: 18", "18", True, "18", "ok"),
        ("The answer is 18 dollars.", "18", True, "18 dollars", "ok"),
        ("**Answer: 42**", "42", True, "42", "ok"),  # emphasis is read through
        (
            "The final answer is: the volume of $ABCD$ is 120. I hope it is correct.",
            "120",
            True,
            "the volume of $ABCD$ is 120",
            "ok",
        ),  # a sentence whose end is the answer
        (r"\boxed{x+}", "1", False, "x+", "parse_error"),
    ],
)
def test_verify_reads_the_final_answer(completion, gold, correct, answer, reason):
    verdict = verify(completion, gold)
    assert isinstance(verdict, Verdict)
    assert (verdict.correct, verdict.answer, verdict.reason) == (correct, answer, reason)


def test_boxed_only_ignores_the_other_conventions():
    assert verify("A: 18", "18").correct
    verdict = verify("A: 18", "18", boxed_only=True)
    assert (verdict.correct, verdict.reason) == (False, "no_answer")


def test_gold_may_be_a_worked_solution_and_completion_a_chat():
    chat = [{"role": "user", "content": "2+3?"}, {"role": "assistant", "content": r"\boxed{5}"}]
    verdict = verify(chat, r"We add: $2+3=\boxed{5}$.")
    assert (verdict.correct, verdict.gold) == (True, "5")
    assert verify(r"\boxed{18}", "She makes 9 * 2 = $18.\nA: 18").correct
    assert verify(r"\boxed{18}", None).reason == "no_gold"


def test_verify_batch_matches_verify_and_deduplicates():
    pairs = [
        (r"\boxed{2}", "2"),
        (r"\boxed{3}", "2"),
        (r"\boxed{2}", "2"),
        (r"\boxed{(x+1)^2}", "x^2+2x+1"),
        ("A: 7", "7"),
    ]
    verdicts = verify_batch(pairs)
    assert verdicts == [verify(c, g) for c, g in pairs]
    assert [v.correct for v in verdicts] == [True, False, True, True, True]
    assert verdicts[0] is verdicts[2]  # the duplicate was verified once
    assert [v.correct for v in verify_batch(pairs, boxed_only=True)][-1] is False


def test_verify_batch_spreads_symbolic_work_over_processes():
    pairs = [(rf"\boxed{{(x+{k})^2}}", f"x^2+{2 * k}x+{k * k}") for k in range(1, 9)]
    pairs += [(rf"\boxed{{(x+{k})^2}}", f"x^2+{k * k}") for k in range(1, 9)]
    verdicts = verify_batch(pairs, processes=2, progress=True)
    assert [v.correct for v in verdicts] == [True] * 8 + [False] * 8


def test_verify_batch_rejects_bad_arguments():
    with pytest.raises(ValueError, match="processes"):
        verify_batch([], processes=0)
    with pytest.raises(TypeError, match="unknown verify options"):
        verify_batch([], fast=True)


def test_repeated_comparisons_come_from_the_cache():
    pair = (r"\boxed{\frac{(y+3)^3 - 27}{y}}", "y^2+9y+27")
    assert verify(*pair).correct
    start = time.perf_counter()
    for _ in range(200):
        assert verify(*pair).correct
    assert time.perf_counter() - start < 0.5


def test_boxed_accuracy_uses_the_verifier():
    reward = BoxedAccuracy()
    scores = reward(
        prompts=["p"] * 4,
        completions=[
            r"\boxed{\frac{1}{2}}",
            r"\boxed{1} or \boxed{2}",
            r"\boxed{x^2+2x+1}",
            "no box",
        ],
        answer=["0.5", "1", "(x+1)^2", "3"],
    )
    assert scores == [1.0, 0.0, 1.0, 0.0]
    reasons = [
        r.reason for r in reward.score(completions=[r"\boxed{1} or \boxed{2}"], answer=["1"])
    ]
    assert reasons == ["multiple_answers"]
    assert "multiple_answers" in reward.reasons


def test_boxed_accuracy_passes_verify_options_and_rejects_unknown_ones():
    strict = BoxedAccuracy(percent="value")
    assert strict(completions=[r"\boxed{50\%}"], answer=["50"]) == [0.0]
    assert BoxedAccuracy()(completions=[r"\boxed{50\%}"], answer=["50"]) == [1.0]
    with pytest.raises(TypeError, match="unknown verify options"):
        BoxedAccuracy(tolerance=0.1)


def test_hundreds_of_boxed_answers_are_a_hedge_and_return_quickly():
    completion = " ".join(rf"\boxed{{{k}}}" for k in range(500))
    start = time.perf_counter()
    verdict = verify(completion, "499")
    assert (verdict.correct, verdict.reason) == (False, "multiple_answers")
    assert time.perf_counter() - start < 1.0
