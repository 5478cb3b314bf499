"""Every regular expression that reads model text runs in linear time (issue 18, item 1).

``AUDITED`` lists, module by module, each module-level pattern and how the code uses it:
``scan`` (``search`` / ``finditer`` / ``sub`` over the whole text) or ``anchored``
(``match`` / ``fullmatch`` at a given position). A pattern added to one of these modules
without an entry fails :func:`test_every_pattern_is_audited`, so no new pattern escapes.

Each pattern runs on 10^5 repeated characters (runs of spaces, newlines, digits, braces,
backslashes, ... after prefixes that start the pattern's own literals: ``\\text{a``,
``the answer is``, ``[RESULT]``, ...) in a child process, so a catastrophic pattern fails
the test at its time limit instead of hanging it. Linear time is a few milliseconds here;
the bound is generous (the machine may be loaded); quadratic time on 10^5 characters takes
minutes. The entry points get the inputs the issue measured (a box holding ``$`` and 150
spaces, ``\\text{a`` with 26 spaces in a box, ``the answer is`` and 20,000 newlines, ...).
"""

from __future__ import annotations

import importlib
import json
import re
import subprocess
import sys
import time

import pytest

N = 100_000
BOUND_S = 2.0  # per pattern and input; linear is ~0.01 s
CHILD_TIMEOUT_S = 240

AUDITED: dict[str, dict[str, str]] = {
    "rewardkit.text.boxes": {
        "_BOX_RE": "scan",
        "_BRACE_RE": "scan",
        "_TOKEN_RE": "anchored",
        "_BACKSLASHES_RE": "scan",
        "_DOUBLED_COMMAND_RE": "scan",
        "_LIST_GLUE_RE": "anchored",
        "_HIDDEN_RE": "scan",
        "_IF_RE": "scan",
    },
    "rewardkit.text.conventions": {
        "_EMPHASIS_RE": "scan",
        "_GSM8K_RE": "scan",
        "_ANSWER_WORD_RE": "scan",
        "_BEFORE_RE": "scan",
        "_AFTER_RE": "anchored",
        "_ZH_AFTER_RE": "anchored",
        "_A_COLON_RE": "scan",
        "_LINE_START_RE": "anchored",
        "_VISIBLE_RE": "scan",
        "_BOLD_RE": "scan",
        "_JOINER_RE": "scan",
    },
    "rewardkit.text.lenient": {
        "_OPENERS_RE": "scan",
        "_WORDS_RE": "scan",
        "_NUMBER_RE": "scan",
        "_CANDIDATE_RE": "scan",
        "_SPLIT_RE": "scan",
        "_ANCHOR_RE": "scan",
        "_PLACEHOLDER_RE": "anchored",
        "_INSTRUCTION_RE": "anchored",
        "_LIST_GLUE_RE": "anchored",
        "_GLUE_WORD_RE": "scan",
        "_PLURAL_RE": "scan",
        "_PLAIN_NUMBER_RE": "anchored",
        "_HEDGE_RE": "scan",
        "_RELATION_RE": "scan",
    },
    "rewardkit.text.answers": {"_WORD_RE": "scan", "_MARKED_GOLD_RE": "scan"},
    "rewardkit.verify.answers": {
        "_TEXT_WRAP": "scan",
        "_CHOICE": "anchored",
        "_LABEL": "anchored",
        "_SENTENCE_END": "scan",
        "_PLAIN_NUMBER": "anchored",
    },
    "rewardkit.verify.lexer": {
        "_SUPERSCRIPT_RE": "scan",
        "_UNICODE_RE": "scan",
        "_CURRENCY": "scan",
        "_TIMES_TEN": "scan",
        "_SIZING": "scan",
        "_SPACING": "scan",
        "_DELIMS": "scan",
        "_NUMBER": "anchored",
        "_THOUSANDS": "anchored",
        "_LETTERS": "anchored",
        "_COMMAND": "anchored",
        "_ENV": "anchored",
        "_NEXT_VALUE": "anchored",
    },
    "rewardkit.verify.vocabulary": {"UNIT_TEXT": "anchored"},
    "rewardkit.rewards.steps": {
        "_STEP_MARKER_RE": "scan",
        "_NUMBERED_RE": "scan",
        "_BLANK_RE": "scan",
        "_LINE_RE": "scan",
        "_VISIBLE_RE": "scan",
        "_FINAL_LINE_RE": "anchored",
    },
    "rewardkit.rewards.arithmetic": {
        "_LATEX_NORMALISE[0]": "scan",
        "_LATEX_NORMALISE[1]": "scan",
        "_LATEX_NORMALISE[2]": "scan",
        "_LATEX_NORMALISE[3]": "scan",
        "_UNICODE_OPS_RE": "scan",
        "_THOUSANDS_RE": "scan",
        "_TIMES_X_RE": "scan",
        "_ANNOTATION_RE": "scan",
        "_ANY_ANNOTATION_RE": "scan",
        "_RUN_RE": "anchored",
        "_RUN_REVERSED_RE": "anchored",
        "_TOKEN_RE": "scan_stripped",  # the text is right-stripped before it is tokenised
        "_FLAT_RE": "anchored",
        "_FLAT_TOKEN_RE": "scan",
    },
    "rewardkit.filters.filters": {
        "_EQUATION_RE": "scan",
        "_CALCULATOR_RE": "scan",
        "_SPACES": "scan",
    },
    "rewardkit.judge.parse": {
        "_RATING_PATTERNS[0]": "scan",
        "_RATING_PATTERNS[1]": "scan",
        "_RATING_PATTERNS[2]": "scan",
        "_YES_NO_PATTERNS[0]": "scan",
        "_YES_NO_PATTERNS[1]": "scan",
        "_YES_NO_PATTERNS[2]": "scan",
        "_FINAL_RATING": "scan",
        "_FINAL_YES_NO": "scan",
    },
}
# Modules that read model text and hold no module-level pattern (their patterns, if any,
# are built per call and covered through the entry points below).
NO_PATTERNS = (
    "rewardkit.text.think",
    "rewardkit.text.messages",
    "rewardkit.rewards.format",
    "rewardkit.rewards.shaping",
    "rewardkit.rewards.process",
    "rewardkit.verify.api",
    "rewardkit.verify.parser",
)

CHARS = (" ", "\n", "\t", "0", "1 ", "1,", "1+", "a", "a ", "$", "\\", "{", "}", "*", ".", "-")
PREFIXES = (
    "\\text{a",
    "the answer is",
    "A:",
    "answer:",
    "final answer",
    "####",
    "\\boxed{",
    "[RESULT]",
    "Rating: [[",
    "<<",
    "Step 1:",
    "1 +",
)


def _patterns(module_name: str) -> dict[str, re.Pattern]:
    found = {}
    for name, value in vars(importlib.import_module(module_name)).items():
        if isinstance(value, re.Pattern):
            found[name] = value
        elif isinstance(value, (list, tuple)):
            for i, item in enumerate(value):
                for part in item if isinstance(item, tuple) else (item,):
                    if isinstance(part, re.Pattern):
                        found[f"{name}[{i}]"] = part
    return found


def _inputs() -> list[tuple[str, str]]:
    out = [(repr(c), c * (N // len(c))) for c in CHARS]
    for prefix in PREFIXES:
        for c in (" ", "0"):
            out.append((f"{prefix!r}+{c!r}", prefix + c * N + "1}"))
    return out


def _run(pattern: re.Pattern, use: str, text: str) -> None:
    if use == "anchored":
        pattern.match(text)
        pattern.fullmatch(text)
    else:
        text = text.rstrip() if use == "scan_stripped" else text
        for _ in pattern.finditer(text):
            pass


def test_every_pattern_is_audited():
    for module_name, table in AUDITED.items():
        found = set(_patterns(module_name))
        new, gone = sorted(found - set(table)), sorted(set(table) - found)
        assert not new, f"{module_name}: make {new} linear, then list them in AUDITED"
        assert not gone, f"{module_name}: {gone} no longer exist; remove them from AUDITED"
    for module_name in NO_PATTERNS:
        assert _patterns(module_name) == {}, module_name


def _child_patterns() -> None:
    """In the child: time every audited pattern on every input, one JSON line each."""
    inputs = _inputs()
    for module_name, table in AUDITED.items():
        patterns = _patterns(module_name)
        for name, use in table.items():
            for label, text in inputs:
                print(json.dumps({"at": f"{module_name}.{name} on {label}"}), flush=True)
                start = time.perf_counter()
                _run(patterns[name], use, text)
                print(json.dumps({"s": time.perf_counter() - start}), flush=True)


def _entry_inputs() -> list[tuple[str, str, str]]:
    return [
        ("box holding $ and 150 spaces", "\\boxed{$" + " " * 150 + "x}", "1"),
        ("\\text{a, 26 spaces, 1} in a box", "\\boxed{2\\text{a" + " " * 26 + "1}}", "1"),
        ("the answer is + 20,000 newlines", "the answer is" + "\n" * 20_000, "1"),
        ("A: 1 + 20,000 spaces", "A: 1" + " " * 20_000 + "x", "1"),
        ("30,000 spaces then a final line", "x" + " " * 30_000 + "\nA: 1 " + " " * 30_000, "1"),
        ("the answers are + 10^5 spaces", "The answers are" + " " * N + "x", "1"),
        ("10^5 spaces", " " * N, "1"),
        ("10^5 braces", "\\boxed{" + "{" * N, "1"),
        ("10^5 digits", "the answer is " + "9" * N, "1"),
        ("10^5 dollars", "$" * N, "1"),
        ("10^5 emphasis", "**" * (N // 2), "1"),
        ("10^5 labels", "answer: " * (N // 8), "1"),
        ("a 10^5 sentence of numbers", "So " + "1 + " * (N // 4), "1"),
    ]


def _child_entry_points() -> None:
    """In the child: every entry point that reads a completion, on the issue's inputs."""
    from rewardkit.rewards.defaults import math_reward
    from rewardkit.rewards.process import ProcessReward
    from rewardkit.rewards.shaping import CosineLength
    from rewardkit.rewards.steps import segment_steps
    from rewardkit.text import final_answer, gold_answer
    from rewardkit.verify import verify

    math = math_reward()
    process = ProcessReward()
    cosine = CosineLength(max_length=100)
    for label, text, gold in _entry_inputs():
        calls = {
            "verify": lambda t=text, g=gold: verify(t, g, timeout=1),
            "verify lenient": lambda t=text, g=gold: verify(t, g, extract="lenient", timeout=1),
            "final_answer lenient": lambda t=text: final_answer(t, extract="lenient", prompt=t),
            "gold_answer": lambda t=text: gold_answer(t),
            "math": lambda t=text, g=gold: math(completions=["<think>x</think>" + t], answer=[g]),
            "process steps": lambda t=text: segment_steps(t),
            "process": lambda t=text: process(prompts=["q"], completions=[t]),
            "cosine": lambda t=text, g=gold: cosine(
                completions=[t], answer=[g], completion_ids=[[0] * 10]
            ),
        }
        for name, call in calls.items():
            print(json.dumps({"at": f"{name} on {label}"}), flush=True)
            start = time.perf_counter()
            call()
            print(json.dumps({"s": time.perf_counter() - start}), flush=True)


def _in_child(function: str, bound: float) -> None:
    code = f"import sys; sys.path.insert(0, {str(__file__.rsplit('/', 1)[0])!r}); "
    code += f"import test_linear_patterns as t; t.{function}()"
    try:
        done = subprocess.run(
            [sys.executable, "-c", code],
            capture_output=True,
            text=True,
            timeout=CHILD_TIMEOUT_S,
        )
        lines, error = done.stdout.splitlines(), done.stderr[-2000:]
    except subprocess.TimeoutExpired as timeout:
        out = timeout.stdout or b""
        lines = (out.decode() if isinstance(out, bytes) else out).splitlines()
        at = next((json.loads(x)["at"] for x in reversed(lines) if '"at"' in x), "?")
        pytest.fail(f"still running after {CHILD_TIMEOUT_S} s at {at}")
    assert done.returncode == 0, error
    slow, at = [], None
    for line in lines:
        record = json.loads(line)
        if "at" in record:
            at = record["at"]
        elif record["s"] > bound:
            slow.append(f"{at}: {record['s']:.2f} s")
    assert slow == []


def test_patterns_are_linear_on_1e5_repeated_characters():
    _in_child("_child_patterns", BOUND_S)


def test_entry_points_are_fast_on_the_issue_inputs():
    # verify's own timeout is 1 s; these inputs are all refused or read in milliseconds
    _in_child("_child_entry_points", 1.5)
