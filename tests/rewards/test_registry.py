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


@pytest.mark.parametrize("spelling", ["False", "false", "no", "NO", "off", "Off", "0"])
def test_every_false_spelling_turns_a_boolean_option_off(spelling):
    assert get_reward(f"boxed_accuracy@boxed_only={spelling}").boxed_only is False


@pytest.mark.parametrize("spelling", ["True", "true", "yes", "YES", "on", "1"])
def test_every_true_spelling_turns_a_boolean_option_on(spelling):
    assert get_reward(f"boxed_accuracy@boxed_only={spelling}").boxed_only is True


@pytest.mark.parametrize("spelling", ["maybe", "", "2", "n", "falsy", '"false"'])
def test_an_unknown_boolean_spelling_names_the_option_and_its_type(spelling):
    with pytest.raises(ValueError, match=r"boxed_only.*bool"):
        get_reward(f"boxed_accuracy@boxed_only={spelling}")


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("overlong_penalty@max_length=abc", r"max_length.*int"),
        ("overlong_penalty@max_length=512.5", r"max_length.*int"),
        ("overlong_penalty@estimate_tokens=maybe", r"estimate_tokens.*bool"),
        ("repetition_penalty@penalty=lots", r"penalty.*float"),
        ("math@format_bonus=high", r"format_bonus.*float"),
        ("math@require_think=nope", r"require_think.*bool"),
        ("process@threshold=half", r"threshold.*float"),
        ("process@empty_value=zero", r"empty_value.*float"),
        ("cosine_length@max_length=1e3", r"max_length.*int"),
        ("think_format@strict=sometimes", r"strict.*bool"),
    ],
)
def test_options_of_every_reward_are_checked_against_their_type(spec, message):
    with pytest.raises(ValueError, match=message):
        get_reward(spec)


def test_typed_options_are_converted_from_text():
    penalty = get_reward("overlong_penalty@max_length=512,estimate_tokens=yes")
    assert (penalty.max_length, penalty.estimate_tokens) == (512, True)
    assert get_reward("process@empty_value=none").empty_value is None
    assert get_reward("process@empty_value=0").empty_value == 0.0
    assert get_reward("math@format_bonus=0.2,strict=off").__name__ == "math"


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: BoxedAccuracy(boxed_only="no"), r"boxed_only='no'.*bool"),
        (lambda: BoxedAccuracy(gold_column=3), r"gold_column"),
        (lambda: get_reward("overlong_penalty", max_length="512"), r"max_length.*int"),
        (lambda: get_reward("math", require_think="false"), r"require_think.*bool"),
        (lambda: get_reward("think_format", strict=1), r"strict.*bool"),
        (lambda: get_reward("repetition_penalty", ngram_size=True), r"ngram_size.*int"),
    ],
)
def test_python_construction_checks_option_types_too(build, message):
    with pytest.raises(TypeError, match=message):
        build()
