"""Step segmentation and the arithmetic/algebra step checker."""

from __future__ import annotations

import importlib
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rewardkit.rewards import ArithmeticChecker, segment_steps
from rewardkit.rewards.arithmetic import find_claims
from rewardkit.rewards.steps import reasoning_span, token_end_indices, with_token_spans


def texts(steps):
    return [s.text for s in steps]


def test_segments_by_step_markers_numbered_lines_blank_lines_and_lines():
    assert texts(
        segment_steps("<think>Step 1: add 2 + 2 = 4. Step 2: double it\nStep 2: 4 * 2 = 8</think>")
    ) == [
        "Step 1: add 2 + 2 = 4. Step 2: double it",
        "Step 2: 4 * 2 = 8",
    ]
    assert texts(segment_steps("<think>1. first part\n   more\n2) second part</think>x")) == [
        "1. first part\n   more",
        "2) second part",
    ]
    assert texts(segment_steps("<think>para one\nstill one\n\n\npara two</think>")) == [
        "para one\nstill one",
        "para two",
    ]
    assert texts(segment_steps("<think>line one\nline two\nline three</think>")) == [
        "line one",
        "line two",
        "line three",
    ]
    assert texts(segment_steps("<think>a b c d e\n\nf g h i j</think>", mode="lines")) == [
        "a b c d e",
        "f g h i j",
    ]
    with pytest.raises(ValueError):
        segment_steps("x", mode="sentences")


def test_positions_are_character_spans_of_the_completion():
    text = "<think>\nFirst 3 * 4 = 12.\n\nThen 12 + 1 = 13.\n</think> \\boxed{13}"
    for step in segment_steps(text):
        assert text[step.start : step.end] == step.text
    assert segment_steps(text)[0].start == text.index("First")


def test_tiny_fragments_merge_and_the_cap_holds():
    steps = segment_steps("<think>ok\nLet us compute 2 + 2 = 4\nso\nthen 4 + 4 = 8</think>")
    assert texts(steps) == ["ok\nLet us compute 2 + 2 = 4\nso", "then 4 + 4 = 8"]
    many = "<think>" + "\n".join(f"line number {i}" for i in range(500)) + "</think>"
    capped = segment_steps(many, max_steps=10)
    assert len(capped) == 10 and capped[-1].text.endswith("line number 499")


def test_reasoning_span_variants():
    assert reasoning_span("a</think>b") == (0, 1)  # the prompt opened the span
    assert reasoning_span("<think>abc") == (7, 10)  # unclosed: reasoning to the end
    assert reasoning_span("16 - 3 = 13\nA: 13") == (0, 11)
    assert reasoning_span("x = 1\n#### 1") == (0, 5)
    assert segment_steps("") == [] and segment_steps("<think></think>") == []


def test_token_positions_with_a_real_tokenizer(tiny_model_path):
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(tiny_model_path)
    text = "<think>First 3 * 4 = 12.\nThen 12 + 1 = 13.</think> The answer is \\boxed{13}."
    ids = tok(text, add_special_tokens=False)["input_ids"]
    decoded = tok.decode(ids, skip_special_tokens=True)  # what TRL passes as the completion
    steps = with_token_spans(decoded, segment_steps(decoded), ids, tok)
    for step in steps:
        # the tokens up to the step's last token decode to text that ends with the step
        upto = tok.decode(ids[: step.token_end], skip_special_tokens=True)
        assert upto.rstrip().endswith(step.text.rstrip()[-3:])
        assert len(tok.decode(ids[: step.token_end - 1], skip_special_tokens=True)) < step.end
    assert steps[0].token_start == 0 and steps[1].token_start == steps[0].token_end


def test_token_positions_from_tokenizer_offsets(tiny_model_path):
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(tiny_model_path)
    text = "<think>First 3 * 4 = 12.\nThen 12 + 1 = 13.</think> The answer is \\boxed{13}."
    steps = with_token_spans(text, segment_steps(text), tokenizer=tok)
    offsets = tok(text, return_offsets_mapping=True, add_special_tokens=False)["offset_mapping"]
    for step in steps:
        first, last = offsets[step.token_start], offsets[step.token_end - 1]
        assert first[0] <= step.start < first[1] and last[0] < step.end <= last[1]
    with pytest.raises(ValueError):
        with_token_spans(text, steps)


def test_token_positions_without_tokenizer_are_proportional():
    assert token_end_indices("abcdefgh", [4, 8], list(range(4))) == [1, 3]
    assert token_end_indices("", [0], []) == [0]


@pytest.mark.parametrize(
    ("step", "verdicts"),
    [
        ("3 \\times 4 = 12", [True]),
        ("3 \\times 4 = 13", [False]),
        ("48/2 = 24", [True]),
        ("Natalia sold 48/2 = <<48/2=24>>24 clips in May.", [True]),
        ("Natalia sold 48/2 = <<48/2=25>>25 clips in May.", [False]),
        ("2 + 3 = 5 = 10/2", [True, True]),
        ("2 + 3 = 5 = 10/3", [True, False]),
        ("4 + 5 = 9 + 3 = 12", [None, True]),  # a running total, not a false chain
        ("\\frac{3}{4} \\cdot 8 = 6", [True]),
        ("2 x 0.5 = 1.0 bolts", [True]),
        ("1,000 * 3 = 3,000", [True]),
        ("10/3 = 3.33", [True]),
        ("10/3 = 3.4", [False]),
        ("0.25 * 100 = 25%", [True]),
        ("20% of 50 = 10", [None]),  # "of" breaks the expression: nothing to check
        ("66 fish * 1/3 = 22 fish", []),  # the computation runs past a word
        ("She has 12 apples = a dozen", []),
        ("x = 5", [None]),
        ("no maths here", []),
        ("1/0 = 5", []),
        ("2^100000 = 1", []),
        ("3 − 1 = 2", [True]),  # unicode minus
        ("3 × 4 ÷ 2 = 6", [True]),
        ("14 * 2 = \\boxed{28}", [True]),
        ("14 * 2 = 28 \\boxed{28}", [True]),  # not 28 times 28
        ("\\weird{16} + 1 = 17", [None]),  # unknown LaTeX is never trimmed to "{16} + 1"
    ],
)
def test_claims_found_and_checked(step, verdicts):
    assert [c.correct for c in find_claims(step)] == verdicts


def test_algebra_across_steps():
    checker = ArithmeticChecker()
    assert checker.score_steps("", ["2x + 3 = 13", "so 2x = 10", "x = 5"]) == [None, 1.0, 1.0]
    assert checker.score_steps("", ["2x + 3 = 13", "so 2x = 10", "x = 6"]) == [None, 1.0, 0.0]
    assert checker.score_steps("", ["2x + 3 = 13", "so 2x = 16"]) == [None, 0.0]
    assert checker.score_steps("", ["(x+1)^2 = x^2 + 2x + 1"]) == [1.0]
    assert checker.score_steps("", ["x^2 = 9", "x = -3"]) == [None, 1.0]
    assert checker.score_steps("", ["x^2 = 9", "x = 4"]) == [None, 0.0]
    # two unknowns, or letters that are not variables: not checked
    assert checker.score_steps("", ["x + y = 3", "3 m = 12"]) == [None, None]
    assert checker.score_steps("", []) == []


def test_latex_beyond_the_fast_parser_uses_the_verifier_when_present():
    verify = importlib.import_module("rewardkit.verify")  # rewardkit.verify is also a function
    if not hasattr(verify, "parse_math"):
        pytest.skip("the verifier's parse_math is not merged yet")
    assert [c.correct for c in find_claims("so 2 = \\sqrt{4} = 2")] == [True, True]
    assert [c.correct for c in find_claims("so 2 = \\sqrt{9} = 2")] == [False, False]
    assert [c.correct for c in find_claims("\\sqrt{16} + \\frac{1}{2} = 4.5")] == [True]


def test_hostile_steps_are_neutral_and_fast():
    checker = ArithmeticChecker()
    hostile = [
        "(" * 5000 + "1" + ")" * 5000 + " = 1",
        "9^9^9^9^9 = 1",
        "1" * 5000 + " + 1 = 2",
        "= = = = 1 = = =",
        "<<" * 1000 + "1=1" + ">>" * 1000,
        "\\frac{\\frac{\\frac{1}{2}}{3}}{4} = 1",
        "\x00 1 + 1 = 2 \ud800",
        "١ + ١ = ٢",
        "1+" * 200_000 + "1 = 200001",  # true, but too long to check: neutral, not wrong
        "so " + "2 + " * 45 + "2 = 92",  # longer than the parser's window: neutral
    ]
    start = time.perf_counter()
    scores = checker.score_steps("", hostile)
    assert time.perf_counter() - start < 2.0
    assert len(scores) == len(hostile)
    assert scores[6] == 1.0  # the valid claim among control characters is still read
    assert scores[-2] is None and scores[-1] in (None, 1.0)
    assert all(s in (None, 0.0, 1.0) for s in scores)


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 10**6), st.integers(1, 10**4), st.sampled_from(["+", "-", "*"]))
def test_true_integer_arithmetic_is_never_flagged(a, b, op):
    value = {"+": a + b, "-": a - b, "*": a * b}[op]
    assert find_claims(f"so {a} {op} {b} = {value} apples")[0].correct is True
    assert find_claims(f"so {a} {op} {b} = {value + 1} apples")[0].correct is False


@settings(max_examples=60, deadline=None)
@given(st.text(max_size=300))
def test_any_text_is_scored_without_error(text):
    scores = ArithmeticChecker().score_steps("", [text, text + " = 1"])
    assert all(s in (None, 0.0, 1.0) for s in scores)


def test_bad_variables_option():
    with pytest.raises(ValueError):
        ArithmeticChecker(variables="x+")
