"""Format rewards: think span (strict, lenient, opened by the prompt), one boxed answer,
tag counting, answer outside the think span."""

from __future__ import annotations

import pytest

from rewardkit.rewards import AnswerOutsideThink, SingleBoxedAnswer, ThinkFormat, ThinkTagCount


def reasons(reward, completions, prompts=None):
    return [(r.value, r.reason) for r in reward.score(prompts=prompts, completions=completions)]


def test_lenient_think_format_reasons():
    got = reasons(
        ThinkFormat(),
        [
            "<think>2+2=4</think> \\boxed{4}",
            "  <think> a </think>  b",
            "\\boxed{4}",
            "<think>never closed \\boxed{4}",
            "<think>a</think><think>b</think>c",
            "Sure! <think>a</think> b",
            "<think>   </think> 4",
            "<think>a</think>   ",
            "",
            None,
        ],
    )
    assert got == [
        (1.0, "ok"),
        (1.0, "ok"),
        (0.0, "no_think"),
        (0.0, "unclosed_think"),
        (0.0, "malformed_tags"),
        (0.0, "text_before_think"),
        (0.0, "empty_think"),
        (0.0, "empty_answer"),
        (0.0, "empty_completion"),
        (0.0, "empty_completion"),
    ]


def test_strict_think_format_needs_tags_on_their_own_lines():
    reward = ThinkFormat(strict=True)
    assert reward.__name__ == "think_format_strict"
    assert reward(
        completions=["<think>\nok\n</think>\nA", "<think>ok</think>A", "<think>\nok</think>\nA"]
    ) == [
        1.0,
        0.0,
        0.0,
    ]
    assert reward.score(completions=["<think>ok</think>A"])[0].reason == "bad_layout"


def test_think_opened_by_the_chat_template():
    """TRL's think_format_reward gives 0 here; the prompt ending in <think> makes it right."""
    from trl.rewards import think_format_reward

    completion = "I add: 2 + 2 = 4.\n</think>\nThe answer is \\boxed{4}."
    assert think_format_reward([[{"content": completion}]]) == [0.0]
    reward = ThinkFormat()
    prompt = "<|im_start|>user\nWhat is 2+2?<|im_end|>\n<|im_start|>assistant\n<think>\n"
    assert reward(prompts=[prompt], completions=[completion]) == [1.0]
    # chat prompts hide the generation prompt: a lone </think> is accepted
    chat = [{"role": "user", "content": "What is 2+2?"}]
    assert reward(prompts=[chat], completions=[[{"role": "assistant", "content": completion}]]) == [
        1.0
    ]
    # a plain prompt that did not open the span: the lone </think> is a stray tag
    assert reasons(reward, [completion], prompts=["What is 2+2?"]) == [(0.0, "unopened_think")]
    # the prompt opened it and the completion never closes it
    assert reasons(reward, ["2 + 2 = 4 \\boxed{4}"], prompts=[prompt]) == [(0.0, "unclosed_think")]
    # the prompt opened it and the completion opens it again: one complete span, accepted
    assert reward(prompts=[prompt], completions=["<think>a</think> b"]) == [1.0]


def test_single_boxed_answer_after_think():
    got = reasons(
        SingleBoxedAnswer(),
        [
            "<think>so \\boxed{3} maybe</think> \\boxed{4}",
            "<think>x</think> \\boxed{4} or \\boxed{5}",
            "<think>x</think> \\boxed{ }",
            "<think>x</think> \\boxed{4",
            "<think>\\boxed{4}</think> done",
            "<think>x \\boxed{4}",
            "\\boxed{4}",
        ],
    )
    assert got == [
        (1.0, "ok"),
        (0.0, "several_boxed"),
        (0.0, "empty_boxed"),
        (0.0, "unbalanced_braces"),
        (0.0, "no_boxed"),
        (0.0, "unclosed_think"),
        (1.0, "ok"),
    ]
    assert reasons(SingleBoxedAnswer(require_think=True), ["\\boxed{4}"]) == [(0.0, "no_think")]


@pytest.mark.parametrize(
    ("completion", "prompt", "value"),
    [
        ("<think>a</think> \\boxed{1}", "Q", 1.0),
        ("<think>a</think> no box", "Q", 0.75),
        ("<think>a", "Q", 0.25),
        ("</think></think>", "Q", 0.0),
        ("a</think> \\boxed{1}", "Q <think>", 1.0),  # opened by the prompt
        ("a</think> \\boxed{1}", "Q", 0.5),  # close + answer, but nothing opened it
        ("<think></think>\\boxed{1}", "Q", 0.75),  # empty span: no "order" credit
        ("</think>a<think>\\boxed{1}", "Q", 0.5),  # one of each tag, wrong order
    ],
)
def test_tag_count_partial_credit(completion, prompt, value):
    assert ThinkTagCount()(prompts=[prompt], completions=[completion]) == [value]


def test_answer_outside_think():
    got = reasons(
        AnswerOutsideThink(),
        [
            "<think>so \\boxed{3}</think>",
            "<think>so 3</think> \\boxed{3}",
            "<think>so 3</think> The answer is 3.",
            "<think>hmm",
            "no tags \\boxed{2}",
            "",
        ],
    )
    assert got == [
        (0.0, "answer_only_in_think"),
        (1.0, "ok"),
        (0.0, "no_answer"),
        (0.0, "unclosed_think"),
        (1.0, "ok"),
        (0.0, "empty_completion"),
    ]
    lenient = AnswerOutsideThink(boxed_only=False)
    assert lenient(completions=["<think>so 3</think> The answer is 3."]) == [1.0]
