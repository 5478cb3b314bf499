"""The contract check passes good rewards and catches each kind of broken one."""

from __future__ import annotations

import pytest
from audit_test_rewards import (
    AsciiOnly,
    AsyncLastBox,
    ChatOnlyLastBox,
    Counter,
    CrashesOnEmptyText,
    EmptyBatchFails,
    FormatsDisagree,
    LastBox,
    NaNs,
    NoName,
    NotFloats,
    RacyCounter,
    Raises,
    RunsItsOwnLoop,
    SlowOnHuge,
    Unpicklable,
    WrongLength,
)

from rewardkit.rewards import BoxedAccuracy
from rewardkit.testing import CHECKS, assert_reward_contract, check_reward_contract


def failed(report) -> set[str]:
    return {c.name for c in report.failures}


def test_boxed_accuracy_keeps_the_whole_contract():
    report = check_reward_contract(BoxedAccuracy())
    assert report.passed, str(report)
    assert [c.name for c in report.checks] == list(CHECKS)
    assert "1, 0, 0, 0" in report["value_types"].message
    assert report["length"].message.endswith("(plain format)")


def test_async_reward_is_awaited_and_passes():
    report = check_reward_contract(AsyncLastBox())
    assert report.passed, str(report)
    assert report["asyncio"].message == "awaited concurrently"
    assert report["value_types"].message == "1, 0, 0, 0"


@pytest.mark.parametrize(
    ("reward", "expected_failures", "message"),
    [
        (WrongLength(), {"length", "value_types"}, "returned 5 values for 4 completions"),
        (Counter(), {"deterministic", "picklable", "threads", "asyncio"}, "two calls"),
        (Unpicklable(), {"picklable"}, "cannot be pickled"),
        (ChatOnlyLastBox(), {"plain_strings", "formats_agree"}, "raises on plain completions"),
        (NotFloats(), {"value_types", "empty_completion", "unicode", "huge_input"}, "'1.0'"),
        (NaNs(), {"value_types", "plain_strings", "empty_completion", "unicode"}, "got nan"),
        (NoName(), {"has_name"}, "no __name__"),
        (FormatsDisagree(), {"formats_agree"}, "scores [0.0, 0.0, 0.0, 0.0] as plain"),
        (EmptyBatchFails(), {"empty_batch"}, "ZeroDivisionError"),
        (CrashesOnEmptyText(), {"length", "value_types", "deterministic"}, "IndexError"),
        (AsciiOnly(), {"unicode"}, "UnicodeEncodeError"),
        (RacyCounter(), {"threads"}, "from a thread"),
        (RunsItsOwnLoop(), {"asyncio"}, "running event loop"),
    ],
    ids=lambda x: getattr(x, "__name__", None) if callable(x) else None,
)
def test_broken_rewards_fail_the_checks_they_break(reward, expected_failures, message):
    report = check_reward_contract(reward, time_limit=10)
    assert not report.passed
    assert expected_failures <= failed(report), str(report)
    assert message in str(report)


def test_a_reward_that_only_raises_fails_every_call_check_with_its_error():
    report = check_reward_contract(Raises())
    assert failed(report) == set(CHECKS) - {"has_name"}
    assert "RuntimeError: boom" in report["length"].message
    assert "RuntimeError: boom" in report["plain_strings"].message


def test_a_reward_that_hangs_on_huge_input_fails_within_the_time_limit():
    report = check_reward_contract(SlowOnHuge(), time_limit=0.5, huge_chars=200_000)
    assert failed(report) == {"huge_input"}
    assert "no result within 0.5 s" in report["huge_input"].message


def test_assert_reward_contract_lists_every_failure():
    with pytest.raises(AssertionError) as info:
        assert_reward_contract(ChatOnlyLastBox())
    text = str(info.value)
    assert "FAIL plain_strings" in text and "FAIL formats_agree" in text
    assert "ok   chat_messages" in text


def test_skipped_checks_are_left_out():
    report = assert_reward_contract(ChatOnlyLastBox(), skip=["plain_strings", "formats_agree"])
    assert report.passed
    assert "plain_strings" not in {c.name for c in report.checks}
    assert report.to_dict()["passed"] is True


def test_custom_batch_and_columns():
    report = check_reward_contract(
        LastBox(),
        prompts=["p"],
        completions=[r"\boxed{x}"],
        columns={"solution": ["x"]},
    )
    assert report.passed, str(report)
    assert report["value_types"].message == "1"


@pytest.mark.parametrize(
    "options",
    [
        {"skip": ["no_such_check"]},
        {"completions": []},
        {"prompts": ["a"], "completions": ["a", "b"]},
        {"columns": {"solution": ["1"]}},
    ],
)
def test_bad_options_raise_at_once(options):
    with pytest.raises(ValueError):
        check_reward_contract(LastBox(), **options)
