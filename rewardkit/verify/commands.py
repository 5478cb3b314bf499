r"""LaTeX commands: fractions, roots, functions, limits, sums, ``\gcd`` and their arguments.

A mixin of the parser (:class:`~rewardkit.verify.parser._Parser` supplies the token access
and ``expr``).

>>> from rewardkit.verify.parser import parse_math
>>> parse_math(r"\sqrt[3]{-27}"), parse_math(r"\gcd(12, 18)"), parse_math(r"\sin^{-1}(x)")
(-3, 6, asin(x))
"""

from __future__ import annotations

import math

import sympy as sp

from rewardkit.verify.errors import MathParseError
from rewardkit.verify.guarded import (
    apply_function,
    binomial,
    check_scalar,
    divide,
    negate,
    power,
    root,
    rounding,
)
from rewardkit.verify.lexer import Token
from rewardkit.verify.vocabulary import (
    ARROWS,
    BINOMS,
    BP_MUL,
    CONSTANTS,
    FRACS,
    FUNCTIONS,
    GREEK,
    INTEGER_FUNCTIONS,
    INVERSE,
    NAME_MARKS,
    PM,
    SETS,
    TRANSPARENT,
)


class CommandReading:
    """Reading commands and their arguments (a mixin of the parser)."""

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

    def _command(self, tok: Token) -> sp.Basic:
        name = tok.value
        if name in FRACS:
            num = self.arg()
            den = self.arg()
            return divide(num, den)
        if name in BINOMS:
            return binomial(self.arg(), self.arg())
        if name == "sqrt":
            index = None
            if self.at("op", "["):
                self.next()
                index = self.expr(0)
                self.expect_op("]")
            radicand = self.arg()
            if index is None:
                return root(radicand, sp.Integer(2))
            return root(radicand, index)
        if name in FUNCTIONS:
            return self._function(name)
        if name in CONSTANTS:
            return CONSTANTS[name]
        if name in GREEK:
            return sp.Symbol(name)
        if name in ("boxed", "fbox") and self.at("op", "{"):
            self.next()  # a box may hold several answers: \boxed{1, -2}
            value = self._answers()
            self.expect_op("}")
            return value
        if name in ("operatorname", "mathrm") and self.at("op", "{") and self.at("op", "}", 2):
            inner = self.peek(1)
            if inner.kind == "word" and inner.value.lower() in INTEGER_FUNCTIONS:
                self.i += 3
                return self._integer_function(inner.value.lower())
            if inner.kind == "word" and inner.value.lower() in FUNCTIONS:
                self.i += 3  # \operatorname{arcsinh}(x)
                return self._function(inner.value.lower())
        if name in TRANSPARENT:
            return self.arg()
        if name in INTEGER_FUNCTIONS:
            return self._integer_function(name)
        if name in NAME_MARKS:
            return self.expr(BP_MUL)
        if name == "mathbb":
            letter = self.arg_text()
            if letter not in SETS:
                raise MathParseError(f"unknown set \\mathbb{{{letter}}}")
            return SETS[letter]
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
            return apply_function(sp.Abs, inner)
        if name in ("lfloor", "lceil"):
            inner = self.expr(0)
            close = self.next()
            want = "rfloor" if name == "lfloor" else "rceil"
            if close.kind != "cmd" or close.value != want:
                raise self.fail(close)
            return rounding(sp.floor if name == "lfloor" else sp.ceiling, inner)
        if name in ("pm", "mp"):
            return PM * self.expr(BP_MUL)
        if name == "lim":
            return self._limit()
        if name in ("sum", "prod"):
            return self._series(name)
        raise MathParseError(f"unsupported command \\{name} at {tok.pos}", reason="unsupported")

    def _function(self, name: str) -> sp.Basic:
        func = FUNCTIONS[name]
        exponent = None
        base = None
        if name == "log" and self.at("op", "_"):
            self.next()
            base = self.arg()
        if self.at("op", "^"):
            self.next()
            exponent = self.arg()
            if exponent == -1 and name in INVERSE:
                func, exponent = INVERSE[name], None
        argument = self._function_argument()
        value = (
            apply_function(func, argument)
            if base is None
            else apply_function(sp.log, argument, base)
        )
        return value if exponent is None else power(value, exponent)

    def _function_argument(self) -> sp.Basic:
        if self.at("op", "("):
            self.next()
            self.angle_arg += 1  # \sin(90^\circ - x): degrees inside are radians too
            try:
                inner = self.expr(0)
            finally:
                self.angle_arg -= 1
            self.expect_op(")")
            return inner
        self.fn_arg += 1
        try:
            return self.expr(BP_MUL)
        finally:
            self.fn_arg -= 1

    def _limit(self) -> sp.Basic:
        """``\\lim_{x \\to a} f``: an unevaluated limit (a worker evaluates it)."""
        self.expect_op("_")
        self.expect_op("{")
        var = self.next()
        arrow = self.next()
        if var.kind != "letter" or arrow.kind != "cmd" or arrow.value not in ARROWS:
            raise self.fail(arrow)
        target = self.expr(0)
        self.expect_op("}")
        body = self.expr(BP_MUL)
        check_scalar(body, target)
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
        body = self.expr(BP_MUL)
        check_scalar(body, lower, upper)
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
        check_scalar(*args)
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
            return negate(self.arg())
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
