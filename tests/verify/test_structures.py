"""Equations, inequalities and intervals, sets, tuples, matrices and vectors, and several
answers at once."""

from __future__ import annotations

import pytest

from rewardkit.verify import equivalent


@pytest.mark.parametrize(
    ("pred", "gold", "expected"),
    [
        ("x=3", "3", True),
        ("3", "x=3", True),
        ("x=3", "4", False),
        ("y=2x+1", "2x+1=y", True),
        ("2x+4y=6", "-x-2y=-3", True),  # equal up to a nonzero scale
        ("2x+4y=6", "x+2y=6", False),
        ("f(x)=2x+1", "2x+1", True),
        (r"5x - 7y + 11z + 4 = 0", r"-10x + 14y - 22z - 8 = 0", True),
        ("x^2=4", "x=2", False),
        ("(x, y) = (1, 2)", "(1,2)", True),
        ("3 = x", "3", True),
        ("2+3=5", "5", True),  # a worked equality without variables gives its result
        ("3 = 4", "4", False),  # ... only when it holds: a false one is no answer
        ("4", "7 = 4", False),
        ("2+3=5", "6", False),
        ("x^2+y^2=25", "25", False),
        (r"x \approx 3.14", "3.14", True),
    ],
)
def test_equations(pred, gold, expected):
    assert equivalent(pred, gold) is expected


@pytest.mark.parametrize(
    ("pred", "gold", "expected"),
    [
        ("1<x<2", "(1,2)", True),
        (r"1 \le x < 2", "[1,2)", True),
        (r"1 \le x < 2", "(1,2)", False),
        ("x>3", r"(3,\infty)", True),
        (r"x \ge 2", r"[2,\infty)", True),
        (r"x \geq 3", r"(3,\infty)", False),
        (r"x<1 \text{ or } x>3", r"(-\infty,1)\cup(3,\infty)", True),
        (r"x \in [-2,7]", "[-2,7]", True),
        ("(3,4]", r"\left(3,4\right]", True),
        ("(3,4]", "[3,4]", False),
        (r"[1,3]\cup[2,4]", "[1,4]", True),
        (r"(1,2)\cup(2,3)", "(1,3)", False),
        (r"(-\infty, 0]", r"(-\infty,0)", False),
        (r"\left[ \frac{\pi^2}{8}, \frac{5 \pi^2}{4} \right]", r"[\pi^2/8, 5\pi^2/4]", True),
        (r"(-\infty,\infty)", r"\mathbb{R}", True),
        ("y > 2x", "2x < y", True),
        ("y > 2x", "y < 2x", False),
        (r"x \ne 3", r"(-\infty,3)\cup(3,\infty)", True),
        (r"\{x \mid x > 3\}", r"(3, \infty)", True),  # set-builder notation
        (r"\{x : x \le 0\}", r"(-\infty, 0]", True),
        (r"\{x | x > 3\}", r"[3, \infty)", False),
        ("all real numbers", r"(-\infty,\infty)", True),
        (r"\text{no solution}", r"\emptyset", True),
    ],
)
def test_inequalities_and_intervals(pred, gold, expected):
    assert equivalent(pred, gold) is expected


@pytest.mark.parametrize(
    ("pred", "gold", "expected"),
    [
        (r"\{1,2,3\}", r"\{3,2,1\}", True),
        (r"\{1,2\}", r"\{1,2,3\}", False),  # a partial answer is wrong
        (r"\{1,2,3,4\}", r"\{1,2,3\}", False),
        (r"\{\frac12, 2\}", r"\{2, 0.5\}", True),
        (r"\emptyset", r"\{\}", True),
        ("(1,2)", "(1,2)", True),
        ("(1,2)", "(2,1)", False),  # tuples are ordered
        ("(1,2)", r"\{1,2\}", False),
        ("(1,2,3)", "(1,2)", False),
        (r"(\frac12, \sqrt2)", r"(0.5, \sqrt{2})", True),
    ],
)
def test_sets_and_tuples(pred, gold, expected):
    assert equivalent(pred, gold) is expected


@pytest.mark.parametrize(
    ("pred", "gold", "expected"),
    [
        (
            r"\begin{pmatrix} 1 & 2 \\ 3 & 4 \end{pmatrix}",
            r"\begin{bmatrix} 1 & 2 \\ 3 & 4 \end{bmatrix}",
            True,
        ),
        (
            r"\begin{pmatrix} 1 & 2 \\ 3 & 4 \end{pmatrix}",
            r"\begin{pmatrix} 1 & 3 \\ 2 & 4 \end{pmatrix}",
            False,
        ),
        (
            r"\begin{pmatrix} -1/3 \\ 2/3 \\ 5/3 \end{pmatrix}",
            r"\begin{pmatrix} -\frac13 \\ \frac23 \\ \frac53 \end{pmatrix}",
            True,
        ),
        (r"\begin{pmatrix} 1 \\ 2 \end{pmatrix}", r"\begin{pmatrix} 1 & 2 \end{pmatrix}", False),
        (r"\begin{pmatrix} 1 \\ 2 \end{pmatrix}", r"\begin{pmatrix} 2 \\ 4 \end{pmatrix}", False),
        (r"\begin{pmatrix} 1 \\ 2 \end{pmatrix}", "(1, 2)", True),
        (r"\langle 1, 2 \rangle", r"\begin{pmatrix} 1 \\ 2 \end{pmatrix}", True),
        (r"\langle 1, 2 \rangle", r"\langle 2, 1 \rangle", False),
    ],
)
def test_matrices_and_vectors(pred, gold, expected):
    assert equivalent(pred, gold) is expected


@pytest.mark.parametrize(
    ("pred", "gold", "expected"),
    [
        ("1, 2", "2, 1", True),
        ("1 and 2", "1, 2", True),
        (r"x=1 \text{ or } x=2", "1, 2", True),
        ("x=1, x=-2", "1,-2", True),
        (r"\pm 2", "2, -2", True),
        (r"1 \pm \sqrt{2}", r"1+\sqrt2, 1-\sqrt2", True),
        (r"\{-2, 1+\sqrt{5}, 1-\sqrt{5}\}", r"\{1\pm\sqrt{5},-2\}", True),
        (r"\{1-\sqrt{5}, -2\}", r"\{1\pm\sqrt{5},-2\}", False),
        ("1, 2", "1", False),
        ("3 or 4", "3", False),  # hedging: every element must match
        ("3, 4", "3", False),
        (r"\pm 3", "3", False),
        ("1, 2", "1, 2, 3", False),
    ],
)
def test_several_answers(pred, gold, expected):
    assert equivalent(pred, gold) is expected
