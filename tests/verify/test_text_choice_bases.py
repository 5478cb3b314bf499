"""Multiple choice, text answers, bases and LaTeX wrappers."""

from __future__ import annotations

import pytest

from rewardkit.verify import equivalent


@pytest.mark.parametrize(
    ("pred", "gold", "expected"),
    [
        ("A", "A", True),
        ("(B)", "B", True),
        (r"\text{(C)}", "C", True),
        ("C) 12", r"\text{(C)}", True),
        (r"\textbf{(D)} 4", "D", True),
        ("B", r"\text{(C)}", False),
        ("(A), (B)", "A", False),
        ("A or B", "A", False),
        ("12", r"\text{(C)}", False),
    ],
)
def test_multiple_choice(pred, gold, expected):
    assert equivalent(pred, gold) is expected


@pytest.mark.parametrize(
    ("pred", "gold", "expected"),
    [
        (r"\text{yes}", "Yes", True),
        (r"\text{east}", r"\text{East}.", True),
        ("Monday", r"\text{monday}", True),
        (r"\text{five}", "5", True),
        ("fifty", "50", True),
        (r"\text{six}", "5", False),
        (r"\text{no}", r"\text{yes}", False),
        (r"\text{NO}", "No", True),
        ("no", "on", False),
        ("west", r"\text{east}", False),
        ("seat", r"\text{east}", False),  # words are not products of letters
    ],
)
def test_text_answers(pred, gold, expected):
    assert equivalent(pred, gold) is expected


@pytest.mark.parametrize(
    ("pred", "gold", "expected"),
    [
        ("1011_2", "1011_2", True),
        ("1011_{2}", "1011_2", True),
        ("2516", "2516_8", True),
        ("2516_8", "2516_{8}", True),
        ("1011_2", "11", True),
        ("1358", "2516_8", False),  # the question asked for base 8
        ("2517_8", "2516_8", False),
        ("1012_2", "1012_2", True),  # not a base-2 number, but the same text
    ],
)
def test_bases(pred, gold, expected):
    assert equivalent(pred, gold) is expected


@pytest.mark.parametrize(
    "pred",
    [
        r"$\frac{1}{2}$",
        r"\(\frac12\)",
        r"\[0.5\]",
        r"\boxed{\frac{1}{2}}",
        r"\fbox{1/2}",
        r"\displaystyle \frac{1}{2}",
        r"\left(\frac{1}{2}\right)",
        "{{1/2}}",
        r"\mathbf{0.5}",
        "0.5.",
    ],
)
def test_wrappers_do_not_change_the_answer(pred):
    assert equivalent(pred, "1/2")


@pytest.mark.parametrize(
    ("pred", "gold"),
    [("", ""), ("", "5"), (r"\frac{1}{2", r"\frac{1}{2}"), (r"\left(", "("), (r"\boxed{}", "0")],
)
def test_empty_and_malformed_answers_are_never_correct(pred, gold):
    assert not equivalent(pred, gold)
