r"""Structures: answer lists and ratios, brackets, sets and environments (tuples,
intervals, ``\{...\}``, matrices).

A mixin of the parser (:class:`~rewardkit.verify.parser._Parser` supplies the token access
and ``expr``).

>>> from rewardkit.verify.parser import parse_math
>>> parse_math("[1, 2)"), parse_math(r"\{1, 2\}"), parse_math("(1, 2, 3)")
(Interval.Ropen(1, 2), {1, 2}, (1, 2, 3))
>>> parse_math(r"3, 4 \text{ and } 5"), parse_math("3:4")
((3, 4, 5), (3, 4))
"""

from __future__ import annotations

import sympy as sp

from rewardkit.verify.errors import MathParseError
from rewardkit.verify.guarded import check_scalar, interval
from rewardkit.verify.lexer import Token
from rewardkit.verify.vocabulary import MATRICES, SEPARATOR_WORDS, AnswerList, Ratio, text_kind


def _is_condition(value: sp.Basic) -> bool:
    """An inequality (or a chain of them): ``and`` between conditions is their conjunction."""
    return isinstance(value, (sp.Rel, sp.And)) and not isinstance(value, sp.Equality)


class StructureReading:
    """Reading answer lists, ratios, brackets, sets and environments (a mixin of the parser)."""

    def _answers(self) -> sp.Basic:
        """One answer, a ratio, or several answers separated by ``,`` ``;`` ``and`` ``or``
        ``\\quad``, ``\\\\`` or a line break, up to the end of the text or of its group."""
        self._skip_leading_relation()
        first = self.expr(0)
        if self.at("op", ":"):
            return self._ratio(first)
        items, joins = [first], set()
        while self._at_separator():
            while self._at_separator():  # 3, 4, and 5: a comma and a word
                joins.add(self.next().value.strip().lower())
            if self.at("eof") or self.at("op", "}"):
                break
            self._skip_leading_relation()
            items.append(self.expr(0))
        if len(items) == 1:
            return first
        if joins == {"and"} and all(_is_condition(item) for item in items):
            return sp.And(*items, evaluate=False)  # x > 2 and x < 5: both hold
        return AnswerList(*items)

    def _at_separator(self) -> bool:
        tok = self.peek()
        if tok.kind == "op":
            return tok.value in ",;"
        if tok.kind == "word":
            return tok.value.lower() in SEPARATOR_WORDS
        if tok.kind == "text":
            return text_kind(tok.value) == "separator"
        if tok.kind == "cmd":
            return tok.value in ("quad", "qquad")
        return tok.kind == "rowsep"  # 3 \\ 4 outside an environment: one value a line

    def _ratio(self, first: sp.Basic) -> sp.Basic:
        """``3:4``, ``1:2:3``: a ratio of numbers or expressions."""
        terms = [first]
        while self.at("op", ":"):
            self.next()
            terms.append(self.expr(0))
        check_scalar(*terms)
        if all(t == 0 for t in terms):
            raise MathParseError("a ratio of zeros")
        return Ratio(*terms)

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
        state = self._state()
        try:
            return self._matrix(tok)
        except MathParseError:
            self._restore(state)
            joined = self._joined_environment(tok)
            if joined is None:
                raise
            return joined

    def _matrix(self, tok: Token) -> sp.Basic:
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

    def _joined_environment(self, tok: Token) -> sp.Basic | None:
        """One column whose rows are not values each (``2 \\\\ + \\\\ \\sqrt{3}``, a model
        putting every token on its own row): the rows read as one answer, or ``None``."""
        depth, j = 0, self.i
        while j < len(self.tokens):
            t = self.tokens[j]
            if t.kind == "begin":
                depth += 1
            elif t.kind == "end":
                if depth == 0:
                    break
                depth -= 1
            elif t.kind == "eof" or (t.kind == "op" and t.value == "&"):
                return None
            j += 1
        else:
            return None
        if self.tokens[j].value != tok.value:
            return None
        inner = [t for t in self.tokens[self.i : j] if t.kind != "rowsep"]
        value = self._sub_parse_tokens(inner + [Token("eof", "", self.tokens[j].pos)], whole=True)
        self.i = j + 1
        return value

    def _state(self) -> tuple:
        """What a failed attempt may have changed (see :meth:`_restore`)."""
        notes = (self.units, self.bases, self.moduli, self.decimals)
        flags = (self.i, self.depth, self.abs_depth, self.fn_arg, self.angle_arg, self.percent)
        flags += (self.degrees,)
        return flags, list(self.tokens), tuple(len(n) for n in notes)

    def _restore(self, state: tuple) -> None:
        flags, tokens, lengths = state
        self.i, self.depth, self.abs_depth, self.fn_arg, self.angle_arg = flags[:5]
        self.percent, self.degrees = flags[5:]
        self.tokens = tokens
        notes = (self.units, self.bases, self.moduli, self.decimals)
        for kept, n in zip(notes, lengths, strict=True):
            del kept[n:]
