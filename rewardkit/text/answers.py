r"""The final answer of a completion, and the answer inside a dataset's gold field.

Three ways to read a completion (``extract``):

- ``"boxed"``: only a box counts (``\boxed{}``, ``\fbox{}``, GLM's box markers). The
  default of the rewards: a policy learns one unambiguous place to commit its answer.
- ``"conventions"`` (the default of :func:`~rewardkit.verify.verify`): a box, else
  ``#### N``, ``The answer is ...``, ``Final Answer: ...``, ``Answer: ...``, ``A: N``,
  ``答案是 ...``, a bold answer.
- ``"lenient"``: all of that, else what a grader takes as the final answer of the prose
  (:func:`~rewardkit.text.lenient.lenient_answer`). For evaluation and rejection sampling
  of models that were not trained to box their answers.

>>> final_answer("<think>2+2 is 4</think> So \\boxed{4}.").answer
'4'
>>> final_answer("So the total is $15$.", extract="lenient").answer
'15'
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from rewardkit.text.boxes import last_box_committed, scan_boxes, undouble_backslashes
from rewardkit.text.conventions import MAX_ANSWER, MULTIPLE, convention_answer
from rewardkit.text.lenient import lenient_answer
from rewardkit.text.think import ThinkTags, answer_region, split_think

__all__ = ["EXTRACT_MODES", "Extraction", "final_answer", "gold_answer"]

EXTRACT_MODES = ("boxed", "conventions", "lenient")


@dataclass(frozen=True)
class Extraction:
    """A final answer read from free text.

    ``answer`` is ``None`` when nothing was found; ``source`` names the convention that
    matched (``boxed``, ``gsm8k``, ``the_answer_is``, ``a_colon``, ``bold``, ``lenient``);
    ``reason`` says why nothing was found (``no_answer``, ``unbalanced_braces``,
    ``unclosed_think``, ``empty_completion``, ``multiple_answers``); ``boxes`` holds the
    contents of every box of the answer region, in order, and ``committed`` whether the
    last of several boxes is a committed answer rather than one option of a list or a
    hidden box (:func:`~rewardkit.text.boxes.last_box_committed`).
    """

    answer: str | None
    source: str | None = None
    reason: str = "ok"
    boxes: tuple[str, ...] = ()
    committed: bool = True


def final_answer(
    text: str,
    *,
    extract: str = "conventions",
    think_tags: ThinkTags = None,
    prompt: str | None = None,
    conventions: bool | None = None,
) -> Extraction:
    """The final answer of a completion, read from its answer region (after the think
    span): the last box, then by ``extract`` (see the module docstring) the conventions
    and the lenient reading. An answer only inside the think span is not an answer; a box
    that never closes makes the region ``unbalanced_braces``. ``prompt`` (the question)
    helps the lenient reading skip values the question states. ``conventions=False`` is
    the old spelling of ``extract="boxed"``.

    >>> final_answer("16 - 3 = 13\\nA: 13").answer
    '13'
    >>> final_answer("<think>\\\\boxed{3}</think>").reason
    'no_answer'
    >>> final_answer("<think>a</think> \\\\boxed{3} <think>no, \\\\boxed{4}").answer
    '3'
    >>> final_answer("<think>x</think> \\\\boxed{3 \\\\boxed{4}").reason
    'unbalanced_braces'
    """
    if conventions is not None:
        extract = "conventions" if conventions else "boxed"
    if extract not in EXTRACT_MODES:
        raise ValueError(f"extract must be one of {EXTRACT_MODES}, got {extract!r}")
    if not text or not text.strip():
        return Extraction(None, reason="empty_completion")
    split = split_think(text, think_tags)
    if split.status == "unclosed":
        return Extraction(None, reason="unclosed_think")
    region = undouble_backslashes(answer_region(text, split, think_tags))
    scan = scan_boxes(region)
    if scan.unbalanced:
        return Extraction(None, reason="unbalanced_braces")
    if scan.boxes:
        boxes = tuple(undouble_backslashes(b.content.strip()) for b in scan.boxes)
        committed = last_box_committed(region, scan.boxes)
        return Extraction(boxes[-1], "boxed", boxes=boxes, committed=committed)
    if extract == "boxed":
        return Extraction(None, reason="no_answer")
    found = convention_answer(region)
    if found is not None:
        answer, source = found
        if source == MULTIPLE:
            return Extraction(None, reason="multiple_answers")
        return Extraction(undouble_backslashes(answer), source)
    if extract == "lenient":
        answer, source = lenient_answer(region, prompt)
        if answer is not None:
            return Extraction(undouble_backslashes(answer), source)
        return Extraction(None, reason=source)
    return Extraction(None, reason="no_answer")


_WORD_RE = re.compile(r"(?<![\\A-Za-z])[A-Za-z]{2,}")
_SHORT_GOLD = 40
# What a gold needs for more than being taken whole: a box, a label, emphasis, lines.
_MARKED_GOLD_RE = re.compile(r"\\boxed|\\fbox|<\|begin_of_box|####|\*\*|__|answer|答案|\n", re.I)
_MAX_WORDS = 6  # a gold with more plain words than this and no marked answer is prose


def gold_answer(gold: Any) -> str | None:
    r"""The answer inside a dataset's gold field, or ``None`` when it cannot be read.

    A worked solution gives its boxed answer (several different boxes together: the
    answer has several parts), else its conventional answer (``#### N``, ``The answer is:
    N``, Minerva's ``Final Answer: The final answer is $N$.``, a bold answer). A short
    answer is taken whole; prose with no marked answer is ``None`` (``no_gold``: TRL skips
    the row instead of training on a score of 0 against a sentence).

    >>> gold_answer("16 - 3 = 13\n#### 13")
    '13'
    >>> gold_answer(r"so $\boxed{\frac12}$")
    '\\frac12'
    >>> gold_answer("The answer is 43."), gold_answer(7)
    ('43', '7')
    >>> gold_answer("Add them, then halve the sum to get the share each child receives.") is None
    True
    """
    if gold is None or isinstance(gold, bool):
        return None
    if isinstance(gold, (int, float)):
        return str(gold)
    if not isinstance(gold, str):
        return None
    text = gold.strip()
    if not text:
        return None
    if len(text) <= _SHORT_GOLD and not _MARKED_GOLD_RE.search(text):
        return text  # a bare answer, as most golds are: nothing to read out of it
    scan = scan_boxes(text)
    if scan.boxes:
        parts = list(dict.fromkeys(b.content.strip() for b in scan.boxes))
        return ", ".join(parts) or None
    found = convention_answer(text)
    if found is not None and found[1] != MULTIPLE:
        return found[0]
    if scan.unbalanced or len(text) > MAX_ANSWER or len(_WORD_RE.findall(text)) > _MAX_WORDS:
        return None
    return text
