"""Constants, roots, trigonometry, logarithms, factorials, binomials, symbolic
expressions and implicit multiplication."""

from __future__ import annotations

import pytest

from rewardkit.verify import equivalent


@pytest.mark.parametrize(
    ("pred", "gold"),
    [
        (r"\pi", r"\pi"),
        (r"2\pi r", r"2 r \pi"),
        ("i^2", "-1"),
        ("(1+i)^2", "2i"),
        (r"e^{i\pi}", "-1"),
        ("6 - 5i", "-5i+6"),
        (r"\sqrt{8}", r"2\sqrt{2}"),
        (r"\sqrt2", r"\sqrt{2}"),
        (r"\frac{\sqrt{3}}{3}", r"\frac{1}{\sqrt{3}}"),
        (r"\sqrt[3]{27}", "3"),
        (r"\sqrt[3]{-27}", "-3"),  # the real cube root
        (r"11\sqrt2", r"\sqrt{242}"),
        (r"\sin^2 x + \cos^2 x", "1"),
        (r"\sin \frac{\pi}{6}", r"\frac12"),
        (r"\tan(x)", r"\frac{\sin x}{\cos x}"),
        (r"\arcsin 1", r"\frac{\pi}{2}"),
        (r"\log_2 8", "3"),
        (r"\ln e^3", "3"),
        (r"\log(xy)", r"\log x + \log y"),
        ("5!", "120"),
        (r"\frac{10!}{8!}", "90"),
        (r"\binom{5}{2}", "10"),
        (r"{5 \choose 2}", r"\dbinom{5}{2}"),
        ("(x+1)^2", "x^2+2x+1"),
        (r"\frac{x^2-1}{x-1}", "x+1"),
        ("x^{2}y", "yx^2"),
        ("2x", "x+x"),
        ("p - q", "-q+p"),
        (r"\alpha + \beta", r"\beta+\alpha"),
        ("|x|", r"\sqrt{x^2}"),
        (r"\lfloor 3.7 \rfloor", "3"),
        (r"\lceil \frac{7}{2} \rceil", "4"),
        (r"\lvert -3 \rvert", "3"),
        (r"\overline{AB}", "AB"),
        (r"\angle ABC", "ABC"),
        (r"\text{AB}", "AB"),
        (r"\gcd(12, 18)", "6"),
        (r"\operatorname{lcm}(4, 6)", "12"),
        (r"\max(2, 3)", "3"),
        ("A(5, 3)", "(5, 3)"),  # a point named with its coordinates
        ("21st", "21"),
        (r"n^{th}", "n"),
        (r"\lim_{x \to 0} \frac{\sin x}{x}", "1"),
        (r"\sum_{k=1}^{10} k", "55"),
        (r"\sum_{k=1}^{n} k", r"\frac{n(n+1)}{2}"),
        (r"\prod_{k=1}^{4} k", "4!"),
        (r"\text{lcm}(4,6)", "12"),
    ],
)
def test_equal_expressions(pred, gold):
    assert equivalent(pred, gold)


@pytest.mark.parametrize(
    ("pred", "gold"),
    [
        (r"\pi", "3"),
        ("e", "2.718"),
        (r"\sqrt{8}", r"3\sqrt{2}"),
        (r"\sin x", r"\cos x"),
        (r"\sin x^2", r"(\sin x)^2"),
        ("-2^2", "4"),
        (r"\lim_{x \to \infty} \frac{1}{x}", "1"),
        (r"\log_2 8", "2"),
        ("5!", "5"),
        (r"\binom{5}{2}", "20"),
        ("(x+1)^2", "x^2+1"),
        ("x+1", "y+1"),
        ("|x|", "x"),
        ("xy", "x+y"),
        ("x^{100}", "x^{100}+1"),  # no rounding: equal to 30 digits is not equal
        (r"(x+1)^{60}(x-1)^{60}", r"(x^2-1)^{60}+1"),
        (r"\sqrt{2}", "1.4142"),
        (r"2\pi r", r"\pi r^2"),
    ],
)
def test_different_expressions(pred, gold):
    assert not equivalent(pred, gold)


def test_plain_expressions_that_differ_at_a_point_are_told_apart_in_process():
    from rewardkit.verify import VerifyOptions
    from rewardkit.verify.answers import compare_answers
    from rewardkit.verify.compare import NeedsSymbolic

    options = VerifyOptions()
    assert compare_answers("x", "5", options).reason == "wrong_answer"  # no worker needed
    assert compare_answers("5i", "5", options).reason == "wrong_answer"
    with pytest.raises(NeedsSymbolic):  # equal at the point: only a worker can say more
        compare_answers("(x+1)^2", "x^2+2x+1", options)


def test_exponents_associate_to_the_right():
    assert equivalent("2^{3^2}", "512")
    assert not equivalent("2^{3^2}", "64")
