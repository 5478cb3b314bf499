r"""Cleaning and tokenizing answer text (LaTeX or plain math) for the safe parser.

Nothing here evaluates anything: the text is cut into a list of :class:`Token` by a
linear scan. Unknown LaTeX commands are kept as ``cmd`` tokens for the parser to reject;
letters outside ASCII raise :class:`MathParseError`.

>>> [t.value for t in tokenize(clean_latex(r"$\frac{1}{2}x$"))][:-1]
['frac', '{', '1', '}', '{', '2', '}', 'x']
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from rewardkit.verify.errors import MathParseError

__all__ = [
    "CAPITAL_GREEK",
    "CURRENCY_CODES",
    "GREEK_LETTERS",
    "MAX_DEPTH",
    "MAX_LENGTH",
    "MIN_WORD",
    "SHORT_WORDS",
    "Token",
    "clean_latex",
    "nesting_depth",
    "tokenize",
]

MAX_LENGTH = 2000  # characters of one answer; longer is not a final answer
MAX_DEPTH = 40  # nesting of brackets and braces

_UNICODE = {
    "\u2212": "-",
    "\u2013": "-",
    "\u2014": "-",
    "\u00d7": r"\times ",
    "\u00f7": r"\div ",
    "\u00b7": r"\cdot ",
    "\u22c5": r"\cdot ",
    "\u221a": r"\sqrt ",
    "\u03c0": r"\pi ",
    "\u221e": r"\infty ",
    "\u2264": r"\le ",
    "\u2265": r"\ge ",
    "\u2260": r"\ne ",
    "\u222a": r"\cup ",
    "\u2229": r"\cap ",
    "\u00b0": r"^\circ ",
    "\u2208": r"\in ",
    "\u00b1": r"\pm ",
    "\u2205": r"\emptyset ",
    "\u2019": "'",
}
_SUPERSCRIPTS = str.maketrans(
    "\u2070\u00b9\u00b2\u00b3\u2074\u2075\u2076\u2077\u2078\u2079\u207b", "0123456789-"
)
_SUPERSCRIPT_RE = re.compile("[\u2070\u00b9\u00b2\u00b3\u2074-\u2079\u207b]+")
# Greek letters typed as Unicode (U+03B1 to U+03C9, U+0391 to U+03A9): α is \alpha.
GREEK_LETTERS = (
    "alpha",
    "beta",
    "gamma",
    "delta",
    "epsilon",
    "zeta",
    "eta",
    "theta",
    "iota",
    "kappa",
    "lambda",
    "mu",
    "nu",
    "xi",
    "omicron",
    "pi",
    "rho",
    "sigma",
    "sigma",
    "tau",
    "upsilon",
    "phi",
    "chi",
    "psi",
    "omega",
)  # U+03C2 is the final sigma
CAPITAL_GREEK = (
    "Gamma",
    "Delta",
    "Theta",
    "Lambda",
    "Xi",
    "Sigma",
    "Upsilon",
    "Phi",
    "Psi",
    "Omega",
)
for _k, _name in enumerate(GREEK_LETTERS):
    _UNICODE.setdefault(chr(0x03B1 + _k), f"\\{_name} ")
    if _name.capitalize() in CAPITAL_GREEK and _k != 17:
        _UNICODE.setdefault(chr(0x0391 + _k), f"\\{_name.capitalize()} ")
_UNICODE_RE = re.compile("|".join(map(re.escape, _UNICODE)))
_CURRENCY = re.compile(r"[\u20ac\u00a3\u00a5\u20b9]|\\(?:euro|pounds|yen|textdollar)(?![A-Za-z])")
_TIMES_TEN = re.compile(r"(?<=\d)\s*[xX]\s*(?=10\s*\^)")  # 6.02 x 10^23
_SIZING = re.compile(r"\\(?:left|right|[bB]igg?[lr]?)(?![A-Za-z])\s*(?:\.(?!\d))?")
# \quad is kept: between two values it separates them (3 \quad 4 is not 34)
_SPACING = re.compile(r"(\\\\)|\\[,;:! ]|~|\\(?:displaystyle|textstyle)(?![A-Za-z])")
_DELIMS = re.compile(r"(\\\\)|\\[\[\]()]")


def clean_latex(text: str) -> str:
    r"""Normalise unicode and drop what carries no meaning: math delimiters, sizing
    (``\left``, ``\big``), spacing commands, currency signs and a closing full stop.

    >>> clean_latex(r"\$\left( 1,\! 000 \right).")
    '( 1,000 )'
    """
    s = _SUPERSCRIPT_RE.sub(lambda m: "^{" + m.group(0).translate(_SUPERSCRIPTS) + "}", text)
    s = unicodedata.normalize("NFKC", s).replace("\u2044", "/")
    s = s.replace("{,}", ",")
    s = _UNICODE_RE.sub(lambda m: _UNICODE[m.group(0)], s)
    s = re.sub(r"(?<=\d),\s*\\!\s*(?=\d{3})", ",", s)
    s = s.replace(r"\$", " ").replace(r"\%", "%")
    s = _CURRENCY.sub(" ", s)
    s = _TIMES_TEN.sub(r"\\times ", s)
    s = _SIZING.sub("", s)
    s = _SPACING.sub(_keep_row_break, s)
    s = _DELIMS.sub(_keep_row_break, s).replace("$", " ")
    s = s.strip()
    if s.endswith("\\") and not s.endswith("\\\\"):
        s = s[:-1].rstrip()  # 185\ : a stray backslash
    while s and s[-1] in ".;:" and not s.endswith((r"\;", r"\:", "..")):
        s = s[:-1].rstrip()  # a closing full stop, not an ellipsis (1, 2, 3, ...)
    return s


def _keep_row_break(match: re.Match[str]) -> str:
    return match.group(1) or " "


def nesting_depth(text: str) -> int:
    """Deepest nesting of ``{([`` brackets in ``text`` (a linear scan, no recursion).

    >>> nesting_depth("{a(b)}")
    2
    """
    depth = deepest = 0
    for c in text:
        if c in "{([":
            depth += 1
            deepest = max(deepest, depth)
        elif c in "})]":
            depth = max(0, depth - 1)
    return deepest


@dataclass(frozen=True)
class Token:
    """One token: ``kind`` is ``num``, ``letter``, ``word``, ``cmd``, ``text``, ``op``,
    ``begin``, ``end``, ``rowsep`` or ``eof``; ``value`` its text (a command without its
    backslash, an environment's name, the raw content of ``\\text{}``)."""

    kind: str
    value: str
    pos: int


MIN_WORD = 4  # letter runs this long are words (units, text); shorter ones are variables
# Words shorter than MIN_WORD that are not products of variables: functions, constants,
# connectives and common units.
SHORT_WORDS = frozenset(
    {
        "sin",
        "cos",
        "tan",
        "cot",
        "sec",
        "csc",
        "ln",
        "log",
        "lg",
        "exp",
        "pi",
        "inf",
        "and",
        "or",
        "cm",
        "mm",
        "km",
        "kg",
        "mg",
        "ft",
        "yd",
        "mph",
        "kph",
        "hr",
        "hrs",
        "min",
        "ml",
        "oz",
        "lb",
        "lbs",
        "gcd",
        "lcm",
        "max",
        "pct",
        "mod",
        "day",
    }
)
_NAMED_FUNCTIONS = frozenset(
    {"gcd", "lcm", "max", "min", "sin", "cos", "tan", "log", "ln", "exp", "sinh", "cosh", "tanh"}
    | {"arcsin", "arccos", "arctan", "arcsinh", "arccosh", "arctanh", "arsinh", "arcosh", "artanh"}
)
# Currency codes: capitals that are a unit, not a product of points (40 USD).
CURRENCY_CODES = frozenset({"USD", "EUR", "GBP", "JPY", "INR", "CAD", "AUD", "CNY", "RMB", "CHF"})
_ORDINAL_SUFFIXES = frozenset({"st", "nd", "rd", "th"})
_NUMBER = re.compile(r"\d+\.(?=\s*\\overline)|(?:\d+(?:\.\d+)?|\.\d+)(?:[eE][+-]?\d+(?![\d.]))?")
_THOUSANDS = re.compile(
    r"\d{1,3}(?:,\d{3})+(?![\d,])(?:\.\d+)?|\d{1,3}(?: \d{3})+(?![\d])(?:\.\d+)?"
)
_LETTERS = re.compile(r"[A-Za-z]+")
_COMMAND = re.compile(r"\\([A-Za-z]+)")
_ENV = re.compile(r"\\(begin|end)\s*\{([A-Za-z*]+)\}")
_TEXT_COMMANDS = frozenset(
    {"text", "textbf", "textit", "textrm", "textnormal", "mbox", "textsf", "texttt"}
)
_OPS = frozenset("+-*/^_()[]{},=<>!|'&;:%.?")


def tokenize(text: str) -> list[Token]:
    r"""Cut cleaned answer text into tokens.

    Thousands separators (``1,000``, ``1 000``) are read as part of a number only outside
    parentheses and brackets, where a comma separates elements.

    >>> [t.value for t in tokenize("12,345 + x_1")][:-1]
    ['12345', '+', 'x', '_', '1']
    """
    if len(text) > MAX_LENGTH:
        raise MathParseError(f"answer longer than {MAX_LENGTH} characters", reason="too_long")
    if nesting_depth(text) > MAX_DEPTH:
        raise MathParseError(f"nesting deeper than {MAX_DEPTH}", reason="too_deep")
    tokens: list[Token] = []
    brackets: list[str] = []
    environments = 0
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c.isspace():
            if c == "\n" and not brackets and not environments and _line_break(text, i, tokens):
                tokens.append(Token("op", ";", i))  # one value a line
            i += 1
            continue
        if c.isdigit() or (c == "." and i + 1 < n and text[i + 1].isdigit()):
            m = None
            if not any(b in "([" for b in brackets):
                m = _THOUSANDS.match(text, i)
            if m is not None:
                tokens.append(Token("num", re.sub(r"[, ]", "", m.group(0)), i))
            else:
                m = _NUMBER.match(text, i)
                tokens.append(Token("num", m.group(0), i))
            i = m.end()
            continue
        if c.isascii() and c.isalpha():
            m = _LETTERS.match(text, i)
            word = m.group(0)
            if (
                tokens
                and tokens[-1].kind == "num"
                and tokens[-1].pos + len(tokens[-1].value) == i
                and word in _ORDINAL_SUFFIXES
            ):
                i = m.end()  # 5th is 5
                continue
            if (
                word.isupper()
                and len(word) > 1
                and word.lower() not in SHORT_WORDS
                and word not in CURRENCY_CODES
            ):
                tokens.extend(Token("letter", c, i + k) for k, c in enumerate(word))  # ABCD
            elif len(word) >= MIN_WORD or word.lower() in SHORT_WORDS or word in CURRENCY_CODES:
                tokens.append(Token("letter" if len(word) == 1 else "word", word, i))
            else:  # "xy" is x times y
                tokens.extend(Token("letter", c, i + k) for k, c in enumerate(word))
            i = m.end()
            continue
        if c == "\\":
            i = _lex_backslash(text, i, tokens, brackets)
            environments += {"begin": 1, "end": -1}.get(tokens[-1].kind, 0)
            continue
        if c in _OPS:
            if c in "([{":
                brackets.append(c)
            elif c in ")]}" and brackets:
                brackets.pop()
            tokens.append(Token("op", c, i))
            i += 1
            continue
        raise MathParseError(f"unexpected character {c!r} at {i}")
    tokens.append(Token("eof", "", n))
    return tokens


_NEXT_VALUE = re.compile(r"\s*(?:[A-Za-z0-9(\[]|\\(?:d?frac|sqrt|pi)(?![A-Za-z]))")


def _line_break(text: str, i: int, tokens: list[Token]) -> bool:
    """Whether the newline at ``text[i]`` separates two values (``3\\n4``), rather than
    continuing one expression over two lines."""
    if not tokens:
        return False
    last = tokens[-1]
    ends_value = last.kind in ("num", "letter", "word", "text") or (
        last.kind == "op" and last.value in ")]}"
    )
    return ends_value and _NEXT_VALUE.match(text, i + 1) is not None


def _lex_backslash(text: str, i: int, tokens: list[Token], brackets: list[str]) -> int:
    """Lex the command starting at ``text[i] == '\\'``; returns the next index."""
    n = len(text)
    if i + 1 >= n:
        raise MathParseError("lone backslash at end")
    nxt = text[i + 1]
    if nxt == "\\":
        tokens.append(Token("rowsep", r"\\", i))
        return i + 2
    if nxt in "{}":
        if nxt == "{":
            brackets.append("(")  # a set brace separates elements like a parenthesis
        elif brackets:
            brackets.pop()
        tokens.append(Token("op", "\\" + nxt, i))
        return i + 2
    if nxt == "|":
        tokens.append(Token("op", "‖", i))
        return i + 2
    if nxt in "#&_":
        tokens.append(Token("op", nxt, i))
        return i + 2
    env = _ENV.match(text, i)
    if env is not None:
        tokens.append(Token(env.group(1), env.group(2).rstrip("*"), i))
        end = env.end()
        if env.group(1) == "begin" and env.group(2) == "array":  # skip the column spec {cc}
            spec = re.match(r"\s*\{[^{}]*\}", text[end:])
            if spec:
                end += spec.end()
        return end
    m = _COMMAND.match(text, i)
    if m is None:
        raise MathParseError(f"unknown escape {text[i : i + 2]!r} at {i}")
    name = m.group(1)
    end = m.end()
    if name in _TEXT_COMMANDS:
        j = end
        while j < n and text[j] == " ":
            j += 1
        if j < n and text[j] == "{":
            close = _closing_brace(text, j)
            content = text[j + 1 : close]
            if content.strip() in _NAMED_FUNCTIONS:  # \text{lcm}(4, 6)
                tokens.append(Token("word", content.strip(), i))
            else:
                tokens.append(Token("text", content, i))
            return close + 1
    tokens.append(Token("cmd", name, i))
    return end


def _closing_brace(text: str, start: int) -> int:
    depth = 0
    for j in range(start, len(text)):
        c = text[j]
        if c == "{" and text[j - 1] != "\\":
            depth += 1
        elif c == "}" and text[j - 1] != "\\":
            depth -= 1
            if depth == 0:
                return j
    raise MathParseError("unbalanced braces in \\text{}")
