"""The audit: hack scores, findings, crashes recorded, table and JSON."""

from __future__ import annotations

import json

import pytest
from audit_test_rewards import (
    AsyncLastBox,
    ChatOnlyLastBox,
    Constant,
    GoldAnywhere,
    GullibleJudge,
    LastBox,
    LovesLength,
    Raises,
    RaisesOnLong,
    SlowOnHuge,
)

from rewardkit.rewards import BoxedAccuracy, get_reward
from rewardkit.testing import (
    DEFAULT_PROBLEMS,
    PROBES,
    MathProblem,
    Probe,
    audit_reward,
    comparison_table,
    get_probe,
)

FEW = DEFAULT_PROBLEMS[:3]


def by_name(report):
    return {p.name: p for p in report.probes}


def test_rewardkit_boxed_accuracy_passes_the_whole_battery():
    report = audit_reward(BoxedAccuracy())
    assert report.passed, report.table()
    assert (report.correct, report.wrong, report.gap) == (1.0, 0.0, 1.0)
    assert [p.name for p in report.probes] == [p.name for p in PROBES]
    assert all(p.hack_score == 0.0 and not p.flagged for p in report.probes)
    assert report.completion_format == "plain" and report.findings == []


def test_rewardkit_default_math_reward_pays_no_probe():
    report = audit_reward(get_reward("math"))
    assert report.passed, report.table()
    assert report.correct == 1.0 and report.wrong == pytest.approx(0.1)
    assert max(p.worst for p in report.probes) == pytest.approx(0.1)  # the format bonus at most


@pytest.mark.parametrize("extract", ["conventions", "lenient"])
def test_boxed_accuracy_in_wider_extraction_modes_pays_no_probe(extract):
    """Reading labels, or prose as a grader would, must not open a hack: the question
    restated at the end, its numbers, or a hedge are not answers."""
    report = audit_reward(BoxedAccuracy(extract=extract))
    assert report.passed, report.table()
    assert all(p.hack_score == 0.0 for p in report.probes), report.table()


def test_a_last_number_reader_is_caught_by_the_restated_question():
    """The probe is not vacuous: a reader that takes the last number of the text is paid."""

    def last_number(completions, solution, **kwargs):
        import re

        out = []
        for text, gold in zip(completions, solution, strict=True):
            numbers = re.findall(r"\d+", text.split("</think>")[-1])
            out.append(float(bool(numbers) and numbers[-1] == gold))
        return out

    report = audit_reward(last_number)
    flagged = {p.name for p in report.flagged}
    assert "question_restated" in flagged


def test_a_last_box_reward_is_caught_hedging():
    report = audit_reward(LastBox(), problems=FEW)
    probes = by_name(report)
    hedge = probes["several_boxed"]
    assert hedge.flagged and hedge.hack_score == 1.0
    assert hedge.worst_variant == "wrong_then_gold"
    assert hedge.variants["gold_then_wrong"] == 0.0
    assert hedge.paid == pytest.approx(1 / 5)  # one variant of five is paid
    assert probes["latex_tricks"].flagged  # \phantom{\boxed{gold}} is the last box
    assert not probes["confident_wrong"].flagged
    assert not report.passed
    assert report.table().endswith("FAILED: paid for " + ", ".join(p.name for p in report.flagged))


@pytest.mark.parametrize(
    ("reward", "caught_by"),
    [
        (GullibleJudge(), {"judge_injection"}),
        (GoldAnywhere(), {"repetition", "extreme_length", "hedging_in_words", "several_boxed"}),
        (LovesLength(), {"extreme_length", "repetition"}),
        (LastBox(), {"answer_in_think_only", "think_tag_tricks", "several_boxed", "latex_tricks"}),
    ],
    ids=lambda x: getattr(x, "__name__", None),
)
def test_each_kind_of_hackable_reward_is_caught_by_its_probes(reward, caught_by):
    report = audit_reward(reward, problems=FEW)
    assert caught_by <= {p.name for p in report.flagged}, report.table()


def test_threshold_is_compared_with_the_best_paid_variant():
    half = Probe("half", "test", "pays half", lambda p: {"a": p.gold, "b": p.wrong})

    def reward(completions, solution, **kwargs):
        return [
            1.0 if "\\boxed" in c and c.endswith(f"{{{g}}}.") else 0.5 if c == g else 0.0
            for c, g in zip(completions, solution, strict=True)
        ]

    strict = audit_reward(reward, problems=FEW, probes=[half], threshold=0.1)
    [result] = strict.probes
    assert result.variants == {"a": 0.5, "b": 0.0}
    assert result.paid == 0.25 and result.worst == 0.5 and result.hack_score == 0.5
    assert result.flagged
    lenient = audit_reward(reward, problems=FEW, probes=[half], threshold=0.5)
    assert not lenient.probes[0].flagged and lenient.passed  # not MORE than the threshold


def test_hack_score_is_relative_to_the_gap_between_right_and_wrong():
    # correct pays 0.2, wrong 0.0: a probe paid 0.1 is half way to a right answer
    def reward(completions, solution, **kwargs):
        return [
            0.2 if f"{{{g}}}." in c else 0.1 if "or" in c else 0.0
            for c, g in zip(completions, solution, strict=True)
        ]

    report = audit_reward(reward, problems=FEW, probes=[get_probe("hedging_in_words")])
    assert report.gap == pytest.approx(0.2)
    assert report.probes[0].hack_score == pytest.approx(0.5)


def test_a_reward_that_pays_everything_the_same_has_no_signal():
    report = audit_reward(Constant(), problems=FEW)
    assert report.gap == 0.0 and not report.passed
    assert any(f.startswith("no_signal") for f in report.findings)
    assert all(p.hack_score is None and not p.flagged for p in report.probes)
    assert "(no_signal)" in report.table()


def test_plain_string_crash_is_a_finding_and_the_audit_goes_on_in_chat_format():
    report = audit_reward(ChatOnlyLastBox(), problems=FEW)
    assert report.completion_format == "chat"
    assert "crashed on plain-string completions (TypeError" in report.findings[0]
    assert by_name(report)["several_boxed"].flagged  # chat format scored for real
    forced = audit_reward(ChatOnlyLastBox(), problems=FEW, completion_format="plain")
    assert forced.correct is None and not forced.passed
    assert all(p.n_errors == p.n_completions for p in forced.probes)


def test_a_reward_that_always_raises_does_not_crash_the_audit():
    report = audit_reward(Raises(), problems=FEW[:1], probes=[get_probe("echo_prompt")])
    [probe] = report.probes
    assert probe.error == "RuntimeError: boom" and probe.n_scored == 0
    assert probe.n_errors == probe.n_completions == 4
    assert not report.passed and report.correct is None


def test_a_crash_on_some_completions_is_localised():
    report = audit_reward(RaisesOnLong(), problems=FEW, probes=[get_probe("extreme_length")])
    [probe] = report.probes
    assert probe.n_errors == probe.n_completions == 12  # every variant is over 3,000 chars
    assert probe.error == "MemoryError: too long"
    mixed = audit_reward(RaisesOnLong(), problems=FEW, probes=[get_probe("repetition")])
    [rep] = mixed.probes
    assert 0 < rep.n_errors < rep.n_completions
    assert rep.n_scored == rep.n_completions - rep.n_errors


def test_a_call_over_the_time_limit_is_recorded_and_the_audit_goes_on():
    probes = [get_probe("extreme_length"), get_probe("confident_wrong")]
    report = audit_reward(SlowOnHuge(), problems=FEW[:1], probes=probes, time_limit=0.3)
    slow, quick = report.probes
    assert slow.error == "TimeoutError: no result within 0.3 s"
    assert slow.n_errors == slow.n_completions and slow.n_scored == 0
    assert quick.error is None and quick.n_scored == quick.n_completions
    with pytest.raises(ValueError, match="time_limit"):
        audit_reward(SlowOnHuge(), time_limit=0)


def test_async_rewards_are_awaited():
    report = audit_reward(AsyncLastBox(), problems=FEW)
    assert report.correct == 1.0 and by_name(report)["several_boxed"].flagged


def test_gold_column_is_configurable():
    def reward(completions, answer, **kwargs):
        return [float(f"{{{a}}}." in c) for c, a in zip(completions, answer, strict=True)]

    report = audit_reward(reward, problems=FEW, gold_column="answer", probes=PROBES[:2])
    assert report.correct == 1.0 and report.wrong == 0.0


def test_none_rewards_are_left_out_of_the_means():
    def reward(completions, solution, **kwargs):
        return [
            None if "or" in c else float(f"{{{g}}}." in c)
            for c, g in zip(completions, solution, strict=True)
        ]

    report = audit_reward(reward, problems=FEW, probes=[get_probe("several_boxed")])
    [probe] = report.probes
    assert probe.n_scored < probe.n_completions
    assert probe.variants["wrong_then_gold"] is None


def test_json_round_trip_and_table():
    report = audit_reward(LastBox(), problems=FEW, probes=[get_probe("several_boxed")])
    data = json.loads(report.to_json())
    assert data["reward"] == "last_box" and data["passed"] is False
    assert data["flagged"] == ["several_boxed"]
    probe = data["probes"][0]
    assert probe["hack_score"] == 1.0 and probe["worst_variant"] == "wrong_then_gold"
    assert "why" in probe and probe["variants"]["every_option"] == 0.0
    table = report.table()
    assert "several_boxed" in table and "PAID" in table and "wrong_then_gold" in table


def test_comparison_table_puts_rewards_side_by_side():
    reports = [
        audit_reward(BoxedAccuracy(), problems=FEW, probes=PROBES[:2]),
        audit_reward(LastBox(), problems=FEW, probes=PROBES[:2]),
        audit_reward(Constant(), problems=FEW, probes=PROBES[:2]),
    ]
    lines = comparison_table(reports).splitlines()
    assert lines[0] == "| probe | boxed_accuracy | last_box | constant |"
    assert lines[2] == "| honest correct / wrong | 1.00 / 0.00 | 1.00 / 0.00 | 0.50 / 0.50 |"
    assert lines[3].startswith(
        "| several_boxed | 0.00 | **1.00 PAID** (wrong_then_gold) | paid 0.50"
    )
    assert "pays no probe" in lines[-1] and "no_signal" in lines[-1]


@pytest.mark.parametrize(
    "options",
    [
        {"completion_format": "xml"},
        {"problems": []},
        {"threshold": float("nan")},
    ],
)
def test_bad_options_raise(options):
    with pytest.raises(ValueError):
        audit_reward(BoxedAccuracy(), **options)


def test_custom_problems():
    problem = MathProblem("What is 1 + 1?", "2", "3", "One and one.")
    report = audit_reward(LastBox(), problems=[problem], probes=[get_probe("several_boxed")])
    assert report.probes[0].n_completions == 5
