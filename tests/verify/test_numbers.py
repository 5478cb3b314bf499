"""Numbers: integers, separators, decimals, scientific notation, fractions, mixed numbers,
percent, degrees, units and currency, tolerance and near-zero values."""

from __future__ import annotations

import pytest

from rewardkit.verify import equivalent


@pytest.mark.parametrize(
    ("pred", "gold"),
    [
        ("42", "42"),
        ("+7", "7"),
        ("007", "7"),
        ("1,000", "1000"),
        ("1{,}000", "1000"),
        (r"11,\! 111,\! 111,\! 100", "11111111100"),
        ("1 000 000", "1000000"),
        (r"1\,000", "1000"),
        ("0.5", "0.50"),
        (".35625", "0.35625"),
        ("1.5e3", "1500"),
        (r"6.02 \times 10^{23}", "6.02e23"),
        (r"6.02 x 10^{23}", "6.02e23"),
        (r"{1 \over 2}", "0.5"),
        (r"\frac{1}{2}", "0.5"),
        (r"\dfrac{3}{4}", r"\tfrac34"),
        (r"\frac12", "1/2"),
        (r"\frac 59", r"\frac{5}{9}"),
        (r"\frac9{19}", r"\frac{9}{19}"),
        ("6/8", r"\frac{3}{4}"),
        (r"2\frac{1}{2}", "2.5"),
        (r"2\frac12", "5/2"),
        ("2 1/2", "5/2"),
        (r"-1\frac{1}{2}", "-1.5"),
        (r"0.\overline{3}", r"\frac13"),
    ],
)
def test_equal_numbers(pred, gold):
    assert equivalent(pred, gold)


@pytest.mark.parametrize(
    ("pred", "gold"),
    [
        ("-5", "5"),
        ("10", "1"),
        ("1,5", "15"),  # a comma between digits that are not thousands separates answers
        ("0.33", r"\frac13"),  # 2 significant digits: a guess, not a rounding
        ("3.1", r"\pi"),
        ("1.5e3", "150"),
        (r"\frac{1}{3}", r"\frac{1}{4}"),
        (r"2\frac{1}{2}", "1"),  # a mixed number is a sum, not a product
        ("2 1/2", "1"),
    ],
)
def test_different_numbers(pred, gold):
    assert not equivalent(pred, gold)


def test_near_zero_numbers_are_compared_exactly_not_rounded():
    assert not equivalent("1/2004!", "1/2006!")
    assert not equivalent(r"10^{-20}", "0")
    assert not equivalent(r"1 + 10^{-12}", "1")
    assert equivalent(r"\frac{1}{2004!}", r"\frac{2005 \cdot 2006}{2006!}")


def test_decimals_use_the_relative_tolerance_option():
    assert equivalent("0.3333333333", r"\frac{1}{3}")
    assert not equivalent("0.3333", r"\frac{1}{3}", decimals="exact")
    assert equivalent("0.3333", r"\frac{1}{3}", decimals="exact", rel_tol=1e-3)
    assert equivalent("1e-20", "1.0000001e-20")  # relative, so tiny values still compare
    assert not equivalent("1e-20", "2e-20")
    assert equivalent("1e-20", "0", abs_tol=1e-12)


def test_percent_policies():
    assert equivalent(r"50\%", "50")
    assert equivalent(r"50\%", "0.5")
    assert equivalent("12.5%", "12.5")
    assert equivalent(r"50\%", "0.5", percent="value")
    assert not equivalent(r"50\%", "50", percent="value")
    assert equivalent(r"50\%", "50", percent="number")
    assert not equivalent(r"50\%", "0.5", percent="number")
    assert not equivalent(r"40\%", "50")


def test_degrees():
    assert equivalent(r"90^\circ", "90")
    assert equivalent(r"30^{\circ}", "30")
    assert equivalent("30°", "30")
    assert equivalent(r"90^\circ", r"\frac{\pi}{2}")
    assert not equivalent(r"60^\circ", "30")
    assert equivalent(r"\sin 30^\circ", r"\frac12")


def test_units_and_currency():
    assert equivalent(r"864 \mbox{ inches}^2", "864")
    assert equivalent(r"15\mbox{ cm}^2", "15")
    assert equivalent(r"5.4 \text{ cents}", "5.4")
    assert equivalent(r"10\text{ m}^2", "10")
    assert equivalent(r"\$18.90", "18.9")
    assert equivalent(r"\text{\$}18", "18")
    assert equivalent("18 dollars", r"\$18")
    assert equivalent(r"5\mathrm{cm}", "5")
    assert equivalent("5 apples", "5")
    assert equivalent("40 USD", "40")
    assert equivalent("1.5 million", "1500000") and equivalent(r"2\text{ billion}", "2e9")
    assert not equivalent("1.5 million", "1.5")
    assert equivalent(r"\text{5 apples}", "5")
    assert equivalent(r"9.8 \text{ m/s}^2", "9.8")
    assert equivalent("€5", "5") and equivalent("£5.50", "5.5")
    assert equivalent("50 percent", "50") and equivalent("50 percent", "0.5")
    assert equivalent("28 pct", r"28\%") and equivalent(r"\boxed{28 percent}", r"28\%")
    assert not equivalent(r"\$19", "18")
    assert not equivalent("2e", "2")  # a single letter is never a unit: e is Euler's number
    assert not equivalent("3x", "3")


def test_units_must_match_when_asked():
    assert equivalent(r"5 \text{ cm}", r"5\text{ cm}", units="match")
    assert not equivalent(r"5 \text{ cm}", r"5 \text{ m}", units="match")
    assert not equivalent("5", r"5 \text{ cm}", units="match")
    assert equivalent(r"5 \text{ m}", r"5 \text{ cm}")  # ignored by default


def test_bad_options_raise_clear_errors():
    with pytest.raises(ValueError, match="percent"):
        equivalent("1", "1", percent="sometimes")
    with pytest.raises(TypeError, match="unknown verify options"):
        equivalent("1", "1", tolerance=0.1)
    with pytest.raises(ValueError, match="timeout"):
        equivalent("1", "1", timeout=0)
