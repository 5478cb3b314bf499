"""Looking rewards up by name or by module:attribute."""

from __future__ import annotations

import pytest

from rewardkit.rewards import BoxedAccuracy, get_reward, register_reward, reward_names


def test_builtin_names():
    assert "boxed_accuracy" in reward_names()
    reward = get_reward("boxed_accuracy", gold_column="answer")
    assert isinstance(reward, BoxedAccuracy)
    assert reward.gold_columns == ("answer",)


def test_module_attribute_paths():
    assert isinstance(get_reward("rewardkit.rewards:BoxedAccuracy"), BoxedAccuracy)
    function = get_reward("rewardkit.text:completion_text")
    assert function("x") == "x"


def test_options_for_a_plain_function_are_refused():
    with pytest.raises(TypeError, match="takes no options"):
        get_reward("rewardkit.text:completion_text", x=1)


@pytest.mark.parametrize(
    "spec", ["no_such_reward", "rewardkit.nothing:here", "rewardkit.text:nope"]
)
def test_unknown_rewards_name_the_known_ones_or_the_problem(spec):
    with pytest.raises(KeyError, match="unknown reward|cannot load"):
        get_reward(spec)


def test_registering_a_second_reward_under_a_taken_name_fails():
    with pytest.raises(ValueError, match="already registered"):
        register_reward("boxed_accuracy")(lambda: None)


def test_options_after_at_as_on_the_command_line():
    reward = get_reward("boxed_accuracy@boxed_only=false, gold_column=target")
    assert (reward.boxed_only, reward.gold_columns) == (False, ("target",))
    assert get_reward("boxed_accuracy@boxed_only=true", boxed_only=False).boxed_only is False


def test_malformed_options_are_a_clear_error():
    with pytest.raises(ValueError, match="is not key=value"):
        get_reward("boxed_accuracy@boxed_only")
