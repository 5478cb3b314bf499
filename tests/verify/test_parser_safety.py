"""The parser on untrusted input: nothing runs, sizes are bounded, odd text never crashes."""

from __future__ import annotations

import time

import pytest
import sympy as sp

from rewardkit.verify import MathParseError, VerifyOptions, check, equivalent, parse_math, verify

INJECTIONS = [
    "__import__('os').system('touch {sentinel}')",
    "lambda: __import__('os').system('touch {sentinel}')",
    "().__class__.__bases__[0].__subclasses__()",
    "x.__class__.__init__.__globals__['os'].system('touch {sentinel}')",
    "exec(\"open('{sentinel}', 'w')\")",
    "eval('1+1')",
    "open('{sentinel}', 'w').write('x')",
    r"\input{/etc/passwd}",
    r"\include{/etc/passwd}",
    r"\write18{touch {sentinel}}",
    r"\def\x{1}\x",
    "Symbol('x').__class__",
    "sympify('2')",
    "import os",
    "os.system('touch {sentinel}')",
]


@pytest.mark.parametrize("payload", INJECTIONS)
def test_injection_payloads_run_nothing_and_fail_to_parse(payload, tmp_path):
    sentinel = tmp_path / "pwned"
    text = payload.replace("{sentinel}", str(sentinel))
    with pytest.raises(MathParseError):
        parse_math(text)
    assert not equivalent(text, "2")
    assert not verify(rf"\boxed{{{text}}}", "0").correct
    assert not sentinel.exists()


def test_a_payload_as_gold_runs_nothing_either(tmp_path):
    sentinel = tmp_path / "pwned"
    payload = f"__import__('os').system('touch {sentinel}')"
    assert not equivalent(payload, payload.replace("os", "sys"))
    assert not sentinel.exists()


def test_parse_math_builds_sympy_objects():
    assert parse_math(r"\frac{3}{4}") == sp.Rational(3, 4)
    assert parse_math("2x+1") == 2 * sp.Symbol("x") + 1
    assert parse_math(r"\sqrt{2}^2") == 2
    assert parse_math("x_1 + x_{12}") == sp.Symbol("x_1") + sp.Symbol("x_12")
    assert parse_math("50%") == sp.Rational(1, 2)
    assert parse_math("3 + 4 = 7") == sp.Eq(7, 7, evaluate=False)
    assert isinstance(parse_math(r"\{1, 2\}"), sp.FiniteSet)


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("1" * 5000, "too_long"),
        ("{" * 10_000 + "1" + "}" * 10_000, "too_long"),
        ("(" * 60 + "1" + ")" * 60, "too_deep"),
        ("-" * 1500 + "1", "too_deep"),
        ("9^{9^{9}}", "too_large"),
        ("2^{2^{2^{2^{2^{2}}}}}", "too_large"),
        ("10^{100000}", "too_large"),
        ("100000!", "too_large"),
        (r"\binom{10^{9}}{10^{8}}", "too_large"),
        ("x^{10^{9}}", "too_large"),
        (r"\sqrt{2^{19999}+1}", "too_large"),  # sympy would try to factor it
        (r"\sqrt{2^{999}+1}\sqrt{2^{999}+3}", "too_large"),  # ... or the product of roots
        (r"\sin(10^{50000})", "too_large"),  # its sign needs 50,000 digits of pi
        (r"\lfloor (1000)^{\frac{9^{9}}{7}} \rfloor", "too_large"),  # found by fuzzing parse_math
        (r"(\sqrt{7})^{(2004!)^{i}}", "too_large"),
        (r"\lfloor (\frac{\log 3}{2004!+3})^{1000} \rfloor", "too_large"),
        (r"((1000)^{0.5})^{2004!}", "too_large"),
        (r"(\sqrt{2^{999}})^{\frac{2^{999}}{1000}}", "too_large"),
        (r"\lceil \pi \cdot 10^{50000} \rceil", "too_large"),
        (r"e^{e^{e^{e}}}", "too_large"),
        ("1/0", "syntax"),
        (r"\frac{1}{2", "syntax"),
        (r"\unknowncommand{1}", "unsupported"),
        ("", "syntax"),
    ],
)
def test_oversized_or_malformed_input_raises_with_a_reason(text, reason):
    start = time.perf_counter()
    with pytest.raises(MathParseError) as info:
        parse_math(text)
    assert info.value.reason == reason
    assert time.perf_counter() - start < 1.0


def test_numbers_below_the_limits_are_computed_exactly():
    assert parse_math("2^{2^{2^{2}}}") == 2**16
    assert parse_math("2^{2^{2^{2^{2}}}}") == 2**65536
    assert parse_math("2004!") == sp.factorial(2004)
    assert parse_math(r"\binom{100}{50}") == sp.binomial(100, 50)


def test_megabyte_answers_return_quickly_with_a_reason():
    huge = "1" * 1_000_000
    start = time.perf_counter()
    verdict = verify(rf"\boxed{{{huge}}}", "1")
    assert (verdict.correct, verdict.reason) == (False, "too_long")
    assert check("x+" * 500_000, "1").reason == "too_long"
    assert time.perf_counter() - start < 2.0


def test_ten_thousand_nested_braces_return_quickly_with_a_reason():
    nested = "{" * 10_000 + "1" + "}" * 10_000
    start = time.perf_counter()
    verdict = verify(rf"\boxed{{{nested}}}", "1")
    assert not verdict.correct and verdict.reason == "too_long"
    deep = "{" * 45 + "1" + "}" * 45
    assert check(deep, "1").reason == "too_deep"
    assert time.perf_counter() - start < 2.0


@pytest.mark.parametrize(
    ("pred", "gold", "expected"),
    [
        ("５", "5", True),  # full-width digits are those digits
        ("１２３", "123", True),
        ("\u22125", "-5", True),  # U+2212 minus sign
        ("3\u00a0000", "3000", True),  # non-breaking space as a thousands separator
        ("\u03c0", r"\pi", True),
        ("\u221a2", r"\sqrt{2}", True),
        ("x²", "x^2", True),
        ("x²", "2x", False),
        ("½", "0.5", True),
        ("α + β", r"\alpha+\beta", True),
        ("Δ", r"\Delta", True),
        ("α", r"\beta", False),
        ("\u0445 + 1", "x + 1", False),  # Cyrillic kha is not a Latin x
        ("Москва", r"\text{Москва}", True),
        ("ответ: 5", "5", False),
        ("\U0001f600", "1", False),
        ("\x00\x01", "1", False),
    ],
)
def test_unicode_never_crashes(pred, gold, expected):
    assert equivalent(pred, gold) is expected


@pytest.mark.parametrize(
    "pred",
    [
        r"1 \pm \sqrt{2^{19999}+1}",
        r"\sqrt{2^{999}+1}\cdot\sqrt{2^{999}+7}\cdot\sqrt{2^{999}+9}",
        r"(2^{19999}+1)^{1/2}",
        r"\sin(10^{60000})\cdot x",
    ],
)
def test_answers_sympy_would_chew_on_return_within_the_timeout(pred):
    start = time.perf_counter()
    outcome = check(pred, "5, 6", VerifyOptions(timeout=1.0))
    assert not outcome.correct
    assert time.perf_counter() - start <= 1.5


def test_signs_of_big_numbers_are_read_without_primality_tests():
    # sympy's assumption system answers "is it negative?" about a big integer by deducing
    # every fact, primality included: seconds for a 19,000-bit number
    start = time.perf_counter()
    with pytest.raises(MathParseError):
        parse_math(r"\sqrt[7]{2004!+1}")
    assert check(r"x > 2004!+1", r"(2004!+1, \infty)").correct
    assert time.perf_counter() - start < 1.0
