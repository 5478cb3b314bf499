"""Extraction rules of issue 12 and 17: golds written as sentences, emphasis, think tags
wherever the span is read, ``extract`` modes, several boxes, unbalanced boxes."""

from __future__ import annotations

import pickle

import pytest

from rewardkit import split_think
from rewardkit.rewards.accuracy import BoxedAccuracy
from rewardkit.rewards.defaults import math_reward
from rewardkit.rewards.format import (
    AnswerOutsideThink,
    SingleBoxedAnswer,
    ThinkFormat,
    ThinkTagCount,
)
from rewardkit.rewards.process import ProcessReward
from rewardkit.rewards.steps import reasoning_span, segment_steps
from rewardkit.text import final_answer, gold_answer
from rewardkit.verify import VerifyOptions, verify, verify_batch

REASONING = ("<reasoning>", "</reasoning>")


class TestGoldColumns:
    @pytest.mark.parametrize(
        "gold",
        [
            "The answer is 43.",
            "40 + 3 = 43.\nThe answer is: 43",  # MetaMathQA
            "Final Answer: The final answer is $43$. I hope it is correct.",  # Minerva
            "It is 43.\n#### **43**",
            "**43**",
            "so it is $\\boxed{43}$",
            "43",
        ],
    )
    def test_boxed_accuracy_reads_the_answer_of_a_gold_sentence(self, gold):
        assert BoxedAccuracy()(completions=[r"\boxed{43}"], answer=[gold]) == [1.0]
        assert BoxedAccuracy()(completions=[r"\boxed{42}"], answer=[gold]) == [0.0]

    def test_a_gold_that_cannot_be_read_is_skipped_not_zero(self):
        prose = "Add the two numbers, then halve the result to get the share of each child."
        reward = BoxedAccuracy()
        assert reward(completions=[r"\boxed{5}"], answer=[prose]) == [None]
        assert verify(r"\boxed{5}", prose).reason == "no_gold"

    def test_several_gold_boxes_form_one_answer(self):
        gold = r"The roots are $\boxed{2}$ and $\boxed{-3}$."
        assert gold_answer(gold) == "2, -3"
        assert verify(r"\boxed{-3, 2}", gold).correct
        assert not verify(r"\boxed{-3}", gold).correct

    def test_one_answer_boxed_twice_in_two_forms_is_one_answer(self):
        gold = r"so $\boxed{15\frac{39}{40}}$, that is $\boxed{\frac{639}{40}}$"
        assert verify(r"\boxed{\frac{639}{40}}", gold).correct


class TestConventions:
    @pytest.mark.parametrize(
        "text",
        [
            "**Answer:** 5",
            "**Answer**: 5",
            "**Final Answer**\n\n5",
            "Answer: **5**",
            "The final answer is **5**.",
            "#### **5**",
            "answer: 5",
            "so my answer: 5",
            "所以答案是 5。",
            "最终答案：5",
            "<|begin_of_box|>5<|end_of_box|>",
            "## Final Answer\n\\[\n5\n\\]",
        ],
    )
    def test_answer_forms(self, text):
        assert final_answer("<think>w</think>" + text).answer == "5"

    def test_answers_in_the_plural_are_a_list(self):
        assert final_answer("The answers are 3 and 4.").answer == "3, 4"
        assert verify("The answers are 3 and 4.", "3, 4").correct

    def test_a_power_is_not_emphasis(self):
        assert final_answer("The answer is 2**3.").answer == "2**3"

    def test_json_escaped_backslashes(self):
        assert verify(r"\\boxed{\\frac{1}{2}}", "0.5").correct
        assert not verify(r"\\boxed{\\frac{1}{3}}", "0.5").correct

    def test_several_different_bold_answers_are_a_hedge(self):
        assert final_answer("**35** or **36**").reason == "multiple_answers"


class TestThinkTags:
    text = r"<reasoning>so \boxed{3}</reasoning> \boxed{4}"

    def test_split_think_and_verify(self):
        assert split_think(self.text, REASONING).answer == r" \boxed{4}"
        assert verify(self.text, "4", think_tags=REASONING).correct
        assert not verify(self.text, "3", think_tags=REASONING).correct
        assert verify(self.text, "3").reason == "multiple_answers"  # default tags: no span

    def test_a_list_of_pairs(self):
        tags = [("<think>", "</think>"), REASONING]
        assert verify(self.text, "4", think_tags=tags).correct
        assert verify(r"<think>\boxed{3}</think>\boxed{4}", "4", think_tags=tags).correct

    def test_bad_tags_are_refused(self):
        with pytest.raises(ValueError, match="think"):
            VerifyOptions(think_tags=("<r>",))

    def test_rewards(self):
        kwargs = {"completions": [self.text], "answer": ["4"]}
        assert BoxedAccuracy(think_tags=REASONING)(**kwargs) == [1.0]
        assert ThinkFormat(think_tags=REASONING)(**kwargs) == [1.0]
        assert ThinkFormat()(**kwargs) == [0.0]
        assert SingleBoxedAnswer(think_tags=REASONING)(**kwargs) == [1.0]
        assert ThinkTagCount(think_tags=REASONING)(prompts=["q"], **kwargs) == [1.0]
        assert AnswerOutsideThink(think_tags=REASONING)(**kwargs) == [1.0]
        assert math_reward(think_tags=REASONING)(**kwargs) == [1.0]
        assert math_reward()(**kwargs) == [0.0]

    def test_prompt_opened_span(self):
        reward = ThinkFormat(think_tags=REASONING)
        assert reward(prompts=["Q <reasoning>"], completions=["a</reasoning> b"]) == [1.0]

    def test_strict_layout_with_other_tags(self):
        reward = ThinkFormat(strict=True, think_tags=REASONING)
        good = "<reasoning>\nok\n</reasoning>\nA"
        assert reward(completions=[good, "<reasoning>ok</reasoning>A"]) == [1.0, 0.0]

    def test_process_steps(self):
        text = "<reasoning>Step 1: 2 + 2 = 4\nStep 2: 4 * 3 = 12</reasoning> 12"
        assert reasoning_span(text, REASONING) == (11, text.index("</reasoning>"))
        steps = segment_steps(text, think_tags=REASONING)
        assert [s.text for s in steps] == ["Step 1: 2 + 2 = 4", "Step 2: 4 * 3 = 12"]
        reward = ProcessReward(think_tags=REASONING)
        assert [s.text for s in reward.steps(text)] == [s.text for s in steps]
        assert pickle.loads(pickle.dumps(reward)).think_tags == (REASONING,)


class TestExtractModes:
    def test_boxed_only_is_the_old_name_of_extract_boxed(self):
        assert VerifyOptions.from_kwargs(boxed_only=True).extract == "boxed"
        assert VerifyOptions.from_kwargs(boxed_only=False).extract == "conventions"
        assert VerifyOptions.from_kwargs(boxed_only=True).boxed_only
        assert BoxedAccuracy(boxed_only=False).extract == "conventions"
        assert verify("The answer is 5", "5", boxed_only=True).reason == "no_answer"
        with pytest.raises(ValueError, match="contradicts"):
            VerifyOptions.from_kwargs(boxed_only=True, extract="lenient")

    def test_unknown_mode(self):
        with pytest.raises(ValueError, match="extract"):
            verify("5", "5", extract="loose")
        with pytest.raises(ValueError, match="multiple_boxes"):
            verify("5", "5", multiple_boxes="first")

    def test_lenient_reads_prose_and_conventions_do_not(self):
        text = "<think>w</think> Multiplying, the area is $60$ square units."
        assert verify(text, "60").reason == "no_answer"
        assert verify(text, "60", extract="lenient").correct
        assert BoxedAccuracy(extract="lenient")(completions=[text], answer=["60"]) == [1.0]
        assert BoxedAccuracy()(completions=[text], answer=["60"]) == [0.0]

    def test_lenient_skips_values_the_question_states(self):
        prompt = "A car drives at 60 mph for 2 hours. How far does it go?"
        text = "So it goes 120 miles in 2 hours."
        assert verify(text, "120", extract="lenient", question=prompt).correct
        assert not verify(text, "120", extract="lenient").correct  # without the question
        pairs = [(text, "120"), (text, "120")]
        batch = verify_batch(pairs, extract="lenient", questions=[prompt, None])
        assert [v.correct for v in batch] == [True, False]
        with pytest.raises(ValueError, match="questions"):
            verify_batch(pairs, extract="lenient", questions=[prompt])

    @pytest.mark.parametrize(
        ("text", "gold", "correct"),
        [
            ("Factoring, the roots are $x = 2$ and $x = 5$.", "2, 5", True),
            ("The solutions are 2 and 5.", "5, 2", True),
            ("Therefore $x = 2$ or $x = -3$.", "-3, 2", True),
            ("The solutions are 2 and 5.", "5", False),  # a list is not one of its values
            ("So we get 35 or 36.", "36", False),  # "or" between values is a hedge
        ],
    )
    def test_lenient_reads_a_listed_answer_whole(self, text, gold, correct):
        question = "Find the roots of $x^2 - 7x + 10 = 0$."
        assert verify(text, gold, extract="lenient", question=question).correct is correct

    @pytest.mark.parametrize(
        ("text", "gold"),
        [
            ("Thus $x <= 2$ is our answer.", "2"),
            ("So $x >= 7$.", "7"),
            ("The solution is $x != 5$.", "5"),
            (r"Therefore $x \le 4$.", "4"),
            (r"Hence $y \geq -1$.", "-1"),
            ("So $t < 3$.", "3"),
            ("Thus $0 < a \u2264 9$.", "9"),
        ],
    )
    def test_lenient_never_takes_a_side_of_an_inequality_for_a_value(self, text, gold):
        verdict = verify(text, gold, extract="lenient")
        assert not verdict.correct and verdict.answer != gold

    def test_lenient_keeps_an_inequality_whole(self):
        assert verify(r"Thus $x \leq 2$ is our answer.", r"x \leq 2", extract="lenient").correct
        assert verify(r"Hence $\left(x + 1\right) = 3$.", "3", extract="lenient").correct

    def test_lenient_reads_a_choice_letter(self):
        assert verify("The correct option is C.", "C", extract="lenient").correct
        assert verify("So the correct choice is (D).", "(D)", extract="lenient").correct
        assert not verify("The best option is a rectangle.", "A", extract="lenient").correct
        assert verify("It could be (A) or (B).", "B", extract="lenient").reason == (
            "multiple_answers"
        )

    def test_multiple_boxes(self):
        text = r"\boxed{2} ... wait, actually \boxed{3}"
        assert verify(text, "3").reason == "multiple_answers"
        assert verify(text, "3", multiple_boxes="last").correct
        assert verify(text, "3", extract="lenient").correct
        assert verify(text, "3", extract="lenient", multiple_boxes="hedge").reason == (
            "multiple_answers"
        )
        assert BoxedAccuracy()(completions=[text], answer=["3"]) == [0.0]

    @pytest.mark.parametrize(
        "text",
        [
            r"\boxed{2} or \boxed{3}",
            r"one of \boxed{1}, \boxed{2}, \boxed{3}",
            r"\boxed{2}\phantom{\boxed{3}}",
            r"\boxed{2}{\color{white}\boxed{3}}",
            r"\boxed{2} \iffalse \boxed{3} \fi",
            r"$\boxed{2}$ % \boxed{3}",
        ],
    )
    def test_the_last_box_wins_only_as_a_correction(self, text):
        assert verify(text, "3", multiple_boxes="last").reason == "multiple_answers"
        assert verify(text, "3", extract="lenient").reason == "multiple_answers"


class TestUnbalancedBoxes:
    @pytest.mark.parametrize(
        "text",
        [
            r"<think>x</think> \boxed{3 \boxed{4}",
            r"<think>x</think> \boxed{\boxed{\boxed{4}",
            r"<think>x</think> \boxed{4} and \boxed{5",
        ],
    )
    def test_everywhere(self, text):
        assert verify(text, "4").reason == "unbalanced_braces"
        assert verify(text, "4", extract="lenient").reason == "unbalanced_braces"
        kwargs = {"completions": [text], "answer": ["4"]}
        assert BoxedAccuracy()(**kwargs) == [0.0]
        assert SingleBoxedAnswer()(**kwargs) == [0.0]
        assert math_reward()(**kwargs) == [0.0]
        assert ThinkTagCount()(prompts=["q"], **kwargs) == [0.75]

    def test_balanced_nesting_is_fine(self):
        assert verify(r"<think>x</think> \boxed{\boxed{4}}", "4").correct
