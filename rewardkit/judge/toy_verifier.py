"""Toy replies in each verifier model's format, for :class:`FakeJudgeServer`.

A rule, not a model: the answer is right when it holds the same numbers as the gold, in
the same order, after the words around them are stripped (``12 apples`` is ``12``); an
empty answer or one saying it cannot answer is CompassVerifier's C (invalid). The reply
uses the format's own verdict words, so every parser is exercised end to end.

>>> from rewardkit.verify import ModelVerifier
>>> mv = ModelVerifier("compassverifier", "cv", base_url="http://127.0.0.1:1/v1", cache=False)
>>> toy_verifier(mv.messages("How many?", "12 apples", "12")[-1]["content"])
'A'
>>> toy_verifier("Rate this essay.") is None
True
"""

from __future__ import annotations

import re

from rewardkit.verify.verifier_formats import FORMATS

_NUMBER = re.compile(r"-?\d+(?:\.\d+)?")
_FENCE = re.compile(r"<(question|gold|answer)_([0-9a-f]{16})>\n(.*?)\n</\1_\2>", re.DOTALL)
_REFUSAL = re.compile(r"\b(cannot|can't|unable)\b", re.IGNORECASE)

# (right, wrong, invalid) replies of each format, as its model would write them
REPLIES = {
    "tinyv": ("True", "False", "False"),
    "xverify": ("Correct", "Incorrect", "Incorrect"),
    "compassverifier": ("A", "B", "C"),
    "general_verifier": (
        "<think>The values agree.</think>Final Decision: Yes",
        "<think>The values differ.</think>Final Decision: No",
        "<think>No answer to compare.</think>Final Decision: No",
    ),
    "generic": (
        "Both give the same value.\nVerdict: CORRECT",
        "The values differ.\nVerdict: INCORRECT",
        "There is no answer to compare.\nVerdict: INCORRECT",
    ),
}
assert set(REPLIES) == set(FORMATS)


def toy_verifier(user: str) -> str | None:
    """The toy verdict for a verifier prompt in any known format, else ``None``."""
    for name, fmt in FORMATS.items():
        head = fmt.template.split("{{", 1)[0]
        tail = fmt.template.rsplit("}}", 1)[-1]
        if user.startswith(head) and user.endswith(tail):
            blocks = {label: body for label, _, body in _FENCE.findall(user)}
            answer, gold = blocks.get("answer", ""), blocks.get("gold", "")
            right, wrong, invalid = REPLIES[name]
            if not answer.strip() or _REFUSAL.search(answer):
                return invalid
            same = _numbers(answer) == _numbers(gold) and bool(_numbers(gold))
            return right if same else wrong
    return None


def _numbers(text: str) -> list[float]:
    return [float(n) for n in _NUMBER.findall(text)]
