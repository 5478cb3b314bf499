"""Reading completions: formats, think spans, boxed answers and final-answer conventions."""

from __future__ import annotations

import time

import pytest

from rewardkit.text import (
    all_boxed,
    completion_text,
    final_answer,
    gold_answer,
    last_boxed,
    split_think,
)


class TestCompletionText:
    def test_plain_string_passes_through(self):
        assert completion_text("x = 1") == "x = 1"

    def test_chat_messages_give_assistant_content(self):
        messages = [
            {"role": "user", "content": "question"},
            {"role": "assistant", "content": "answer"},
        ]
        assert completion_text(messages) == "answer"

    def test_single_message_and_content_parts(self):
        assert completion_text({"role": "assistant", "content": "hi"}) == "hi"
        parts = [
            {"role": "assistant", "content": [{"type": "text", "text": "a"}, {"type": "image"}]}
        ]
        assert completion_text(parts) == "a"

    @pytest.mark.parametrize("empty", [None, "", [], [{"role": "assistant", "content": None}]])
    def test_empty_completions_give_empty_text(self, empty):
        assert completion_text(empty) == ""


class TestSplitThink:
    def test_closed_span(self):
        split = split_think("<think>r</think>a")
        assert (split.think, split.answer, split.status) == ("r", "a", "closed")

    def test_no_tags_is_all_answer(self):
        split = split_think("just text")
        assert (split.think, split.answer, split.status) == (None, "just text", "none")

    def test_opened_in_prompt(self):
        split = split_think("reasoning</think> \\boxed{1}")
        assert split.status == "opened_in_prompt"
        assert split.think == "reasoning"
        assert split.answer == " \\boxed{1}"

    def test_unclosed_span_has_no_answer(self):
        split = split_think("<think>still thinking \\boxed{2}")
        assert split.status == "unclosed"
        assert split.answer == ""

    @pytest.mark.parametrize(
        "text",
        [
            "<think>a</think><think>b</think>c",
            "text before <think>a</think>c",
            "</think><think>a</think>c",
        ],
    )
    def test_several_or_stray_tags_are_malformed_and_answer_follows_last_close(self, text):
        split = split_think(text)
        assert split.status == "malformed"
        assert split.answer == "c"


class TestBoxed:
    def test_nested_braces(self):
        assert last_boxed(r"\boxed{\frac{a^{2}}{b}}") == r"\frac{a^{2}}{b}"

    def test_escaped_braces_do_not_count(self):
        assert last_boxed(r"\boxed{\{1, 2\}}") == r"\{1, 2\}"

    def test_last_of_several_and_fbox(self):
        assert [b.content for b in all_boxed(r"\boxed{1} then \fbox{2}")] == ["1", "2"]

    def test_unbalanced_box_is_left_out(self):
        assert last_boxed(r"\boxed{1") is None
        assert last_boxed(r"\boxed{2} and \boxed{3") == "2"

    def test_space_form(self):
        assert last_boxed(r"so \boxed 7.") == "7."

    def test_command_prefix_is_not_a_box(self):
        assert last_boxed(r"\boxedx{1}") is None

    def test_deep_nesting_and_huge_input_stay_linear(self):
        deep = r"\boxed{" + "{" * 10_000 + "1" + "}" * 10_000 + "}"
        start = time.perf_counter()
        assert last_boxed(deep) == "{" * 10_000 + "1" + "}" * 10_000
        assert last_boxed(r"\boxed{" * 20_000) is None
        assert time.perf_counter() - start < 10.0  # linear: well under a second


class TestFinalAnswer:
    def test_boxed_after_think(self):
        extraction = final_answer("<think>2+2</think> so \\boxed{4}")
        assert (extraction.answer, extraction.source) == ("4", "boxed")

    def test_boxed_only_inside_think_is_not_an_answer(self):
        assert final_answer("<think>\\boxed{4}</think> I am done").reason == "no_answer"

    def test_unclosed_think(self):
        assert final_answer("<think>\\boxed{4}").reason == "unclosed_think"

    def test_unbalanced_braces(self):
        assert final_answer("the answer is \\boxed{4").reason == "unbalanced_braces"

    @pytest.mark.parametrize("text", ["", "   \n"])
    def test_empty(self, text):
        assert final_answer(text).reason == "empty_completion"

    @pytest.mark.parametrize(
        ("text", "answer", "source"),
        [
            ("16 - 3 = 13\n#### 13", "13", "gsm8k"),
            ("So the answer is 42.", "42", "the_answer_is"),
            ("The final answer is: $7$", "7", "the_answer_is"),
            ("work\nA: 18", "18", "a_colon"),
            ("I get **12** apples", "12", "bold"),
        ],
    )
    def test_text_conventions(self, text, answer, source):
        extraction = final_answer(text)
        assert (extraction.answer, extraction.source) == (answer, source)

    def test_conventions_can_be_switched_off(self):
        assert final_answer("#### 13", conventions=False).answer is None

    def test_overlong_convention_answer_is_rejected(self):
        assert final_answer("The answer is " + "9" * 500).answer is None

    def test_unicode_does_not_break_extraction(self):
        assert final_answer("<think>ü → ∞</think> \\boxed{１２}").answer == "１２"


class TestGoldAnswer:
    @pytest.mark.parametrize(
        ("gold", "answer"),
        [
            ("13", "13"),
            (13, "13"),
            ("Janet sells 16 - 3 = 13 eggs.\n#### 13", "13"),
            (r"so $\boxed{\frac{1}{2}}$.", r"\frac{1}{2}"),
            ("She makes $18.\nA: 18", "18"),
        ],
    )
    def test_reads_answers_and_worked_solutions(self, gold, answer):
        assert gold_answer(gold) == answer

    @pytest.mark.parametrize("gold", [None, "", "   ", [], True])
    def test_unreadable_gold(self, gold):
        assert gold_answer(gold) is None
