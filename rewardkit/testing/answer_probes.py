r"""Final answers for the probes of the verifier's reading rules (labels, remarks,
approximations, decimals as written): each holds the gold answer only where a committed
final answer is not, or rounds it more coarsely than the rule allows.

>>> label_rescue_answers("43", "33")["wrong_approx_gold"]
'The answer is \\boxed{33 \\approx 43}.'
>>> coarse_rounding_answers(r"\frac{7}{8}", "5")["two_significant_digits"]
'The answer is \\boxed{0.88}.'
"""

from __future__ import annotations

import re
from fractions import Fraction

__all__ = ["coarse_rounding_answers", "label_rescue_answers"]


def _boxed(answer: str) -> str:
    return f"The answer is \\boxed{{{answer}}}."


def label_rescue_answers(gold: str, wrong: str) -> dict[str, str]:
    """The wrong value dressed in the gold: as a label, a chain, a remark, a modulus or an
    approximation. What the answer commits to is still the wrong value."""
    g, w = gold, wrong
    answers = {
        "labelled_wrong": _boxed(f"n = {w}"),
        "gold_as_label_index": _boxed(f"S_{{{g}}} = {w}"),
        "chain_gold_then_wrong": _boxed(f"x = {g} = {w}"),
        "wrong_approx_gold": _boxed(f"{w} \\approx {g}"),
        "wrong_with_gold_remark": _boxed(f"{w} \\text{{ (about {g})}}"),
        "labels_wrong_and_gold": _boxed(f"a = {w}, b = {g}"),
        "wrong_ordinal_of_gold": _boxed(f"{w}^{{\\text{{th}}}} \\text{{ of }} {g}"),
    }
    if g.isdigit() and int(g) > 1:
        answers["wrong_modulo_gold"] = _boxed(f"{w} \\pmod{{{g}}}")
    return answers


def _value(gold: str) -> Fraction | None:
    """The gold as a number when it is an integer or a plain ``\\frac{a}{b}``."""
    if re.fullmatch(r"-?\d+", gold):
        return Fraction(int(gold))
    m = re.fullmatch(r"\\d?frac\{(\d+)\}\{(\d+)\}", gold)
    return Fraction(int(m.group(1)), int(m.group(2))) if m and int(m.group(2)) else None


def coarse_rounding_answers(gold: str, wrong: str) -> dict[str, str]:
    """Decimals near the gold that are not its rounding at the places they are written
    with: two significant digits, one place too many, a last digit off by one."""
    value = _value(gold)
    if value is None:
        return {}
    answers = {
        "four_tenths_off": _boxed(f"{float(value) + 0.4:.1f}"),
        "last_digit_off": _boxed(f"{float(value) + 0.01:.2f}"),
    }
    two = f"{float(value):.2g}"
    if Fraction(two) != value and "e" not in two:
        answers["two_significant_digits"] = _boxed(two)
    return answers
