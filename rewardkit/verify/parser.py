r"""A safe recursive-descent (Pratt) parser from LaTeX or plain math to sympy objects.

This module holds the entry points and the Pratt core; the parser's vocabulary
(:mod:`~rewardkit.verify.vocabulary`), numbers and words (:mod:`~rewardkit.verify.numerals`),
commands (:mod:`~rewardkit.verify.commands`), brackets, sets and environments
(:mod:`~rewardkit.verify.environments`) and its size-guarded arithmetic
(:mod:`~rewardkit.verify.guarded`) live beside it.

Every sympy object is built directly with a constructor from a fixed table: nothing from
the input is ever evaluated as Python, looked up as an attribute or passed to
``sympify``. Sizes are bounded before sympy computes anything: input length, nesting
depth, integer exponents and factorials.

>>> parse_math(r"\frac{1}{2} + 0.25")
0.750000000000000
>>> parse_math(r"2\pi r")
2*pi*r
>>> parse_math(r"\begin{pmatrix} 1 \\ 2 \end{pmatrix}")
Matrix([
[1],
[2]])
"""

from __future__ import annotations

from dataclasses import dataclass

import sympy as sp

from rewardkit.verify.cache import LRUCache
from rewardkit.verify.commands import CommandReading
from rewardkit.verify.environments import StructureReading
from rewardkit.verify.errors import MathParseError
from rewardkit.verify.guarded import (
    MAX_RECURSION,
    Ceiling,
    Floor,
    add,
    apply_function,
    as_set,
    binomial,
    check_scalar,
    divide,
    evaluate_roundings,
    factorial,
    multiply,
    negate,
    number_bits,
    power,
)
from rewardkit.verify.lexer import Token, clean_latex, tokenize
from rewardkit.verify.numerals import NumberReading
from rewardkit.verify.vocabulary import (
    BP_ADD,
    BP_CHOOSE,
    BP_IMPLICIT,
    BP_MUL,
    BP_POSTFIX,
    BP_POW,
    BP_RELATION,
    BP_SET,
    FUNCTIONS,
    MUL_CMDS,
    MULTIPLIERS,
    ORDINALS,
    PERCENT_WORDS,
    PM,
    RELATIONS,
    SEPARATOR_WORDS,
    SET_OPS,
    AnswerList,
    is_unit_word,
    starts_primary,
    text_kind,
)

__all__ = [
    "PM",
    "AnswerList",
    "Ceiling",
    "Floor",
    "Parsed",
    "evaluate_roundings",
    "parse_expression",
    "parse_math",
]


@dataclass(frozen=True)
class Parsed:
    """A parsed answer: its value and what the notation said about it.

    ``percent``: a ``%`` was applied (the value is already divided by 100); ``degrees``:
    a ``^\\circ`` mark was dropped; ``units``: unit words that were dropped;
    ``bases``: ``(digits, base)`` of each number written in a base (``1011_2``).
    """

    expr: sp.Basic
    percent: bool = False
    degrees: bool = False
    units: tuple[str, ...] = ()
    bases: tuple[tuple[str, int], ...] = ()


def parse_math(text: str) -> sp.Basic:
    r"""Parse one answer or expression to a sympy object.

    Raises :class:`MathParseError` (with a ``reason``) on anything that cannot be read
    safely. Percent signs divide by 100, degree marks and units are dropped.

    >>> parse_math("50%")
    1/2
    >>> parse_math("__import__('os')")
    Traceback (most recent call last):
    ...
    rewardkit.verify.errors.MathParseError: unexpected '_' at 0
    """
    return parse_expression(text).expr


def parse_expression(text: str) -> Parsed:
    """:func:`parse_math` with the notes on notation (:class:`Parsed`).

    Results are cached unless they hold big numbers (memory stays bounded).
    """
    if not isinstance(text, str):
        raise MathParseError(f"expected a string, got {type(text).__name__}")
    cached = _CACHE.get(text)
    if cached is not None:
        return cached
    parsed, size = _parse(text)
    if size <= _MAX_CACHED_BITS:
        _CACHE.put(text, parsed, _BYTES_PER_CHAR * len(text) + size // 8 + 1000)
    return parsed


_CACHE = LRUCache(8192, maxbytes=32 << 20)
_MAX_CACHED_BITS = 4096
_BYTES_PER_CHAR = 64  # measured: a parsed 1,300-character sum of powers holds ~57 kB


def _parse(text: str) -> tuple[Parsed, int]:
    """The parsed answer and the bits of the big numbers it holds."""
    parser = _Parser(tokenize(clean_latex(text)))
    try:
        expr = parser.parse_top()
    except RecursionError:
        raise MathParseError("expression nested too deeply", reason="too_deep") from None
    except (TypeError, AttributeError, ValueError, ArithmeticError) as error:
        if isinstance(error, MathParseError):
            raise
        # sympy refusing an operation (a set in arithmetic, a matrix in a function...)
        raise MathParseError(f"not a valid expression: {error}") from None
    parsed = Parsed(
        expr,
        percent=parser.percent,
        degrees=parser.degrees,
        units=tuple(parser.units),
        bases=tuple(parser.bases),
    )
    return parsed, number_bits(expr)


class _Parser(NumberReading, CommandReading, StructureReading):
    """The Pratt core: token access, binding powers, prefix and infix positions."""

    def __init__(self, tokens: list[Token]) -> None:
        self.tokens = tokens
        self.i = 0
        self.depth = 0
        self.abs_depth = 0
        self.fn_arg = 0
        self.percent = False
        self.degrees = False
        self.units: list[str] = []
        self.bases: list[tuple[str, int]] = []

    # -- token access ---------------------------------------------------------------
    def peek(self, ahead: int = 0) -> Token:
        j = min(self.i + ahead, len(self.tokens) - 1)
        return self.tokens[j]

    def next(self) -> Token:
        tok = self.tokens[self.i]
        if tok.kind != "eof":
            self.i += 1
        return tok

    def at(self, kind: str, value: str | None = None, ahead: int = 0) -> bool:
        tok = self.peek(ahead)
        return tok.kind == kind and (value is None or tok.value == value)

    def expect_op(self, value: str) -> None:
        tok = self.next()
        if tok.kind != "op" or tok.value != value:
            raise MathParseError(f"expected {value!r} at {tok.pos}, got {tok.value!r}")

    def fail(self, tok: Token) -> MathParseError:
        what = tok.value or tok.kind
        return MathParseError(f"unexpected {what!r} at {tok.pos}")

    # -- entry points -----------------------------------------------------------------
    def parse_top(self) -> sp.Basic:
        items = [self.expr(0)]
        while self._at_separator():
            self.next()
            if self.at("eof"):
                break
            items.append(self.expr(0))
        if not self.at("eof"):
            raise self.fail(self.peek())
        return items[0] if len(items) == 1 else AnswerList(*items)

    def _at_separator(self) -> bool:
        tok = self.peek()
        if tok.kind == "op":
            return tok.value in ",;"
        if tok.kind == "word":
            return tok.value.lower() in SEPARATOR_WORDS
        if tok.kind == "text":
            return text_kind(tok.value) == "separator"
        return False

    def expr(self, rbp: int) -> sp.Basic:
        self.depth += 1
        if self.depth > MAX_RECURSION:
            raise MathParseError("expression nested too deeply", reason="too_deep")
        left = self.nud(self.next())
        while True:
            tok = self.peek()
            word = tok.value.strip().lower() if tok.kind in ("text", "word") else ""
            if word in PERCENT_WORDS:
                self.next()
                self.percent = True
                left = multiply(left, sp.Rational(1, 100))
                continue
            if word in MULTIPLIERS:  # 1.5 million
                self.next()
                left = multiply(left, MULTIPLIERS[word])
                continue
            if tok.kind == "text" and text_kind(tok.value) in ("words", "empty"):
                self._skip_unit()
                continue
            if tok.kind == "word" and is_unit_word(tok.value) and self.fn_arg == 0:
                self._skip_unit()
                continue
            if tok.kind == "cmd" and tok.value in ("mathrm", "mbox") and self._unit_group():
                continue
            if self._lbp(tok) <= rbp:
                break
            left = self.led(left, self.next())
        self.depth -= 1
        return left

    # -- binding powers ---------------------------------------------------------------
    def _lbp(self, tok: Token) -> int:
        kind, value = tok.kind, tok.value
        if kind == "op":
            if value in "=<>":
                return BP_RELATION
            if value == "!":
                return BP_RELATION if self.at("op", "=", 1) else BP_POSTFIX
            if value in "+-":
                return BP_ADD
            if value in "*/":
                return BP_MUL
            if value in "^_":
                return BP_POW
            if value == "%":
                return BP_POSTFIX
            if value in "(\\{":
                return BP_IMPLICIT
            if value == "|":
                return BP_IMPLICIT if self.abs_depth == 0 else 0
            return 0
        if kind == "cmd":
            if value in RELATIONS or value == "in":
                return BP_RELATION
            if value in SET_OPS:
                return BP_SET
            if value in ("choose", "over"):
                return BP_CHOOSE
            if value in ("pm", "mp"):
                return BP_ADD
            if value in MUL_CMDS or value == "div":
                return BP_MUL
            if value == "degree":
                return BP_POSTFIX
            if value in FUNCTIONS:
                return 0 if self.fn_arg else BP_IMPLICIT
            if starts_primary(value):
                return BP_IMPLICIT
            return 0
        if kind in ("num", "letter", "begin"):
            return BP_IMPLICIT
        if kind == "word":
            lower = value.lower()
            if lower in SEPARATOR_WORDS:
                return 0
            if lower in FUNCTIONS and self.fn_arg:
                return 0
            return BP_IMPLICIT
        if kind == "text":
            return BP_IMPLICIT if text_kind(value) == "math" else 0
        return 0

    # -- prefix positions ---------------------------------------------------------------
    def nud(self, tok: Token) -> sp.Basic:
        kind, value = tok.kind, tok.value
        if kind == "num":
            return self._number(tok)
        if kind == "letter":
            if value in "fgh":
                named = self._function_name(value)
                if named is not None:
                    return named
            return self._letter(value)
        if kind == "word":
            return self._word(tok)
        if kind == "cmd":
            return self._command(tok)
        if kind == "text":
            if text_kind(value) == "empty":  # \text{\$}18: a currency sign, now blank
                return self.nud(self.next())
            if text_kind(value) != "math":
                raise self.fail(tok)
            return self._sub_parse(value)
        if kind == "begin":
            return self._environment(tok)
        if kind == "op":
            if value == "-":
                return negate(self.expr(BP_MUL))
            if value == "+":
                return self.expr(BP_MUL)
            if value in "([":
                return self._bracketed(value)
            if value == "{":
                inner = self.expr(0)
                self.expect_op("}")
                return inner
            if value == "\\{":
                return self._set()
            if value == "|":
                self.abs_depth += 1
                inner = self.expr(0)
                self.abs_depth -= 1
                self.expect_op("|")
                return apply_function(sp.Abs, inner)
        raise self.fail(tok)

    def _sub_parse(self, content: str) -> sp.Basic:
        sub = _Parser(tokenize(content))
        sub.depth = self.depth
        value = sub.expr(0)
        if not sub.at("eof"):
            raise sub.fail(sub.peek())
        self.percent |= sub.percent
        self.degrees |= sub.degrees
        self.units.extend(sub.units)
        return value

    # -- infix and postfix positions --------------------------------------------------
    def led(self, left: sp.Basic, tok: Token) -> sp.Basic:
        kind, value = tok.kind, tok.value
        if kind == "op":
            if value == "+":
                return add(left, self.expr(BP_ADD))
            if value == "-":
                return add(left, -self.expr(BP_ADD))
            if value == "*":
                return multiply(left, self.expr(BP_MUL))
            if value == "/":
                return divide(left, self.expr(BP_MUL))
            if value == "^":
                return self._superscript(left)
            if value == "_":
                return self._subscript(left)
            if value == "!":
                if self.at("op", "="):
                    self.next()
                    return self._relation(left, "!=")
                return factorial(left)
            if value == "%":
                self.percent = True
                return multiply(left, sp.Rational(1, 100))
            if value in "=<>":
                if value in "<>" and self.at("op", "="):
                    self.next()
                    value += "="
                return self._relation(left, value)
            if value in "(\\{|":
                self.i -= 1
                return multiply(left, self.expr(BP_IMPLICIT))
        if kind == "cmd":
            if value in RELATIONS:
                return self._relation(left, value)
            if value == "in":
                return sp.Contains(left, as_set(self.expr(BP_RELATION)), evaluate=False)
            if value in SET_OPS:
                right = self.expr(BP_SET)
                return SET_OPS[value](as_set(left), as_set(right))
            if value in ("pm", "mp"):
                return add(left, PM * self.expr(BP_ADD))
            if value in MUL_CMDS:
                return multiply(left, self.expr(BP_MUL))
            if value == "div":
                return divide(left, self.expr(BP_MUL))
            if value == "degree":
                return self._degrees(left)
            if value == "choose":
                return binomial(left, self.expr(BP_CHOOSE))
            if value == "over":
                return divide(left, self.expr(BP_CHOOSE))
        # implicit multiplication: put the token back and parse the next factor
        self.i -= 1
        return multiply(left, self.expr(BP_IMPLICIT))

    def _superscript(self, left: sp.Basic) -> sp.Basic:
        ordinal = self._ordinal_mark()
        if ordinal:
            self.i += ordinal
            return left
        if self.at("cmd", "circ"):
            self.next()
            return self._degrees(left)
        if self.at("op", "{") and self.at("cmd", "circ", 1) and self.at("op", "}", 2):
            self.i += 3
            return self._degrees(left)
        if self.at("num"):
            return power(left, self._number(self.next()))
        return power(left, self.arg())

    def _ordinal_mark(self) -> int:
        """Tokens of an ordinal mark after ``^`` (``n^{th}``, ``2^\\text{nd}``), or 0."""
        tok = self.peek()
        if tok.kind == "text" and tok.value.strip() in ORDINALS:
            return 1
        if (
            tok.value == "{"
            and self.peek(3).value == "}"
            and self.peek(1).value + self.peek(2).value in ORDINALS
        ):
            return 4
        return 0

    def _degrees(self, left: sp.Basic) -> sp.Basic:
        if self.fn_arg:  # sin 30^\circ: the argument of a function is in radians
            return left * sp.pi / 180
        self.degrees = True
        return left

    def _subscript(self, left: sp.Basic) -> sp.Basic:
        if not isinstance(left, sp.Symbol) or left is PM:
            raise MathParseError("subscript on something that is not a variable")
        if self.at("op", "{"):
            self.next()
            parts = []
            while not self.at("op", "}"):
                tok = self.next()
                if tok.kind not in ("num", "letter", "word") and tok.value not in ",+-":
                    raise self.fail(tok)
                parts.append(tok.value)
            self.next()
            sub = "".join(parts)
        else:
            tok = self.next()
            if tok.kind not in ("num", "letter"):
                raise self.fail(tok)
            sub = tok.value
        return sp.Symbol(f"{left.name}_{sub}")

    def _relation(self, left: sp.Basic, op: str) -> sp.Basic:
        links = [(op, left, self.expr(BP_RELATION))]
        while True:
            tok = self.peek()
            nxt = tok.value if tok.kind in ("op", "cmd") else None
            if nxt in ("<", ">") and self.at("op", "=", 1):
                self.i += 2
                nxt += "="
            elif nxt in RELATIONS:
                self.next()
            else:
                break
            links.append((nxt, links[-1][2], self.expr(BP_RELATION)))
        for o, a, b in links:
            if o != "=":
                check_scalar(a, b)  # an order between sets or tuples means nothing
        relations = [RELATIONS[o](a, b, evaluate=False) for o, a, b in links]
        return relations[0] if len(relations) == 1 else sp.And(*relations, evaluate=False)
