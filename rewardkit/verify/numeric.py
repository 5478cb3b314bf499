r"""Numeric evaluation for comparison: exact rational points, values to a tolerance, and
the symbolic check that evaluates two expressions at several points.

>>> import sympy as sp
>>> x = sp.Symbol("x")
>>> symbolic_equal((x + 1) ** 2, x**2 + 2 * x + 1, None, 0.0)
True
>>> same_value(sp.Float("0.3333333333"), sp.Rational(1, 3), 1e-6)
True
"""

from __future__ import annotations

import random

import sympy as sp
from sympy.core.evalf import PrecisionExhausted

from rewardkit.verify.guarded import MAX_BITS, evaluation_cost

EXACT_DIGITS = 30  # digits of numeric evaluation where a decimal is involved
_MAX_DIGITS = 400  # working precision the sign of an exact difference may take
_POINTS = 4

# Exact rational points: a polynomial or rational function evaluates to an exact number, so
# no rounding can make x^100 look equal to x^100 + 1.
POSITIVE = tuple(
    sp.Rational(p, q)
    for p, q in ((7, 5), (11, 13), (17, 7), (5, 3), (19, 11), (13, 17), (23, 9), (3, 7))
)
SIGNED = tuple(
    sp.Rational(p, q)
    for p, q in ((-7, 5), (11, 13), (-17, 7), (-5, 3), (19, 11), (-13, 17), (-23, 9), (3, 7))
)


def points(symbols: set[sp.Symbol], signed: bool = False) -> list[dict[sp.Symbol, sp.Rational]]:
    """Points to evaluate expressions at: positive ones (as graders read
    ``\\sqrt{x}\\sqrt{y} = \\sqrt{xy}``), and also negative ones when ``signed`` (an
    absolute value or a floor is only told apart from its argument there)."""
    ordered = sorted(symbols, key=lambda s: s.name)
    if not ordered:
        return [{}]
    rng = random.Random(20240917)
    values = [POSITIVE] + ([SIGNED] if signed else [])
    return [{s: rng.choice(pool) for s in ordered} for pool in values for _ in range(_POINTS)]


def signed(*exprs: sp.Basic) -> bool:
    return any(e.has(sp.Abs, sp.floor, sp.ceiling, sp.sign) for e in exprs)


def evaluate(expr: sp.Expr, point: dict[sp.Symbol, sp.Rational]) -> sp.Expr | None:
    """The exact value of ``expr`` at ``point``, or ``None`` where it is undefined."""
    value = expr.xreplace(point) if point else expr
    if not value.is_number or value.has(sp.nan, sp.zoo, sp.oo, -sp.oo):
        return None
    return value


def same_value(a: sp.Expr, b: sp.Expr, rel_tol: float | None, abs_tol: float = 0.0) -> bool | None:
    """Whether two numbers are equal: exactly when ``rel_tol`` is ``None`` (the sign of
    their difference is evaluated to 20 significant digits, adaptively, so cancellation
    cannot hide it), else within the tolerances. ``None`` when it cannot be told."""
    try:
        if rel_tol is None:
            difference = a - b
            if difference == 0:
                return True
            if difference.is_Rational:
                return False
            value = difference.evalf(20, strict=True, maxn=_MAX_DIGITS)
            return bool(value == 0)
        va, vb = a.evalf(EXACT_DIGITS), b.evalf(EXACT_DIGITS)
        if not (va.is_number and vb.is_number):
            return None
        gap = abs(va - vb)
        return bool(gap <= rel_tol * max(abs(va), abs(vb)) or gap <= abs_tol)
    except PrecisionExhausted:
        return True  # no significant digit in the difference: zero
    except (TypeError, ValueError, ArithmeticError):
        return None


def differ_at_a_point(a: sp.Expr, b: sp.Expr) -> bool:
    """Whether two plain expressions (numbers, names, integer powers) take different exact
    values at one rational point: then they differ, no symbolic work needed. ``False``
    means "cannot tell here", never "equal"."""
    if a.has(sp.Float) or b.has(sp.Float):
        return False
    if evaluation_cost(a)[0] + evaluation_cost(b)[0] > MAX_BITS:
        return False  # too costly to compute here: a worker decides under its deadline
    point = {
        s: POSITIVE[k % len(POSITIVE)]
        for k, s in enumerate(sorted(a.free_symbols | b.free_symbols, key=lambda s: s.name))
    }
    va, vb = gaussian(a.xreplace(point)), gaussian(b.xreplace(point))
    return va is not None and vb is not None and va != vb


def gaussian(value: sp.Basic) -> tuple[sp.Rational, sp.Rational] | None:
    """``(re, im)`` of a number ``p + q i`` with rational ``p`` and ``q``, else ``None``."""
    if value.is_Rational:
        return value, sp.S.Zero
    if value is sp.I:
        return sp.S.Zero, sp.S.One
    if (
        value.is_Mul
        and len(value.args) == 2
        and value.args[1] is sp.I
        and value.args[0].is_Rational
    ):
        return sp.S.Zero, value.args[0]
    if value.is_Add and len(value.args) == 2:
        parts = [gaussian(arg) for arg in value.args]
        if parts[0] is not None and parts[1] is not None:
            return parts[0][0] + parts[1][0], parts[0][1] + parts[1][1]
    return None


def symbolic_equal(a: sp.Expr, b: sp.Expr, rel_tol: float | None, abs_tol: float) -> bool:
    """Equal at several points; when no point can be evaluated, ``simplify`` decides."""
    checked = 0
    for point in points(a.free_symbols | b.free_symbols, signed(a, b)):
        va, vb = evaluate(a, point), evaluate(b, point)
        if va is None or vb is None:
            continue
        same = same_value(va, vb, rel_tol, abs_tol)
        if same is False:
            return False
        checked += same is True
    if checked:
        return True
    return sp.simplify(a - b) == 0
