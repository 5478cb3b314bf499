r"""Lenient reading: the answer a grader takes from a completion with no box and no answer
label, i.e. the last math span (``$...$``, ``$$...$$``, ``\(...\)``, ``\[...\]``) or
number of the final statement, preferring what follows an anchor ("therefore", "so",
"thus", "final answer") in the last few statements.

What it will not take: a question or an instruction (a statement ending in ``?``, or
opening with "what", "find", "compute", "solve", ...), a statement listing many
numbers (repetition is not an answer), several different values in a statement that
hedges ("it could be 3, or maybe 4"), and, when the prompt is known, a value the question
itself states whenever the statement offers another one (and a restated expression at
all). Of an equation the right-hand
side of its last ``=`` is the value (``5 \cdot 3 = 15`` gives 15, so a restated
``4x + 7 = 31`` is 31, not the solution of the question).

>>> lenient_answer("Multiply them. Therefore, the area is $60$ square units.")
('60', 'lenient')
>>> lenient_answer("So the total is 15. Check: 3 + 12 = 15, 7 - 2 = 5.")
('15', 'lenient')
>>> lenient_answer("It could be 35, or maybe 36.")
(None, 'multiple_answers')
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from rewardkit.text.conventions import last_match

__all__ = ["lenient_answer"]

_OPENERS_RE = re.compile(r"\$\$|\$|\\\(|\\\[")
_CLOSERS = {"$$": "$$", "$": "$", "\\(": "\\)", "\\[": "\\]"}
_DISPLAY = frozenset({"$$", "\\["})
_WORDS_RE = re.compile(r"(?<![\\A-Za-z])[A-Za-z]{2,} [A-Za-z]{2,}")  # prose: "$20 and $"
_NUMBER_RE = re.compile(r"(?<![\w.])[-\u2212]?\d+(?:,\d{3})*(?:\.\d+)?(?:/\d+)?%?")
# A choice letter: "(C)", "option C", "choice (C)"
_CHOICE = r"\(((?-i:[A-E]))\)|\b(?:option|choice)[ \t]+(?:is[ \t]+)?\(?((?-i:[A-E]))\)?(?![A-Za-z])"
_CANDIDATE_RE = re.compile(r"\x00(\d+)\x01|" + _CHOICE + "|" + _NUMBER_RE.pattern, re.IGNORECASE)
_SPLIT_RE = re.compile(r"(?<=[.!?\u3002\uff01\uff1f])[ \t]+|\n[ \t]*")
_ANCHOR_RE = re.compile(
    r"\b(?:final[ \t]+answer|therefore|thus|hence|so|consequently|in[ \t]+conclusion|"
    r"conclude|in[ \t]+total|altogether)\b|所以|因此",
    re.IGNORECASE,
)
_PLACEHOLDER_RE = re.compile(r"\x00(\d+)\x01")
_LIST_GLUE_RE = re.compile(r"[ \t]*,?[ \t]*(?:(?:and|or)[ \t]+)?", re.IGNORECASE)
_GLUE_WORD_RE = re.compile(r"and|or", re.IGNORECASE)
_PLURAL_RE = re.compile(
    r"\b(?:are|roots|solutions|values|answers|zeros|zeroes|both)\b", re.IGNORECASE
)
# A statement that asks or instructs restates the question: it is not an answer.
_INSTRUCTION_RE = re.compile(
    r"[ \t>*#-]*(?:what|how|which|who|when|why|find|compute|calculate|evaluate|solve|"
    r"simplify|determine|express|show|prove)\b",
    re.IGNORECASE,
)
_PLAIN_NUMBER_RE = re.compile(r"[-\u2212]?\d+(?:,\d{3})*(?:\.\d+)?")
_HEDGE_RE = re.compile(r"\b(?:or|either|maybe|perhaps|possibly|might|could)\b", re.IGNORECASE)
# An inequality: ASCII or Unicode signs, or LaTeX's relation commands (not \left, \geometry)
_RELATION_RE = re.compile(r"[<>\u2264\u2265\u2260]|!=|\\(?:leq?|geq?|neq?|lt|gt)(?![A-Za-z])")
_MAX_SPAN = 1000  # a math span longer than this is not an answer
_MAX_CANDIDATES = 8  # a statement with more values than this is a list, not an answer
_WINDOW = 3  # statements, from the end, in which an anchor is looked for


@dataclass(frozen=True)
class _Candidate:
    value: str
    math: bool
    pos: int
    end: int
    label: str = ""  # the left-hand side of a math span's equation ("x" of "x = 2")


def lenient_answer(region: str, prompt: str | None = None) -> tuple[str | None, str]:
    """``(answer, "lenient")``, or ``(None, reason)`` with reason ``no_answer`` or
    ``multiple_answers``. Linear in the length of ``region`` and ``prompt``."""
    masked, spans = _mask(region)
    statements = []
    for statement in _statements(masked, spans):
        candidates = _candidates(statement, spans)
        if not candidates or statement.rstrip().endswith(("?", "\uff1f")):
            continue
        if _INSTRUCTION_RE.match(statement):
            continue
        statements.append((statement, candidates))
    if not statements:
        return None, "no_answer"
    chosen, candidates = statements[-1]
    for statement, found in reversed(statements[-_WINDOW:]):
        anchor = last_match(_ANCHOR_RE, statement)
        after = [c for c in found if anchor is not None and c.pos >= anchor.end()]
        if after:
            chosen, candidates = statement, after
            break
    if len(candidates) > _MAX_CANDIDATES:
        return None, "no_answer"
    listed = _listed(chosen, candidates)  # a list may repeat the question's numbers (roots)
    if listed is not None:
        return listed, "lenient"
    if prompt:
        stated = _stated_values(prompt)
        fresh = [c for c in candidates if _norm(c.value) not in stated]
        # all stated: a number may still be the answer; a restated expression is not
        candidates = fresh or [c for c in candidates if _PLAIN_NUMBER_RE.fullmatch(c.value)]
        if not candidates:
            return None, "no_answer"
    candidates = [c for c in candidates if c.math] or candidates
    if len({_norm(c.value) for c in candidates}) > 1 and _HEDGE_RE.search(chosen):
        return None, "multiple_answers"
    return candidates[-1].value, "lenient"


def _listed(statement: str, candidates: list[_Candidate]) -> str | None:
    """The values a statement lists as its answer, joined (``2, 5``): the trailing run of
    values joined only by commas and "and" in a statement that names several ("the roots
    are 2 and 5"), or equations of one unknown joined by "or" (``x = 2`` or ``x = -3``)."""
    run = [candidates[-1]]
    glue_words: set[str] = set()
    for c in reversed(candidates[:-1]):
        glue = _LIST_GLUE_RE.fullmatch(statement, c.end, run[0].pos)
        if glue is None:
            break
        glue_words.update(w.lower() for w in _GLUE_WORD_RE.findall(glue.group(0)))
        run.insert(0, c)
    if len(run) < 2 or len({_norm(c.value) for c in run}) < len(run):
        return None
    if "or" in glue_words:
        labels = {c.label for c in run}
        if len(labels) != 1 or not re.fullmatch(r"[A-Za-z]", labels.pop()):
            return None  # "35 or 36" is a hedge; "x = 2 or x = -3" a solution set
    elif not _PLURAL_RE.search(statement):
        return None
    return ", ".join(c.value for c in run)


def _mask(text: str) -> tuple[str, list[tuple[str, bool]]]:
    """``text`` with each math span replaced by ``\\x00k\\x01``, and the spans
    ``(content, is_display)``."""
    out: list[str] = []
    spans: list[tuple[str, bool]] = []
    pos = 0
    while (m := _OPENERS_RE.search(text, pos)) is not None:
        opener = m.group(0)
        close = _closing(text, _CLOSERS[opener], m.end())
        content = text[m.end() : close] if close > m.end() else None
        if content is None or (opener == "$" and _WORDS_RE.search(content)):
            out.append(text[pos : m.end()])  # not a span: a lone or currency dollar
            pos = m.end()
            continue
        out.append(text[pos : m.start()].replace("\x00", " ").replace("\x01", " "))
        out.append(f"\x00{len(spans)}\x01")
        spans.append((content, opener in _DISPLAY))
        pos = close + len(_CLOSERS[opener])
    out.append(text[pos:])
    return "".join(out), spans


def _closing(text: str, closer: str, start: int) -> int:
    """Where ``closer`` closes a span opened before ``start`` (an escaped ``\\$`` does not
    close a ``$`` span), or -1; looks at most :data:`_MAX_SPAN` characters ahead."""
    limit = start + _MAX_SPAN
    close = text.find(closer, start, limit)
    while closer == "$" and close > 0 and text[close - 1] == "\\":
        close = text.find(closer, close + 1, limit)
    return close


def _statements(masked: str, spans: list[tuple[str, bool]]) -> list[str]:
    """Sentences and lines; a display span on its own line belongs to the sentence it
    completes ("we conclude that" / ``\\[ x = 3 \\]``)."""
    statements: list[str] = []
    pos = 0
    for sep in _SPLIT_RE.finditer(masked):
        statements.append(masked[pos : sep.start()])
        pos = sep.end()
    statements.append(masked[pos:])
    merged: list[str] = []
    for statement in statements:
        if not statement.strip():
            continue
        m = _PLACEHOLDER_RE.match(statement)
        if merged and m and spans[int(m.group(1))][1] and not merged[-1].endswith((".", ":")):
            merged[-1] += " " + statement
        else:
            merged.append(statement)
    return merged


def _candidates(statement: str, spans: list[tuple[str, bool]]) -> list[_Candidate]:
    found = []
    for m in _CANDIDATE_RE.finditer(statement):
        if m.group(1) is not None:
            value = _value(spans[int(m.group(1))][0])
            if value:
                content = spans[int(m.group(1))][0]
                label = content.split("=", 1)[0].strip() if content.count("=") == 1 else ""
                found.append(_Candidate(value, True, m.start(), m.end(), label))
        elif m.group(2) or m.group(3):
            letter = (m.group(2) or m.group(3)).upper()
            found.append(_Candidate(f"({letter})", False, m.start(), m.end()))
        else:
            found.append(_Candidate(m.group(0), False, m.start(), m.end()))
    return found


def _value(content: str) -> str:
    """A math span's value: the right-hand side of its last ``=``, without end marks. A
    span that states an inequality (``x <= 2``, ``x \\neq 5``) is its value whole: no side
    of it is the answer."""
    plain = "=" in content and not _RELATION_RE.search(content)
    value = content.rsplit("=", 1)[-1] if plain else content
    value = value.strip().rstrip(".,;").strip()
    return value or content.strip()


def _norm(value: str) -> str:
    return "".join(value.split()).replace("\u2212", "-")


def _stated_values(prompt: str) -> set[str]:
    """The numbers and math spans (and their values) a question states."""
    masked, spans = _mask(prompt)
    stated = {_norm(m.group(0)) for m in _NUMBER_RE.finditer(masked)}
    for content, _ in spans:
        stated.add(_norm(content))
        stated.add(_norm(_value(content)))
        stated.update(_norm(m.group(0)) for m in _NUMBER_RE.finditer(content))
    return stated
