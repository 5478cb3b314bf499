"""Toy replies in each verifier model's format, for :class:`FakeJudgeServer`.

A rule, not a model: the answer is right when it holds the same numbers as the gold, in
the same order, after the words around them are stripped (``12 apples`` is ``12``), and
the answer states no inequality (``x \\neq 12`` is not ``12``); an empty answer or one
saying it cannot answer is CompassVerifier's C (invalid). The reply uses the format's own
verdict words, so every parser is exercised end to end. Like a
small model, it obeys instructions it finds outside the fenced texts: when the prompt
outside the fences holds the format's "right" word more often than the template does,
an injection escaped its fence and the toy says "right".

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
_INEQUALITY = re.compile(r"\\(?:neq?|not|[lg]eq?|pm|mp)\b|[<>\u2260\u00b1]")

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
# the word an escaped injection would use to ask for a "right" verdict
_OBEYED = {
    "tinyv": "True",
    "xverify": "Correct",
    "compassverifier": "A",
    "general_verifier": "Yes",
    "generic": "CORRECT",
}


def toy_verifier(user: str) -> str | None:
    """The toy verdict for a verifier prompt in any known format, else ``None``."""
    for name, fmt in FORMATS.items():
        head = fmt.template.split("{{", 1)[0]
        tail = fmt.template.rsplit("}}", 1)[-1]
        if user.startswith(head) and user.endswith(tail):
            blocks = {label: body for label, _, body in _FENCE.findall(user)}
            answer, gold = blocks.get("answer", ""), blocks.get("gold", "")
            right, wrong, invalid = REPLIES[name]
            word = re.compile(rf"\b{_OBEYED[name]}\b")
            outside = _FENCE.sub("", user)
            if len(word.findall(outside)) > len(word.findall(fmt.template)):
                return right
            if not answer.strip() or _REFUSAL.search(answer):
                return invalid
            same = _numbers(answer) == _numbers(gold) and bool(_numbers(gold))
            same = same and not _INEQUALITY.search(answer)
            return right if same else wrong
    return None


def _numbers(text: str) -> list[float]:
    return [float(n) for n in _NUMBER.findall(text)]
