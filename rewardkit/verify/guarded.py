r"""Guarded sympy arithmetic: every operation checks sizes before sympy computes anything.

sympy computes exactly and eagerly: ``2^{10^9}`` or the floor of a huge transcendental number
would take hours and gigabytes. Each constructor here bounds its result first and raises
:class:`MathParseError` (reason ``too_large``) on what would be too costly.

>>> power(sp.Integer(2), sp.Integer(10))
1024
>>> power(sp.Integer(2), sp.Integer(10**7))
Traceback (most recent call last):
...
rewardkit.verify.errors.MathParseError: power too large
"""

from __future__ import annotations

import math
from functools import lru_cache

import sympy as sp

from rewardkit.verify.errors import MathParseError

MAX_RECURSION = 120  # nested sub-expressions the parser descends into
MAX_EXPONENT = 10_000  # largest integer exponent of a non-numeric base
MAX_BITS = 200_000  # largest exact number a power may produce
MAX_FACTORIAL = 5_000
MAX_ROOT_BITS = 1_000  # exact roots are looked for only in numbers up to this size
CHEAP_ON_BIG = (sp.Abs,)  # functions that stay cheap on huge arguments
MAX_MATRIX_NODES = 20_000  # expression nodes a product of matrices may build
_NAME_BITS = 5  # a name stands for a small rational point (23/9 and the like) ...
_NAME_LOG2 = 2  # ... of magnitude under 4
_EXPONENTIAL = (sp.exp, sp.sinh, sp.cosh)
_GROWING = (sp.factorial, sp.binomial, sp.gamma, sp.RisingFactorial, sp.FallingFactorial)


def evaluation_cost(expr: sp.Basic) -> tuple[float, float]:
    """``(bits, log2 magnitude)``: upper estimates of the exact number ``expr`` becomes
    when its names are replaced by small rationals, computed from the tree without
    evaluating anything. Chains of powers multiply their exponents, factorials grow with
    the magnitude of their argument; ``inf`` when it is astronomically large.

    >>> x = sp.Symbol("x")
    >>> evaluation_cost(x**3)
    (16.0, 6.0)
    >>> evaluation_cost(sp.factorial(5000000 * x))[0] > MAX_BITS
    True
    """
    if isinstance(expr, sp.MatrixBase):
        costs = [evaluation_cost(e) for e in expr]
        return float(sum(c[0] for c in costs)), max((c[1] for c in costs), default=0.0)
    return _cost(expr)


@lru_cache(maxsize=4096)
def _cost(e: sp.Basic) -> tuple[float, float]:
    if e.is_Rational:
        return float(bits(e)), float(max(e.p.bit_length() - e.q.bit_length() + 1, 0))
    if e.is_Float:
        return float(e._prec), float(max(sp.Abs(e).evalf(5).round().p.bit_length(), 0))
    if not e.args:
        return float(_NAME_BITS), float(_NAME_LOG2)
    args = [_cost(a) for a in e.args if isinstance(a, sp.Basic)]
    total = float(sum(a[0] for a in args))
    if e.is_Add:
        return total, max(a[1] for a in args) + math.log2(len(args))
    if e.is_Mul:
        return total, float(sum(a[1] for a in args))
    if e.is_Pow:
        (base_bits, base_log), (_, exp_log) = args
        times = abs(float(e.exp.p)) if e.exp.is_Rational else 2.0 ** min(exp_log, 1000)
        return base_bits * times + 1, base_log * times
    if isinstance(e, _EXPONENTIAL):  # |exp(a)| < 2^(1.45 |a|)
        return total, 1.45 * 2.0 ** min(max(a[1] for a in args), 1000)
    if isinstance(e, _GROWING):
        n = 2.0 ** min(max(a[1] for a in args), 1000)  # how far the product runs
        return n * (max(a[0] for a in args) + math.log2(n + 1)), n * math.log2(n + 1)
    return total, float(sum(a[1] for a in args))


def number_bits(expr: sp.Basic) -> int:
    """Total size of the exact numbers in ``expr`` (a bound on the memory it takes)."""
    if isinstance(expr, sp.MatrixBase):
        return sum(number_bits(x) for x in expr)
    return sum(bits(n) for n in expr.atoms(sp.Rational))


def check_size(value: sp.Basic) -> sp.Basic:
    if value.is_Rational and max(value.p.bit_length(), value.q.bit_length()) > MAX_BITS:
        raise MathParseError("number too large", reason="too_large")
    if value.has(sp.nan, sp.zoo):
        raise MathParseError("undefined value (division by zero)")
    return value


def apply_function(func: type[sp.Function], *args: sp.Basic) -> sp.Basic:
    """A function from the fixed table applied to checked scalar arguments.

    sympy evaluates functions of huge numbers numerically to many digits (the sign of
    ``\\sin(10^{50000})`` needs 50,000 digits of pi): their arguments must stay small, and
    ``|.|``, floor and ceiling evaluate only on plain numbers.
    """
    check_scalar(*args)
    if any(max_bits(arg) > MAX_ROOT_BITS for arg in args) and func not in CHEAP_ON_BIG:
        raise MathParseError("function of a number too large", reason="too_large")
    if func is sp.Abs and not args[0].is_Number:
        return sp.Abs(*args, evaluate=False)
    return check_size(func(*args))


class Floor(sp.Function):
    """``\\lfloor x \\rfloor`` kept unevaluated: sympy's floor of a transcendental number
    can simplify its way into astronomically large powers. A worker evaluates it."""

    nargs = 1


class Ceiling(sp.Function):
    """``\\lceil x \\rceil`` kept unevaluated (see :class:`Floor`)."""

    nargs = 1


def rounding(func: type[sp.Function], arg: sp.Basic) -> sp.Basic:
    """Floor or ceiling: computed at once for plain numbers, kept for a worker otherwise."""
    check_scalar(arg)
    if arg.is_Rational or arg.is_Float:
        return func(arg)
    if max_bits(arg) > MAX_ROOT_BITS:
        raise MathParseError("floor of a number too large", reason="too_large")
    return (Floor if func is sp.floor else Ceiling)(arg)


def evaluate_roundings(value: sp.Basic) -> sp.Basic:
    """:class:`Floor` and :class:`Ceiling` as sympy's own (slow on some inputs: workers only)."""
    if isinstance(value, sp.Basic) and value.has(Floor, Ceiling):
        return value.replace(Floor, sp.floor).replace(Ceiling, sp.ceiling)
    return value


def max_bits(value: sp.Basic) -> int:
    return max((bits(n) for n in value.atoms(sp.Rational)), default=0)


def negate(a: sp.Basic) -> sp.Basic:
    if isinstance(a, sp.MatrixBase):
        return -a
    check_scalar(a)
    return -a


def add(a: sp.Basic, b: sp.Basic) -> sp.Basic:
    check_scalar(a, b)
    return a + b


def multiply(a: sp.Basic, b: sp.Basic) -> sp.Basic:
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
                check_scalar(v)
        both = isinstance(a, sp.MatrixBase) and isinstance(b, sp.MatrixBase)
        if both and a.shape[1] != b.shape[0]:
            raise MathParseError("matrix shapes do not match")
        if _product_nodes(a, b) > MAX_MATRIX_NODES:
            raise MathParseError("matrix product too large", reason="too_large")
        return a * b
    check_scalar(a, b)
    if a.is_Rational and b.is_Rational and a.p.bit_length() + b.p.bit_length() > MAX_BITS:
        raise MathParseError("number too large", reason="too_large")
    if not (a.is_Rational or b.is_Rational) and radicand_bits(a) + radicand_bits(b) > (
        MAX_ROOT_BITS
    ):
        raise MathParseError("roots of numbers too large", reason="too_large")
    return check_size(sp.Mul(a, b))


def _product_nodes(a: sp.Basic, b: sp.Basic) -> int:
    """Nodes of ``a * b`` for matrices: each entry of a product sums ``inner`` products of
    entries, so chained products of symbolic matrices grow geometrically."""
    if not (isinstance(a, sp.MatrixBase) and isinstance(b, sp.MatrixBase)):
        matrix = a if isinstance(a, sp.MatrixBase) else b
        other = b if matrix is a else a
        return len(matrix) * (_largest_entry(matrix) + _nodes(other) + 2)
    rows, inner = a.shape
    return rows * b.shape[1] * inner * (_largest_entry(a) + _largest_entry(b) + 2)


def _largest_entry(matrix: sp.MatrixBase) -> int:
    return max((_nodes(e) for e in matrix), default=1)


def _nodes(expr: sp.Basic) -> int:
    return sum(1 for _ in sp.preorder_traversal(expr))


def check_scalar(*values: sp.Basic) -> None:
    for v in values:
        if not isinstance(v, sp.Expr) or isinstance(v, sp.Tuple):
            raise MathParseError(f"arithmetic on a {type(v).__name__}")


def divide(a: sp.Basic, b: sp.Basic) -> sp.Basic:
    check_scalar(a, b)
    if b == 0:
        raise MathParseError("division by zero")
    return multiply(a, power(b, sp.Integer(-1)))


def power(base: sp.Basic, exponent: sp.Basic) -> sp.Basic:
    """``base ** exponent`` after checking the result stays small."""
    check_scalar(base, exponent)
    if exponent.is_Integer and base.is_Rational:
        if base not in (0, 1, -1) and abs(int(exponent)) * bits(base) > MAX_BITS:
            raise MathParseError("power too large", reason="too_large")
        if base == 0 and exponent < 0:
            raise MathParseError("division by zero")
    elif exponent.is_Integer and (
        abs(int(exponent)) > MAX_EXPONENT or abs(int(exponent)) * max_bits(base) > MAX_BITS
    ):
        # sympy distributes a power over the numbers in its base: (x/N)^k holds N^k
        raise MathParseError("exponent too large", reason="too_large")
    elif (
        exponent.is_Rational
        and not exponent.is_Integer
        and (
            exponent.q > MAX_EXPONENT
            or base.is_Rational
            and bits(base) * abs(exponent) > MAX_BITS
            or not base.is_Rational
            and abs(exponent) * max(max_bits(base), 1) > MAX_BITS
        )
    ):
        raise MathParseError("root too deep or power too large", reason="too_large")
    elif (
        not exponent.is_Rational
        and max_bits(exponent) > MAX_ROOT_BITS
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
        and bits(base) > MAX_ROOT_BITS
    ):
        # sympy looks for exact roots of a number by factoring it: too slow for big ones
        raise MathParseError("root of a number too large", reason="too_large")
    return check_size(_check_chain(sp.Pow(base, exponent)))


def _check_chain(value: sp.Basic) -> sp.Basic:
    """sympy merges ``(x^a)^b`` into ``x^{ab}``: each exponent passed alone, the product
    must pass too (``x^{9999}^{999}`` is ``x^{9989001}``)."""
    if value.is_Pow and value.exp.is_Integer and not value.base.is_Rational:
        times = abs(int(value.exp))
        if times > MAX_EXPONENT or times * max(evaluation_cost(value.base)[0], 1) > MAX_BITS:
            raise MathParseError("power too large", reason="too_large")
    return value


def bits(value: sp.Rational) -> int:
    return max(value.p.bit_length(), value.q.bit_length())


def radicand_bits(value: sp.Basic) -> int:
    """Size of the numbers under roots in ``value``: sympy multiplies roots together
    (``\\sqrt 2 \\sqrt 3 = \\sqrt 6``) and then looks for an exact root of the product."""
    return sum(
        bits(p.base)
        for p in value.atoms(sp.Pow)
        if p.base.is_Rational and p.exp.is_Rational and not p.exp.is_Integer
    )


def root(radicand: sp.Basic, index: sp.Basic) -> sp.Basic:
    """The ``index``-th root; the real one of a negative number for odd indices
    (``\\sqrt[3]{-27} = -3``)."""
    check_scalar(radicand, index)
    if index == 0:
        raise MathParseError("root of index zero")
    # compare the value directly: sympy's assumption system may test a big number for primality
    if index.is_Integer and index % 2 == 1 and radicand.is_Rational and radicand < 0:
        return negate(power(negate(radicand), 1 / index))
    return power(radicand, 1 / index)


def remainder(a: sp.Basic, b: sp.Basic) -> sp.Basic:
    """``a \\bmod b`` of two integers (the remainder has the sign of ``b``)."""
    check_scalar(a, b)
    if not (a.is_Integer and b.is_Integer):
        raise MathParseError("mod of something that is not an integer")
    if b == 0:
        raise MathParseError("mod zero")
    return sp.Integer(int(a) % int(b))


def factorial(n: sp.Basic) -> sp.Basic:
    check_scalar(n)
    if n.is_Integer:
        if n < 0:
            raise MathParseError("factorial of a negative number")
        if n > MAX_FACTORIAL:
            raise MathParseError("factorial too large", reason="too_large")
        return sp.Integer(math.factorial(int(n)))
    if n.is_number:
        raise MathParseError("factorial of a non-integer")
    _check_growth(n)
    return sp.factorial(n)


def _check_growth(*args: sp.Basic) -> None:
    r"""A factorial or binomial of a symbolic argument that becomes a huge integer at a
    point (``(5 \cdot 10^6 x)!``) would be computed exactly by any evaluation."""
    if any(2.0 ** min(evaluation_cost(a)[1], 1000) > MAX_FACTORIAL * 20 for a in args):
        raise MathParseError("factorial too large", reason="too_large")


def binomial(n: sp.Basic, k: sp.Basic) -> sp.Basic:
    check_scalar(n, k)
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
    _check_growth(k if k.is_Integer else n)
    return sp.binomial(n, k)


def interval(a: sp.Basic, b: sp.Basic, left_open: bool, right_open: bool) -> sp.Basic:
    check_scalar(a, b)
    if any(not v.is_Rational and v.is_extended_real is False for v in (a, b)):
        raise MathParseError("interval with a non-real end")
    return sp.Interval(a, b, left_open, right_open)


def as_set(value: sp.Basic) -> sp.Basic:
    """A set operand: ``(a, b)`` next to a set operator is an open interval."""
    if isinstance(value, sp.Tuple) and len(value) == 2:
        return interval(value[0], value[1], True, True)
    if isinstance(value, sp.Set):
        return value
    raise MathParseError(f"set operation on a {type(value).__name__}")
