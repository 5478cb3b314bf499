r"""Reading completions: message formats, the think span, boxes and final answers.

Everything here is pure string work on untrusted model output: no function raises on
malformed text, and every search is linear in the input length. One module a concept:
:mod:`~rewardkit.text.messages` (chat formats), :mod:`~rewardkit.text.think` (think
spans, configurable tags), :mod:`~rewardkit.text.boxes` (boxed answers),
:mod:`~rewardkit.text.conventions` (answer labels), :mod:`~rewardkit.text.lenient` (the
prose fallback) and :mod:`~rewardkit.text.answers` (the final and the gold answer).

>>> final_answer("<think>2+2 is 4</think> So \\boxed{4}.").answer
'4'
"""

from rewardkit.text.answers import EXTRACT_MODES, Extraction, final_answer, gold_answer
from rewardkit.text.boxes import Boxed, all_boxed, last_boxed, scan_boxes
from rewardkit.text.messages import completion_text
from rewardkit.text.think import (
    DEFAULT_THINK_TAGS,
    THINK_CLOSE,
    THINK_OPEN,
    ThinkSplit,
    ThinkTags,
    answer_region,
    split_think,
    think_tag_pairs,
    think_tags_for,
)

__all__ = [
    "DEFAULT_THINK_TAGS",
    "EXTRACT_MODES",
    "THINK_CLOSE",
    "THINK_OPEN",
    "Boxed",
    "Extraction",
    "ThinkSplit",
    "ThinkTags",
    "all_boxed",
    "answer_region",
    "completion_text",
    "final_answer",
    "gold_answer",
    "last_boxed",
    "scan_boxes",
    "split_think",
    "think_tag_pairs",
    "think_tags_for",
]
