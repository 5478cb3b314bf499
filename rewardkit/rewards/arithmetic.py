r"""A rule-based step scorer that checks the arithmetic and simple algebra of each step.

It finds the computations a step claims and checks each one:

- equalities between numeric expressions: ``3 \times 4 = 12``, ``48/2 = 24``,
  ``\frac{3}{4} \cdot 8 = 6``, chains ``2 + 3 = 5 = 10 / 2``;
- GSM8K calculator annotations ``<<48/2=24>>``;
- equations in one variable followed by transformed ones, ``2x + 3 = 13, so 2x = 10, x = 5``:
  each equation must keep a solution of the previous one (``2x = 10`` then ``x = 6`` is
  wrong), and identities (``(x+1)^2 = x^2 + 2x + 1``) are right.

A step with no checkable claim is neutral (``None``), never wrong. Rounded results are
accepted to the precision they show (``10/3 = 3.33``), as are running totals written as
chains (``4 + 5 = 9 + 3 = 12``) and percentages (``0.25 * 100 = 25%``).

Plain numbers, ``+ - * / ^ %``, brackets, ``\frac`` and single-letter variables are
evaluated by a small parser written for speed (no ``eval``). Sides with other LaTeX
(``\sqrt{16}``, ``\pi``) go to :func:`rewardkit.verify.parse_math`, the verifier's safe
parser, when it is available, and are neutral otherwise. Results are cached.

>>> steps = ["16 - 3 = 13 eggs", "13 * 2 = $<<13*2=28>>28", "She sells them"]
>>> ArithmeticChecker().score_steps("", steps)
[1.0, 0.0, None]
"""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Sequence
from functools import lru_cache
from typing import NamedTuple

__all__ = ["ArithmeticChecker", "Claim", "find_claims"]

logger = logging.getLogger(__name__)

# ---------------------------------------------------------------- normalisation and claims

_LATEX_NORMALISE = (
    (re.compile(r"\\(?:times|cdot|ast)(?![A-Za-z])"), "*"),
    (re.compile(r"\\div(?![A-Za-z])"), "/"),
    (re.compile(r"\\(?:left|right)(?![A-Za-z])|\\[,;:! ]|\\\$"), ""),
    (re.compile(r"\\(?:boxed|fbox)(?![A-Za-z])"), ""),  # "= \boxed{28}" claims 28
)
_UNICODE_OPS_RE = re.compile("[×·∗⋅÷−]")
_UNICODE_OPS = str.maketrans({"×": "*", "·": "*", "∗": "*", "⋅": "*", "÷": "/", "−": "-"})
_THOUSANDS_RE = re.compile(r"(?<=\d),(?=\d{3}(?!\d))")
_TIMES_X_RE = re.compile(r"(?<=[\d)])[ \t]*[xX][ \t]*(?=\$?[\d(])")  # "2 x 0.5": x is times
_ANNOTATION_RE = re.compile(r"<<([^<>=\n]{1,200})=([^<>=\n]{1,60})>>")
_ANY_ANNOTATION_RE = re.compile(r"<<[^<>\n]{0,300}>>")
# A stretch of "math" text: numbers, operators, brackets, LaTeX commands, lone letters.
_RUN_CHARS = r"[0-9.+\-*/^%$(){}\[\] \t]|(?<![A-Za-z])[A-Za-z](?![A-Za-z])"
_RUN_RE = re.compile(rf"(?:\\[A-Za-z]+|{_RUN_CHARS})*")
_RUN_REVERSED_RE = re.compile(rf"(?:[A-Za-z]+\\|{_RUN_CHARS})*")  # read backwards


def _run_prefix(piece: str) -> str:
    """The longest start of ``piece`` that is math (numbers, operators, LaTeX, lone letters)."""
    return _RUN_RE.match(piece).group(0)


def _run_suffix(piece: str) -> str:
    """The longest end of ``piece`` that is math, matched on the reversed text so the regex
    runs once, anchored, instead of at every position."""
    return _RUN_REVERSED_RE.match(piece[::-1]).group(0)[::-1]


_TOKEN_RE = re.compile(
    r"(?P<space>\s*)(?:(?P<num>\d+(?:\.\d+)?|\.\d+)|(?P<cmd>\\[A-Za-z]+)"
    r"|(?P<var>[A-Za-z])|(?P<op>\*\*|[-+*/^%(){}\[\]])|(?P<bad>\S))"
)
_FRAC_CMDS = frozenset({r"\frac", r"\dfrac", r"\tfrac"})
_OPEN = {"(": ")", "{": "}", "[": "]"}
_MAX_TOKENS = 40
_MAX_EXPONENT = 64


class Claim(NamedTuple):
    """One checked computation: ``lhs = rhs`` and its verdict (``None``: not checkable)."""

    lhs: str
    rhs: str
    correct: bool | None


def normalise(step: str) -> str:
    r"""The step with multiplication/division signs, minus signs and thousands separators
    made plain.

    >>> normalise(r"3 \times 4 = 12, 2 x 1,000 = 2,000")
    '3 * 4 = 12, 2*1000 = 2000'
    """
    if "\\" in step:
        for pattern, replacement in _LATEX_NORMALISE:
            step = pattern.sub(replacement, step)
    if _UNICODE_OPS_RE.search(step):
        step = step.translate(_UNICODE_OPS)
    if "," in step:
        step = _THOUSANDS_RE.sub("", step)
    if "x" in step or "X" in step:
        step = _TIMES_X_RE.sub("*", step)
    return step


# ---------------------------------------------------------------- a small expression parser


class _Unsupported(Exception):
    """The text is not an expression the fast parser evaluates."""


class _Side(NamedTuple):
    """A parsed side of an equality: a tree (nested tuples), its variables, whether it is a
    computation (has an operator) and the decimals it shows when it is a plain number."""

    tree: tuple
    variables: frozenset
    computed: bool
    decimals: int | None
    percent: bool


class _Parser:
    """Recursive descent over tokens: expr := term (+|- term)*; term := unary ((*|/|implicit)
    unary)*; unary := -unary | power; power := atom (^ unary)?; atom := num %? | var | (expr)
    | \\frac{expr}{expr}."""

    def __init__(self, tokens: list[tuple[str, str, bool]], variables: str) -> None:
        self.tokens, self.i, self.variables = tokens, 0, variables
        self.computed = False
        self.percent = False

    def parse(self) -> tuple:
        tree = self.expr()
        if self.i != len(self.tokens):
            raise _Unsupported("trailing tokens")
        return tree

    def peek(self) -> tuple[str, str, bool] | None:
        return self.tokens[self.i] if self.i < len(self.tokens) else None

    def take(self) -> tuple[str, str, bool]:
        token = self.peek()
        if token is None:
            raise _Unsupported("unexpected end")
        self.i += 1
        return token

    def expr(self) -> tuple:
        tree = self.term()
        while (t := self.peek()) is not None and t[0] == "op" and t[1] in "+-":
            self.i += 1
            self.computed = True
            tree = (t[1], tree, self.term())
        return tree

    def term(self) -> tuple:
        tree = self.unary()
        while (t := self.peek()) is not None:
            if t[0] == "op" and t[1] in ("*", "/"):
                self.i += 1
                self.computed = True
                tree = (t[1], tree, self.unary())
            elif not t[2] and (t[0] in ("var", "cmd") or (t[0] == "op" and t[1] in _OPEN)):
                self.computed = True  # implicit product: "2x", "3(4 + 1)", "2\frac{1}{2}"
                tree = ("*", tree, self.power())
            else:
                break
        return tree

    def unary(self) -> tuple:
        t = self.peek()
        if t is not None and t[0] == "op" and t[1] in "+-":
            self.i += 1
            inner = self.unary()
            return ("neg", inner) if t[1] == "-" else inner
        return self.power()

    def power(self) -> tuple:
        base = self.atom()
        t = self.peek()
        if t is not None and t[0] == "op" and t[1] in ("^", "**"):
            self.i += 1
            self.computed = True
            return ("^", base, self.unary())
        return base

    def atom(self) -> tuple:
        kind, text, _ = self.take()
        if kind == "num":
            node: tuple = ("num", float(text))
        elif kind == "var":
            if text not in self.variables:
                raise _Unsupported(f"letter {text!r}")
            node = ("var", text)
        elif kind == "op" and text in _OPEN:
            node = self.expr()
            if self.take()[1] != _OPEN[text]:
                raise _Unsupported("unbalanced brackets")
        elif kind == "cmd" and text in _FRAC_CMDS:
            self.computed = True
            node = ("/", self.group(), self.group())
        else:
            raise _Unsupported(f"token {text!r}")
        t = self.peek()
        if t is not None and t[0] == "op" and t[1] == "%":
            self.i += 1
            self.percent = True
            node = ("%", node)
        return node

    def group(self) -> tuple:
        if self.take()[1] != "{":
            raise _Unsupported(r"\frac without braces")
        node = self.expr()
        if self.take()[1] != "}":
            raise _Unsupported("unbalanced braces")
        return node


def _evaluate(tree: tuple, env: dict[str, float], percent: bool = True) -> float:
    op = tree[0]
    if op == "num":
        return tree[1]
    if op == "var":
        return env[tree[1]]
    if op == "neg":
        return -_evaluate(tree[1], env, percent)
    if op == "%":
        value = _evaluate(tree[1], env, percent)
        return value / 100.0 if percent else value
    a = _evaluate(tree[1], env, percent)
    b = _evaluate(tree[2], env, percent)
    if op == "+":
        return a + b
    if op == "-":
        return a - b
    if op == "*":
        return a * b
    if op == "/":
        return a / b  # ZeroDivisionError is caught by the callers
    if abs(b) > _MAX_EXPONENT or (abs(a) > 1e6 and abs(b) > 3):
        raise _Unsupported("exponent too large")
    value = a**b
    if isinstance(value, complex):
        raise _Unsupported("complex power")
    return value


def _tokens(text: str) -> list[tuple[str, str, bool]]:
    """(kind, text, preceded_by_space) for each token; ``$`` is dropped."""
    out = []
    # trailing blanks are cut first: at every one of them the pattern would scan to the end
    for m in _TOKEN_RE.finditer(text.replace("$", " ").rstrip()):
        kind = m.lastgroup
        out.append((kind, m.group(kind), bool(m.group("space"))))
    return out


def _parse_tokens(tokens: list[tuple[str, str, bool]], variables: str) -> _Side:
    if not tokens or len(tokens) > _MAX_TOKENS:
        raise _Unsupported("empty or too long")
    parser = _Parser(tokens, variables)
    tree = parser.parse()
    names = frozenset(_variables_of(tree))
    decimals = None
    if len(tokens) == 1 and tokens[0][0] == "num":
        literal = tokens[0][1]
        decimals = len(literal) - literal.index(".") - 1 if "." in literal else 0
    elif len(tokens) == 2 and tokens[0][0] == "num" and tokens[1][1] == "%":
        decimals = None
    if not names:  # fold constants: evaluate once
        try:
            value = _evaluate(tree, {})
            raw = _evaluate(tree, {}, percent=False)
        except (ZeroDivisionError, OverflowError, ValueError) as exc:
            raise _Unsupported(str(exc)) from exc
        if not (math.isfinite(value) and math.isfinite(raw)):
            raise _Unsupported("not finite")
        tree = ("const", value, raw)
    return _Side(tree, names, parser.computed, decimals, parser.percent)


def _variables_of(tree: tuple) -> list[str]:
    if tree[0] == "var":
        return [tree[1]]
    if tree[0] in ("num", "const"):
        return []
    return [v for child in tree[1:] for v in _variables_of(child)]


# The common case, "48 / 2" or "$4.20 + $9.45 + 1.35": numbers and + - * / only.
_FLAT_RE = re.compile(r"[ \t$]*\d+(?:\.\d+)?(?:[ \t$]*[-+*/][ \t$]*\d+(?:\.\d+)?)*[ \t]*")
_FLAT_TOKEN_RE = re.compile(r"\d+(?:\.\d+)?|[-+*/]")


def _flat_side(text: str) -> _Side | None:
    """A flat expression (numbers and + - * /) as a side; ``None`` on division by zero."""
    tokens = _FLAT_TOKEN_RE.findall(text)
    value = _flat_value(tokens)
    if value is None:
        return None
    decimals = _decimals(tokens[0]) if len(tokens) == 1 else None
    return _Side(("const", value, value), frozenset(), len(tokens) > 1, decimals, False)


@lru_cache(maxsize=65536)
def _parse_side(text: str, role: str, variables: str) -> _Side | None:
    """Parse one side of an equality. ``role`` says how much of the text may be used: the
    longest parsable suffix for the leftmost side of a chain, the longest prefix for the
    rightmost one, all of it for a middle one."""
    if _FLAT_RE.fullmatch(text):
        return _flat_side(text)
    tokens = _tokens(text)
    bad = [i for i, t in enumerate(tokens) if t[0] == "bad"]
    if role == "left":  # suffixes of at most _MAX_TOKENS tokens, longest first
        tokens = tokens[bad[-1] + 1 :] if bad else tokens
        first = max(0, len(tokens) - _MAX_TOKENS)
        candidates = (tokens[i:] for i in range(first, len(tokens)))
    elif role == "right":  # prefixes, longest first
        tokens = tokens[: bad[0]] if bad else tokens
        last = min(len(tokens), _MAX_TOKENS)
        candidates = (tokens[:j] for j in range(last, 0, -1))
    else:
        if bad:
            return None
        candidates = iter([tokens])
    tried_verifier = False
    for candidate in candidates:
        if _cut_mid_expression(tokens, candidate, role):
            return None  # "66 fish * 1/3 = 22": the expression runs on past a word
        if role == "left" and _cuts_latex(tokens, candidate):
            continue  # "\sqrt{16} + 1": "{16} + 1" is not what was written
        try:
            return _parse_tokens(candidate, variables)
        except _Unsupported:
            if not tried_verifier and any(t[0] == "cmd" for t in candidate):
                tried_verifier = True  # LaTeX the fast parser does not know
                side = _parse_with_verifier(_join(candidate))
                if side is not None:
                    return side
        except RecursionError:
            return None
    return None


def _cuts_latex(tokens: list, candidate: list) -> bool:
    """Whether a left side would start inside a LaTeX command's arguments."""
    if not candidate or len(candidate) == len(tokens):
        return False
    before = tokens[len(tokens) - len(candidate) - 1]
    return before[0] == "cmd" or candidate[0][1] == "{"


def _join(tokens: list[tuple[str, str, bool]]) -> str:
    return "".join((" " if space else "") + text for _, text, space in tokens).strip()


def _cut_mid_expression(tokens: list, candidate: list, role: str) -> bool:
    """Whether a left side starts, or a right side ends, next to a binary operator."""
    if role == "left" and len(candidate) < len(tokens):
        before = tokens[len(tokens) - len(candidate) - 1]
        return before[0] == "op" and before[1] in ("*", "/", "+", "^", "**")
    if role == "right" and len(candidate) < len(tokens):
        after = tokens[len(candidate)]
        return after[0] == "op" and after[1] in ("*", "/", "+", "-", "^", "**")
    return False


_MAX_LOG2 = 1100  # magnitudes a float can hold (log2), with room for estimates


def _parse_with_verifier(text: str) -> _Side | None:
    """A side with LaTeX the fast parser does not know (``\\sqrt``, ``\\pi``), read by the
    verifier's safe parser (numeric results only); ``None`` when it is absent or fails."""
    try:
        from rewardkit.verify import MathParseError, parse_math  # the verifier's parser
        from rewardkit.verify.guarded import evaluation_cost
    except ImportError:
        return None
    try:
        expr = parse_math(text.replace("$", "").strip())
        if getattr(expr, "free_symbols", None):
            return None
        if evaluation_cost(expr)[1] > _MAX_LOG2:  # exp towers: evalf would chase the digits
            return None
        value = float(expr.evalf())
    except MathParseError:
        return None
    except Exception:  # the verifier must never break a reward
        logger.debug("parse_math failed on %r", text, exc_info=True)
        return None
    if not math.isfinite(value):
        return None
    return _Side(("const", value, value), frozenset(), True, None, False)


def _close(claimed: float, computed: float, decimals: int | None) -> bool:
    """Equal, or equal once ``computed`` is rounded or truncated to the ``decimals`` the
    claimed literal shows."""
    if abs(claimed - computed) <= 1e-12 * max(1.0, abs(computed)):
        return True
    if decimals is None or decimals > 12:
        return False
    unit = 10.0**-decimals
    if abs(claimed - computed) <= 0.5 * unit * (1 + 1e-9):  # rounded
        return True
    truncated = math.trunc(computed / unit * (1 + 1e-12)) * unit
    return abs(claimed - truncated) <= 1e-12 * max(1.0, abs(computed)) + 1e-9 * unit


def _numeric_verdict(left: _Side, right: _Side) -> bool | None:
    """Verdict for an equality of two numeric sides; ``None`` when not a computation."""
    if not (left.computed or right.computed):
        return None
    lv, lraw = left.tree[1], left.tree[2]
    rv, rraw = right.tree[1], right.tree[2]
    if right.decimals is not None or not left.computed:
        claimed, claimed_raw, dec = (
            (rv, rraw, right.decimals) if left.computed else (lv, lraw, left.decimals)
        )
        computed, computed_raw = (lv, lraw) if left.computed else (rv, rraw)
    else:
        claimed, claimed_raw, dec = rv, rraw, None
        computed, computed_raw = lv, lraw
    if _close(claimed, computed, dec):
        return True
    # "0.25 * 100 = 25%": a percent sign that only labels the number.
    if left.percent or right.percent:
        if _close(claimed_raw, computed_raw, dec) or _close(claimed_raw, computed, dec):
            return True
        if _close(claimed, computed_raw, dec):
            return True
    return False


# ---------------------------------------------------------------- finding claims in a step


class _Pair(NamedTuple):
    lhs: str
    rhs: str
    left: _Side
    right: _Side
    numeric_verdict: bool | None


_MAX_CACHED_STEP = 2000  # longer steps are parsed every time rather than kept in memory
_MAX_SIDE = 300  # longer sides of an equality are not checked


def _step_pairs(step: str, variables: str) -> tuple[_Pair, ...]:
    """The equalities a step states, parsed (cached: the same step text recurs)."""
    if "=" not in step:
        return ()
    if len(step) > _MAX_CACHED_STEP:
        return _find_pairs(step, variables)
    return _cached_pairs(step, variables)


@lru_cache(maxsize=16384)
def _cached_pairs(step: str, variables: str) -> tuple[_Pair, ...]:
    return _find_pairs(step, variables)


def _find_pairs(step: str, variables: str) -> tuple[_Pair, ...]:
    text = normalise(step)
    pairs: list[_Pair] = []
    seen: set[tuple[str, str]] = set()

    def add(lhs: str, rhs: str, left_role: str, right_role: str, nxt: str = "") -> None:
        if len(lhs) > _MAX_SIDE or len(rhs) > _MAX_SIDE:
            return  # a page of math is not one computation: not checked
        key = (lhs.replace(" ", ""), rhs.replace(" ", ""))
        if key in seen:  # "16 - 3 = <<16-3=13>>13" states one claim, not two
            return
        seen.add(key)
        if _FLAT_RE.fullmatch(lhs) and _FLAT_RE.fullmatch(rhs):
            _add_flat(pairs, lhs, rhs, nxt)  # the common case, without building parse trees
            return
        left = _parse_side(lhs, left_role, variables)
        right = _parse_side(rhs, right_role, variables) if left is not None else None
        if left is None or right is None:
            return
        verdict = None
        if not left.variables and not right.variables:
            verdict = _numeric_verdict(left, right)
            if verdict is False and _running_total(left, nxt):
                verdict = None  # "4 + 5 = 9 + 3 = 12": the chain carries a running total
        pairs.append(_Pair(lhs.strip(), rhs.strip(), left, right, verdict))

    if "<<" in text:
        for m in _ANNOTATION_RE.finditer(text):
            add(m.group(1), m.group(2), "middle", "middle")
        text = _ANY_ANNOTATION_RE.sub("", text)
    pieces = text.split("=")
    whole = [_RUN_RE.fullmatch(piece) is not None for piece in pieces]
    last = len(pieces) - 1
    for k in range(last):
        # the chain "a = b = c" continues through pieces made only of math
        lhs, left_role = (
            (pieces[k], "middle") if k > 0 and whole[k] else (_run_suffix(pieces[k]), "left")
        )
        if k + 1 < last and whole[k + 1]:
            rhs, right_role = pieces[k + 1], "middle"
        else:
            rhs, right_role = _run_prefix(pieces[k + 1]), "right"
        if lhs.strip() and rhs.strip():
            add(lhs, rhs, left_role, right_role, rhs)
    return tuple(pairs)


def _running_total(left: _Side, right_text: str) -> bool:
    """Whether the right side starts with the left side's value (a running total)."""
    return _starts_with_value(right_text, left.tree[1])


def _starts_with_value(text: str, value: float) -> bool:
    tokens = _tokens(text)
    if len(tokens) < 2 or tokens[0][0] != "num":
        return False
    return _close(float(tokens[0][1]), value, None)


_NUMERIC = _Side(("const", 0.0, 0.0), frozenset(), False, None, False)  # stands for a flat side


def _add_flat(pairs: list[_Pair], lhs: str, rhs: str, nxt: str) -> None:
    """Append the claim ``lhs = rhs`` of two flat expressions (see :func:`_flat_side`)."""
    left_tokens = _FLAT_TOKEN_RE.findall(lhs)
    right_tokens = _FLAT_TOKEN_RE.findall(rhs)
    left_value, right_value = _flat_value(left_tokens), _flat_value(right_tokens)
    if left_value is None or right_value is None:
        return
    left_computed, right_computed = len(left_tokens) > 1, len(right_tokens) > 1
    verdict = None
    if left_computed or right_computed:
        if right_computed and left_computed:
            verdict = _close(right_value, left_value, None)
        elif left_computed:
            verdict = _close(right_value, left_value, _decimals(right_tokens[0]))
        else:
            verdict = _close(left_value, right_value, _decimals(left_tokens[0]))
        if verdict is False and _starts_with_value(nxt, left_value):
            verdict = None  # a running total, as in _find_pairs
    pairs.append(_Pair(lhs.strip(), rhs.strip(), _NUMERIC, _NUMERIC, verdict))


def _decimals(literal: str) -> int:
    return len(literal) - literal.index(".") - 1 if "." in literal else 0


def _flat_value(tokens: list[str]) -> float | None:
    """The value of numbers and + - * / with the usual precedence; ``None`` when undefined."""
    total, term = 0.0, float(tokens[0])
    try:
        for i in range(1, len(tokens), 2):
            op, number = tokens[i], float(tokens[i + 1])
            if op == "*":
                term *= number
            elif op == "/":
                term /= number
            else:
                total += term
                term = number if op == "+" else -number
    except ZeroDivisionError:
        return None
    value = total + term
    return value if math.isfinite(value) else None


def find_claims(step: str, *, variables: str = "xyznkt") -> list[Claim]:
    """The numeric equalities a step states and whether each holds (``None``: not a
    computation, or an equation that needs the previous steps).

    >>> find_claims("so 48/2 = 24 and 24 + 6 = 31")
    [Claim(lhs='48/2', rhs='24', correct=True), Claim(lhs='24 + 6', rhs='31', correct=False)]
    """
    return [Claim(p.lhs, p.rhs, p.numeric_verdict) for p in _step_pairs(step, variables)]


# ---------------------------------------------------------------- algebra across steps

_PROBES = (0.5377, 1.8339, -2.2588, 0.8622)
_ALGEBRA_TOL = 1e-6


def _residual(pair: _Pair, env: dict[str, float]) -> float:
    return _evaluate_side(pair.left, env) - _evaluate_side(pair.right, env)


def _evaluate_side(side: _Side, env: dict[str, float]) -> float:
    return side.tree[1] if side.tree[0] == "const" else _evaluate(side.tree, env)


def _roots(pair: _Pair, name: str) -> list[float] | None:
    """Real solutions of a polynomial equation of degree <= 2 in ``name``, found by fitting
    the residual at three points and checking a fourth; ``None`` when not such a polynomial."""
    try:
        f = [_residual(pair, {name: x}) for x in (0.0, 1.0, 2.0, 3.0)]
    except (ZeroDivisionError, OverflowError, ValueError, _Unsupported):
        return None
    c = f[0]
    a = (f[2] - 2 * f[1] + f[0]) / 2
    b = f[1] - f[0] - a
    if abs(a * 9 + b * 3 + c - f[3]) > 1e-6 * max(1.0, abs(f[3])):
        return None
    if abs(a) < 1e-12:
        return None if abs(b) < 1e-12 else [-c / b]
    disc = b * b - 4 * a * c
    if disc < 0:
        return []
    root = math.sqrt(disc)
    return [(-b - root) / (2 * a), (-b + root) / (2 * a)]


def _algebra_verdict(pair: _Pair, solutions: dict[str, list[float]]) -> bool | None:
    names = pair.left.variables | pair.right.variables
    if len(names) != 1:
        return None
    (name,) = names
    try:
        residuals = [_residual(pair, {name: x}) for x in _PROBES]
        scale = max(1.0, *(abs(_evaluate_side(pair.left, {name: x})) for x in _PROBES))
    except (ZeroDivisionError, OverflowError, ValueError, _Unsupported):
        return None
    if all(abs(r) <= _ALGEBRA_TOL * scale for r in residuals):
        return True  # an identity: (x+1)^2 = x^2 + 2x + 1
    previous = solutions.get(name)
    verdict = None
    if previous:
        try:
            holds = [
                abs(_residual(pair, {name: s}))
                <= _ALGEBRA_TOL * max(1.0, abs(_evaluate_side(pair.left, {name: s})))
                for s in previous
            ]
        except (ZeroDivisionError, OverflowError, ValueError, _Unsupported):
            holds = [True]
        verdict = any(holds)
    roots = _roots(pair, name)
    if roots:
        solutions[name] = roots
    return verdict


# ---------------------------------------------------------------- the step scorer


class ArithmeticChecker:
    """Step scorer (``score_steps(problem, steps) -> list[float | None]``): 1.0 for a step
    whose checkable claims all hold, 0.0 when one fails, ``None`` with nothing to check.

    Args:
        variables: letters read as algebra variables (others end a math expression, so units
            like ``m`` or ``h`` are not mistaken for unknowns). ``x`` between numbers is
            always a multiplication sign.
    """

    def __init__(self, *, variables: str = "xyznkt") -> None:
        if not (isinstance(variables, str) and all(c.isalpha() and c.isascii() for c in variables)):
            raise ValueError(f"variables must be a string of ASCII letters, got {variables!r}")
        self.variables = variables

    def __repr__(self) -> str:
        return f"ArithmeticChecker(variables={self.variables!r})"

    @staticmethod
    def clear_cache() -> None:
        """Empty the parse caches shared by all checkers (for benchmarks and memory)."""
        for cached in (_cached_pairs, _parse_side):
            cached.cache_clear()

    def step_claims(self, steps: Sequence[str]) -> list[list[Claim]]:
        """The claims of each step with their verdicts, algebra checked across steps."""
        solutions: dict[str, list[float]] = {}
        out = []
        for step in steps:
            claims = []
            for pair in _step_pairs(step if isinstance(step, str) else str(step), self.variables):
                if pair.left.variables or pair.right.variables:
                    verdict = _algebra_verdict(pair, solutions)
                else:
                    verdict = pair.numeric_verdict
                claims.append(Claim(pair.lhs, pair.rhs, verdict))
            out.append(claims)
        return out

    def score_steps(self, problem: str, steps: Sequence[str]) -> list[float | None]:
        """One score per step: 1.0 right, 0.0 wrong, ``None`` nothing checkable."""
        solutions: dict[str, list[float]] = {}
        scores: list[float | None] = []
        for step in steps:
            score = None
            for pair in _step_pairs(step if isinstance(step, str) else str(step), self.variables):
                if pair.left.variables or pair.right.variables:
                    verdict = _algebra_verdict(pair, solutions)
                else:
                    verdict = pair.numeric_verdict
                if verdict is not None:
                    score = 0.0 if not verdict or score == 0.0 else 1.0
            scores.append(score)
        return scores
