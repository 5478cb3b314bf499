r"""Equality of parsed answers: exact numbers, structures, then symbolic checks.

Comparison runs in two modes. The fast mode decides everything whose leaves are plain
numbers (integers, fractions, decimals) and structurally identical expressions, and raises
:class:`NeedsSymbolic` otherwise; the symbolic mode (run in a sandboxed worker) also
compares expressions by evaluating them at random points with 30-digit precision, falling
back to ``simplify`` of the difference.

>>> from rewardkit.verify.parser import parse_math
>>> values_equal(parse_math(r"\{2, 1\}"), parse_math("1, 2"), VerifyOptions())
True
>>> values_equal(parse_math("(x+1)^2"), parse_math("x^2+2x+1"), VerifyOptions(), symbolic=True)
True
"""

from __future__ import annotations

import random

import sympy as sp
from sympy.core.evalf import PrecisionExhausted

from rewardkit.verify.guarded import MAX_BITS, evaluation_cost
from rewardkit.verify.options import VerifyOptions
from rewardkit.verify.parser import PM, AnswerList, evaluate_roundings

__all__ = ["NeedsSymbolic", "values_equal"]

_EXACT_DIGITS = 30  # digits of numeric evaluation where a decimal is involved
_MAX_DIGITS = 400  # working precision the sign of an exact difference may take
_POINTS = 4


class NeedsSymbolic(Exception):
    """The fast comparison met expressions only the symbolic comparison can decide."""


def values_equal(
    a: sp.Basic, b: sp.Basic, options: VerifyOptions, *, symbolic: bool = False
) -> bool:
    """Whether parsed answer ``a`` (predicted) equals ``b`` (gold).

    Collections (several answers, sets) are order-free and every element must match;
    tuples, matrices and intervals are compared in order.
    """
    if symbolic:  # in a worker, under its deadline and memory limit
        a, b = evaluate_roundings(a), evaluate_roundings(b)
    return _Comparer(options, symbolic).equal(_expand_pm(a), _expand_pm(b))


def _expand_pm(value: sp.Basic) -> sp.Basic:
    """``1 \\pm \\sqrt 2`` is the two answers ``1 + \\sqrt 2`` and ``1 - \\sqrt 2``."""
    if isinstance(value, AnswerList):
        items: list[sp.Basic] = []
        for item in value.args:
            expanded = _expand_pm(item)
            items.extend(expanded.args if isinstance(expanded, AnswerList) else [expanded])
        return AnswerList(*items)
    if isinstance(value, sp.FiniteSet) and value.has(PM):  # \{1 \pm \sqrt 5\}: both in the set
        items = []
        for item in value.args:
            expanded = _expand_pm(item)
            items.extend(expanded.args if isinstance(expanded, AnswerList) else [expanded])
        return sp.FiniteSet(*items)
    if isinstance(value, sp.Basic) and not isinstance(value, sp.MatrixBase) and value.has(PM):
        return AnswerList(value.xreplace({PM: sp.Integer(1)}), value.xreplace({PM: sp.Integer(-1)}))
    return value


def _is_collection(v: sp.Basic) -> bool:
    return isinstance(v, (AnswerList, sp.FiniteSet))


class _Comparer:
    def __init__(self, options: VerifyOptions, symbolic: bool) -> None:
        self.options = options
        self.symbolic = symbolic

    def equal(self, a: sp.Basic, b: sp.Basic) -> bool:
        if a == b and not (a.has(sp.Float) or b.has(sp.Float)):
            return True
        # an answer "x = 3" or "x \in [1, 2]" against a bare value: compare the value
        if isinstance(a, sp.Contains) and not isinstance(b, sp.Contains):
            return self.equal(a.args[1], b)
        if isinstance(b, sp.Contains) and not isinstance(a, sp.Contains):
            return self.equal(a, b.args[1])
        if isinstance(a, sp.Contains) and isinstance(b, sp.Contains):
            return self.equal(a.args[0], b.args[0]) and self.equal(a.args[1], b.args[1])
        a_set, b_set = _as_solution_set(a), _as_solution_set(b)
        if a_set is not None or b_set is not None:
            a, b = _open_interval(a), _open_interval(b)
        if (a_set is not None or b_set is not None) and (
            isinstance(a, sp.Set)
            or isinstance(b, sp.Set)
            or a_set is not None
            and b_set is not None
        ):
            if (
                a_set is not None
                and b_set is not None
                and not (isinstance(a, sp.Rel) and isinstance(b, sp.Rel))
            ):
                return self.sets_equal(a_set, b_set)
            if a_set is not None and isinstance(b, sp.Set):
                return self.sets_equal(a_set, b)
            if b_set is not None and isinstance(a, sp.Set):
                return self.sets_equal(a, b_set)
        if isinstance(a, sp.Equality) and not isinstance(b, sp.Equality):
            value = _defined_value(a, self.equal)
            return value is not None and self.equal(value, b)
        if isinstance(b, sp.Equality) and not isinstance(a, sp.Equality):
            value = _defined_value(b, self.equal)
            return value is not None and self.equal(a, value)
        if _is_collection(a) or _is_collection(b):
            return self.collections_equal(a, b)
        if isinstance(a, sp.MatrixBase) or isinstance(b, sp.MatrixBase):
            return self.matrices_equal(a, b)
        if isinstance(a, sp.Tuple) or isinstance(b, sp.Tuple):
            return self.tuples_equal(a, b)
        if isinstance(a, sp.Set) or isinstance(b, sp.Set):
            return isinstance(a, sp.Set) and isinstance(b, sp.Set) and self.sets_equal(a, b)
        if isinstance(a, sp.Equality) and isinstance(b, sp.Equality):
            return self.equations_equal(a, b)
        if isinstance(a, (sp.Rel, sp.And)) or isinstance(b, (sp.Rel, sp.And)):
            return self.relations_equal(a, b)
        if isinstance(a, sp.Expr) and isinstance(b, sp.Expr):
            return self.expressions_equal(a, b)
        return False

    # -- structures ---------------------------------------------------------------------
    def collections_equal(self, a: sp.Basic, b: sp.Basic) -> bool:
        if _is_collection(a) and _is_collection(b):
            return self.unordered_equal(list(a.args), list(b.args))
        single, many = (b, a) if _is_collection(a) else (a, b)
        if isinstance(many, sp.FiniteSet) and len(many.args) == 1:
            return (
                self.equal(many.args[0], single) if many is a else self.equal(single, many.args[0])
            )
        if isinstance(many, AnswerList) and isinstance(single, (sp.Tuple, sp.MatrixBase)):
            items = list(single) if isinstance(single, sp.MatrixBase) else list(single.args)
            return len(items) == len(many.args) and all(
                self.equal(x, y) for x, y in zip(many.args, items, strict=True)
            )
        return False

    def unordered_equal(self, xs: list[sp.Basic], ys: list[sp.Basic]) -> bool:
        """Every element matches exactly one element of the other side."""
        xs, ys = _dedup(xs), _dedup(ys)
        if len(xs) != len(ys):
            return False
        remaining = list(ys)
        for x in xs:
            for j, y in enumerate(remaining):
                if self.equal(x, y):
                    del remaining[j]
                    break
            else:
                return False
        return True

    def tuples_equal(self, a: sp.Basic, b: sp.Basic) -> bool:
        if isinstance(a, sp.Tuple) and isinstance(b, sp.Interval):
            return self.sets_equal(_open_interval(a), b)
        if isinstance(b, sp.Tuple) and isinstance(a, sp.Interval):
            return self.sets_equal(a, _open_interval(b))
        if not (isinstance(a, sp.Tuple) and isinstance(b, sp.Tuple)) or len(a) != len(b):
            return False
        return all(self.equal(x, y) for x, y in zip(a.args, b.args, strict=True))

    def matrices_equal(self, a: sp.Basic, b: sp.Basic) -> bool:
        if isinstance(a, sp.MatrixBase) and isinstance(b, sp.MatrixBase):
            if a.shape != b.shape:
                return False
        elif isinstance(a, sp.Tuple) or isinstance(b, sp.Tuple):
            matrix, other = (a, b) if isinstance(a, sp.MatrixBase) else (b, a)
            if 1 not in matrix.shape or len(matrix) != len(other):  # a vector as a tuple
                return False
        else:
            return False
        return all(self.equal(x, y) for x, y in zip(list(a), list(b), strict=True))

    def sets_equal(self, a: sp.Basic, b: sp.Basic) -> bool:
        if isinstance(a, sp.Tuple):
            a = _open_interval(a)
        if isinstance(b, sp.Tuple):
            b = _open_interval(b)
        if not (isinstance(a, sp.Set) and isinstance(b, sp.Set)):
            return False
        if a == b:
            return True
        if isinstance(a, sp.Interval) and isinstance(b, sp.Interval):
            return (
                a.left_open == b.left_open
                and a.right_open == b.right_open
                and self.equal(a.start, b.start)
                and self.equal(a.end, b.end)
            )
        if isinstance(a, sp.FiniteSet) and isinstance(b, sp.FiniteSet):
            return self.unordered_equal(list(a.args), list(b.args))
        if isinstance(a, sp.Union) and isinstance(b, sp.Union):
            return self.unordered_equal(list(a.args), list(b.args))
        return False

    def equations_equal(self, a: sp.Equality, b: sp.Equality) -> bool:
        if _is_variable(a.lhs) and a.lhs == b.lhs:
            return self.equal(a.rhs, b.rhs)
        if _is_variable(a.rhs) and a.rhs == b.rhs:
            return self.equal(a.lhs, b.lhs)
        # equal up to a nonzero scale: (l1 - r1) = c (l2 - r2)
        return self.proportional(a.lhs - a.rhs, b.lhs - b.rhs, positive=False)

    def relations_equal(self, a: sp.Basic, b: sp.Basic) -> bool:
        na, nb = _normal_inequality(a), _normal_inequality(b)
        if na is None or nb is None or na[1] != nb[1]:
            return False
        return self.proportional(na[0], nb[0], positive=True)

    # -- expressions ------------------------------------------------------------------------
    def expressions_equal(self, a: sp.Expr, b: sp.Expr) -> bool:
        if a.is_Number and b.is_Number:
            return self.numbers_equal(a, b)
        if not self.symbolic:
            if _differ_at_a_point(a, b):
                return False
            raise NeedsSymbolic
        if a.has(sp.Limit, sp.Sum, sp.Product) or b.has(sp.Limit, sp.Sum, sp.Product):
            a, b = a.doit(), b.doit()  # in a worker, under its deadline
            if a.is_Number and b.is_Number:
                return self.numbers_equal(a, b)
        return _symbolic_equal(a, b, self.tolerance(a, b), self.options.abs_tol)

    def numbers_equal(self, a: sp.Number, b: sp.Number) -> bool:
        if a.is_Rational and b.is_Rational or not (a.is_finite and b.is_finite):
            return a == b
        return bool(_same_value(a, b, self.options.rel_tol, self.options.abs_tol))

    def tolerance(self, a: sp.Basic, b: sp.Basic) -> float | None:
        """The relative tolerance between two values: ``None`` (exact) unless one of them
        was written as a decimal."""
        if a.has(sp.Float) or b.has(sp.Float):
            return self.options.rel_tol
        return None

    def proportional(self, a: sp.Expr, b: sp.Expr, *, positive: bool) -> bool:
        """``a = c * b`` for a nonzero constant ``c`` (positive if asked)."""
        if a == b:
            return True
        if not self.symbolic:
            raise NeedsSymbolic
        tol = self.tolerance(a, b)
        ratio = None
        for point in _points(a.free_symbols | b.free_symbols, _signed(a, b)):
            va, vb = _evaluate(a, point), _evaluate(b, point)
            if va is None or vb is None:
                continue
            a_zero, b_zero = _same_value(va, sp.S.Zero, tol), _same_value(vb, sp.S.Zero, tol)
            if a_zero or b_zero:
                if a_zero != b_zero:
                    return False
                continue
            r = va / vb
            if ratio is None:
                ratio = r
            elif _same_value(r, ratio, tol) is False:
                return False
        if ratio is None:
            return False
        if not positive:
            return True
        value = ratio.evalf(_EXACT_DIGITS)
        return bool(value.is_real and value > 0)


def _dedup(items: list[sp.Basic]) -> list[sp.Basic]:
    seen: list[sp.Basic] = []
    for item in items:
        if item not in seen:
            seen.append(item)
    return seen


def _is_variable(v: sp.Basic) -> bool:
    if isinstance(v, sp.Tuple):
        return len(v) > 0 and all(_is_variable(x) for x in v.args)
    return isinstance(v, sp.Symbol) or (
        isinstance(v, sp.Function) and len(v.args) == 1 and isinstance(v.args[0], sp.Symbol)
    )


def _defined_value(eq: sp.Equality, equal) -> sp.Basic | None:
    """The value an equation gives: ``x = 3`` and ``3 = x`` give 3; a worked ``2+3 = 5``
    (no variables) gives its right side only when it holds, so ``3 = 4`` gives nothing."""
    lhs, rhs = eq.args
    if _is_variable(lhs):
        return rhs
    if _is_variable(rhs):
        return lhs
    if not lhs.free_symbols and not rhs.free_symbols:
        return rhs if equal(lhs, rhs) else None
    return None


def _not_real(value: sp.Basic) -> bool:
    """Known not to be a real number (plain numbers are answered without sympy's
    assumption system, which may test a big integer for primality)."""
    if value.is_Number:
        return not (value.is_Rational or value.is_Float or value in (sp.oo, -sp.oo))
    return value.is_extended_real is False


def _open_interval(t: sp.Basic) -> sp.Basic:
    if isinstance(t, sp.Tuple) and len(t) == 2 and all(not _not_real(x) for x in t.args):
        try:
            return sp.Interval.open(t.args[0], t.args[1])
        except (TypeError, ValueError):
            return t
    return t


_FLIP = {
    sp.StrictLessThan: (">", True),
    sp.StrictGreaterThan: (">", False),
    sp.LessThan: (">=", True),
    sp.GreaterThan: (">=", False),
}


def _normal_inequality(rel: sp.Basic) -> tuple[sp.Expr, str] | None:
    """``a < b`` as ``(b - a, '>')``: a difference that is positive (or non-negative)."""
    for cls, (kind, flip) in _FLIP.items():
        if isinstance(rel, cls):
            lhs, rhs = rel.args
            return (rhs - lhs, kind) if flip else (lhs - rhs, kind)
    if isinstance(rel, sp.Ne):
        return (rel.lhs - rel.rhs, "!=")
    return None


def _as_solution_set(value: sp.Basic) -> sp.Basic | None:
    """The set of one variable described by inequalities (``1 < x < 2`` is (1, 2))."""
    if (
        isinstance(value, AnswerList)
        and value.args
        and all(
            isinstance(v, (sp.Rel, sp.And)) and not isinstance(v, sp.Equality) for v in value.args
        )
    ):
        parts = [_as_solution_set(v) for v in value.args]
        return None if any(p is None for p in parts) else sp.Union(*parts)
    if isinstance(value, sp.And):
        parts = [_as_solution_set(v) for v in value.args]
        return None if any(p is None for p in parts) else sp.Intersection(*parts)
    if not isinstance(value, sp.Rel) or isinstance(value, sp.Equality):
        return None
    lhs, rhs = value.args
    if isinstance(value, sp.Ne):  # x \ne 3: everything but 3
        if _is_variable(rhs):
            lhs, rhs = rhs, lhs
        if not _is_variable(lhs) or rhs.free_symbols or _not_real(rhs):
            return None
        return sp.Union(sp.Interval.open(-sp.oo, rhs), sp.Interval.open(rhs, sp.oo))
    cls = type(value)
    if _is_variable(rhs) and not _is_variable(lhs):
        lhs, rhs = rhs, lhs
        cls = {
            sp.StrictLessThan: sp.StrictGreaterThan,
            sp.StrictGreaterThan: sp.StrictLessThan,
            sp.LessThan: sp.GreaterThan,
            sp.GreaterThan: sp.LessThan,
        }[cls]
    if not _is_variable(lhs) or rhs.free_symbols or _not_real(rhs):
        return None
    if cls is sp.StrictLessThan:
        return sp.Interval.open(-sp.oo, rhs)
    if cls is sp.LessThan:
        return sp.Interval(-sp.oo, rhs)
    if cls is sp.StrictGreaterThan:
        return sp.Interval.open(rhs, sp.oo)
    return sp.Interval(rhs, sp.oo)


# Exact rational points: a polynomial or rational function evaluates to an exact number, so
# no rounding can make x^100 look equal to x^100 + 1.
_POSITIVE = tuple(
    sp.Rational(p, q)
    for p, q in ((7, 5), (11, 13), (17, 7), (5, 3), (19, 11), (13, 17), (23, 9), (3, 7))
)
_SIGNED = tuple(
    sp.Rational(p, q)
    for p, q in ((-7, 5), (11, 13), (-17, 7), (-5, 3), (19, 11), (-13, 17), (-23, 9), (3, 7))
)


def _points(symbols: set[sp.Symbol], signed: bool = False) -> list[dict[sp.Symbol, sp.Rational]]:
    """Points to evaluate expressions at: positive ones (as graders read
    ``\\sqrt{x}\\sqrt{y} = \\sqrt{xy}``), and also negative ones when ``signed`` (an
    absolute value or a floor is only told apart from its argument there)."""
    ordered = sorted(symbols, key=lambda s: s.name)
    if not ordered:
        return [{}]
    rng = random.Random(20240917)
    values = [_POSITIVE] + ([_SIGNED] if signed else [])
    return [{s: rng.choice(pool) for s in ordered} for pool in values for _ in range(_POINTS)]


def _signed(*exprs: sp.Basic) -> bool:
    return any(e.has(sp.Abs, sp.floor, sp.ceiling, sp.sign) for e in exprs)


def _evaluate(expr: sp.Expr, point: dict[sp.Symbol, sp.Rational]) -> sp.Expr | None:
    """The exact value of ``expr`` at ``point``, or ``None`` where it is undefined."""
    value = expr.xreplace(point) if point else expr
    if not value.is_number or value.has(sp.nan, sp.zoo, sp.oo, -sp.oo):
        return None
    return value


def _same_value(a: sp.Expr, b: sp.Expr, rel_tol: float | None, abs_tol: float = 0.0) -> bool | None:
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
        va, vb = a.evalf(_EXACT_DIGITS), b.evalf(_EXACT_DIGITS)
        if not (va.is_number and vb.is_number):
            return None
        gap = abs(va - vb)
        return bool(gap <= rel_tol * max(abs(va), abs(vb)) or gap <= abs_tol)
    except PrecisionExhausted:
        return True  # no significant digit in the difference: zero
    except (TypeError, ValueError, ArithmeticError):
        return None


def _differ_at_a_point(a: sp.Expr, b: sp.Expr) -> bool:
    """Whether two plain expressions (numbers, names, integer powers) take different exact
    values at one rational point: then they differ, no symbolic work needed. ``False``
    means "cannot tell here", never "equal"."""
    if a.has(sp.Float) or b.has(sp.Float):
        return False
    if evaluation_cost(a)[0] + evaluation_cost(b)[0] > MAX_BITS:
        return False  # too costly to compute here: a worker decides under its deadline
    point = {
        s: _POSITIVE[k % len(_POSITIVE)]
        for k, s in enumerate(sorted(a.free_symbols | b.free_symbols, key=lambda s: s.name))
    }
    va, vb = _gaussian(a.xreplace(point)), _gaussian(b.xreplace(point))
    return va is not None and vb is not None and va != vb


def _gaussian(value: sp.Basic) -> tuple[sp.Rational, sp.Rational] | None:
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
        parts = [_gaussian(arg) for arg in value.args]
        if parts[0] is not None and parts[1] is not None:
            return parts[0][0] + parts[1][0], parts[0][1] + parts[1][1]
    return None


def _symbolic_equal(a: sp.Expr, b: sp.Expr, rel_tol: float | None, abs_tol: float) -> bool:
    """Equal at several points; when no point can be evaluated, ``simplify`` decides."""
    checked = 0
    for point in _points(a.free_symbols | b.free_symbols, _signed(a, b)):
        va, vb = _evaluate(a, point), _evaluate(b, point)
        if va is None or vb is None:
            continue
        same = _same_value(va, vb, rel_tol, abs_tol)
        if same is False:
            return False
        checked += same is True
    if checked:
        return True
    return sp.simplify(a - b) == 0
