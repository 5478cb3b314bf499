r"""Labelled answers and written precision: the rules of comparison that depend on how an
answer was written rather than on its value alone.

- Labels: ``a = 2, b = 5`` is compared with ``2, 5`` position by position, and with
  ``b = 5, a = 2`` name by name; ``x_1 = 2, x_2 = -3`` (one unknown, several roots) stays an
  order-free set. A label never changes a value.
- Functions: ``g(t) = t^2`` is ``g(u) = u^2`` and ``u^2``: the variable of a defined function
  is bound; a free variable is never renamed (``3t - 1`` is not ``3x - 1``).
- Decimals as written: a predicted decimal with k places and at least 3 significant digits
  equals an exact gold that rounds to it at k places (``3.14`` for ``\frac{22}{7}``).

>>> import sympy as sp
>>> a, b = sp.symbols("a b")
>>> labels([sp.Eq(a, 2), sp.Eq(b, 5)]), rounds_to(sp.Rational(22, 7), "3.14", negative=False)
([(a, 2), (b, 5)], True)
"""

from __future__ import annotations

from fractions import Fraction

import sympy as sp
from sympy.core.function import AppliedUndef

from rewardkit.verify.guarded import max_bits
from rewardkit.verify.vocabulary import is_name

__all__ = ["bind_variable", "distinct", "function_definition", "labels", "residues", "rounds_to"]

MIN_SIGNIFICANT = 3  # digits a decimal needs to stand for an exact value it rounds
_MAX_ROUNDED_BITS = 2_000  # exact golds larger than this are not evaluated for rounding


def labels(items: list[sp.Basic]) -> list[tuple[sp.Basic, sp.Basic]] | None:
    """``(name, value)`` of each item when every item is ``name = value``, else ``None``."""
    pairs = []
    for item in items:
        if not (isinstance(item, sp.Equality) and is_name(item.lhs)):
            return None
        pairs.append((item.lhs, item.rhs))
    return pairs


def distinct(pairs: list[tuple[sp.Basic, sp.Basic]]) -> bool:
    """Whether the labels name different quantities (``a, b``), not roots of one unknown
    (``x, x`` or ``x_1, x_2``): only those are compared position by position."""
    bases = [_base_name(name) for name, _ in pairs]
    return len(pairs) > 1 and len(set(bases)) == len(bases)


def _base_name(name: sp.Basic) -> str:
    if isinstance(name, sp.Symbol):
        return name.name.split("_")[0]
    if isinstance(name, AppliedUndef):
        return type(name).__name__
    return str(name)


def function_definition(eq: sp.Equality) -> tuple[sp.Symbol | None, sp.Basic] | None:
    """``f(t) = ...`` as ``(t, rhs)``, ``y = ...`` as ``(None, rhs)``, anything else ``None``."""
    lhs, rhs = eq.args
    if isinstance(lhs, AppliedUndef) and len(lhs.args) == 1 and isinstance(lhs.args[0], sp.Symbol):
        return lhs.args[0], rhs
    if isinstance(lhs, sp.Symbol) and lhs not in rhs.free_symbols:
        return None, rhs
    return None


def bind_variable(definition: sp.Equality, value: sp.Basic, other: sp.Basic) -> sp.Basic:
    """The value of ``f(t) = value`` in the variable of ``other`` (``t^2`` against ``u^2`` is
    ``u^2``) when ``other`` has exactly one free variable; otherwise ``value`` as it is."""
    form = function_definition(definition)
    if form is None or form[0] is None or not isinstance(other, sp.Expr):
        return value
    bound, free = form[0], other.free_symbols
    if len(free) != 1 or bound in free or not value.free_symbols <= {bound}:
        return value
    return value.xreplace({bound: next(iter(free))})


def rounds_to(gold: sp.Basic, written: str, *, negative: bool) -> bool:
    """Whether the exact ``gold`` rounds (half away from zero) to the decimal ``written``
    (digits as the writer gave them, without the sign) at its number of places."""
    whole, _, places = written.partition(".")
    if not places or not (whole + places).isdigit():
        return False  # an integer, or scientific notation: no places to round at
    if len((whole + places).lstrip("0")) < MIN_SIGNIFICANT:
        return False  # 0.33 for 1/3: a guess, not a rounding
    value = Fraction(int(whole + places), 10 ** len(places)) * (-1 if negative else 1)
    exact = _exact_real(gold, len(whole) + len(places))
    if exact is None:
        return False
    gap, half = abs(exact - value), Fraction(1, 2 * 10 ** len(places))
    return gap < half or (gap == half and abs(value) > abs(exact))


def _exact_real(gold: sp.Basic, digits: int) -> Fraction | None:
    """``gold`` as a fraction: exactly for a rational, to ``digits + 20`` digits otherwise."""
    if gold.is_Rational:
        return Fraction(int(gold.p), int(gold.q))
    if not (isinstance(gold, sp.Expr) and gold.is_number) or gold.has(sp.Float):
        return None
    if max_bits(gold) > _MAX_ROUNDED_BITS:
        return None
    value = gold.evalf(digits + 20)
    if not value.is_Float:
        return None  # complex, infinite or not evaluable
    rational = sp.Rational(value)
    return Fraction(int(rational.p), int(rational.q))


def residues(
    pred: sp.Basic, gold: sp.Basic, pred_moduli: tuple[int, ...], gold_moduli: tuple[int, ...]
) -> tuple[sp.Basic, sp.Basic] | None:
    """Both answers reduced modulo their common ``\\pmod{n}`` (``x \\equiv 7 \\pmod 5`` is
    ``x \\equiv 2 \\pmod 5``); ``None`` when both give a modulus and they differ. An answer
    with a modulus against one without is compared as written (``3 \\pmod 7`` is ``3``)."""
    if not (pred_moduli and gold_moduli):
        return pred, gold
    if set(pred_moduli) != set(gold_moduli) or len(set(pred_moduli)) != 1:
        return None
    modulus = pred_moduli[0]
    return _reduce(pred, modulus), _reduce(gold, modulus)


def _reduce(value: sp.Basic, modulus: int) -> sp.Basic:
    if value.is_Integer:
        return sp.Integer(int(value) % modulus)
    if isinstance(value, sp.Equality) and value.rhs.is_Integer:
        return sp.Eq(value.lhs, sp.Integer(int(value.rhs) % modulus), evaluate=False)
    return value
