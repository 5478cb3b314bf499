r"""Boxed answers: ``\boxed{}``, ``\fbox{}`` and GLM's ``<|begin_of_box|>...<|end_of_box|>``.

Brace matching is one linear pass; a box whose braces never close makes the whole answer
region *unbalanced* (``\boxed{3 \boxed{4}`` is not an answer of 4).

>>> scan_boxes(r"\boxed{3 \boxed{4}").unbalanced
True
>>> [b.content for b in scan_boxes("<|begin_of_box|>7<|end_of_box|>").boxes]
['7']
"""

from __future__ import annotations

import re
from collections import deque
from dataclasses import dataclass

__all__ = [
    "BoxScan",
    "Boxed",
    "all_boxed",
    "last_box_committed",
    "last_boxed",
    "scan_boxes",
    "undouble_backslashes",
]

_BOX_RE = re.compile(r"\\(?:boxed|fbox)(?![A-Za-z])|<\|begin_of_box\|>")
_GLM_OPEN, _GLM_CLOSE = "<|begin_of_box|>", "<|end_of_box|>"
_BRACE_RE = re.compile(r"\\.|[{}]", re.DOTALL)
_TOKEN_RE = re.compile(r"[^\s$]{1,200}")
_MAX_TOKEN = 200  # "\boxed 5": the bare token after a space is short


@dataclass(frozen=True)
class Boxed:
    """One box: its content and the span ``[start, end)`` of the whole command."""

    content: str
    start: int
    end: int


@dataclass(frozen=True)
class BoxScan:
    """The top-level boxes of a text, and whether a box was opened and never closed."""

    boxes: list[Boxed]
    unbalanced: bool


def scan_boxes(text: str) -> BoxScan:
    r"""Every top-level box in order, and whether any box never closes. Linear.

    Escaped braces (``\{``, ``\}``) do not count; ``\boxed 5`` (a space, then no brace)
    takes the next token; boxes inside a box are part of its content.

    >>> [b.content for b in scan_boxes(r"\boxed{\frac{1}{2}} and \boxed{\{1\}}").boxes]
    ['\\frac{1}{2}', '\\{1\\}']
    """
    matches: dict[int, int] | None = None
    boxes: list[Boxed] = []
    unbalanced = False
    pos = 0
    while (m := _BOX_RE.search(text, pos)) is not None:
        if m.group(0) == _GLM_OPEN:
            close = text.find(_GLM_CLOSE, m.end())
            if close < 0:
                return BoxScan(boxes, True)
            boxes.append(Boxed(text[m.end() : close], m.start(), close + len(_GLM_CLOSE)))
            pos = close + len(_GLM_CLOSE)
            continue
        i = m.end()
        while i < len(text) and text[i] in " \t":
            i += 1
        if i < len(text) and text[i] == "{":
            if matches is None:
                matches = _brace_matches(text)
            close = matches.get(i, -1)
            if close < 0:
                unbalanced = True
                pos = m.end()
                continue
            boxes.append(Boxed(text[i + 1 : close], m.start(), close + 1))
            pos = close + 1
            continue
        token = _TOKEN_RE.match(text, i)
        if token and i > m.end():  # "\boxed 5": a space, then a bare token
            boxes.append(Boxed(token.group(0), m.start(), token.end()))
            pos = token.end()
        else:
            pos = m.end()
    return BoxScan(boxes, unbalanced)


def all_boxed(text: str) -> list[Boxed]:
    r"""Every top-level box in order (see :func:`scan_boxes`); an unclosed box is left out.

    >>> [b.content for b in all_boxed(r"\boxed{1} then \fbox{2}")]
    ['1', '2']
    """
    return scan_boxes(text).boxes


def _brace_matches(text: str) -> dict[int, int]:
    """For every ``{`` that closes, the index of its ``}``, in one pass; escapes skipped."""
    matches: dict[int, int] = {}
    stack: list[int] = []
    for m in _BRACE_RE.finditer(text):
        token = m.group(0)
        if token == "{":
            stack.append(m.start())
        elif token == "}" and stack:
            matches[stack.pop()] = m.start()
    return matches


def last_boxed(text: str) -> str | None:
    """Content of the last boxed answer, or ``None``.

    >>> last_boxed(r"first \\boxed{1}, finally \\boxed{x^{2}}")
    'x^{2}'
    """
    boxes = all_boxed(text)
    return boxes[-1].content if boxes else None


# Between two boxes of a list of options: blanks, punctuation, dollars and hedging words.
_LIST_GLUE_RE = re.compile(
    r"(?:[\s$.,;:(){}]|\\[,;!]|\b(?:or|and|maybe|perhaps|possibly|either|also)\b)*",
    re.IGNORECASE,
)
_HIDDEN_RE = re.compile(r"\\[hv]?phantom\s*\{$|\\color\s*\{\s*white\s*\}")
_IF_RE = re.compile(r"\\iffalse(?![A-Za-z])|\\fi(?![A-Za-z])")


def last_box_committed(text: str, boxes: list[Boxed]) -> bool:
    r"""Whether the last of several boxes is a committed final answer (as in a
    self-correction, ``\boxed{2} ... wait, actually \boxed{3}``), not one option of a list
    (``\boxed{2} or \boxed{3}``) nor a box hidden from the reader (``\phantom``, white
    text, ``\iffalse``, a ``%`` comment).

    >>> box = lambda t: last_box_committed(t, scan_boxes(t).boxes)
    >>> box(r"\boxed{2}. Wait: 3 + 4 = 7, so \boxed{7}"), box(r"\boxed{2} or \boxed{7}")
    (True, False)
    """
    if len(boxes) < 2:
        return True
    last, before = boxes[-1], boxes[-2]
    if _LIST_GLUE_RE.fullmatch(text, before.end, last.start):
        return False
    window = text[max(0, last.start - 40) : last.start].rstrip()
    if _HIDDEN_RE.search(window):
        return False
    flags = deque(_IF_RE.finditer(text, 0, last.start), maxlen=1)
    if flags and flags[0].group(0) == "\\iffalse":
        return False
    line_start = text.rfind("\n", 0, last.start) + 1
    comment = text.find("%", line_start, last.start)
    return comment < 0 or text[comment - 1 : comment] == "\\"


_BACKSLASHES_RE = re.compile(r"\\+")
_DOUBLED_COMMAND_RE = re.compile(r"\\\\[A-Za-z]")


def undouble_backslashes(text: str) -> str:
    r"""Text escaped once too often (JSON output read raw: ``\\frac{1}{2}``) with each
    doubled backslash made single again; left alone unless every run of backslashes is
    of even length and a doubled one starts a command (``a \\ b`` rows stay).

    >>> print(undouble_backslashes(r"\\boxed{\\frac{1}{2}}"))
    \boxed{\frac{1}{2}}
    >>> print(undouble_backslashes(r"\begin{pmatrix} 1 \\ 2 \end{pmatrix}"))
    \begin{pmatrix} 1 \\ 2 \end{pmatrix}
    """
    if _DOUBLED_COMMAND_RE.search(text) is None:
        return text
    if any(len(run.group(0)) % 2 for run in _BACKSLASHES_RE.finditer(text)):
        return text
    return text.replace("\\\\", "\\")
