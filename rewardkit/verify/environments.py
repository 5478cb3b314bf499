r"""Brackets, sets and environments: tuples, intervals, ``\{...\}`` and matrices.

A mixin of the parser (:class:`~rewardkit.verify.parser._Parser` supplies the token access
and ``expr``).

>>> from rewardkit.verify.parser import parse_math
>>> parse_math("[1, 2)"), parse_math(r"\{1, 2\}"), parse_math("(1, 2, 3)")
(Interval.Ropen(1, 2), {1, 2}, (1, 2, 3))
"""

from __future__ import annotations

import sympy as sp

from rewardkit.verify.errors import MathParseError
from rewardkit.verify.guarded import check_scalar, interval
from rewardkit.verify.lexer import Token
from rewardkit.verify.vocabulary import MATRICES


class StructureReading:
    """Reading brackets, sets and environments (a mixin of the parser)."""

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
            return interval(items[0], items[1], opener == "(", close.value == ")")
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
        if tok.value not in MATRICES:
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
            check_scalar(*row)
        return sp.ImmutableMatrix(rows)
