r"""Comparing two answer strings: choices, text answers, then parsed math with the
notation policies (percent, degrees, units, bases).

>>> compare_answers(r"\text{(B)}", "B) 12", VerifyOptions()).correct
True
>>> compare_answers("50\\%", "0.5", VerifyOptions()).correct
True
>>> compare_answers("7", "3/4", VerifyOptions()).reason
'wrong_answer'
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from fractions import Fraction
from functools import lru_cache

import sympy as sp

from rewardkit.verify.clock import clock_seconds
from rewardkit.verify.compare import NeedsSymbolic, values_equal
from rewardkit.verify.errors import MathParseError
from rewardkit.verify.labels import residues
from rewardkit.verify.lexer import MAX_LENGTH, clean_latex, tokenize
from rewardkit.verify.numerals import number_from_words
from rewardkit.verify.options import VerifyOptions
from rewardkit.verify.parser import Parsed, parse_expression
from rewardkit.verify.vocabulary import FUNCTIONS

__all__ = ["Outcome", "choice_letter", "compare_answers", "is_plain", "normal_text", "strip_box"]


@dataclass(frozen=True)
class Outcome:
    """Whether two answers are equal and why (``ok``, ``wrong_answer``, ``parse_error``,
    ``too_long``, ``too_deep``, ``too_large``, ``timeout``, ``no_answer``)."""

    correct: bool
    reason: str


OK = Outcome(True, "ok")
WRONG = Outcome(False, "wrong_answer")

_TEXT_WRAP = re.compile(
    r"\\(?:text|textbf|textit|textrm|mbox|mathrm|mathbf|textnormal|boxed)"
    r"\s*\{([^{}]*)\}"
)
_CHOICE = re.compile(
    r"^\(?([A-Ea-e])\)?$|^\(([A-Ea-e])\)\s*[^\s,;(].*$|^([A-E])\s*[).:]\s*[^\s,;(].*$", re.DOTALL
)
_LABEL = re.compile(r"(?:the\s+)?(?:final\s+)?answer\s*(?:is\s*)?[:=]\s*", re.IGNORECASE)
_SENTENCE_END = re.compile(r"[A-Za-z]\s+(?:is|are|equals|was)\s+(\S.*)$")
_SHORT_TEXT = frozenset({"no", "yes", "true", "false"})  # whole answers that are words
_MATH_WORDS = frozenset(
    {
        "sin",
        "cos",
        "tan",
        "cot",
        "sec",
        "csc",
        "log",
        "ln",
        "exp",
        "sqrt",
        "pi",
        "infty",
        "frac",
        "dfrac",
        "tfrac",
        "cdot",
        "times",
        "circ",
        "text",
        "mbox",
        "and",
        "or",
        "inf",
        "infinity",
        "undefined",
    }
)


def _clean(text: str) -> str:
    """:func:`clean_latex` without a leading label (``Answer:``, ``Final answer is``)."""
    return _clean_short(text) if len(text) <= MAX_LENGTH else _clean_text(text)


@lru_cache(maxsize=8192)
def _clean_short(text: str) -> str:
    return _clean_text(text)


def _clean_text(text: str) -> str:
    s = clean_latex(text)
    m = _LABEL.match(s)
    return s[m.end() :] if m and m.end() < len(s) else s


def unwrap(text: str) -> str:
    """Answer text without delimiters and text/box wrappers, spaces squeezed."""
    s = _clean(text)
    for _ in range(3):
        inner = _TEXT_WRAP.sub(r"\1", s)
        if inner == s:
            break
        s = inner
    return " ".join(s.split())


def strip_box(text: str) -> str:
    """Cleaned answer text without a ``\\boxed{}`` or ``\\text{}`` around all of it."""
    s = _clean(text)
    while True:
        m = re.match(r"\\(?:boxed|fbox|text|textbf|mbox|textrm)\s*\{", s)
        if m is None or _closing(s, m.end() - 1) != len(s) - 1:
            return s
        s = s[m.end() : -1].strip()


def _closing(s: str, start: int) -> int:
    depth = 0
    for j in range(start, len(s)):
        if s[j] == "{" and s[j - 1] != "\\":
            depth += 1
        elif s[j] == "}" and s[j - 1] != "\\":
            depth -= 1
            if depth == 0:
                return j
    return -1


def _balanced(s: str) -> bool:
    """Brackets open and close in equal numbers (an interval may mix ``(`` and ``]``)."""
    s = s.replace("\\{", "").replace("\\}", "")
    depth = braces = 0
    for c in s:
        if c in "([":
            depth += 1
        elif c in ")]":
            depth -= 1
        elif c == "{":
            braces += 1
        elif c == "}":
            braces -= 1
        if depth < 0 or braces < 0:
            return False
    return depth == 0 and braces == 0


# Text answers that name a set of numbers.
_SET_WORDS = {
    "all real numbers": r"\mathbb{R}",
    "all reals": r"\mathbb{R}",
    "real numbers": r"\mathbb{R}",
    "no solution": r"\emptyset",
    "no solutions": r"\emptyset",
    "no real solutions": r"\emptyset",
    "none": r"\emptyset",
    "empty set": r"\emptyset",
}


def choice_letter(text: str) -> str | None:
    """The letter of a multiple-choice answer: ``(B)``, ``\\text{C}``, ``C) 12``.

    >>> choice_letter(r"\\textbf{(D)} 4"), choice_letter("x")
    ('D', None)
    """
    s = unwrap(text).strip()
    m = _CHOICE.match(s)
    if m is None or len(re.findall(r"\([A-E]\)|\b[A-E]\)", s)) > 1:
        return None
    return next(g for g in m.groups() if g).upper()


def normal_text(text: str) -> str:
    """A text answer for comparison: lower case, no punctuation or articles."""
    s = unwrap(text).lower().replace("\\", " ")
    s = re.sub(r"[^a-z0-9 ]+", " ", s)
    words = [w for w in s.split() if w not in ("the", "a", "an")]
    return " ".join(words)


# Commands whose sympy objects are cheap to build and compare: numbers, fractions,
# relations, sets, intervals, matrices, names. Roots, functions, factorials and binomials
# are built and compared in a worker, under its deadline.
_PLAIN_COMMANDS = frozenset(
    {
        "frac",
        "dfrac",
        "tfrac",
        "cfrac",
        "sfrac",
        "times",
        "cdot",
        "ast",
        "div",
        "pm",
        "mp",
        "infty",
        "circ",
        "degree",
        "le",
        "leq",
        "leqslant",
        "ge",
        "geq",
        "geqslant",
        "lt",
        "gt",
        "ne",
        "neq",
        "approx",
        "cup",
        "cap",
        "setminus",
        "in",
        "mathrm",
        "mathbf",
        "boldsymbol",
        "bm",
        "mathit",
        "mathsf",
        "boxed",
        "fbox",
        "textup",
        "mathnormal",
        "emptyset",
        "varnothing",
        "mathbb",
        "langle",
        "rangle",
        "lvert",
        "rvert",
        "vert",
        "overline",
        "bar",
        "hat",
        "vec",
        "angle",
        "pi",
        "over",
        "quad",
        "qquad",
        "bmod",
        "mod",
        "pmod",
        "equiv",
    }
)


def is_plain(text: str) -> bool:
    r"""Whether an answer is cheap enough to parse and compare in the calling process:
    only numbers, fractions, integer powers, names, relations and structures.

    >>> is_plain(r"rac{3}{4}"), is_plain(r"\sqrt{2}"), is_plain("(x+1)^{1/2}")
    (True, False, False)
    """
    if len(text) > MAX_LENGTH:
        return True  # refused at once for its length
    return _is_plain(text)


@lru_cache(maxsize=8192)
def _is_plain(text: str) -> bool:
    try:
        tokens = tokenize(clean_latex(text))
    except MathParseError:
        return True  # it fails to parse just as fast
    for k, tok in enumerate(tokens):
        if tok.kind == "cmd" and tok.value not in _PLAIN_COMMANDS:
            return False
        if tok.kind == "op" and tok.value == "^" and not _plain_exponent(tokens, k + 1):
            return False
    return True


def _plain_exponent(tokens: list, k: int) -> bool:
    r"""``^2``, ``^{12}``, ``^{-1}``, ``^x``, ``^\circ``: an exponent that is one integer or
    one name (or a degree mark)."""
    body = tokens[k : k + 1]
    if tokens[k].value == "{":
        close = next(
            (j for j in range(k + 1, min(k + 4, len(tokens))) if tokens[j].value == "}"), None
        )
        if close is None:
            return False
        body = [t for t in tokens[k + 1 : close] if t.value != "-"]
    if len(body) != 1:
        return False
    tok = body[0]
    return tok.kind == "letter" or tok.value.isdigit() or (tok.kind, tok.value) == ("cmd", "circ")


# A bare number, as most GSM8K and MATH answers are: 1,234.5  -7  $18  .5  (the dollar
# signs and a closing full stop are cut off first, so no two runs of spaces meet)
_PLAIN_NUMBER = re.compile(r"([-+]?)[ \t]*(\d{1,3}(?:,\d{3})+|\d+)?(?:\.(\d+))?")


def _plain_number(text: str) -> tuple[Fraction, bool] | None:
    """``(value, is_decimal)`` of a bare number, or ``None`` (a quick path, no parser)."""
    s = text.strip()
    s = s[:-1].rstrip() if s.endswith(".") else s
    s = s[:-1].rstrip() if s.endswith("$") else s
    s = s[1:].lstrip() if s.startswith("$") else s
    m = _PLAIN_NUMBER.fullmatch(s)
    if m is None or (m.group(2) is None and m.group(3) is None):
        return None
    whole = (m.group(2) or "0").replace(",", "")
    frac = m.group(3) or ""
    value = Fraction(int(whole + frac), 10 ** len(frac))
    return (-value if m.group(1) == "-" else value), bool(frac)


def _numbers_match(
    pred: tuple[Fraction, bool], gold: tuple[Fraction, bool], options: VerifyOptions
) -> bool:
    """Exact when both are integers, within the tolerances when one is a decimal."""
    (a, a_decimal), (b, b_decimal) = pred, gold
    if a == b or not (a_decimal or b_decimal):
        return a == b
    gap = abs(a - b)
    return gap <= Fraction(options.rel_tol) * max(abs(a), abs(b)) or gap <= Fraction(
        options.abs_tol
    )


def _text_value(text: str) -> str:
    """A text answer for comparison, number words read as digits (``five`` is ``5``)."""
    words = normal_text(text)
    number = number_from_words(words)
    return words if number is None else str(number)


def _is_text_answer(text: str) -> bool:
    s = unwrap(text)
    if not s or any(not (c.isalpha() or c in " ',.-") for c in s):
        return False
    if s.strip(" .").lower() in _SHORT_TEXT:
        return True
    words = re.findall(r"[^\W\d_]+", s)
    # a run of capitals (ABC) names points, it is not a word
    return any(
        len(w) >= 3 and w.lower() not in _MATH_WORDS | FUNCTIONS.keys() and not w.isupper()
        for w in words
    ) or any(not w.isascii() for w in words)


def compare_answers(
    pred: str, gold: str, options: VerifyOptions, *, symbolic: bool = False
) -> Outcome:
    """Compare a predicted answer with the gold answer.

    In fast mode (``symbolic=False``) raises :class:`~rewardkit.verify.compare.NeedsSymbolic`
    when only a symbolic comparison can decide.
    """
    if len(pred) > MAX_LENGTH:
        return Outcome(False, "too_long")
    numbers = _plain_number(pred), _plain_number(gold)
    if numbers[0] is not None and numbers[1] is not None:
        return OK if _numbers_match(*numbers, options) else WRONG
    p_text, g_text = strip_box(pred), strip_box(gold)
    if not p_text:
        return Outcome(False, "no_answer")
    gold_choice = choice_letter(gold)
    if gold_choice is not None and not re.fullmatch(r"[A-Ea-e]", g_text):
        return OK if choice_letter(pred) == gold_choice else WRONG
    if gold_choice is not None and choice_letter(pred) == gold_choice:
        return OK
    if not _balanced(p_text):
        return Outcome(False, "parse_error")
    if p_text.replace(" ", "") == g_text.replace(" ", ""):
        return OK
    times = clock_seconds(unwrap(pred)), clock_seconds(unwrap(gold))
    if times[0] is not None and times[1] is not None:  # 14:05 and 2:05 PM
        return OK if times[0] == times[1] else WRONG
    tail = _SENTENCE_END.search(p_text)
    if tail is not None:  # "The volume of ABCD is 120": a sentence whose end is the answer
        return compare_answers(tail.group(1), gold, options, symbolic=symbolic)
    p_text = _SET_WORDS.get(normal_text(pred), p_text)
    g_text = _SET_WORDS.get(normal_text(gold), g_text)
    if _is_text_answer(g_text) or _is_text_answer(p_text):
        return OK if _text_value(pred) == _text_value(gold) else WRONG
    if not symbolic and not (is_plain(p_text) and is_plain(g_text)):
        raise NeedsSymbolic  # roots, functions, ...: sympy may work hard even to build them
    try:
        p = parse_expression(p_text)
    except MathParseError as error:
        p, p_error = None, error
    try:
        g = parse_expression(g_text)
    except MathParseError:  # a gold that is not math: compare the text
        if p is None and p_error.reason not in ("syntax", "unsupported"):
            return Outcome(False, p_error.reason)
        return OK if normal_text(pred) == normal_text(gold) else WRONG
    if p is None:
        return Outcome(
            False, "parse_error" if p_error.reason in ("syntax", "unsupported") else p_error.reason
        )
    return OK if _parsed_equal(p, g, p_text, g_text, options, symbolic) else WRONG


def _parsed_equal(
    p: Parsed, g: Parsed, p_text: str, g_text: str, options: VerifyOptions, symbolic: bool
) -> bool:
    if options.units == "match" and _unit_set(p) != _unit_set(g):
        return False
    # one side written in a base (1011_2), the other bare: the same digits match either way
    if g.bases and not p.bases and isinstance(g.expr, sp.Integer):
        return p_text.replace(" ", "") == g.bases[0][0]
    if p.bases and not g.bases and g_text.replace(" ", "") == p.bases[0][0]:
        return True  # else the value: 1011_2 is also 11
    reduced = residues(p.expr, g.expr, p.moduli, g.moduli)
    if reduced is None:
        return False
    p, g = replace(p, expr=reduced[0]), replace(g, expr=reduced[1])
    for pv, gv in _candidates(p, g, options):
        if values_equal(pv, gv, options, symbolic=symbolic, written=p.decimals):
            return True
    return False


def _unit_set(p: Parsed) -> frozenset[str]:
    return frozenset(u.rstrip("s") for u in p.units)


def _candidates(p: Parsed, g: Parsed, options: VerifyOptions) -> list[tuple[sp.Basic, sp.Basic]]:
    """The readings of both answers that count as equal under the options."""
    pv, gv = p.expr, g.expr
    pairs: list[tuple[sp.Basic, sp.Basic]] = []
    if p.percent != g.percent and isinstance(pv, sp.Expr) and isinstance(gv, sp.Expr):
        hundred = sp.Integer(100)
        as_number = (pv * hundred, gv) if p.percent else (pv, gv * hundred)
        if options.percent in ("flexible", "value"):
            pairs.append((pv, gv))
        if options.percent in ("flexible", "number"):
            pairs.append(as_number)
    else:
        pairs.append((pv, gv))
    if p.degrees != g.degrees and isinstance(pv, sp.Expr) and isinstance(gv, sp.Expr):
        # degrees against radians: 90^\circ = \pi/2
        if p.degrees:
            pairs.append((pv * sp.pi / 180, gv))
        else:
            pairs.append((pv, gv * sp.pi / 180))
    return pairs
