r"""Reading verdicts out of judge replies.

Judges answer in many formats; the parsers here read JSON objects inside prose, ``[RESULT]
n``, ``Rating: [[n]]``, ``\boxed{n}``, ``Score: n`` and yes/no verdicts, and skip a
thinking judge's reasoning (only the text after the last ``</think>`` counts). When several
verdicts appear, the last one wins. A reply that holds no usable verdict gives
``value=None`` with a reason (``empty_reply``, ``unclosed_think``, ``no_verdict``,
``out_of_range``, ``ambiguous_verdict``), never a silent 0.

With the top log-probabilities of the verdict token, :func:`expected_rating` gives the
probability-weighted score of G-Eval (Liu et al., 2023) and :func:`yes_probability` the
probability of a yes.

>>> parse_rating("<think>maybe [[3]]</think>Solid work. Rating: [[8]]", 1, 10).value
8.0
>>> parse_yes_no('{"reasoning": "fine", "verdict": "no"}').value
0.0
>>> parse_rating("I cannot decide.", 1, 10).reason
'no_verdict'
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass

from rewardkit.text import THINK_CLOSE, THINK_OPEN, all_boxed

OK = "ok"
EMPTY_REPLY = "empty_reply"
UNCLOSED_THINK = "unclosed_think"
NO_VERDICT = "no_verdict"
OUT_OF_RANGE = "out_of_range"
AMBIGUOUS = "ambiguous_verdict"

_NUMBER = r"([-+]?\d+(?:\.\d+)?)"
_RATING_PATTERNS = (
    ("result_tag", re.compile(r"\[RESULT\]\s*(?::\s*)?" + _NUMBER, re.IGNORECASE)),
    ("double_brackets", re.compile(r"\[\[\s*" + _NUMBER + r"\s*(?:/\s*\d+\s*)?\]\]")),
    (
        "rating_line",
        re.compile(
            r"(?:rating|score|grade)[\s*_]*[:=][\s*_]*" + _NUMBER + r"(?:\s*/\s*\d+)?",
            re.IGNORECASE,
        ),
    ),
)
_RATING_KEYS = ("score", "rating", "grade", "result", "verdict")

_YES_WORDS = {"yes", "true", "met", "satisfied", "pass", "correct"}
_NO_WORDS = {"no", "false", "not met", "unmet", "not satisfied", "fail", "incorrect"}
_YES_NO = r"(yes|no|true|false)\b"
_YES_NO_PATTERNS = (
    # one run of blanks, then at most one colon and another run: never two ways to split
    ("result_tag", re.compile(r"\[RESULT\][\s*_]*(?::[\s*_]*)?" + _YES_NO, re.IGNORECASE)),
    ("double_brackets", re.compile(r"\[\[\s*" + _YES_NO + r"\s*\]\]", re.IGNORECASE)),
    (
        "verdict_line",
        re.compile(r"(?:verdict|answer|judg(?:e)?ment)[\s*_]*[:=][\s*_]*" + _YES_NO, re.IGNORECASE),
    ),
)
_YES_NO_KEYS = ("verdict", "satisfied", "met", "meets", "answer", "result", "pass")

# The lines the prompts ask for, at the very end of a reply.
_FINAL_RATING = re.compile(r"Rating: \[\[(\d{1,4})\]\]\s*\Z")
_FINAL_YES_NO = re.compile(r"Verdict: (YES|NO|Yes|No|yes|no)\s*\Z")

_MAX_JSON_STARTS = 64  # only the last few '{' are tried: judge output can be long


@dataclass(frozen=True)
class ParsedVerdict:
    """A verdict read from a reply: ``value`` (``None`` when unusable), ``reason``,
    the ``source`` format that matched and the character ``span`` of the verdict token in
    the reply (used to find its log-probabilities)."""

    value: float | None
    reason: str = OK
    source: str | None = None
    span: tuple[int, int] | None = None


@dataclass(frozen=True)
class TokenLogprob:
    """One generated token, its log-probability and the top alternatives at its position."""

    token: str
    logprob: float
    top: tuple[tuple[str, float], ...] = ()


def answer_region(reply: str) -> tuple[str, int] | str:
    """The part of ``reply`` after the last ``</think>`` and its offset, or why there is
    none: ``empty_reply``, or ``unclosed_think`` when a ``<think>`` is never closed (the
    judge ran out of tokens while thinking).

    >>> answer_region("<think>hmm</think> YES")
    (' YES', 18)
    >>> answer_region("<think>hmm")
    'unclosed_think'
    """
    if not reply or not reply.strip():
        return EMPTY_REPLY
    close = reply.rfind(THINK_CLOSE)
    if close >= 0:
        start = close + len(THINK_CLOSE)
        return reply[start:], start
    if THINK_OPEN in reply:
        return UNCLOSED_THINK
    return reply, 0


def _candidates(region: str, patterns) -> list[tuple[int, int, str, str]]:
    """(start, end, source, value text) of every match of every pattern."""
    found = []
    for source, pattern in patterns:
        for m in pattern.finditer(region):
            found.append((m.start(1), m.end(1), source, m.group(1)))
    return found


def _json_objects(region: str) -> list[tuple[int, dict]]:
    """(start, object) of JSON objects embedded in prose, trying the last '{' first."""
    starts: list[int] = []
    position = region.rfind("{")
    while position >= 0 and len(starts) < _MAX_JSON_STARTS:
        starts.append(position)
        position = region.rfind("{", 0, position)
    starts.reverse()
    decoder = json.JSONDecoder()
    objects = []
    covered_until = -1
    for start in starts:
        if start < covered_until:
            continue
        try:
            obj, end = decoder.raw_decode(region, start)
        except (json.JSONDecodeError, RecursionError):
            continue
        if isinstance(obj, dict):
            objects.append((start, obj))
            covered_until = end
    return objects


def _json_value_span(region: str, start: int, key: str) -> tuple[int, int] | None:
    m = re.compile(r'"' + re.escape(key) + r'"\s*:\s*"?').search(region, start)
    if m is None:
        return None
    end = m.end()
    while end < len(region) and region[end] not in ',}"\n':
        end += 1
    return m.end(), end


def _json_candidates(region: str, keys: Sequence[str]) -> list[tuple[int, int, str, object]]:
    found = []
    for start, obj in _json_objects(region):
        lowered = {str(k).lower(): (k, v) for k, v in obj.items()}
        for key in keys:
            if key in lowered:
                original, value = lowered[key]
                span = _json_value_span(region, start, str(original)) or (start, start + 1)
                found.append((span[0], span[1], "json", value))
                break
    return found


def parse_rating(reply: str, low: float, high: float) -> ParsedVerdict:
    """A numeric rating in ``[low, high]``.

    >>> parse_rating(r"Overall \\boxed{4}", 1, 5).value
    4.0
    >>> parse_rating("[RESULT] 11", 1, 10).reason
    'out_of_range'
    """
    located = answer_region(reply)
    if isinstance(located, str):
        return ParsedVerdict(None, located)
    region, offset = located
    # Fast path: the instructed last line; nothing can come after it, so it is the verdict.
    final = _FINAL_RATING.search(region, max(0, len(region) - 64))
    if final is not None:
        value = float(final.group(1))
        span = (offset + final.start(1), offset + final.end(1))
        if low <= value <= high:
            return ParsedVerdict(value, OK, "double_brackets", span)
        return ParsedVerdict(None, OUT_OF_RANGE, "double_brackets", span)
    candidates: list[tuple[int, int, str, object]] = list(_candidates(region, _RATING_PATTERNS))
    candidates += [
        c for c in _json_candidates(region, _RATING_KEYS) if _as_number(c[3]) is not None
    ]
    for box in all_boxed(region):
        if _as_number(box.content) is not None:
            start = box.start + region[box.start : box.end].index("{") + 1
            candidates.append((start, box.end - 1, "boxed", box.content))
    usable = [c for c in candidates if _as_number(c[3]) is not None]
    if not usable:
        return ParsedVerdict(None, NO_VERDICT)
    start, end, source, raw = max(usable, key=lambda c: c[0])
    value = _as_number(raw)
    span = (offset + start, offset + end)
    if value is None or not (low <= value <= high):
        return ParsedVerdict(None, OUT_OF_RANGE, source, span)
    return ParsedVerdict(value, OK, source, span)


def parse_yes_no(reply: str) -> ParsedVerdict:
    """A yes/no verdict as 1.0/0.0.

    >>> parse_yes_no("The response shows all steps.\\nVerdict: **YES**").value
    1.0
    >>> parse_yes_no("[RESULT] No").value
    0.0
    """
    located = answer_region(reply)
    if isinstance(located, str):
        return ParsedVerdict(None, located)
    region, offset = located
    final = _FINAL_YES_NO.search(region, max(0, len(region) - 32))
    if final is not None:  # fast path, as in parse_rating
        value = 1.0 if final.group(1).upper() == "YES" else 0.0
        return ParsedVerdict(
            value, OK, "verdict_line", (offset + final.start(1), offset + final.end(1))
        )
    candidates: list[tuple[int, int, str, object]] = list(_candidates(region, _YES_NO_PATTERNS))
    candidates += _json_candidates(region, _YES_NO_KEYS)
    for box in all_boxed(region):
        start = box.start + region[box.start : box.end].index("{") + 1
        candidates.append((start, box.end - 1, "boxed", box.content))
    last_line = _last_line(region)
    if last_line is not None:
        candidates.append((*last_line, "last_line", region[last_line[0] : last_line[1]]))
    usable = [(c, _as_yes_no(c[3])) for c in candidates]
    usable = [(c, v) for c, v in usable if v is not None]
    if not usable:
        if re.search(r"\b(yes|no)\b", region, re.IGNORECASE):
            return ParsedVerdict(None, AMBIGUOUS)
        return ParsedVerdict(None, NO_VERDICT)
    (start, end, source, _), value = max(usable, key=lambda cv: cv[0][0])
    return ParsedVerdict(value, OK, source, (offset + start, offset + end))


def parse_ranking(reply: str, count: int) -> tuple[list[int] | None, str]:
    """A ranking of ``count`` responses numbered from 1, best first, as 0-based indices.

    Reads ``{"ranking": [2, 1, 3]}`` or a ``Ranking: 2 > 1 > 3`` line; the ranking must
    name every response exactly once.

    >>> parse_ranking('They differ. {"ranking": [2, 3, 1]}', 3)
    ([1, 2, 0], 'ok')
    >>> parse_ranking("Ranking: 1 > 1 > 2", 3)
    (None, 'out_of_range')
    """
    located = answer_region(reply)
    if isinstance(located, str):
        return None, located
    region, _ = located
    candidates: list[tuple[int, list]] = []
    for start, obj in _json_objects(region):
        ranking = {str(k).lower(): v for k, v in obj.items()}.get("ranking")
        if isinstance(ranking, list):
            candidates.append((start, ranking))
    for m in re.finditer(r"ranking[\s*_]*:[\s*_]*([\d\s>,\[\]]+)", region, re.IGNORECASE):
        numbers = re.findall(r"\d+", m.group(1))
        if numbers:
            candidates.append((m.start(), [int(n) for n in numbers]))
    if not candidates:
        return None, NO_VERDICT
    _, ranking = max(candidates, key=lambda c: c[0])
    numbers = [_as_number(x) for x in ranking]
    if any(n is None or n != int(n) for n in numbers) or sorted(numbers) != list(
        range(1, count + 1)
    ):
        return None, OUT_OF_RANGE
    return [int(n) - 1 for n in numbers], OK


def parse_first_error(reply: str, n_steps: int) -> ParsedVerdict:
    """The index of the earliest wrong step (``-1``: no wrong step), from ``\\boxed{k}``
    or a JSON ``first_error``/``index`` key.

    >>> parse_first_error(r"Step 2 miscounts. \\boxed{2}", 4).value
    2.0
    >>> parse_first_error(r"\\boxed{7}", 4).reason
    'out_of_range'
    """
    located = answer_region(reply)
    if isinstance(located, str):
        return ParsedVerdict(None, located)
    region, offset = located
    candidates: list[tuple[int, int, str, object]] = []
    for box in all_boxed(region):
        candidates.append((box.start, box.end, "boxed", box.content))
    candidates += _json_candidates(region, ("first_error", "index", "step"))
    usable = [c for c in candidates if _as_number(c[3]) is not None]
    if not usable:
        return ParsedVerdict(None, NO_VERDICT)
    start, end, source, raw = max(usable, key=lambda c: c[0])
    value = _as_number(raw)
    if value is None or value != int(value) or not (-1 <= value < n_steps):
        return ParsedVerdict(None, OUT_OF_RANGE, source)
    return ParsedVerdict(float(int(value)), OK, source, (offset + start, offset + end))


def expected_rating(
    tokens: Sequence[TokenLogprob],
    span: tuple[int, int],
    low: int,
    high: int,
    min_mass: float = 0.5,
) -> float | None:
    """G-Eval's probability-weighted rating at the verdict token (Liu et al., 2023).

    score = sum_s p(s) * s / sum_s p(s), over the top tokens that are whole numbers in
    [low, high]; ``None`` when the verdict token is not found or those tokens carry less
    than ``min_mass`` of the probability (then the sampled rating is used).

    >>> toks = [TokenLogprob("Rating: [[", 0.0), TokenLogprob("8", math.log(0.5),
    ...         (("8", math.log(0.5)), ("9", math.log(0.5))))]
    >>> expected_rating(toks, (10, 11), 1, 10)
    8.5
    """
    top = _top_at(tokens, span)
    if top is None:
        return None
    mass = 0.0
    weighted = 0.0
    for token, logprob in top:
        value = _as_number(token.strip())
        if value is not None and value == int(value) and low <= value <= high:
            p = math.exp(logprob)
            mass += p
            weighted += p * value
    if mass < min_mass:
        return None
    return weighted / mass


def yes_probability(
    tokens: Sequence[TokenLogprob], span: tuple[int, int], min_mass: float = 0.5
) -> float | None:
    """p(yes) / (p(yes) + p(no)) at the verdict token, from its top log-probabilities.

    >>> toks = [TokenLogprob("Verdict: ", 0.0), TokenLogprob("YES", math.log(0.6),
    ...         (("YES", math.log(0.6)), ("NO", math.log(0.2)), ("Maybe", math.log(0.2))))]
    >>> round(yes_probability(toks, (9, 12)), 6)
    0.75
    """
    top = _top_at(tokens, span)
    if top is None:
        return None
    p_yes = p_no = 0.0
    for token, logprob in top:
        verdict = _as_yes_no(token.strip())
        if verdict == 1.0:
            p_yes += math.exp(logprob)
        elif verdict == 0.0:
            p_no += math.exp(logprob)
    if p_yes + p_no < min_mass:
        return None
    return p_yes / (p_yes + p_no)


def _top_at(tokens: Sequence[TokenLogprob], span: tuple[int, int]) -> tuple | None:
    """The top alternatives of the token that starts the verdict at ``span[0]``."""
    position = 0
    for token in tokens:
        end = position + len(token.token)
        if position <= span[0] < end:
            stripped_start = position + len(token.token) - len(token.token.lstrip())
            if stripped_start > span[0]:
                return None
            return token.top or ((token.token, token.logprob),)
        position = end
    return None


def _last_line(region: str) -> tuple[int, int] | None:
    stripped = region.rstrip()
    start = stripped.rfind("\n") + 1
    line = stripped[start:]
    core = line.strip().strip("*_`.!: ").strip()
    if not core:
        return None
    begin = start + line.index(core)
    return begin, begin + len(core)


def _as_number(value: object) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value) if math.isfinite(value) else None
    if isinstance(value, str):
        text = value.strip().strip("*").strip()
        if re.fullmatch(r"[-+]?\d+(?:\.\d+)?", text):
            return float(text)
    return None


def _as_yes_no(value: object) -> float | None:
    if isinstance(value, bool):
        return 1.0 if value else 0.0
    if isinstance(value, (int, float)) and value in (0, 1):
        return float(value)
    if isinstance(value, str):
        word = re.sub(r"[\s*_`.!]+", " ", value).strip().lower()
        if word in _YES_WORDS:
            return 1.0
        if word in _NO_WORDS:
            return 0.0
    return None
