"""Hostile completions through every entry point and every registered reward: generated
worst cases (runs of spaces, newlines, braces, digits, power chains, factorial, matrix
and exponential towers, long sums) must come back within the timeout plus half a second,
with a reason, never a hang or an exception.

The half second is stretched by the machine's load (tests share a loaded CI runner);
the promise itself is measured unloaded by ``benchmarks/reliability_bench.py``.
"""

from __future__ import annotations

import os
import time

import pytest

from rewardkit.rewards.arithmetic import ArithmeticChecker
from rewardkit.rewards.registry import get_reward, reward_names
from rewardkit.verify import MathParseError, equivalent, parse_math, verify, verify_batch
from rewardkit.verify.sandbox import default_pool

TIMEOUT = 1.0
REWARD_TIMEOUT = 5.0  # rewards without a timeout option verify with the default
SLACK = 0.5 * max(1.0, os.getloadavg()[0] / (os.cpu_count() or 1))


def _matrix(name: str, n: int = 10) -> str:
    rows = [" & ".join(f"{name}_{{{i}{j}}}" for j in range(1, n + 1)) for i in range(1, n + 1)]
    return r"\begin{pmatrix}" + r" \\ ".join(rows) + r"\end{pmatrix}"


MATRIX_CHAIN = r" \cdot ".join(_matrix(c, 4) for c in "pqrstuvw")  # 13 s to build unbounded


def _worst_cases() -> dict[str, str]:
    n = 10**5
    powers = "+".join(f"x^{{{9999 - k}}}" for k in range(160))
    return {
        "dollar_spaces": r"\boxed{$" + " " * 150 + "}",
        "text_spaces": r"\boxed{\text{a" + " " * 26 + "1}}",
        "answer_is_newlines": "the answer is" + "\n" * 20000,
        "a_colon_spaces": "A: 1" + " " * 20000,
        "line_of_spaces": " " * 30000 + "= 3",
        "spaces": " " * n,
        "newlines": "\n" * n,
        "open_braces": r"\boxed{" + "{" * n,
        "close_braces": "}" * n,
        "digits": r"\boxed{" + "9" * n + "}",
        "backslashes": "\\" * n,
        "dollars": "$" * n,
        "carets": r"\boxed{x" + "^" * n + "}",
        "power_chain": r"\boxed{x^{9999}^{999}}",
        "power_chain_twice": r"\boxed{x^{9999}^{9999}^{9999}}",
        "power_sum": r"\boxed{" + powers + "}",
        "factorial_huge_int": r"\boxed{(10^{30} - 1)!}",
        "factorial_symbolic": r"\boxed{(5 \cdot 10^6 x)!}",
        "factorial_tower": r"\boxed{((((3!)!)!)!)!}",
        "matrix_tower": r"\boxed{" + "".join(_matrix(c) for c in "abcd") + "}",
        "matrix_chain": r"\boxed{" + MATRIX_CHAIN + "}",
        "exp_tower": r"\boxed{\exp(\exp(\exp(\exp(10))))}",
        "long_sum": r"\boxed{" + "+".join(f"{k}y_{{{k}}}" for k in range(300)) + "}",
        "nested_braces": r"\boxed{" + "{" * 10000 + "1" + "}" * 10000 + "}",
    }


CASES = _worst_cases()


@pytest.fixture(scope="module", autouse=True)
def warm_pool():
    default_pool().warm_up()  # start-up is not what these tests measure


def _within(limit: float, fn, *args, **kwargs):
    start = time.perf_counter()
    result = fn(*args, **kwargs)
    seconds = time.perf_counter() - start
    assert seconds <= limit + SLACK, f"{seconds:.2f} s"
    return result


@pytest.mark.parametrize("name", sorted(CASES))
def test_entry_points_return_in_time(name):
    text = CASES[name]
    verdict = _within(TIMEOUT, verify, text, "1", timeout=TIMEOUT)
    assert isinstance(verdict.reason, str)
    assert _within(TIMEOUT, equivalent, text, "x", timeout=TIMEOUT) in (True, False)
    verdicts = _within(
        TIMEOUT, verify_batch, [(text, "1"), (text, text)], processes=2, timeout=TIMEOUT
    )
    assert all(v.reason for v in verdicts)


@pytest.mark.parametrize("name", sorted(CASES))
def test_parse_math_is_bounded_in_process(name):
    try:
        _within(TIMEOUT, parse_math, CASES[name])
    except MathParseError as error:
        assert error.reason


@pytest.mark.parametrize("name", sorted(CASES))
def test_process_steps_return_in_time(name):
    steps = [CASES[name], f"so {CASES[name]} = 5", r"$\exp(\exp(\exp(\exp(10)))) = 5$"]
    scores = _within(TIMEOUT, ArithmeticChecker().score_steps, "", steps)
    assert len(scores) == len(steps)


def _rewards():
    for name in reward_names():
        if name.startswith("rubric_judge"):
            continue  # needs a judge server: bounded by the judge's own timeout
        kwargs = {"max_tokens": 512} if name == "length_gated_correctness" else {}
        try:
            yield name, get_reward(f"{name}@timeout={TIMEOUT}", **kwargs), TIMEOUT
        except TypeError:
            yield name, get_reward(name, **kwargs), REWARD_TIMEOUT


REWARDS = list(_rewards())


@pytest.mark.parametrize("name,reward,timeout", REWARDS, ids=[r[0] for r in REWARDS])
def test_every_reward_returns_in_time_on_every_case(name, reward, timeout):
    for case, text in CASES.items():
        start = time.perf_counter()
        scores = reward(prompts=["Compute."], completions=[text], solution=["1"])
        seconds = time.perf_counter() - start
        assert seconds <= timeout + SLACK, f"{case}: {seconds:.2f} s"
        assert len(scores) == 1


@pytest.mark.parametrize(
    "text",
    [
        "x^{9999}^{999}",  # each exponent passes alone; sympy merges them into x^9989001
        "(x+1)^{9999}^{999}",
        r"(5 \cdot 10^6 x)!",  # a factorial(7000000) at the first evaluation point
        "(x^{9999})!",
        r"\binom{x}{100000}",
        MATRIX_CHAIN,
    ],
)
def test_the_parser_refuses_what_would_be_costly_to_build_or_evaluate(text):
    with pytest.raises(MathParseError) as error:
        _within(TIMEOUT, parse_math, text)
    assert error.value.reason == "too_large"


@pytest.mark.parametrize(
    "text",
    ["x^{10000}", "2^{2^n}+1", "(2n)!", "(100n)!", r"\binom{2n}{n}", r"x^{3}^{2}", _matrix("a", 3)],
)
def test_the_bounds_leave_ordinary_answers_alone(text):
    parse_math(text)
