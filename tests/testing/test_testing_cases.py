"""Table-driven reward cases: ids, merging of shared columns, checks and their messages."""

from __future__ import annotations

import pytest
from audit_test_rewards import ChatOnlyLastBox, FormatsDisagree, LastBox

from rewardkit.rewards import BoxedAccuracy
from rewardkit.testing import RewardCase, check_case, reward_cases, run_case

CASES = reward_cases(
    [
        (r"\boxed{4}", 1.0),
        (r"\boxed{5}", 0.0),
        (r"<think>\boxed{4}</think>", 0.0, {}, "answer_in_think"),
        (r"\boxed{7}", 1.0, {"solution": "7"}),
        RewardCase(r"\boxed{3} or \boxed{4}", 0.0, id="hedged"),
        RewardCase(r"\boxed{4}", None, columns={"solution": None}, id="no_gold"),
        RewardCase(r"<think>2+2</think> \boxed{4}", 1.0, both_formats=True, id="both"),
    ],
    columns={"solution": "4"},
)


@pytest.mark.parametrize("case", CASES)
def test_boxed_accuracy_table(case):
    check_case(BoxedAccuracy(), case)


def test_params_carry_ids_and_merged_columns():
    assert [p.id for p in CASES] == [
        "boxed_4-1.0",
        "boxed_5-0.0",
        "answer_in_think",
        "boxed_7-1.0",
        "hedged",
        "no_gold",
        "both",
    ]
    by_id = {p.id: p.values[0] for p in CASES}
    assert by_id["boxed_7-1.0"].columns == {"solution": "7"}  # the row's own column wins
    assert by_id["hedged"].columns == {"solution": "4"}
    assert by_id["no_gold"].columns == {"solution": None}


def test_duplicate_ids_get_a_suffix_and_empty_completions_an_id():
    params = reward_cases([("", 0.0), ("", 0.0), ("", 0.0)])
    assert [p.id for p in params] == ["empty-0.0", "empty-0.0-2", "empty-0.0-3"]


def test_a_mismatch_explains_what_was_given_and_expected():
    case = RewardCase(r"\boxed{5}", 1.0, columns={"solution": "4"})
    with pytest.raises(AssertionError, match=r"boxed_accuracy gave 0.0, expected 1.0 .*boxed\{5\}"):
        check_case(BoxedAccuracy(), case)


def test_none_and_numbers_do_not_match_each_other():
    with pytest.raises(AssertionError, match="gave None"):
        check_case(BoxedAccuracy(), RewardCase("x", 0.0, columns={"solution": None}))
    with pytest.raises(AssertionError, match="expected None"):
        check_case(BoxedAccuracy(), RewardCase("x", None, columns={"solution": "4"}))


def test_tolerance():
    def reward(completions, **kwargs):
        return [0.5004 for _ in completions]

    check_case(reward, RewardCase("x", 0.5, tolerance=1e-3))
    with pytest.raises(AssertionError):
        check_case(reward, RewardCase("x", 0.5))


def test_both_formats_catches_a_reward_that_reads_formats_differently():
    with pytest.raises(AssertionError, match=r"\(plain\)"):
        check_case(FormatsDisagree(), RewardCase("x", 1.0, both_formats=True))
    with pytest.raises(TypeError):  # a chat-only reward crashes on the plain form
        check_case(
            ChatOnlyLastBox(), RewardCase(r"\boxed{4}", 1.0, {"solution": "4"}, both_formats=True)
        )


def test_run_case_sends_chat_messages_when_asked():
    case = RewardCase(r"\boxed{4}", 1.0, columns={"solution": "4"}, prompt="2+2?")
    assert run_case(ChatOnlyLastBox(), case, chat=True) == 1.0
    assert run_case(LastBox(), case, chat=False) == 1.0
    chat_case = RewardCase([{"role": "assistant", "content": "x"}], 0.0)
    with pytest.raises(ValueError, match="plain-text"):
        run_case(LastBox(), chat_case, chat=False)


def test_a_reward_returning_several_values_for_one_case_fails():
    with pytest.raises(AssertionError, match="2 values for 1 completion"):
        run_case(lambda completions, **kw: [1.0, 1.0], RewardCase("x", 1.0))


@pytest.mark.parametrize("row", [("only one",), ("a", 1.0, {}, "id", "extra"), "not a tuple"])
def test_malformed_rows_are_rejected(row):
    with pytest.raises(ValueError, match="table row"):
        reward_cases([row])


def test_bad_expected_and_tolerance_are_rejected():
    with pytest.raises(TypeError):
        RewardCase("x", "1.0")
    with pytest.raises(ValueError):
        RewardCase("x", 1.0, tolerance=-1)
