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

import sympy as sp

from rewardkit.verify.labels import (
    bind_variable,
    distinct,
    function_definition,
    labels,
    rounds_to,
)
from rewardkit.verify.numerals import decimal
from rewardkit.verify.numeric import (
    EXACT_DIGITS,
    differ_at_a_point,
    evaluate,
    points,
    same_value,
    signed,
    symbolic_equal,
)
from rewardkit.verify.options import VerifyOptions
from rewardkit.verify.parser import PM, AnswerList, evaluate_roundings
from rewardkit.verify.vocabulary import Ratio, is_name

__all__ = ["NeedsSymbolic", "values_equal"]


class NeedsSymbolic(Exception):
    """The fast comparison met expressions only the symbolic comparison can decide."""


def values_equal(
    a: sp.Basic,
    b: sp.Basic,
    options: VerifyOptions,
    *,
    symbolic: bool = False,
    written: tuple[str, ...] = (),
) -> bool:
    """Whether parsed answer ``a`` (predicted) equals ``b`` (gold).

    Collections (several answers, sets) are order-free and every element must match;
    tuples, matrices and intervals are compared in order; labelled answers position by
    position. ``written``: the prediction's decimals as written (for
    ``decimals="as_written"``: the order of ``a`` and ``b`` matters, only a predicted
    decimal may stand for an exact gold it rounds to).
    """
    if symbolic:  # in a worker, under its deadline and memory limit
        a, b = evaluate_roundings(a), evaluate_roundings(b)
    return _Comparer(options, symbolic, written).equal(_expand_pm(a), _expand_pm(b))


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
    def __init__(self, options: VerifyOptions, symbolic: bool, written: tuple[str, ...]) -> None:
        self.options = options
        self.symbolic = symbolic
        # each predicted decimal, by its value, with its digits as written
        self.written = {decimal(text): text for text in written}
        # 33.3\% is the decimal 0.333 as written: the same digits two places further right
        self.written.update({decimal(t) * _PERCENT: _percent_text(t) for t in written})

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
        if isinstance(a, Ratio) or isinstance(b, Ratio):
            return self.ratios_equal(a, b)
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
            return value is not None and self.equal(bind_variable(a, value, b), b)
        if isinstance(b, sp.Equality) and not isinstance(a, sp.Equality):
            value = _defined_value(b, self.equal)
            return value is not None and self.equal(a, bind_variable(b, value, a))
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
        if isinstance(a, AnswerList) and isinstance(b, AnswerList):
            labelled = self.labelled_equal(list(a.args), list(b.args))
            if labelled is not None:
                return labelled
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

    def labelled_equal(self, xs: list[sp.Basic], ys: list[sp.Basic]) -> bool | None:
        """Answers labelled with different names (``a = 2, b = 5``): name by name against the
        same labels, else position by position; ``None`` when no side is labelled so."""
        lx, ly = labels(xs), labels(ys)
        if not (lx is not None and distinct(lx) or ly is not None and distinct(ly)):
            return None
        if len(xs) != len(ys):
            return False
        if lx is not None and ly is not None and {n for n, _ in lx} == {n for n, _ in ly}:
            values = dict(ly)
            return all(self.equal(value, values[name]) for name, value in lx)
        return all(self.equal(x, y) for x, y in zip(xs, ys, strict=True))

    def ratios_equal(self, a: sp.Basic, b: sp.Basic) -> bool:
        """Ratios in the same proportion (``6:8`` is ``3:4``); a two-term ratio is also the
        number it makes (``3:4`` is ``\\frac{3}{4}``, ``4:1`` is ``4``)."""
        if isinstance(a, Ratio) and isinstance(b, Ratio):
            n = len(a.args)
            return len(b.args) == n and all(
                self.equal(a.args[i] * b.args[j], b.args[i] * a.args[j])
                for i in range(n)
                for j in range(i + 1, n)
            )
        ratio, other = (a, b) if isinstance(a, Ratio) else (b, a)
        if len(ratio.args) != 2 or ratio.args[1] == 0 or not isinstance(other, sp.Expr):
            return False
        value = ratio.args[0] / ratio.args[1]
        return self.equal(value, other) if ratio is a else self.equal(other, value)

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
        fa, fb = function_definition(a), function_definition(b)
        if fa and fb and a.lhs != b.lhs and any(isinstance(e.lhs, sp.Function) for e in (a, b)):
            # y = 3x - 1 and f(x) = 3x - 1; g(t) = t^2 and g(u) = u^2
            (va, ra), (vb, rb) = fa, fb
            if va is not None and vb is not None and va != vb:
                ra = ra.xreplace({va: vb})
            return self.equal(ra, rb)
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
        if a.is_Float and self.rounds_to_written(a, b):
            return True
        if a.is_Number and b.is_Number:
            return self.numbers_equal(a, b)
        if not self.symbolic:
            if differ_at_a_point(a, b):
                return False
            raise NeedsSymbolic
        if a.has(sp.Limit, sp.Sum, sp.Product) or b.has(sp.Limit, sp.Sum, sp.Product):
            a, b = a.doit(), b.doit()  # in a worker, under its deadline
            if a.is_Number and b.is_Number:
                return self.numbers_equal(a, b)
        return symbolic_equal(a, b, self.tolerance(a, b), self.options.abs_tol)

    def numbers_equal(self, a: sp.Number, b: sp.Number) -> bool:
        if a.is_Rational and b.is_Rational or not (a.is_finite and b.is_finite):
            return a == b
        return bool(same_value(a, b, self.options.rel_tol, self.options.abs_tol))

    def rounds_to_written(self, a: sp.Float, b: sp.Expr) -> bool:
        """``decimals="as_written"``: the predicted decimal ``a`` is the exact gold ``b``
        rounded to the places it was written with (``3.14`` for ``\\frac{22}{7}``)."""
        if self.options.decimals != "as_written" or b.has(sp.Float) or b.free_symbols:
            return False
        text = self.written.get(abs(a))
        return text is not None and rounds_to(b, text, negative=bool(a < 0))

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
        for point in points(a.free_symbols | b.free_symbols, signed(a, b)):
            va, vb = evaluate(a, point), evaluate(b, point)
            if va is None or vb is None:
                continue
            a_zero, b_zero = same_value(va, sp.S.Zero, tol), same_value(vb, sp.S.Zero, tol)
            if a_zero or b_zero:
                if a_zero != b_zero:
                    return False
                continue
            r = va / vb
            if ratio is None:
                ratio = r
            elif same_value(r, ratio, tol) is False:
                return False
        if ratio is None:
            return False
        if not positive:
            return True
        value = ratio.evalf(EXACT_DIGITS)
        return bool(value.is_real and value > 0)


_PERCENT = sp.Rational(1, 100)


def _percent_text(text: str) -> str:
    """``33.3`` as the decimal its percent is, ``0.333``."""
    whole, _, places = text.partition(".")
    digits = whole.rjust(3, "0") + places
    return f"{digits[: -2 - len(places)].lstrip('0') or '0'}.{digits[-2 - len(places) :]}"


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
    if is_name(lhs) and not rhs.free_symbols:  # AB = 6, P(A) = 1/3: a named quantity
        return rhs
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
