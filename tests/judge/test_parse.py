"""Every verdict format parses; anything unusable is None with a reason, never 0."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rewardkit.judge.parse import (
    TokenLogprob,
    expected_rating,
    parse_first_error,
    parse_ranking,
    parse_rating,
    parse_yes_no,
    yes_probability,
)


@pytest.mark.parametrize(
    ("reply", "value", "source"),
    [
        ('The answer is fine.\n{"reasoning": "ok", "score": 7}', 7.0, "json"),
        ('```json\n{"rating": "4"}\n```', 4.0, "json"),
        ('{"feedback": "nested {braces} here", "result": 6} trailing prose', 6.0, "json"),
        ("Feedback: good. [RESULT] 3", 3.0, "result_tag"),
        ("[RESULT]: 9", 9.0, "result_tag"),
        ("Rating: [[8]]", 8.0, "double_brackets"),
        ("Rating: [[8/10]]", 8.0, "double_brackets"),
        (r"So the score is \boxed{5}.", 5.0, "boxed"),
        ("**Score:** 6/10", 6.0, "rating_line"),
        ("Score = 2.5", 2.5, "rating_line"),
        ("<think>I think [[2]]... no, better</think>\nRating: [[9]]", 9.0, "double_brackets"),
        ("I considered </think> Rating: [[4]]", 4.0, "double_brackets"),
        ("First I said Rating: [[3]] but on reflection [RESULT] 6", 6.0, "result_tag"),
    ],
)
def test_rating_formats(reply, value, source):
    verdict = parse_rating(reply, 1, 10)
    assert (verdict.value, verdict.reason, verdict.source) == (value, "ok", source)
    start, end = verdict.span
    assert reply[start:end].strip('"') in {str(int(value)), str(value), f"{value:g}"}


@pytest.mark.parametrize(
    ("reply", "reason"),
    [
        ("", "empty_reply"),
        ("   \n", "empty_reply"),
        ("<think>The response is good, I'd say [[9]]", "unclosed_think"),
        ("This response is good.", "no_verdict"),
        ("Rating: [[N]] where N is the score", "no_verdict"),
        ("Rating: [[11]]", "out_of_range"),
        ("[RESULT] 0", "out_of_range"),
        ('{"score": "high"}', "no_verdict"),
        ('{"score": true}', "no_verdict"),
        ("{" * 5000 + "no verdict", "no_verdict"),
    ],
)
def test_unusable_ratings_are_none_with_a_reason(reply, reason):
    verdict = parse_rating(reply, 1, 10)
    assert verdict.value is None
    assert verdict.reason == reason


@pytest.mark.parametrize(
    ("reply", "value"),
    [
        ("Verdict: YES", 1.0),
        ("verdict: no", 0.0),
        ("The response meets it.\n\n**Verdict:** **Yes**", 1.0),
        ("[RESULT] No", 0.0),
        ("[[YES]]", 1.0),
        (r"\boxed{no}", 0.0),
        ('{"satisfied": true, "reason": "ok"}', 1.0),
        ('{"met": false}', 0.0),
        ('{"verdict": "Not met"}', 0.0),
        ("It mentions units.\nYes.", 1.0),
        ("<think>Verdict: YES? no wait</think>Verdict: NO", 0.0),
        ("Verdict: YES at first, but re-reading: Verdict: NO", 0.0),
    ],
)
def test_yes_no_formats(reply, value):
    verdict = parse_yes_no(reply)
    assert (verdict.value, verdict.reason) == (value, "ok")


@pytest.mark.parametrize(
    ("reply", "reason"),
    [
        ("", "empty_reply"),
        ("<think>yes", "unclosed_think"),
        ("It is hard to say yes or no here, it depends.", "ambiguous_verdict"),
        ("The response is long.", "no_verdict"),
    ],
)
def test_unusable_yes_no_are_none_with_a_reason(reply, reason):
    verdict = parse_yes_no(reply)
    assert (verdict.value, verdict.reason) == (None, reason)


def test_rankings():
    assert parse_ranking('A is best.\n{"ranking": [3, 1, 2]}', 3) == ([2, 0, 1], "ok")
    assert parse_ranking("Ranking: 2 > 1", 2) == ([1, 0], "ok")
    assert parse_ranking("**Ranking:** [1, 3, 2]", 3) == ([0, 2, 1], "ok")
    assert parse_ranking('{"ranking": [1, 2]}', 3) == (None, "out_of_range")  # one missing
    assert parse_ranking('{"ranking": [1, 2, 2]}', 3) == (None, "out_of_range")
    assert parse_ranking('{"ranking": ["a", "b"]}', 2) == (None, "out_of_range")
    assert parse_ranking("They are all fine.", 2) == (None, "no_verdict")
    assert parse_ranking("<think>ranking: 1 > 2", 2) == (None, "unclosed_think")


def test_first_error():
    assert parse_first_error(r"Step 1 is wrong. \boxed{1}", 3).value == 1.0
    assert parse_first_error(r"All correct: \boxed{-1}", 3).value == -1.0
    assert parse_first_error('{"first_error": 0}', 3).value == 0.0
    assert parse_first_error(r"\boxed{3}", 3).reason == "out_of_range"
    assert parse_first_error(r"\boxed{1.5}", 3).reason == "out_of_range"
    assert parse_first_error("no box", 3).reason == "no_verdict"


def _tokens(text_before: str, verdict: str, alternatives: dict[str, float]) -> list[TokenLogprob]:
    top = tuple((token, math.log(p)) for token, p in alternatives.items())
    return [
        TokenLogprob(text_before, 0.0),
        TokenLogprob(verdict, math.log(alternatives[verdict]), top),
        TokenLogprob("]]", 0.0),
    ]


def test_geval_expected_rating_weights_scores_by_probability():
    reply = "Rating: [[7]]"
    tokens = _tokens("Rating: [[", "7", {"7": 0.6, "8": 0.3, "x": 0.1})
    verdict = parse_rating(reply, 1, 10)
    # (0.6 * 7 + 0.3 * 8) / 0.9
    assert expected_rating(tokens, verdict.span, 1, 10) == pytest.approx(22 / 3)
    # too little mass on valid ratings: None, so the sampled rating is used
    thin = _tokens("Rating: [[", "7", {"7": 0.3, "x": 0.7})
    assert expected_rating(thin, verdict.span, 1, 10) is None
    # tokens that do not line up with the reply: None, not a wrong score
    assert expected_rating([TokenLogprob("abc", 0.0)], verdict.span, 1, 10) is None


def test_geval_yes_probability_with_leading_space_tokens():
    reply = "Verdict: YES"
    verdict = parse_yes_no(reply)
    tokens = [
        TokenLogprob("Verdict:", 0.0),
        TokenLogprob(" YES", math.log(0.7), ((" YES", math.log(0.7)), (" NO", math.log(0.3)))),
    ]
    assert yes_probability(tokens, verdict.span) == pytest.approx(0.7)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=300))
def test_parsers_never_raise_and_never_invent_a_zero(text):
    rating = parse_rating(text, 1, 10)
    assert rating.value is None or 1 <= rating.value <= 10
    assert (rating.value is None) == (rating.reason != "ok")
    yes_no = parse_yes_no(text)
    assert yes_no.value in (None, 0.0, 1.0)
    assert (yes_no.value is None) == (yes_no.reason != "ok")
    parse_ranking(text, 3)
    parse_first_error(text, 4)


def test_huge_replies_parse_quickly():
    import time

    reply = ("{ not json " * 20_000) + "\nRating: [[6]]"
    start = time.perf_counter()
    assert parse_rating(reply, 1, 10).value == 6.0
    assert time.perf_counter() - start < 2.0


@pytest.mark.parametrize(
    ("reply", "value"),
    [
        ('{"score": 9} but finally\nRating: [[3]]', 3.0),  # the instructed last line
        ('Rating: [[3]]\n{"score": 9}', 9.0),  # something after it: the general path
        ("Rating: [[3]]\n\n", 3.0),
        ("Verdict: NO\n[RESULT] YES", 1.0),
    ],
)
def test_the_last_verdict_wins_with_or_without_the_fast_path(reply, value):
    parse = parse_yes_no if "Verdict" in reply else lambda r: parse_rating(r, 1, 10)
    assert parse(reply).value == value
