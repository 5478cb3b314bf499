r"""Numbers and words: integers, decimals, mixed and repeating fractions, numbers in a
base, number words, letters, named constants and the unit words that follow a value.

A mixin of the parser (:class:`~rewardkit.verify.parser._Parser` supplies the token access
and ``expr``).

>>> from rewardkit.verify.parser import parse_math
>>> parse_math(r"2\frac{1}{2}"), parse_math("1011_2"), parse_math(r"0.\overline{3}")
(5/2, 11, 1/3)
>>> number_from_words("two hundred fifty six"), number_from_words("twenty one two")
(256, None)
"""

from __future__ import annotations

import sympy as sp

from rewardkit.verify.errors import MathParseError
from rewardkit.verify.guarded import root
from rewardkit.verify.lexer import Token
from rewardkit.verify.vocabulary import (
    CONSTANTS,
    FRACS,
    FUNCTIONS,
    INTEGER_FUNCTIONS,
    is_unit_word,
)


def decimal(text: str) -> sp.Float:
    """A decimal literal as a float carrying all its written digits."""
    digits = sum(c.isdigit() for c in text.lower().split("e")[0])
    return sp.Float(text, max(15, digits + 2))


_UNITS = (
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen "
    "fifteen sixteen seventeen eighteen nineteen"
).split()
_SMALL = {word: n for n, word in enumerate(_UNITS)}
_TENS = {
    word: 10 * n
    for n, word in enumerate("twenty thirty forty fifty sixty seventy eighty ninety".split(), 2)
}
_SCALES = {"thousand": 10**3, "million": 10**6, "billion": 10**9, "trillion": 10**12}


def number_from_words(words: str) -> int | None:
    """The number that English number words name (``thirty six``, ``one hundred and five``,
    ``fifteen hundred``, ``three thousand two hundred``), or ``None``. Expects lower-case
    words separated by spaces (hyphens already spaces)."""
    parts = [w for w in words.split() if w != "and"]
    if not parts or parts[0] in _SCALES:
        return None
    total, chunk, last_scale = 0, [], None
    for word in parts:
        if word in _SCALES:
            scale = _SCALES[word]
            value = _below_thousand(chunk)
            if value is None or value == 0 or (last_scale is not None and scale >= last_scale):
                return None
            total, chunk, last_scale = total + value * scale, [], scale
        else:
            chunk.append(word)
    if chunk:
        value = _below_thousand(chunk)
        if value is None:
            return None
        total += value
    return total


def _below_thousand(words: list[str]) -> int | None:
    if "hundred" not in words:
        return _below_hundred(words)
    k = words.index("hundred")
    head = _below_hundred(words[:k]) if k else 1
    rest = _below_hundred(words[k + 1 :]) if words[k + 1 :] else 0
    if not head or rest is None or (words[k + 1 :] and rest == 0):
        return None
    return head * 100 + rest


def _below_hundred(words: list[str]) -> int | None:
    if len(words) == 1:
        return _SMALL.get(words[0], _TENS.get(words[0]))
    if len(words) == 2 and words[0] in _TENS and 1 <= _SMALL.get(words[1], 0) <= 9:
        return _TENS[words[0]] + _SMALL[words[1]]
    return None


class NumberReading:
    """Reading numbers, letters, words and units (a mixin of the parser)."""

    def _number(self, tok: Token) -> sp.Basic:
        digits = tok.value
        if self.at("op", "_") and digits.isdigit():
            return self._based(digits)
        if digits.isdigit():
            mixed = self._mixed_fraction()
            if mixed is not None:
                return sp.Integer(int(digits)) + mixed
            return sp.Integer(int(digits))
        if self.at("cmd", "overline") and "." in digits and "e" not in digits.lower():
            return self._repeating(digits)
        self.decimals.append(digits)
        return decimal(digits)

    def _mixed_fraction(self) -> sp.Basic | None:
        """``2\\frac{1}{2}`` and ``2 1/2``: a whole number followed by a literal fraction."""
        t = self.tokens[self.i : self.i + 7]
        values = [x.value for x in t]
        kinds = [x.kind for x in t]
        if (
            len(t) >= 7
            and kinds[0] == "cmd"
            and values[0] in FRACS
            and values[1:4:2] == ["{", "}"]
            and values[4:7:2] == ["{", "}"]
            and kinds[2] == kinds[5] == "num"
            and values[2].isdigit()
            and values[5].isdigit()
        ):
            self.i += 7
            return sp.Rational(int(values[2]), int(values[5]))
        if (
            len(t) >= 2
            and kinds[0] == "cmd"
            and values[0] in FRACS
            and kinds[1] == "num"
            and len(values[1]) == 2
            and values[1].isdigit()
            and values[1][1] != "0"
        ):
            self.i += 2  # 2\frac12
            return sp.Rational(int(values[1][0]), int(values[1][1]))
        if (
            len(t) >= 3
            and kinds[0] == "num"
            and values[1] == "/"
            and kinds[2] == "num"
            and values[0].isdigit()
            and values[2].isdigit()
            and int(values[0]) < int(values[2])
            and not (len(t) > 3 and kinds[3] in ("letter", "cmd", "word"))
        ):
            self.i += 3
            return sp.Rational(int(values[0]), int(values[2]))
        return None

    def _based(self, digits: str) -> sp.Basic:
        self.next()  # "_"
        if self.at("op", "{"):
            self.next()
            wrapped = self.at("op", "(")  # 1011_{(2)}
            if wrapped:
                self.next()
            base_tok = self.next()
            if wrapped:
                self.expect_op(")")
            self.expect_op("}")
        else:
            base_tok = self.next()
        if base_tok.kind != "num" or not base_tok.value.isdigit():
            raise self.fail(base_tok)
        base = int(base_tok.value)
        if not 2 <= base <= 36:
            raise MathParseError(f"base {base} out of range")
        try:
            value = int(digits, base)
        except ValueError:
            raise MathParseError(f"{digits} is not a base-{base} number") from None
        self.bases.append((digits, base))
        return sp.Integer(value)

    def _repeating(self, digits: str) -> sp.Basic:
        """``0.\\overline{3}`` = 1/3: a decimal whose last digits repeat."""
        self.next()  # overline
        self.expect_op("{")
        rep = self.next()
        self.expect_op("}")
        if rep.kind != "num" or not rep.value.isdigit():
            raise self.fail(rep)
        whole, _, frac = digits.partition(".")
        k, r = len(frac), len(rep.value)
        fixed = sp.Rational(int(whole + frac), 10**k)
        return fixed + sp.Rational(int(rep.value), 10**k * (10**r - 1))

    def _letter(self, letter: str) -> sp.Basic:
        if letter == "e":
            return sp.E
        if letter == "i":
            return sp.I
        return sp.Symbol(letter)

    def _word(self, tok: Token) -> sp.Basic:
        lower = tok.value.lower()
        if lower in FUNCTIONS:
            return self._function(lower)
        if lower == "sqrt":
            return root(self._paren_or_arg(), sp.Integer(2))
        if lower in CONSTANTS:
            return CONSTANTS[lower]
        if lower in INTEGER_FUNCTIONS and self.at("op", "("):
            return self._integer_function(lower)
        raise self.fail(tok)  # a unit, a connective or a word of text is not a value

    def _skip_unit(self) -> None:
        tok = self.next()
        if tok.value.strip():
            self.units.append(tok.value.strip().lower())
            if tok.value.strip().lower().startswith("degree"):
                self.degrees = True
        self._skip_unit_power()

    def _unit_group(self) -> bool:
        """``\\mathrm{cm}``: a unit in a roman group; consumed when it is one."""
        t = self.tokens[self.i : self.i + 4]
        if (
            len(t) == 4
            and t[1].value == "{"
            and t[3].value == "}"
            and t[2].kind in ("word", "letter")
            and t[2].kind == "word"
            and is_unit_word(t[2].value)
        ):
            self.units.append(t[2].value.lower())
            self.i += 4
            self._skip_unit_power()
            return True
        return False

    def _skip_unit_power(self) -> None:
        if self.at("op", "^") and self.peek(1).kind == "num":
            self.i += 2
        elif (
            self.at("op", "^")
            and self.at("op", "{", 1)
            and self.peek(2).kind == "num"
            and self.at("op", "}", 3)
        ):
            self.i += 4
