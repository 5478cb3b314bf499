"""A score from a judge's reply, and which kind it is: a G-Eval expectation over the
verdict token's log-probabilities (``"logprob"``), or the sampled verdict (``"sampled"``).

A server that drops ``logprobs`` (``transformers serve`` does) still gives a verdict; the
score then says it is ``sampled`` instead of passing for a G-Eval score.

>>> from rewardkit.judge.backends.base import JudgeReply
>>> read_yes_no(JudgeReply("Verdict: YES"), use_logprobs=True)
(Scored(value=1.0, kind='sampled'), 'ok')
"""

from __future__ import annotations

from typing import NamedTuple

from rewardkit.judge.backends.base import JudgeReply
from rewardkit.judge.parse import expected_rating, parse_rating, parse_yes_no, yes_probability
from rewardkit.rewards.base import OK

LOGPROB = "logprob"
SAMPLED = "sampled"


class Scored(NamedTuple):
    """A verdict's score and its kind (:data:`LOGPROB` or :data:`SAMPLED`)."""

    value: float
    kind: str


def read_yes_no(reply: JudgeReply, use_logprobs: bool) -> tuple[Scored | None, str]:
    """p(yes) from the log-probabilities when asked and present, else the sampled 1/0."""
    verdict = parse_yes_no(reply.text)
    if verdict.value is None:
        return None, verdict.reason
    if use_logprobs and reply.logprobs and verdict.span:
        probability = yes_probability(reply.logprobs, verdict.span)
        if probability is not None:
            return Scored(probability, LOGPROB), OK
    return Scored(verdict.value, SAMPLED), OK


def read_rating(
    reply: JudgeReply, low: int, high: int, use_logprobs: bool
) -> tuple[Scored | None, str]:
    """The expected rating from the log-probabilities when asked and present, else the
    sampled rating.

    >>> read_rating(JudgeReply("Rating: [[4]]"), 1, 5, use_logprobs=False)
    (Scored(value=4.0, kind='sampled'), 'ok')
    """
    verdict = parse_rating(reply.text, low, high)
    if verdict.value is None:
        return None, verdict.reason
    if use_logprobs and reply.logprobs and verdict.span:
        expected = expected_rating(reply.logprobs, verdict.span, low, high)
        if expected is not None:
            return Scored(expected, LOGPROB), OK
    return Scored(verdict.value, SAMPLED), OK
