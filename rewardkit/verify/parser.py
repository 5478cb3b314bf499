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

from rewardkit.verify.annotations import AnnotationReading
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
    divide,
    evaluate_roundings,
    factorial,
    multiply,
    negate,
    number_bits,
    remainder,
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
    PERCENT_WORDS,
    PM,
    RELATIONS,
    SEPARATOR_WORDS,
    SET_OPS,
    STYLES,
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
    ``bases``: ``(digits, base)`` of each number written in a base (``1011_2``);
    ``moduli``: the modulus of each ``\\pmod{n}``; ``decimals``: each decimal literal as
    written (``3.14``: how many places the writer gave).
    """

    expr: sp.Basic
    percent: bool = False
    degrees: bool = False
    units: tuple[str, ...] = ()
    bases: tuple[tuple[str, int], ...] = ()
    moduli: tuple[int, ...] = ()
    decimals: tuple[str, ...] = ()


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
    tokens = tokenize(clean_latex(text))
    parser = _Parser(list(tokens))
    try:
        try:
            expr = parser.parse_top()
        except MathParseError:
            # \Pr(X = 2) = \frac14, E[X] = 3.5: a label the grammar does not read names the
            # value after the top-level "=" (the label is never evaluated)
            split = _label_split(tokens)
            if split is None:
                raise
            parser = _Parser(tokens[split + 1 :])
            label = sp.Symbol("".join(t.value for t in tokens[:split]))
            expr = sp.Eq(label, parser.parse_top(), evaluate=False)
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
        moduli=tuple(parser.moduli),
        decimals=tuple(parser.decimals),
    )
    return parsed, number_bits(expr)


def _label_split(tokens: list[Token]) -> int | None:
    """Index of the top-level ``=`` after a name with brackets (``P(A \\cap B) =``), or None."""
    if not tokens or tokens[0].kind not in ("letter", "word", "cmd"):
        return None
    depth, bracketed = 0, False
    for k, tok in enumerate(tokens):
        if tok.kind == "op" and tok.value in ("(", "[", "{", "\\{"):
            depth, bracketed = depth + 1, True
        elif tok.kind == "op" and tok.value in (")", "]", "}", "\\}"):
            depth -= 1
            if depth < 0:
                return None
        elif tok.kind == "op" and tok.value == "=" and depth == 0:
            return k if bracketed and k + 1 < len(tokens) - 1 else None
    return None


class _Parser(NumberReading, CommandReading, StructureReading, AnnotationReading):
    """The Pratt core: token access, binding powers, prefix and infix positions."""

    def __init__(self, tokens: list[Token]) -> None:
        self.tokens = tokens
        self.i = 0
        self.depth = 0
        self.abs_depth = 0
        self.fn_arg = 0
        self.angle_arg = 0  # inside a function's parentheses
        self.percent = False
        self.degrees = False
        self.units: list[str] = []
        self.bases: list[tuple[str, int]] = []
        self.moduli: list[int] = []
        self.decimals: list[str] = []

    def parse_top(self) -> sp.Basic:
        """The whole answer, up to the end of the text."""
        value = self._answers()
        if not self.at("eof"):
            raise self.fail(self.peek())
        return value

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

    def expr(self, rbp: int) -> sp.Basic:
        self.depth += 1
        if self.depth > MAX_RECURSION:
            raise MathParseError("expression nested too deeply", reason="too_deep")
        left = self.nud(self.next())
        while True:
            if self._skip_annotation():
                continue
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
            unit = tok.kind == "text" and text_kind(tok.value) in ("words", "empty")
            if unit or tok.kind == "word" and is_unit_word(tok.value) and self.fn_arg == 0:
                self._skip_unit()
                if self.at("num"):
                    break  # 3 \text{ cm by } 4: two values, never their product
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
            if value in MUL_CMDS or value in ("div", "bmod", "mod"):
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
            if value not in "ei":
                named = self._function_name(value)
                if named is not None:
                    return named
            return self._letter(value)
        if kind == "word":
            return self._word(tok)
        if kind == "cmd":
            if value in ("quad", "qquad"):
                return self.nud(self.next())
            return self._command(tok)
        if kind == "text":
            if text_kind(value) == "empty":  # \text{\$}18: a currency sign, now blank
                return self.nud(self.next())
            if value.strip().lower() in ("the", "a", "an"):
                return self.nud(self.next())  # \text{the } 4^{\text{th}} \text{ term}
            if text_kind(value) == "words" and self.at("op", "="):
                return sp.Symbol(" ".join(value.split()))  # \text{Area} = 24: a name
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
                items = [self.expr(0)]
                while self.at("op", ","):  # {-2021, 2021}: a set written with plain braces
                    self.next()
                    items.append(self.expr(0))
                self.expect_op("}")
                return items[0] if len(items) == 1 else sp.FiniteSet(*items)
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
        return self._sub_parse_tokens(tokenize(content), whole=False)

    def _sub_parse_tokens(self, tokens: list[Token], *, whole: bool) -> sp.Basic:
        """Parse ``tokens`` on their own (one value, or a whole answer), keeping their notes."""
        sub = _Parser(tokens)
        sub.depth = self.depth
        value = sub._answers() if whole else sub.expr(0)
        if not sub.at("eof"):
            raise sub.fail(sub.peek())
        self.percent |= sub.percent
        self.degrees |= sub.degrees
        self.units.extend(sub.units)
        self.bases.extend(sub.bases)
        self.moduli.extend(sub.moduli)
        self.decimals.extend(sub.decimals)
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
            if value in ("bmod", "mod"):
                return remainder(left, self.expr(BP_MUL))
            if value == "degree":
                return self._degrees(left)
            if value == "choose":
                return binomial(left, self.expr(BP_CHOOSE))
            if value == "over":
                return divide(left, self.expr(BP_CHOOSE))
        # implicit multiplication: put the token back and parse the next factor
        self.i -= 1
        return multiply(left, self.expr(BP_IMPLICIT))

    def _subscript(self, left: sp.Basic) -> sp.Basic:
        """``x_1``, ``x_{12}``, ``S_{\\max}``, ``A_{\\text{max}}``: a name with an index."""
        if not isinstance(left, sp.Symbol) or left is PM:
            raise MathParseError("subscript on something that is not a variable")
        if not self.at("op", "{"):
            tok = self.next()
            named = tok.kind == "cmd" and tok.value.isalpha()  # S_\max
            if tok.kind not in ("num", "letter") and not named:
                raise self.fail(tok)
            return sp.Symbol(f"{left.name}_{tok.value}")
        self.next()
        parts, depth = [], 1
        while depth:
            tok = self.next()
            if tok.kind == "op" and tok.value in "{}":
                depth += 1 if tok.value == "{" else -1
            elif tok.kind == "cmd" and tok.value in STYLES:
                continue  # S_{\mathrm{max}}: a style, not part of the name
            elif tok.kind in ("num", "letter", "word") or tok.value in (",", "+", "-"):
                parts.append(tok.value)
            elif tok.kind in ("cmd", "text") and tok.value.strip().isalpha():
                parts.append(tok.value.strip())
            else:
                raise self.fail(tok)
        return sp.Symbol(f"{left.name}_{''.join(parts)}")
