r"""The parser's vocabulary: the commands, words and marks it knows and what each means.

A fixed table maps every name the parser accepts to the sympy constructor that builds it;
no name read from the input is ever looked up anywhere else.

>>> FUNCTIONS["arcsin"], text_kind(" and "), text_kind("apples")
(asin, 'separator', 'words')
"""

from __future__ import annotations

import re

import sympy as sp
from sympy.core.function import AppliedUndef

from rewardkit.verify.lexer import CAPITAL_GREEK, GREEK_LETTERS, MIN_WORD


class AnswerList(sp.Tuple):
    """Several answers given together (``1, 2``; ``x=1 or x=2``): compared order-free."""


class Ratio(sp.Tuple):
    """A ratio ``a : b`` (or ``a : b : c``): equal to ratios in the same proportion, and a
    two-term ratio to the number ``a / b``."""


# The two signs of ``\pm``: an expression in PM stands for its values at PM = 1 and -1.
PM = sp.Symbol("pm#sign")

FUNCTIONS = {
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
    "arcsec": sp.asec,
    "arccsc": sp.acsc,
    "sinh": sp.sinh,
    "cosh": sp.cosh,
    "tanh": sp.tanh,
    "coth": sp.coth,
    "sech": sp.sech,
    "csch": sp.csch,
    # inverse hyperbolic functions in the spellings in use (ISO ar-, common arc-, a-)
    "arcsinh": sp.asinh,
    "arsinh": sp.asinh,
    "asinh": sp.asinh,
    "arccosh": sp.acosh,
    "arcosh": sp.acosh,
    "acosh": sp.acosh,
    "arctanh": sp.atanh,
    "artanh": sp.atanh,
    "atanh": sp.atanh,
    "exp": sp.exp,
    "ln": sp.log,
    "log": sp.log,
    "lg": sp.log,
}
MULTIPLIERS = {
    "thousand": sp.Integer(10**3),
    "million": sp.Integer(10**6),
    "billion": sp.Integer(10**9),
    "trillion": sp.Integer(10**12),
}
PERCENT_WORDS = frozenset({"percent", "pct", "percentage", "per cent"})
ARROWS = frozenset({"to", "rightarrow"})
ORDINALS = frozenset({"st", "nd", "rd", "th"})
INTEGER_FUNCTIONS = frozenset({"gcd", "lcm", "max", "min"})
# f^{-1}: the inverse function (sin^{-1} is arcsin, sinh^{-1} is arsinh), not 1/f.
INVERSE = {
    "sin": sp.asin,
    "cos": sp.acos,
    "tan": sp.atan,
    "cot": sp.acot,
    "sec": sp.asec,
    "csc": sp.acsc,
    "sinh": sp.asinh,
    "cosh": sp.acosh,
    "tanh": sp.atanh,
    "coth": sp.acoth,
}
# Greek letters are plain symbols (pi is a constant, handled apart).
GREEK = (frozenset(GREEK_LETTERS + CAPITAL_GREEK) - {"pi"}) | {
    "varepsilon",
    "vartheta",
    "varphi",
    "ell",
}
CONSTANTS = {
    "pi": sp.pi,
    "infty": sp.oo,
    "infinity": sp.oo,
    "inf": sp.oo,
    "imath": sp.I,
    "emptyset": sp.EmptySet,
    "varnothing": sp.EmptySet,
}
SETS = {"R": sp.Reals, "Z": sp.Integers, "N": sp.Naturals, "Q": sp.Rationals, "C": sp.Complexes}
FRACS = frozenset({"frac", "dfrac", "tfrac", "cfrac", "sfrac"})
BINOMS = frozenset({"binom", "dbinom", "tbinom"})
TRANSPARENT = frozenset(
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
# Commands that only style letters: 2^{\rm nd}, 5^{\mathrm{th}}, S_{\mathrm{max}}.
STYLES = frozenset(
    {"rm", "mathrm", "textrm", "text", "mathit", "it", "textit", "mathsf", "textup", "operatorname"}
)
# Marks before a name that do not change what is named: \angle ABC is ABC.
NAME_MARKS = frozenset({"angle", "measuredangle", "triangle", "arc", "overarc"})
MATRICES = frozenset({"matrix", "pmatrix", "bmatrix", "Bmatrix", "smallmatrix", "array"})
RELATIONS = {
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
    "equiv": sp.Eq,  # x \equiv 3 \pmod{7}: the modulus is a note of the parse
}
MUL_CMDS = frozenset({"times", "cdot", "ast"})
SET_OPS = {"cup": sp.Union, "cap": sp.Intersection, "setminus": sp.Complement}
SEPARATOR_WORDS = frozenset({"and", "or"})
# Words read as units when they follow a value; longer unknown words are too.
UNIT_WORDS = frozenset(
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

BP_CHOOSE = 12
BP_RELATION, BP_SET, BP_ADD, BP_MUL, BP_IMPLICIT, BP_POW, BP_POSTFIX = (
    10,
    15,
    20,
    30,
    35,
    40,
    50,
)


def is_unit_word(word: str) -> bool:
    lower = word.lower()
    return lower in UNIT_WORDS or (
        len(word) >= MIN_WORD
        and lower not in FUNCTIONS
        and lower not in CONSTANTS
        and lower not in SEPARATOR_WORDS
    )


# Words of a unit ("km/h", "sq. ft", "m^2"). Each repetition starts with separators and then
# needs a letter or a power, so a run of separators is read one way only (linear time).
UNIT_TEXT = re.compile(
    r"[^\W\d_][^\W\d_ .'/-]*(?:\^\{?\d\}?)?"
    r"(?:[ .'/-]+(?:[^\W\d_]+(?:\^\{?\d\}?)?|\^\{?\d\}?))*[ .'/-]*"
)


def text_kind(content: str) -> str:
    """What a ``\\text{}`` group is: ``empty``, ``separator``, ``words`` or ``math``."""
    stripped = content.strip().strip(",")
    if not stripped:
        return "empty"
    if stripped.lower() in SEPARATOR_WORDS:
        return "separator"
    if stripped.isupper() and stripped.isalpha():
        return "math"  # \text{AB}: points named by capitals
    if UNIT_TEXT.fullmatch(stripped):
        return "words"
    return "math"


def starts_primary(name: str) -> bool:
    """Whether the command ``\\name`` begins a value (and so multiplies what precedes it)."""
    return (
        name in FRACS
        or name in BINOMS
        or name in TRANSPARENT
        or name in GREEK
        or name in NAME_MARKS
        or name in CONSTANTS
        or name in ("sqrt", "mathbb", "lfloor", "lceil", "langle", "lvert", "lim", "sum", "prod")
    )


def is_name(value: sp.Basic) -> bool:
    """A name that labels a value: a symbol (``x``, ``S_max``), a product of symbols
    (``AB``) or an undefined function of symbols (``f(x)``, ``P(A)``)."""
    if isinstance(value, sp.Symbol):
        return value is not PM
    if isinstance(value, sp.Mul):
        return all(isinstance(f, sp.Symbol) and f is not PM for f in value.args)
    if isinstance(value, AppliedUndef):
        return all(isinstance(a, sp.Symbol) for a in value.args)
    return False
