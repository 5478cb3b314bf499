r"""Reading completions: message formats, the think span, boxed answers and final answers.

Everything here is pure string work on untrusted model output: no function raises on
malformed text, and every search is linear in the input length.

>>> final_answer("<think>2+2 is 4</think> So \\boxed{4}.").answer
'4'
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

THINK_OPEN = "<think>"
THINK_CLOSE = "</think>"

__all__ = [
    "Extraction",
    "ThinkSplit",
    "all_boxed",
    "completion_text",
    "final_answer",
    "gold_answer",
    "last_boxed",
    "split_think",
]


def completion_text(completion: Any) -> str:
    """The text of one completion in any format TRL produces.

    Plain strings pass through; chat completions (a list of messages, or one message)
    give the concatenated content of their assistant messages (all messages when none is
    marked assistant). Multimodal content parts contribute their text parts.

    >>> completion_text([{"role": "assistant", "content": "42"}])
    '42'
    >>> completion_text("42")
    '42'
    """
    if completion is None:
        return ""
    if isinstance(completion, str):
        return completion
    if isinstance(completion, dict):
        return _content_text(completion.get("content"))
    if isinstance(completion, (list, tuple)):
        messages = [m for m in completion if isinstance(m, dict)]
        if not messages:
            return "".join(x for x in completion if isinstance(x, str))
        assistant = [m for m in messages if m.get("role") == "assistant"]
        return "".join(_content_text(m.get("content")) for m in (assistant or messages))
    return str(completion)


def _content_text(content: Any) -> str:
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, list):  # [{"type": "text", "text": ...}, ...]
        parts = []
        for part in content:
            if isinstance(part, str):
                parts.append(part)
            elif isinstance(part, dict) and isinstance(part.get("text"), str):
                parts.append(part["text"])
        return "".join(parts)
    return str(content)


@dataclass(frozen=True)
class ThinkSplit:
    """A completion cut into its reasoning and its answer region.

    ``think`` is the reasoning text (``None`` when the completion has no think span),
    ``answer`` the text after the last ``</think>`` (the whole text when there is no span,
    ``""`` when the span is never closed), and ``status`` one of ``"none"`` (no tags),
    ``"closed"``, ``"opened_in_prompt"`` (a ``</think>`` without an opening tag, as when the
    chat template already wrote ``<think>``), ``"unclosed"`` and ``"malformed"`` (several
    spans or stray tags).
    """

    think: str | None
    answer: str
    status: str


def split_think(text: str) -> ThinkSplit:
    """Split a completion at its think span.

    >>> split_think("<think>a</think>b")
    ThinkSplit(think='a', answer='b', status='closed')
    >>> split_think("a</think>b").status
    'opened_in_prompt'
    """
    n_open = text.count(THINK_OPEN)
    n_close = text.count(THINK_CLOSE)
    if n_open == 0 and n_close == 0:
        return ThinkSplit(None, text, "none")
    if n_close == 0:
        start = text.find(THINK_OPEN) + len(THINK_OPEN)
        return ThinkSplit(text[start:], "", "unclosed")
    last_close = text.rfind(THINK_CLOSE)
    answer = text[last_close + len(THINK_CLOSE) :]
    first_open = text.find(THINK_OPEN)
    first_close = text.find(THINK_CLOSE)
    if n_open == 0:
        return ThinkSplit(text[:last_close], answer, "opened_in_prompt")
    think_start = first_open + len(THINK_OPEN) if 0 <= first_open < first_close else 0
    think = text[think_start:last_close]
    wellformed = n_open == 1 and n_close == 1 and first_open < first_close
    if wellformed and not text[:first_open].strip():
        return ThinkSplit(think, answer, "closed")
    return ThinkSplit(think, answer, "malformed")


_BOX_RE = re.compile(r"\\(?:boxed|fbox)(?![A-Za-z])")
_BRACE_RE = re.compile(r"\\.|[{}]", re.DOTALL)


@dataclass(frozen=True)
class Boxed:
    """One ``\\boxed{...}``: its content and the span ``[start, end)`` of the whole command."""

    content: str
    start: int
    end: int


def all_boxed(text: str) -> list[Boxed]:
    r"""Every top-level ``\boxed{}`` / ``\fbox{}`` in order, with correct brace matching.

    Escaped braces (``\{``, ``\}``) do not count. A box whose braces never close is left
    out. ``\boxed 5`` (a space, then no brace) takes the next token. Linear in the input.

    >>> [b.content for b in all_boxed(r"\boxed{\frac{1}{2}} and \boxed{\{1\}}")]
    ['\\frac{1}{2}', '\\{1\\}']
    """
    matches = _brace_matches(text)
    boxes: list[Boxed] = []
    pos = 0
    while (m := _BOX_RE.search(text, pos)) is not None:
        i = m.end()
        while i < len(text) and text[i] in " \t":
            i += 1
        if i < len(text) and text[i] == "{":
            close = matches.get(i, -1)
            if close < 0:
                pos = m.end()
                continue
            boxes.append(Boxed(text[i + 1 : close], m.start(), close + 1))
            pos = close + 1
            continue
        token = re.match(r"[^\s$]+", text[i : i + _MAX_FALLBACK])
        if token and i > m.end():  # "\boxed 5": a space, then a bare token
            boxes.append(Boxed(token.group(0), m.start(), i + token.end()))
            pos = i + token.end()
        else:
            pos = m.end()
    return boxes


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


@dataclass(frozen=True)
class Extraction:
    """A final answer read from free text.

    ``answer`` is ``None`` when nothing was found; ``source`` names the convention that
    matched (``boxed``, ``gsm8k``, ``the_answer_is``, ``a_colon``, ``bold``) and ``reason``
    says why nothing was found (``no_answer``, ``unbalanced_braces``, ``unclosed_think``,
    ``empty_completion``).
    """

    answer: str | None
    source: str | None = None
    reason: str = "ok"


_GSM8K_RE = re.compile(r"####[ \t]*([^\n]+)")
_ANSWER_IS_RE = re.compile(
    r"(?:final\s+answer|the\s+answer)\s*(?:is|:|=)\s*:?\s*(.+?)(?:\.\s|\.?$|\n)",
    re.IGNORECASE | re.MULTILINE,
)
_A_COLON_RE = re.compile(r"^[ \t]*(?:A|Answer)[ \t]*:[ \t]*(.+?)[ \t]*$", re.MULTILINE)
_BOLD_RE = re.compile(r"\*\*([^*\n]{1,200})\*\*")

_MAX_FALLBACK = 200  # answers read by the text conventions are short; longer is not an answer


def final_answer(text: str, *, conventions: bool = True) -> Extraction:
    """The final answer of a completion.

    The answer is read from the answer region (after the think span): the last boxed
    answer first, then, when ``conventions`` is true, GSM8K ``#### N``, ``The answer is
    ...``, ``A: N`` and a markdown-bold answer, each the last of its kind. An answer that
    appears only inside the think span is not an answer.

    >>> final_answer("16 - 3 = 13\\nA: 13").answer
    '13'
    >>> final_answer("<think>\\\\boxed{3}</think>").reason
    'no_answer'
    """
    if not text or not text.strip():
        return Extraction(None, reason="empty_completion")
    split = split_think(text)
    if split.status == "unclosed":
        return Extraction(None, reason="unclosed_think")
    region = split.answer
    boxed = last_boxed(region)
    if boxed is not None:
        return Extraction(boxed.strip(), "boxed")
    if _BOX_RE.search(region):
        return Extraction(None, reason="unbalanced_braces")
    if conventions:
        for source, pattern in (
            ("gsm8k", _GSM8K_RE),
            ("the_answer_is", _ANSWER_IS_RE),
            ("a_colon", _A_COLON_RE),
            ("bold", _BOLD_RE),
        ):
            matches = pattern.findall(region)
            if matches:
                answer = matches[-1].strip().strip("$").strip()
                if answer and len(answer) <= _MAX_FALLBACK:
                    return Extraction(answer, source)
    return Extraction(None, reason="no_answer")


def gold_answer(gold: Any) -> str | None:
    """The answer inside a dataset's gold field.

    A worked solution gives its last boxed answer or its GSM8K ``#### N``; anything else is
    taken whole. Returns ``None`` for a missing or empty gold.

    >>> gold_answer("16 - 3 = 13\\n#### 13")
    '13'
    >>> gold_answer(r"so $\\boxed{\\frac12}$")
    '\\\\frac12'
    >>> gold_answer(7)
    '7'
    """
    if gold is None:
        return None
    if isinstance(gold, (int, float)) and not isinstance(gold, bool):
        return str(gold)
    if not isinstance(gold, str):
        return None
    text = gold.strip()
    if not text:
        return None
    boxed = last_boxed(text)
    if boxed is not None:
        return boxed.strip() or None
    gsm = _GSM8K_RE.findall(text)
    if gsm:
        return gsm[-1].strip() or None
    if "\n" in text:  # a worked solution with no marked answer: take its "A: N" line
        a_colon = _A_COLON_RE.findall(text)
        if a_colon:
            return a_colon[-1].strip()
    return text
