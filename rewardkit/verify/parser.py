r"""A safe recursive-descent (Pratt) parser from LaTeX or plain math to sympy objects.

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

import math
import re
from dataclasses import dataclass

import sympy as sp

from rewardkit.verify.cache import LRUCache
from rewardkit.verify.errors import MathParseError
from rewardkit.verify.lexer import (
    CAPITAL_GREEK,
    GREEK_LETTERS,
    MIN_WORD,
    Token,
    clean_latex,
    tokenize,
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

MAX_RECURSION = 120  # nested sub-expressions the parser descends into
MAX_EXPONENT = 10_000  # largest integer exponent of a non-numeric base
MAX_BITS = 200_000  # largest exact number a power may produce
MAX_FACTORIAL = 5_000
MAX_ROOT_BITS = 1_000  # exact roots are looked for only in numbers up to this size


class AnswerList(sp.Tuple):
    """Several answers given together (``1, 2``; ``x=1 or x=2``): compared order-free."""


# The two signs of ``\pm``: an expression in PM stands for its values at PM = 1 and -1.
PM = sp.Symbol("pm#sign")


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
    return parsed, _number_bits(expr)


def _number_bits(expr: sp.Basic) -> int:
    """Total size of the exact numbers in ``expr`` (a bound on the memory it takes)."""
    if isinstance(expr, sp.MatrixBase):
        return sum(_number_bits(x) for x in expr)
    return sum(_bits(n) for n in expr.atoms(sp.Rational))


_FUNCTIONS = {
    "sin": sp.sin,
    "cos": sp.cos,
    "tan": sp.tan,
    "cot": sp.cot,
    "sec": sp.sec,
    "csc": sp.csc,
    "arcsin": sp.asin,
    "arccos": sp.acos,
    "arctan": sp.atan,
    "arccot": sp.acot,
    "sinh": sp.sinh,
    "cosh": sp.cosh,
    "tanh": sp.tanh,
    "exp": sp.exp,
    "ln": sp.log,
    "log": sp.log,
    "lg": sp.log,
}
_MULTIPLIERS = {
    "thousand": sp.Integer(10**3),
    "million": sp.Integer(10**6),
    "billion": sp.Integer(10**9),
    "trillion": sp.Integer(10**12),
}
_PERCENT_WORDS = frozenset({"percent", "pct", "percentage", "per cent"})
_ARROWS = frozenset({"to", "rightarrow"})
_ORDINALS = frozenset({"st", "nd", "rd", "th"})
_INTEGER_FUNCTIONS = frozenset({"gcd", "lcm", "max", "min"})
_INVERSE = {"sin": sp.asin, "cos": sp.acos, "tan": sp.atan, "cot": sp.acot}
# Greek letters are plain symbols (pi is a constant, handled apart).
_GREEK = (frozenset(GREEK_LETTERS + CAPITAL_GREEK) - {"pi"}) | {
    "varepsilon",
    "vartheta",
    "varphi",
    "ell",
}
_CONSTANTS = {
    "pi": sp.pi,
    "infty": sp.oo,
    "infinity": sp.oo,
    "inf": sp.oo,
    "imath": sp.I,
    "emptyset": sp.EmptySet,
    "varnothing": sp.EmptySet,
}
_SETS = {"R": sp.Reals, "Z": sp.Integers, "N": sp.Naturals, "Q": sp.Rationals, "C": sp.Complexes}
_FRACS = frozenset({"frac", "dfrac", "tfrac", "cfrac", "sfrac"})
_BINOMS = frozenset({"binom", "dbinom", "tbinom"})
_TRANSPARENT = frozenset(
    {
        "mathrm",
        "mathbf",
        "boldsymbol",
        "bm",
        "mathit",
        "mathsf",
        "boxed",
        "fbox",
        "operatorname",
        "vec",
        "mathnormal",
        "textup",
        "overline",
        "bar",
        "hat",
        "widehat",
        "overrightarrow",
        "tilde",
    }
)
# Marks before a name that do not change what is named: \angle ABC is ABC.
_NAME_MARKS = frozenset({"angle", "measuredangle", "triangle", "arc", "overarc"})
_MATRICES = frozenset({"matrix", "pmatrix", "bmatrix", "Bmatrix", "smallmatrix", "array"})
_RELATIONS = {
    "=": sp.Eq,
    "<": sp.StrictLessThan,
    ">": sp.StrictGreaterThan,
    "le": sp.LessThan,
    "leq": sp.LessThan,
    "leqslant": sp.LessThan,
    "lt": sp.StrictLessThan,
    "gt": sp.StrictGreaterThan,
    "ge": sp.GreaterThan,
    "geq": sp.GreaterThan,
    "geqslant": sp.GreaterThan,
    "ne": sp.Ne,
    "neq": sp.Ne,
    "<=": sp.LessThan,
    ">=": sp.GreaterThan,
    "!=": sp.Ne,
    "approx": sp.Eq,
}
_MUL_CMDS = frozenset({"times", "cdot", "ast"})
_SET_OPS = {"cup": sp.Union, "cap": sp.Intersection, "setminus": sp.Complement}
_SEPARATOR_WORDS = frozenset({"and", "or"})
# Words read as units when they follow a value; longer unknown words are too.
_UNIT_WORDS = frozenset(
    {
        "cm",
        "mm",
        "km",
        "kg",
        "mg",
        "ft",
        "yd",
        "mi",
        "mph",
        "kph",
        "hr",
        "hrs",
        "min",
        "mins",
        "sec",
        "secs",
        "ml",
        "oz",
        "lb",
        "lbs",
        "sq",
        "cu",
        "units",
        "unit",
        "cents",
        "cent",
        "dollars",
        "dollar",
        "inches",
        "inch",
        "feet",
        "foot",
        "meters",
        "meter",
        "metres",
        "metre",
        "miles",
        "mile",
        "degrees",
        "degree",
        "hours",
        "hour",
        "minutes",
        "minute",
        "seconds",
        "second",
        "days",
        "day",
        "weeks",
        "week",
        "years",
        "year",
        "people",
        "pounds",
        "grams",
        "gram",
        "liters",
        "litres",
        "liter",
        "gallons",
        "gallon",
        "square",
        "cubic",
        "per",
        "usd",
        "eur",
        "gbp",
        "jpy",
        "inr",
        "cad",
        "aud",
        "cny",
        "rmb",
        "chf",
    }
)

_BP_CHOOSE = 12
_BP_RELATION, _BP_SET, _BP_ADD, _BP_MUL, _BP_IMPLICIT, _BP_POW, _BP_POSTFIX = (
    10,
    15,
    20,
    30,
    35,
    40,
    50,
)


def _is_unit_word(word: str) -> bool:
    lower = word.lower()
    return lower in _UNIT_WORDS or (
        len(word) >= MIN_WORD
        and lower not in _FUNCTIONS
        and lower not in _CONSTANTS
        and lower not in _SEPARATOR_WORDS
    )


_UNIT_TEXT = re.compile(
    r"[^\W\d_][^\W\d_ .'/-]*(?:\^\{?\d\}?)?(?:[ .'/-]+[^\W\d_]*(?:\^\{?\d\}?)?)*"
)


def _text_kind(content: str) -> str:
    """What a ``\\text{}`` group is: ``empty``, ``separator``, ``words`` or ``math``."""
    stripped = content.strip().strip(",")
    if not stripped:
        return "empty"
    if stripped.lower() in _SEPARATOR_WORDS:
        return "separator"
    if stripped.isupper() and stripped.isalpha():
        return "math"  # \text{AB}: points named by capitals
    if _UNIT_TEXT.fullmatch(stripped):
        return "words"
    return "math"


class _Parser:
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
            return tok.value.lower() in _SEPARATOR_WORDS
        if tok.kind == "text":
            return _text_kind(tok.value) == "separator"
        return False

    def expr(self, rbp: int) -> sp.Basic:
        self.depth += 1
        if self.depth > MAX_RECURSION:
            raise MathParseError("expression nested too deeply", reason="too_deep")
        left = self.nud(self.next())
        while True:
            tok = self.peek()
            word = tok.value.strip().lower() if tok.kind in ("text", "word") else ""
            if word in _PERCENT_WORDS:
                self.next()
                self.percent = True
                left = _multiply(left, sp.Rational(1, 100))
                continue
            if word in _MULTIPLIERS:  # 1.5 million
                self.next()
                left = _multiply(left, _MULTIPLIERS[word])
                continue
            if tok.kind == "text" and _text_kind(tok.value) in ("words", "empty"):
                self._skip_unit()
                continue
            if tok.kind == "word" and _is_unit_word(tok.value) and self.fn_arg == 0:
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
                return _BP_RELATION
            if value == "!":
                return _BP_RELATION if self.at("op", "=", 1) else _BP_POSTFIX
            if value in "+-":
                return _BP_ADD
            if value in "*/":
                return _BP_MUL
            if value in "^_":
                return _BP_POW
            if value == "%":
                return _BP_POSTFIX
            if value in "(\\{":
                return _BP_IMPLICIT
            if value == "|":
                return _BP_IMPLICIT if self.abs_depth == 0 else 0
            return 0
        if kind == "cmd":
            if value in _RELATIONS or value == "in":
                return _BP_RELATION
            if value in _SET_OPS:
                return _BP_SET
            if value in ("choose", "over"):
                return _BP_CHOOSE
            if value in ("pm", "mp"):
                return _BP_ADD
            if value in _MUL_CMDS or value == "div":
                return _BP_MUL
            if value == "degree":
                return _BP_POSTFIX
            if value in _FUNCTIONS:
                return 0 if self.fn_arg else _BP_IMPLICIT
            if self._starts_primary(value):
                return _BP_IMPLICIT
            return 0
        if kind in ("num", "letter", "begin"):
            return _BP_IMPLICIT
        if kind == "word":
            lower = value.lower()
            if lower in _SEPARATOR_WORDS:
                return 0
            if lower in _FUNCTIONS and self.fn_arg:
                return 0
            return _BP_IMPLICIT
        if kind == "text":
            return _BP_IMPLICIT if _text_kind(value) == "math" else 0
        return 0

    @staticmethod
    def _starts_primary(name: str) -> bool:
        return (
            name in _FRACS
            or name in _BINOMS
            or name in _TRANSPARENT
            or name in _GREEK
            or name in _NAME_MARKS
            or name in _CONSTANTS
            or name
            in ("sqrt", "mathbb", "lfloor", "lceil", "langle", "lvert", "lim", "sum", "prod")
        )

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
            if _text_kind(value) == "empty":  # \text{\$}18: a currency sign, now blank
                return self.nud(self.next())
            if _text_kind(value) != "math":
                raise self.fail(tok)
            return self._sub_parse(value)
        if kind == "begin":
            return self._environment(tok)
        if kind == "op":
            if value == "-":
                return _negate(self.expr(_BP_MUL))
            if value == "+":
                return self.expr(_BP_MUL)
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
                return _apply(sp.Abs, inner)
        raise self.fail(tok)

    def _function_name(self, letter: str) -> sp.Basic | None:
        """``f(x) =`` and ``f^{-1}(x) =``: the name of a function being defined."""
        values = [t.value for t in self.tokens[self.i : self.i + 9]]
        inverse = values[:5] == ["^", "{", "-", "1", "}"]
        rest = values[5:] if inverse else values
        start = self.i + (5 if inverse else 0)
        if (
            len(rest) >= 4
            and rest[0] == "("
            and rest[2] == ")"
            and rest[3] == "="
            and self.tokens[start + 1].kind == "letter"
        ):
            self.i = start + 3
            name = f"{letter}_inverse" if inverse else letter
            return sp.Function(name)(self._letter(rest[1]))
        return None

    def _number(self, tok: Token) -> sp.Basic:
        digits = tok.value
        if self.at("op", "_") and digits.isdigit():
            return self._based(digits)
        if digits.isdigit():
            mixed = self._mixed_fraction()
            if mixed is not None:
                return sp.Integer(int(digits)) + mixed
            return sp.Integer(int(digits))
        if self.at("cmd", "overline") and "." in digits and "e" not in digits.lower():
            return self._repeating(digits)
        return _decimal(digits)

    def _mixed_fraction(self) -> sp.Basic | None:
        """``2\\frac{1}{2}`` and ``2 1/2``: a whole number followed by a literal fraction."""
        t = self.tokens[self.i : self.i + 7]
        values = [x.value for x in t]
        kinds = [x.kind for x in t]
        if (
            len(t) >= 7
            and kinds[0] == "cmd"
            and values[0] in _FRACS
            and values[1:4:2] == ["{", "}"]
            and values[4:7:2] == ["{", "}"]
            and kinds[2] == kinds[5] == "num"
            and values[2].isdigit()
            and values[5].isdigit()
        ):
            self.i += 7
            return sp.Rational(int(values[2]), int(values[5]))
        if (
            len(t) >= 2
            and kinds[0] == "cmd"
            and values[0] in _FRACS
            and kinds[1] == "num"
            and len(values[1]) == 2
            and values[1].isdigit()
            and values[1][1] != "0"
        ):
            self.i += 2  # 2\frac12
            return sp.Rational(int(values[1][0]), int(values[1][1]))
        if (
            len(t) >= 3
            and kinds[0] == "num"
            and values[1] == "/"
            and kinds[2] == "num"
            and values[0].isdigit()
            and values[2].isdigit()
            and int(values[0]) < int(values[2])
            and not (len(t) > 3 and kinds[3] in ("letter", "cmd", "word"))
        ):
            self.i += 3
            return sp.Rational(int(values[0]), int(values[2]))
        return None

    def _based(self, digits: str) -> sp.Basic:
        self.next()  # "_"
        if self.at("op", "{"):
            self.next()
            base_tok = self.next()
            self.expect_op("}")
        else:
            base_tok = self.next()
        if base_tok.kind != "num" or not base_tok.value.isdigit():
            raise self.fail(base_tok)
        base = int(base_tok.value)
        if not 2 <= base <= 36:
            raise MathParseError(f"base {base} out of range")
        try:
            value = int(digits, base)
        except ValueError:
            raise MathParseError(f"{digits} is not a base-{base} number") from None
        self.bases.append((digits, base))
        return sp.Integer(value)

    def _repeating(self, digits: str) -> sp.Basic:
        """``0.\\overline{3}`` = 1/3: a decimal whose last digits repeat."""
        self.next()  # overline
        self.expect_op("{")
        rep = self.next()
        self.expect_op("}")
        if rep.kind != "num" or not rep.value.isdigit():
            raise self.fail(rep)
        whole, _, frac = digits.partition(".")
        k, r = len(frac), len(rep.value)
        fixed = sp.Rational(int(whole + frac), 10**k)
        return fixed + sp.Rational(int(rep.value), 10**k * (10**r - 1))

    def _letter(self, letter: str) -> sp.Basic:
        if letter == "e":
            return sp.E
        if letter == "i":
            return sp.I
        return sp.Symbol(letter)

    def _word(self, tok: Token) -> sp.Basic:
        lower = tok.value.lower()
        if lower in _FUNCTIONS:
            return self._function(lower)
        if lower == "sqrt":
            return _root(self._paren_or_arg(), sp.Integer(2))
        if lower in _CONSTANTS:
            return _CONSTANTS[lower]
        if lower in _INTEGER_FUNCTIONS and self.at("op", "("):
            return self._integer_function(lower)
        raise self.fail(tok)  # a unit, a connective or a word of text is not a value

    def _command(self, tok: Token) -> sp.Basic:
        name = tok.value
        if name in _FRACS:
            num = self.arg()
            den = self.arg()
            return _divide(num, den)
        if name in _BINOMS:
            return _binomial(self.arg(), self.arg())
        if name == "sqrt":
            index = None
            if self.at("op", "["):
                self.next()
                index = self.expr(0)
                self.expect_op("]")
            radicand = self.arg()
            if index is None:
                return _root(radicand, sp.Integer(2))
            return _root(radicand, index)
        if name in _FUNCTIONS:
            return self._function(name)
        if name in _CONSTANTS:
            return _CONSTANTS[name]
        if name in _GREEK:
            return sp.Symbol(name)
        if name in ("boxed", "fbox") and self.at("op", "{"):
            self.next()  # a box may hold several answers: \boxed{1, -2}
            items = [self.expr(0)]
            while self._at_separator():
                self.next()
                items.append(self.expr(0))
            self.expect_op("}")
            return items[0] if len(items) == 1 else AnswerList(*items)
        if name in ("operatorname", "mathrm") and self.at("op", "{") and self.at("op", "}", 2):
            inner = self.peek(1)
            if inner.kind == "word" and inner.value.lower() in _INTEGER_FUNCTIONS:
                self.i += 3
                return self._integer_function(inner.value.lower())
        if name in _TRANSPARENT:
            return self.arg()
        if name in _INTEGER_FUNCTIONS:
            return self._integer_function(name)
        if name in _NAME_MARKS:
            return self.expr(_BP_MUL)
        if name == "mathbb":
            letter = self.arg_text()
            if letter not in _SETS:
                raise MathParseError(f"unknown set \\mathbb{{{letter}}}")
            return _SETS[letter]
        if name == "langle":  # \langle 1, 2 \rangle: a vector
            items = [self.expr(0)]
            while self.at("op", ","):
                self.next()
                items.append(self.expr(0))
            close = self.next()
            if close.kind != "cmd" or close.value != "rangle":
                raise self.fail(close)
            return sp.Tuple(*items)
        if name in ("lvert", "vert"):
            inner = self.expr(0)
            close = self.next()
            if close.kind != "cmd" or close.value not in ("rvert", "vert"):
                raise self.fail(close)
            return _apply(sp.Abs, inner)
        if name in ("lfloor", "lceil"):
            inner = self.expr(0)
            close = self.next()
            want = "rfloor" if name == "lfloor" else "rceil"
            if close.kind != "cmd" or close.value != want:
                raise self.fail(close)
            return _rounding(sp.floor if name == "lfloor" else sp.ceiling, inner)
        if name in ("pm", "mp"):
            return PM * self.expr(_BP_MUL)
        if name == "lim":
            return self._limit()
        if name in ("sum", "prod"):
            return self._series(name)
        raise MathParseError(f"unsupported command \\{name} at {tok.pos}", reason="unsupported")

    def _function(self, name: str) -> sp.Basic:
        func = _FUNCTIONS[name]
        power = None
        base = None
        if name == "log" and self.at("op", "_"):
            self.next()
            base = self.arg()
        if self.at("op", "^"):
            self.next()
            power = self.arg()
            if power == -1 and name in _INVERSE:
                func, power = _INVERSE[name], None
        argument = self._function_argument()
        value = _apply(func, argument) if base is None else _apply(sp.log, argument, base)
        return value if power is None else _power(value, power)

    def _function_argument(self) -> sp.Basic:
        if self.at("op", "("):
            self.next()
            inner = self.expr(0)
            self.expect_op(")")
            return inner
        self.fn_arg += 1
        try:
            return self.expr(_BP_MUL)
        finally:
            self.fn_arg -= 1

    def _limit(self) -> sp.Basic:
        """``\\lim_{x \\to a} f``: an unevaluated limit (a worker evaluates it)."""
        self.expect_op("_")
        self.expect_op("{")
        var = self.next()
        arrow = self.next()
        if var.kind != "letter" or arrow.kind != "cmd" or arrow.value not in _ARROWS:
            raise self.fail(arrow)
        target = self.expr(0)
        self.expect_op("}")
        body = self.expr(_BP_MUL)
        _check_scalar(body, target)
        return sp.Limit(body, self._letter(var.value), target)

    def _series(self, name: str) -> sp.Basic:
        """``\\sum_{k=1}^{n} f``, ``\\prod``: unevaluated (a worker evaluates them)."""
        self.expect_op("_")
        self.expect_op("{")
        var = self.next()
        if var.kind != "letter":
            raise self.fail(var)
        self.expect_op("=")
        lower = self.expr(0)
        self.expect_op("}")
        self.expect_op("^")
        upper = self.arg()
        body = self.expr(_BP_MUL)
        _check_scalar(body, lower, upper)
        cls = sp.Sum if name == "sum" else sp.Product
        return cls(body, (self._letter(var.value), lower, upper))

    def _integer_function(self, name: str) -> sp.Basic:
        r"""``\gcd(12, 18)``, ``\operatorname{lcm}(4, 6)``, ``\max(2, 3)``: numbers only."""
        self.expect_op("(")
        args = [self.expr(0)]
        while self.at("op", ","):
            self.next()
            args.append(self.expr(0))
        self.expect_op(")")
        _check_scalar(*args)
        if name in ("max", "min"):
            return (sp.Max if name == "max" else sp.Min)(*args)
        if not all(a.is_Integer for a in args):
            raise MathParseError(f"\\{name} of something that is not an integer")
        values = [int(a) for a in args]
        return sp.Integer(math.gcd(*values) if name == "gcd" else math.lcm(*values))

    def _paren_or_arg(self) -> sp.Basic:
        if self.at("op", "("):
            return self._function_argument()
        return self.arg()

    def arg(self) -> sp.Basic:
        """One LaTeX argument: a braced group, or a single digit, letter or command."""
        tok = self.next()
        if tok.kind == "op" and tok.value == "{":
            inner = self.expr(0)
            self.expect_op("}")
            return inner
        if tok.kind == "num":
            if tok.value.isdigit() and len(tok.value) > 1:  # \frac12: one digit per argument
                self.i -= 1
                self.tokens[self.i] = Token("num", tok.value[1:], tok.pos + 1)
                return sp.Integer(int(tok.value[0]))
            return self._number(tok)
        if tok.kind == "letter":
            return self._letter(tok.value)
        if tok.kind == "word":
            self.i -= 1
            self.tokens[self.i] = Token(
                "word" if len(tok.value) > 2 else "letter", tok.value[1:], tok.pos + 1
            )
            return self._letter(tok.value[0])
        if tok.kind == "cmd":
            return self._command(tok)
        if tok.kind == "op" and tok.value == "-":
            return _negate(self.arg())
        if tok.kind == "op" and tok.value == "(":
            inner = self.expr(0)
            self.expect_op(")")
            return inner
        raise self.fail(tok)

    def arg_text(self) -> str:
        """The raw text of a braced group of letters (``\\mathbb{R}``)."""
        if self.at("op", "{"):
            self.next()
            tok = self.next()
            self.expect_op("}")
        else:
            tok = self.next()
        if tok.kind not in ("letter", "word"):
            raise self.fail(tok)
        return tok.value

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

    def _skip_unit(self) -> None:
        tok = self.next()
        if tok.value.strip():
            self.units.append(tok.value.strip().lower())
            if tok.value.strip().lower().startswith("degree"):
                self.degrees = True
        self._skip_unit_power()

    def _unit_group(self) -> bool:
        """``\\mathrm{cm}``: a unit in a roman group; consumed when it is one."""
        t = self.tokens[self.i : self.i + 4]
        if (
            len(t) == 4
            and t[1].value == "{"
            and t[3].value == "}"
            and t[2].kind in ("word", "letter")
            and t[2].kind == "word"
            and _is_unit_word(t[2].value)
        ):
            self.units.append(t[2].value.lower())
            self.i += 4
            self._skip_unit_power()
            return True
        return False

    def _skip_unit_power(self) -> None:
        if self.at("op", "^") and self.peek(1).kind == "num":
            self.i += 2
        elif (
            self.at("op", "^")
            and self.at("op", "{", 1)
            and self.peek(2).kind == "num"
            and self.at("op", "}", 3)
        ):
            self.i += 4

    def _bracketed(self, opener: str) -> sp.Basic:
        items = [self.expr(0)]
        while self.at("op", ","):
            self.next()
            items.append(self.expr(0))
        close = self.next()
        if close.kind != "op" or close.value not in ")]":
            raise self.fail(close)
        if len(items) == 1:
            if opener == "(" and close.value == ")" or opener == "[" and close.value == "]":
                return items[0]
            raise self.fail(close)
        if len(items) == 2 and (opener == "[" or close.value == "]"):
            return _interval(items[0], items[1], opener == "(", close.value == ")")
        if opener != {")": "(", "]": "["}[close.value]:
            raise self.fail(close)
        return sp.Tuple(*items)

    def _set(self) -> sp.Basic:
        if self.at("op", "\\}"):
            self.next()
            return sp.EmptySet
        self.abs_depth += 1  # a bar here separates a set-builder's variable from its rule
        first = self.expr(0)
        self.abs_depth -= 1
        if self.at("op", "|") or self.at("op", ":") or self.at("cmd", "mid"):
            self.next()  # \{x \mid x > 3\}: the set its condition describes
            condition = self.expr(0)
            self.expect_op("\\}")
            if not isinstance(condition, (sp.Rel, sp.And)):
                raise MathParseError("a set-builder condition must be a relation")
            return condition
        items = [first]
        while self.at("op", ","):
            self.next()
            items.append(self.expr(0))
        self.expect_op("\\}")
        return sp.FiniteSet(*items)

    def _environment(self, tok: Token) -> sp.Basic:
        if tok.value not in _MATRICES:
            raise MathParseError(f"unsupported environment {tok.value}", reason="unsupported")
        rows: list[list[sp.Basic]] = [[]]
        while True:
            if self.at("end"):
                end = self.next()
                if end.value != tok.value:
                    raise self.fail(end)
                break
            if self.at("rowsep"):
                self.next()
                rows.append([])
                continue
            if self.at("op", "&"):
                self.next()
                continue
            if self.at("eof"):
                raise MathParseError(f"unclosed environment {tok.value}")
            rows[-1].append(self.expr(0))
        rows = [row for row in rows if row]
        if not rows or len({len(row) for row in rows}) != 1:
            raise MathParseError("ragged or empty matrix")
        for row in rows:
            _check_scalar(*row)
        return sp.ImmutableMatrix(rows)

    # -- infix and postfix positions --------------------------------------------------
    def led(self, left: sp.Basic, tok: Token) -> sp.Basic:
        kind, value = tok.kind, tok.value
        if kind == "op":
            if value == "+":
                return _add(left, self.expr(_BP_ADD))
            if value == "-":
                return _add(left, -self.expr(_BP_ADD))
            if value == "*":
                return _multiply(left, self.expr(_BP_MUL))
            if value == "/":
                return _divide(left, self.expr(_BP_MUL))
            if value == "^":
                return self._superscript(left)
            if value == "_":
                return self._subscript(left)
            if value == "!":
                if self.at("op", "="):
                    self.next()
                    return self._relation(left, "!=")
                return _factorial(left)
            if value == "%":
                self.percent = True
                return _multiply(left, sp.Rational(1, 100))
            if value in "=<>":
                if value in "<>" and self.at("op", "="):
                    self.next()
                    value += "="
                return self._relation(left, value)
            if value in "(\\{|":
                self.i -= 1
                return _multiply(left, self.expr(_BP_IMPLICIT))
        if kind == "cmd":
            if value in _RELATIONS:
                return self._relation(left, value)
            if value == "in":
                return sp.Contains(left, _as_set(self.expr(_BP_RELATION)), evaluate=False)
            if value in _SET_OPS:
                right = self.expr(_BP_SET)
                return _SET_OPS[value](_as_set(left), _as_set(right))
            if value in ("pm", "mp"):
                return _add(left, PM * self.expr(_BP_ADD))
            if value in _MUL_CMDS:
                return _multiply(left, self.expr(_BP_MUL))
            if value == "div":
                return _divide(left, self.expr(_BP_MUL))
            if value == "degree":
                return self._degrees(left)
            if value == "choose":
                return _binomial(left, self.expr(_BP_CHOOSE))
            if value == "over":
                return _divide(left, self.expr(_BP_CHOOSE))
        # implicit multiplication: put the token back and parse the next factor
        self.i -= 1
        return _multiply(left, self.expr(_BP_IMPLICIT))

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
            return _power(left, self._number(self.next()))
        return _power(left, self.arg())

    def _ordinal_mark(self) -> int:
        """Tokens of an ordinal mark after ``^`` (``n^{th}``, ``2^\\text{nd}``), or 0."""
        tok = self.peek()
        if tok.kind == "text" and tok.value.strip() in _ORDINALS:
            return 1
        if (
            tok.value == "{"
            and self.peek(3).value == "}"
            and self.peek(1).value + self.peek(2).value in _ORDINALS
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
        links = [(op, left, self.expr(_BP_RELATION))]
        while True:
            tok = self.peek()
            nxt = tok.value if tok.kind in ("op", "cmd") else None
            if nxt in ("<", ">") and self.at("op", "=", 1):
                self.i += 2
                nxt += "="
            elif nxt in _RELATIONS:
                self.next()
            else:
                break
            links.append((nxt, links[-1][2], self.expr(_BP_RELATION)))
        for o, a, b in links:
            if o != "=":
                _check_scalar(a, b)  # an order between sets or tuples means nothing
        relations = [_RELATIONS[o](a, b, evaluate=False) for o, a, b in links]
        return relations[0] if len(relations) == 1 else sp.And(*relations, evaluate=False)


def _decimal(text: str) -> sp.Float:
    """A decimal literal as a float carrying all its written digits."""
    digits = sum(c.isdigit() for c in text.lower().split("e")[0])
    return sp.Float(text, max(15, digits + 2))


def _check_size(value: sp.Basic) -> sp.Basic:
    if value.is_Rational and max(value.p.bit_length(), value.q.bit_length()) > MAX_BITS:
        raise MathParseError("number too large", reason="too_large")
    if value.has(sp.nan, sp.zoo):
        raise MathParseError("undefined value (division by zero)")
    return value


def _apply(func: type[sp.Function], *args: sp.Basic) -> sp.Basic:
    """A function from the fixed table applied to checked scalar arguments.

    sympy evaluates functions of huge numbers numerically to many digits (the sign of
    ``\\sin(10^{50000})`` needs 50,000 digits of pi): their arguments must stay small, and
    ``|.|``, floor and ceiling evaluate only on plain numbers.
    """
    _check_scalar(*args)
    if any(_max_bits(arg) > MAX_ROOT_BITS for arg in args) and func not in _CHEAP_ON_BIG:
        raise MathParseError("function of a number too large", reason="too_large")
    if func is sp.Abs and not args[0].is_Number:
        return sp.Abs(*args, evaluate=False)
    return _check_size(func(*args))


class Floor(sp.Function):
    """``\\lfloor x \\rfloor`` kept unevaluated: sympy's floor of a transcendental number
    can simplify its way into astronomically large powers. A worker evaluates it."""

    nargs = 1


class Ceiling(sp.Function):
    """``\\lceil x \\rceil`` kept unevaluated (see :class:`Floor`)."""

    nargs = 1


def _rounding(func: type[sp.Function], arg: sp.Basic) -> sp.Basic:
    """Floor or ceiling: computed at once for plain numbers, kept for a worker otherwise."""
    _check_scalar(arg)
    if arg.is_Rational or arg.is_Float:
        return func(arg)
    if _max_bits(arg) > MAX_ROOT_BITS:
        raise MathParseError("floor of a number too large", reason="too_large")
    return (Floor if func is sp.floor else Ceiling)(arg)


def evaluate_roundings(value: sp.Basic) -> sp.Basic:
    """:class:`Floor` and :class:`Ceiling` as sympy's own (slow on some inputs: workers only)."""
    if isinstance(value, sp.Basic) and value.has(Floor, Ceiling):
        return value.replace(Floor, sp.floor).replace(Ceiling, sp.ceiling)
    return value


def _max_bits(value: sp.Basic) -> int:
    return max((_bits(n) for n in value.atoms(sp.Rational)), default=0)


_CHEAP_ON_BIG = (sp.Abs,)


def _negate(a: sp.Basic) -> sp.Basic:
    if isinstance(a, sp.MatrixBase):
        return -a
    _check_scalar(a)
    return -a


def _add(a: sp.Basic, b: sp.Basic) -> sp.Basic:
    _check_scalar(a, b)
    return a + b


def _multiply(a: sp.Basic, b: sp.Basic) -> sp.Basic:
    if (
        isinstance(a, sp.Symbol)
        and a.name.isupper()
        and len(a.name) == 1
        and isinstance(b, sp.Tuple)
    ):
        return b  # A(5, 3): the point A is its coordinates
    if isinstance(a, sp.MatrixBase) or isinstance(b, sp.MatrixBase):
        for v in (a, b):
            if not isinstance(v, sp.MatrixBase):
                _check_scalar(v)
        both = isinstance(a, sp.MatrixBase) and isinstance(b, sp.MatrixBase)
        if both and a.shape[1] != b.shape[0]:
            raise MathParseError("matrix shapes do not match")
        return a * b
    _check_scalar(a, b)
    if a.is_Rational and b.is_Rational and a.p.bit_length() + b.p.bit_length() > MAX_BITS:
        raise MathParseError("number too large", reason="too_large")
    if not (a.is_Rational or b.is_Rational) and _radicand_bits(a) + _radicand_bits(b) > (
        MAX_ROOT_BITS
    ):
        raise MathParseError("roots of numbers too large", reason="too_large")
    return _check_size(sp.Mul(a, b))


def _check_scalar(*values: sp.Basic) -> None:
    for v in values:
        if not isinstance(v, sp.Expr) or isinstance(v, sp.Tuple):
            raise MathParseError(f"arithmetic on a {type(v).__name__}")


def _divide(a: sp.Basic, b: sp.Basic) -> sp.Basic:
    _check_scalar(a, b)
    if b == 0:
        raise MathParseError("division by zero")
    return _multiply(a, _power(b, sp.Integer(-1)))


def _power(base: sp.Basic, exponent: sp.Basic) -> sp.Basic:
    """``base ** exponent`` after checking the result stays small."""
    _check_scalar(base, exponent)
    if exponent.is_Integer and base.is_Rational:
        if base not in (0, 1, -1) and abs(int(exponent)) * _bits(base) > MAX_BITS:
            raise MathParseError("power too large", reason="too_large")
        if base == 0 and exponent < 0:
            raise MathParseError("division by zero")
    elif exponent.is_Integer and (
        abs(int(exponent)) > MAX_EXPONENT or abs(int(exponent)) * _max_bits(base) > MAX_BITS
    ):
        # sympy distributes a power over the numbers in its base: (x/N)^k holds N^k
        raise MathParseError("exponent too large", reason="too_large")
    elif (
        exponent.is_Rational
        and not exponent.is_Integer
        and (
            exponent.q > MAX_EXPONENT
            or base.is_Rational
            and _bits(base) * abs(exponent) > MAX_BITS
            or not base.is_Rational
            and abs(exponent) * max(_max_bits(base), 1) > MAX_BITS
        )
    ):
        raise MathParseError("root too deep or power too large", reason="too_large")
    elif (
        not exponent.is_Rational
        and _max_bits(exponent) > MAX_ROOT_BITS
        or exponent.is_Float
        and base.is_number
        and abs(exponent) > 1e6
    ):
        raise MathParseError("exponent too large", reason="too_large")
    elif exponent.is_number and not exponent.is_Rational and exponent.is_real:
        bound = exponent.evalf(15)
        if bound.is_Float and abs(bound) > MAX_EXPONENT:
            raise MathParseError("exponent too large", reason="too_large")
    if (
        base.is_Rational
        and exponent.is_Rational
        and not exponent.is_Integer
        and _bits(base) > MAX_ROOT_BITS
    ):
        # sympy looks for exact roots of a number by factoring it: too slow for big ones
        raise MathParseError("root of a number too large", reason="too_large")
    return _check_size(sp.Pow(base, exponent))


def _bits(value: sp.Rational) -> int:
    return max(value.p.bit_length(), value.q.bit_length())


def _radicand_bits(value: sp.Basic) -> int:
    """Size of the numbers under roots in ``value``: sympy multiplies roots together
    (``\\sqrt 2 \\sqrt 3 = \\sqrt 6``) and then looks for an exact root of the product."""
    return sum(
        _bits(p.base)
        for p in value.atoms(sp.Pow)
        if p.base.is_Rational and p.exp.is_Rational and not p.exp.is_Integer
    )


def _root(radicand: sp.Basic, index: sp.Basic) -> sp.Basic:
    """The ``index``-th root; the real one of a negative number for odd indices
    (``\\sqrt[3]{-27} = -3``)."""
    _check_scalar(radicand, index)
    if index == 0:
        raise MathParseError("root of index zero")
    # compare the value directly: sympy's assumption system may test a big number for primality
    if index.is_Integer and index % 2 == 1 and radicand.is_Rational and radicand < 0:
        return _negate(_power(_negate(radicand), 1 / index))
    return _power(radicand, 1 / index)


def _factorial(n: sp.Basic) -> sp.Basic:
    _check_scalar(n)
    if n.is_Integer:
        if n < 0:
            raise MathParseError("factorial of a negative number")
        if n > MAX_FACTORIAL:
            raise MathParseError("factorial too large", reason="too_large")
        return sp.Integer(math.factorial(int(n)))
    if n.is_number:
        raise MathParseError("factorial of a non-integer")
    return sp.factorial(n)


def _binomial(n: sp.Basic, k: sp.Basic) -> sp.Basic:
    _check_scalar(n, k)
    if n.is_Integer and k.is_Integer:
        if n > MAX_FACTORIAL * 20 or min(k, n - k) > MAX_FACTORIAL:
            raise MathParseError("binomial too large", reason="too_large")
        if k < 0 or n < 0 or k > n:
            return sp.Integer(0)
        return sp.Integer(math.comb(int(n), int(k)))
    if n.is_number and k.is_number:
        raise MathParseError("binomial of non-integers")
    if k.is_Integer and abs(k) > MAX_FACTORIAL * 20:
        raise MathParseError("binomial too large", reason="too_large")
    return sp.binomial(n, k)


def _interval(a: sp.Basic, b: sp.Basic, left_open: bool, right_open: bool) -> sp.Basic:
    _check_scalar(a, b)
    if any(not v.is_Rational and v.is_extended_real is False for v in (a, b)):
        raise MathParseError("interval with a non-real end")
    return sp.Interval(a, b, left_open, right_open)


def _as_set(value: sp.Basic) -> sp.Basic:
    """A set operand: ``(a, b)`` next to a set operator is an open interval."""
    if isinstance(value, sp.Tuple) and len(value) == 2:
        return _interval(value[0], value[1], True, True)
    if isinstance(value, sp.Set):
        return value
    raise MathParseError(f"set operation on a {type(value).__name__}")
