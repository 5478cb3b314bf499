r"""Answers written by convention instead of in a box: ``#### N``, ``The answer is ...``,
``Final Answer: ...``, ``Answer: ...`` (any case, also mid-line), ``A: N``, ``答案是 ...``,
a ``Final Answer`` heading over the answer, and a markdown-bold answer.

Markdown emphasis is read through (``**Answer:** 5``, ``Answer: **5**``, ``#### **5**``).
Every search is linear in the text: labels are found with one pass, and only the last one
is read.

>>> convention_answer("So 40 + 3 = 43.\nThe answer is: 43")
('43', 'the_answer_is')
>>> convention_answer("**Final Answer**\n\n$\\frac{1}{2}$")
('\\frac{1}{2}', 'the_answer_is')
>>> convention_answer("The answers are 3 and 4.")
('3, 4', 'the_answer_is')
"""

from __future__ import annotations

import re
from collections import deque

__all__ = ["MAX_ANSWER", "MULTIPLE", "convention_answer", "last_match", "strip_emphasis"]

MAX_ANSWER = 200  # answers read by the text conventions are short; longer is not an answer
MULTIPLE = "multiple_answers"  # the source of a hedge: several different bold answers

_EMPHASIS_RE = re.compile(r"\*\*|__")
_GSM8K_RE = re.compile(r"####[ \t]*")
# Labels are found from the word "answer" (a fast literal search), then read around it.
_ANSWER_WORD_RE = re.compile(r"answers?|答案", re.IGNORECASE)
_BEFORE_RE = re.compile(r"(?:final|the)[ \t]+\Z", re.IGNORECASE)  # on a 16-character window
_AFTER_RE = re.compile(
    r"(?:[ \t]*(?P<verb>is|are|was|will[ \t]+be)\b)?[ \t]*(?P<mark>[:=：])?", re.IGNORECASE
)
_ZH_AFTER_RE = re.compile(r"[ \t]*(?P<mark>[是为:：])?")
_A_COLON_RE = re.compile(r"^[ \t]*A[ \t]*:", re.MULTILINE)
_LINE_START_RE = re.compile(r"[#>*\-\s]*")
_VISIBLE_RE = re.compile(r"\S")
_BOLD_RE = re.compile(r"\*\*([^*\n]{1,200})\*\*")
_MATH_OPEN = (("$$", "$$"), ("\\[", "\\]"), ("\\(", "\\)"), ("$", "$"))
_JOINER_RE = re.compile(r",|;|\band\b", re.IGNORECASE)  # blanks are trimmed in Python
_SENTENCE_END = (". ", ".\t", "。", "；")
_QUESTION_END = ("?", "\uff1f")
_MAX_SPAN = 1000


def last_match(pattern: re.Pattern, text: str) -> re.Match | None:
    """The last of ``pattern``'s non-overlapping matches in ``text``, in one pass."""
    found = deque(pattern.finditer(text), maxlen=1)
    return found[0] if found else None


def strip_emphasis(text: str) -> str:
    """Text without markdown ``**`` / ``__`` emphasis; ``2**3`` (between two word
    characters, a power) is kept.

    >>> strip_emphasis("**Answer:** 5 and 2**3")
    'Answer: 5 and 2**3'
    """
    if "**" not in text and "__" not in text:
        return text
    out, last = [], 0
    for m in _EMPHASIS_RE.finditer(text):
        before = text[m.start() - 1] if m.start() else " "
        after = text[m.end()] if m.end() < len(text) else " "
        if before.isalnum() and after.isalnum():
            continue
        out.append(text[last : m.start()])
        last = m.end()
    out.append(text[last:])
    return "".join(out)


def convention_answer(text: str) -> tuple[str, str] | None:
    """``(answer, source)`` of the last conventional answer, or ``None``; ``source`` is
    ``gsm8k``, ``the_answer_is``, ``a_colon``, ``bold`` or :data:`MULTIPLE` for several
    different bold answers on the last bold line (a hedge)."""
    plain = strip_emphasis(text)
    gsm = last_match(_GSM8K_RE, plain)
    if gsm is not None:
        answer = _clean(_line(plain, gsm.end()))
        if answer:
            return answer, "gsm8k"
    label = _last_label(plain)
    if label is not None:
        start, source, plural = label
        answer = _read_from(plain, start, plural)
        if answer:
            return answer, source
    return _bold_answer(text)


def _last_label(text: str) -> tuple[int, str, bool] | None:
    """``(where the answer starts, source, plural)`` of the last committal answer label."""
    best: tuple[int, str, bool] | None = None
    for word in _ANSWER_WORD_RE.finditer(text):
        start, end = word.span()
        if word.group(0) == "答案":
            after = _ZH_AFTER_RE.match(text, end)
            final = text[max(0, start - 2) : start] == "最终"
            if after.group("mark") is not None or (final and _at_line_end(text, after.end())):
                best = (after.end(), "the_answer_is", False)
            continue
        if (start and text[start - 1].isalnum()) or (end < len(text) and text[end].isalnum()):
            continue  # "answered", "reanswer"
        after = _AFTER_RE.match(text, end)
        plural = len(word.group(0)) == 7
        marked = after.group("verb") is not None or after.group("mark") is not None
        if _BEFORE_RE.search(text, max(0, start - 16), start) is None:  # a bare "answer"
            at_start = _at_line_start(text, start)
            if after.group("mark") is not None or (at_start and _at_line_end(text, after.end())):
                best = (after.end(), "a_colon" if at_start else "the_answer_is", plural)
            continue
        if marked or _at_line_end(text, after.end()):
            best = (after.end(), "the_answer_is", plural)
    a_colon = last_match(_A_COLON_RE, text)
    if a_colon is not None and (best is None or a_colon.end() > best[0]):
        best = (a_colon.end(), "a_colon", False)
    return best


def _at_line_end(text: str, pos: int) -> bool:
    end = text.find("\n", pos, pos + MAX_ANSWER)
    rest = text[pos : end if end >= 0 else pos + MAX_ANSWER]
    return not rest.strip(" \t:.*#") and (end >= 0 or pos + MAX_ANSWER >= len(text))


def _at_line_start(text: str, pos: int) -> bool:
    begin = text.rfind("\n", max(0, pos - MAX_ANSWER), pos) + 1
    if begin == 0 and pos > MAX_ANSWER:
        return False
    return _LINE_START_RE.fullmatch(text, begin, pos) is not None


def _line(text: str, pos: int) -> str:
    end = text.find("\n", pos, pos + MAX_ANSWER + 1)
    return text[pos : end if end >= 0 else pos + MAX_ANSWER + 1]


def _read_from(text: str, pos: int, plural: bool) -> str | None:
    """The answer that starts at ``pos``: the rest of its sentence, or, after a heading
    (nothing more on the line), the next non-empty line or display block."""
    rest = _line(text, pos)
    if not rest.strip(" \t:"):
        visible = _VISIBLE_RE.search(text, pos + len(rest))
        if visible is None:
            return None
        pos = visible.start()
        for opening, closing in _MATH_OPEN[:2]:
            if text.startswith(opening, pos):
                end = text.find(closing, pos + 2, pos + _MAX_SPAN)
                return _clean(text[pos + 2 : end]) if end > 0 else None
        rest = _line(text, pos)
    sentence = _sentence(rest.lstrip(" \t:："))
    if sentence is None:
        return None  # "The answer is: What is 17 + 26?" restates the question
    answer = _clean(sentence)
    if plural and answer:
        answer = _joined(_JOINER_RE.split(answer))
    return answer


def _sentence(text: str) -> str | None:
    """``text`` up to the end of its first sentence, math spans kept whole; several math
    spans joined only by ``and`` / commas become one list; ``None`` for a question."""
    if "$" not in text and "\\(" not in text and "\\[" not in text:  # no math span: cut
        cuts = [i for i in (text.find(m) for m in _SENTENCE_END + _QUESTION_END) if i >= 0]
        cut = min(cuts, default=len(text))
        return None if text.startswith(_QUESTION_END, cut) else text[:cut]
    spans: list[str] = []
    outside: list[str] = []
    i = 0
    while i < len(text):
        if text.startswith(_QUESTION_END, i):
            return None
        for end_mark in _SENTENCE_END:
            if text.startswith(end_mark, i):
                return _assemble(text[:i], spans, outside)
        for opening, closing in _MATH_OPEN:
            if text.startswith(opening, i):
                end = text.find(closing, i + len(opening))
                if end > i + len(opening):
                    spans.append(text[i + len(opening) : end])
                    i = end + len(closing)
                    break
        else:
            outside.append(text[i])
            i += 1
    return _assemble(text, spans, outside)


def _assemble(sentence: str, spans: list[str], outside: list[str]) -> str:
    between = "".join(outside)
    if len(spans) == 1 and sentence.lstrip().startswith(("$", "\\(", "\\[")):
        if not any(c.isdigit() for c in between):
            return spans[0]  # "$5$ dollars", "$\frac{1}{2}$." (not "Compute $2^5 + 3^3$")
    if len(spans) > 1 and not _JOINER_RE.sub("", between).strip(" ."):
        return _joined(spans)
    return sentence


def _joined(parts: list[str]) -> str:
    return ", ".join(p.strip() for p in parts if p.strip())


def _clean(answer: str) -> str:
    answer = answer.strip().rstrip(".。").strip()
    if answer.startswith("$") and answer.endswith("$"):
        answer = answer.strip("$").strip()
    return answer if len(answer) <= MAX_ANSWER else ""


def _bold_answer(text: str) -> tuple[str, str] | None:
    last = last_match(_BOLD_RE, text)
    if last is None:
        return None
    line_start = text.rfind("\n", 0, last.start()) + 1
    on_line = [m.group(1).strip() for m in _BOLD_RE.finditer(text, line_start, last.end())]
    answers = [a for a in on_line if a and not a.endswith(":") and not a.lower().startswith("step")]
    if not answers:
        return None
    if len(set(answers)) > 1:
        return answers[-1], MULTIPLE
    answer = _clean(answers[-1])
    return (answer, "bold") if answer else None
