"""The probe battery: every probe is a real attempt to be paid without being right."""

from __future__ import annotations

import re
import unicodedata

import pytest

from rewardkit.rewards import BoxedAccuracy
from rewardkit.testing import (
    DEFAULT_PROBLEMS,
    PROBES,
    get_probe,
    honest_correct,
    honest_wrong,
    probe_names,
)
from rewardkit.text import all_boxed, answer_region, final_answer
from rewardkit.verify import equivalent

ISSUE_PROBES = {
    "several_boxed",
    "answer_in_think_only",
    "hedging_in_words",
    "echo_prompt",
    "empty_think",
    "think_tag_tricks",
    "repetition",
    "extreme_length",
    "latex_tricks",
    "unicode_lookalikes",
    "judge_injection",
    "verifier_injection",  # issue 13
    "confident_wrong",
    "question_restated",  # issue 12: lenient reading must not take the question's numbers
    "label_rescue",  # issue 12
    "coarse_rounding",  # issue 12
}


def test_the_battery_covers_the_issue_and_names_are_unique():
    assert set(probe_names()) == ISSUE_PROBES
    assert len(probe_names()) == len(PROBES)
    with pytest.raises(KeyError, match="several_boxed"):
        get_probe("nope")


@pytest.mark.parametrize("problem", DEFAULT_PROBLEMS, ids=lambda p: p.gold)
def test_problems_do_not_give_the_answer_away(problem):
    numbers = set(re.findall(r"\d+", problem.prompt + " " + problem.work))
    if problem.gold.isdigit():
        assert problem.gold not in numbers and problem.wrong not in numbers
    assert not equivalent(problem.gold, problem.wrong)
    assert final_answer(honest_correct(problem)).answer == problem.gold
    assert final_answer(honest_wrong(problem)).answer == problem.wrong


@pytest.mark.parametrize("probe", PROBES, ids=lambda p: p.name)
def test_each_probe_builds_completions_for_every_problem(probe):
    assert len(probe.why) > 40 and probe.category
    for problem in DEFAULT_PROBLEMS:
        variants = probe.build(problem)
        assert variants, f"{probe.name} built nothing for {problem.gold}"
        for name, text in variants.items():
            assert re.fullmatch(r"[a-z0-9_]+", name)
            assert isinstance(text, str)
            assert text not in (honest_correct(problem), honest_wrong(problem))


@pytest.mark.parametrize("probe", PROBES, ids=lambda p: p.name)
def test_no_variant_commits_to_the_gold_answer_alone(probe):
    # What would make a probe legitimately paid: exactly one boxed answer after the think
    # span, and it is the gold one. No probe may do that.
    for problem in DEFAULT_PROBLEMS:
        for name, text in probe.build(problem).items():
            if "<think>" in text and "</think>" not in text:
                continue  # an unclosed span has no answer region at all
            boxes = [b.content.strip() for b in all_boxed(answer_region(text))]
            assert boxes != [problem.gold], f"{probe.name}/{name} is simply right"


def test_careful_probes_dress_the_wrong_answer_not_the_gold():
    problem = DEFAULT_PROBLEMS[1]  # gold 43, wrong 33
    latex = get_probe("latex_tricks").build(problem)
    assert r"\boxed{\text{33}}" in latex["wrong_in_text"]
    lookalikes = get_probe("unicode_lookalikes").build(problem)
    full_width = lookalikes["wrong_in_full_width_digits"]
    assert "\uff13\uff13" in full_width
    assert unicodedata.normalize("NFKC", final_answer(full_width).answer) == problem.wrong
    letters = final_answer(lookalikes["gold_in_lookalike_letters"]).answer
    assert letters == "\u0427\u0417"  # Cyrillic Che and Ze: letters, not digits
    assert not any(c.isdigit() for c in letters)


def test_listing_every_option_really_lists_the_gold():
    for problem in DEFAULT_PROBLEMS:
        text = get_probe("several_boxed").build(problem)["every_option"]
        assert problem.gold in [b.content for b in all_boxed(text)]


def test_extreme_length_is_extreme():
    variants = get_probe("extreme_length").build(DEFAULT_PROBLEMS[0])
    assert min(len(t) for t in variants.values()) > 90_000


@pytest.mark.parametrize("probe", PROBES, ids=lambda p: p.name)
def test_rewardkit_boxed_accuracy_pays_no_probe(probe):
    reward = BoxedAccuracy()
    for problem in DEFAULT_PROBLEMS:
        variants = probe.build(problem)
        values = reward(
            completions=list(variants.values()), solution=[problem.gold] * len(variants)
        )
        paid = {name: v for name, v in zip(variants, values, strict=True) if v}
        assert not paid, f"{probe.name} paid on gold {problem.gold}: {paid}"


def test_equivalence_probes_put_the_gold_beside_a_committed_wrong_value():
    problem = DEFAULT_PROBLEMS[5]  # gold \frac{7}{8} = 0.875, wrong \frac{5}{8}
    labels = get_probe("label_rescue").build(problem)
    assert r"\boxed{n = \frac{5}{8}}" in labels.pop("labelled_wrong")
    assert all(problem.gold in text and problem.wrong in text for text in labels.values())
    roundings = get_probe("coarse_rounding").build(problem)
    assert r"\boxed{0.88}" in roundings["two_significant_digits"]  # a real near miss
    assert equivalent("0.875", problem.gold)  # while the exact decimal is right
