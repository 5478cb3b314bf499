r"""Annotations around a value: superscript marks (ordinals, degrees, a dangling ``^``),
remarks in parentheses, moduli, and the relations that label a value.

A mixin of the parser (:class:`~rewardkit.verify.parser._Parser` supplies the token access
and ``expr``). What a mark says is kept as a note (``degrees``, ``moduli``); what only
comments on the value (``5^{\text{th}}``, ``(about 12 apples)``, ``\approx 1.73`` after an
exact value) is dropped.

>>> from rewardkit.verify.parser import parse_math
>>> parse_math(r"5^{\mathrm{th}}"), parse_math(r"\sqrt{3} \approx 1.73"), parse_math("a = b = 4")
(5, sqrt(3), Eq(a, 4))
"""

from __future__ import annotations

import re

import sympy as sp

from rewardkit.verify.errors import MathParseError
from rewardkit.verify.guarded import check_scalar, power
from rewardkit.verify.lexer import Token
from rewardkit.verify.vocabulary import (
    BP_RELATION,
    ORDINALS,
    PM,
    RELATIONS,
    STYLES,
    is_name,
    is_unit_word,
)

# Words that open a remark on the value before them: 12 (about 12 apples).
_REMARK_WORDS = frozenset(
    {"about", "approximately", "approx", "roughly", "around", "nearly", "almost", "exactly"}
    | {"i.e", "ie", "since", "because", "where", "when", "for"}
)
_REMARK_TEXT = re.compile(r"\s*\(\s*(?:\\approx|[A-Za-z]+)[^()]*\)\s*")
_SCALES = frozenset({"C", "F", "K"})  # 25^\circ C: a temperature scale after a degree mark
_LOOKAHEAD = 12  # tokens an ordinal mark or a remark may span


class AnnotationReading:
    """Reading marks, remarks, moduli and relations (a mixin of the parser)."""

    # -- after ^ ------------------------------------------------------------------------
    def _superscript(self, left: sp.Basic) -> sp.Basic:
        if self._dangling_power():
            return left
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
            return power(left, self._number(self.next()))
        return power(left, self.arg())

    def _dangling_power(self) -> bool:
        """``60^`` or ``45^{}``: a power mark with nothing to raise to (a cut ``^\\circ``)."""
        tok = self.peek()
        if tok.kind in ("eof", "rowsep") or (tok.kind == "op" and tok.value in ",;)]}"):
            return True
        if self.at("op", "{") and self.at("op", "}", 1):
            self.i += 2
            return True
        return False

    def _ordinal_mark(self) -> int:
        """Tokens of an ordinal mark after ``^`` (``n^{th}``, ``2^\\text{nd}``,
        ``5^{\\mathrm{th}}``, ``22^{\\rm nd}``), or 0."""
        tok = self.peek()
        if tok.kind == "text":
            return 1 if tok.value.strip() in ORDINALS else 0
        if not self.at("op", "{"):
            return 0
        depth, letters = 0, ""
        for j in range(_LOOKAHEAD):
            t = self.peek(j)
            if t.kind == "op" and t.value == "{":
                depth += 1
            elif t.kind == "op" and t.value == "}":
                depth -= 1
                if depth == 0:
                    return j + 1 if letters.strip() in ORDINALS else 0
            elif t.kind in ("letter", "word", "text"):
                letters += t.value
            elif not (t.kind == "cmd" and t.value in STYLES):
                return 0
        return 0

    def _degrees(self, left: sp.Basic) -> sp.Basic:
        if self.fn_arg or self.angle_arg:  # sin 30^\circ: a function's argument is in radians
            return left * sp.pi / 180
        self.degrees = True
        tok = self.peek()
        if tok.kind in ("letter", "text") and tok.value.strip() in _SCALES:
            self.next()
            self.units.append(tok.value.strip())
        return left

    # -- after a value ------------------------------------------------------------------
    def _skip_annotation(self) -> bool:
        """Consume a remark, a modulus or a spacing command after a value; ``True`` if one was."""
        tok = self.peek()
        if tok.kind == "text" and _REMARK_TEXT.fullmatch(tok.value):
            first = tok.value.strip(" ()").split()[0].lower().rstrip(".,")
            if first in _REMARK_WORDS or first.startswith("\\approx"):
                self.next()  # 12 \text{ (about 12 apples)}
                return True
        if tok.kind == "op" and tok.value == "(":
            return self._remark() or self._paren_modulus()
        if tok.kind == "cmd" and tok.value == "textsuperscript":
            self.next()  # 7\textsuperscript{th}
            ordinal = self._ordinal_mark()
            self.i += ordinal if ordinal else -1
            return bool(ordinal)
        if tok.kind == "cmd" and tok.value == "pmod":
            self.next()
            self._record_modulus()
            return True
        if tok.kind == "cmd" and tok.value in ("quad", "qquad") and not self._starts_value(1):
            self.next()  # 5 \quad \text{cm}: spacing, not a separator
            return True
        return False

    def _remark(self) -> bool:
        """``(about 12 apples)``, ``(\\approx 1.73)``: a parenthesised remark, dropped."""
        first = self.peek(1)
        is_remark = (first.kind == "word" and first.value.lower() in _REMARK_WORDS) or (
            first.kind == "cmd" and first.value == "approx"
        )
        if not is_remark:
            return False
        for j in range(2, _LOOKAHEAD * 2):
            t = self.peek(j)
            if t.kind == "eof" or (t.kind == "op" and t.value == "("):
                return False
            if t.kind == "op" and t.value == ")":
                self.i += j + 1
                return True
        return False

    def _paren_modulus(self) -> bool:
        """``(\\mathrm{mod}\\ 9)``, ``(\\text{mod } 9)``, ``(mod 9)``: a modulus, recorded."""
        j = 1
        t = self.peek(j)
        if t.kind == "cmd" and t.value in STYLES and self.at("op", "{", j + 1):
            if not (self.at("word", "mod", j + 2) and self.at("op", "}", j + 3)):
                return False
            j += 4
        elif (t.kind == "text" and t.value.strip() == "mod") or self.at("word", "mod", j):
            j += 1
        elif t.kind == "cmd" and t.value in ("bmod", "mod"):
            j += 1
        else:
            return False
        if not (self.at("num", None, j) and self.at("op", ")", j + 1)):
            return False
        self.i += j
        self._record_modulus()
        self.expect_op(")")
        return True

    def _record_modulus(self) -> None:
        tok = self.peek()
        modulus = self._number(self.next()) if tok.kind == "num" else self.arg()
        if not (modulus.is_Integer and modulus > 0):
            raise MathParseError("a modulus must be a positive integer")
        self.moduli.append(int(modulus))

    def _starts_value(self, ahead: int) -> bool:
        tok = self.peek(ahead)
        if tok.kind in ("num", "letter", "begin"):
            return True
        if tok.kind == "op":
            return tok.value in ("(", "[", "{", "\\{", "|", "-", "+")
        if tok.kind == "cmd":
            return self._lbp(Token("cmd", tok.value, tok.pos)) > 0 or tok.value in ("pm", "mp")
        if tok.kind == "word":
            return not is_unit_word(tok.value)
        return False

    # -- relations ------------------------------------------------------------------------
    def _relation(self, left: sp.Basic, op: str) -> sp.Basic:
        links = [(op, left, self.expr(BP_RELATION))]
        while True:
            tok = self.peek()
            nxt = tok.value if tok.kind in ("op", "cmd") else None
            if nxt in ("<", ">") and self.at("op", "=", 1):
                self.i += 2
                nxt += "="
            elif nxt in RELATIONS:
                self.next()
            else:
                break
            links.append((nxt, links[-1][2], self.expr(BP_RELATION)))
        links = _without_approximations(links)
        if not links:
            return left  # \sqrt{3} \approx 1.73: the exact value is the answer
        for o, a, b in links:
            if o not in ("=", "equiv"):
                check_scalar(a, b)  # an order between sets or tuples means nothing
        chain = _chain_value(links)
        if chain is not None:
            return chain
        relations = [RELATIONS[o](a, b, evaluate=False) for o, a, b in links]
        return relations[0] if len(relations) == 1 else sp.And(*relations, evaluate=False)

    def _skip_leading_relation(self) -> None:
        """``= 5``, ``\\approx 1.73``, ``\\equiv 5 \\pmod{11}``: a value given by its relation."""
        if self.at("op", "=") or self.at("cmd", "approx") or self.at("cmd", "equiv"):
            self.next()


def _without_approximations(links: list[tuple]) -> list[tuple]:
    """The relations before the first ``\\approx``: what follows it only rounds the value.
    ``x \\approx 1.73`` (a name first) keeps its value."""
    for k, (o, a, _) in enumerate(links):
        if o == "approx":
            if k == 0 and isinstance(a, sp.Symbol) and a is not PM:
                return [("=", *links[0][1:])]
            return links[:k]
    return links


def _chain_value(links: list[tuple]) -> sp.Basic | None:
    """``a = b = 4`` and ``x = 2 + 2 = 4``: names then equal numbers give one labelled value."""
    if len(links) < 2 or any(o != "=" for o, _, _ in links):
        return None
    operands = [links[0][1]] + [b for _, _, b in links]
    names = 0
    while names < len(operands) and is_name(operands[names]):
        names += 1
    values = operands[names:]
    if not names or not values or not all(v.is_Number for v in values):
        return None
    if any(v != values[-1] for v in values):
        return None  # a = 3 = 4: a false chain labels nothing
    return sp.Eq(operands[0], values[-1], evaluate=False)
