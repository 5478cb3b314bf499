"""Per-prompt filters: each keeps what it should and records why it drops the rest."""

from __future__ import annotations

import pytest

from rewardkit.filters import (
    BestOfN,
    CapPerPrompt,
    FilterChain,
    FormatFilter,
    LengthFilter,
    PassRateBand,
    PromptGroup,
    Threshold,
    TopKDistinct,
    build_filter,
    equations,
    filter_names,
    iter_groups,
)


def rows(*specs, prompt_id=0):
    """Rows from (completion, reward) pairs; correct means reward 1."""
    return [
        {
            "prompt_id": prompt_id,
            "sample": i,
            "completion": text,
            "reward": reward,
            "rewards": {"acc": reward},
            "correct": None if reward is None else reward == 1.0,
        }
        for i, (text, reward) in enumerate(specs)
    ]


def apply(spec, group):
    kept, dropped = FilterChain([spec]).apply(group)
    return [r["sample"] for r in kept], [(d.row["sample"], d.reason) for d in dropped]


def test_threshold_drops_below_above_and_unscored():
    group = rows(("a", 0.2), ("b", 0.6), ("c", None), ("d", 0.9))
    assert apply("threshold:min=0.5,max=0.8", group) == (
        [1],
        [(0, "below_threshold"), (2, "unscored"), (3, "above_threshold")],
    )
    assert apply("threshold:min=0.5,key=acc", group)[0] == [1, 3]
    with pytest.raises(KeyError, match="no reward named 'nope'"):
        apply("threshold:min=0.5,key=nope", group)


def test_correct_keeps_right_answers_only():
    assert apply("correct", rows(("a", 1.0), ("b", 0.0), ("c", None))) == (
        [0],
        [(1, "incorrect"), (2, "unscored")],
    )


def test_best_of_n_keeps_highest_rewards_ties_in_input_order():
    group = rows(("a", 0.5), ("b", 0.9), ("c", 0.9), ("d", None), ("e", 0.1))
    kept, dropped = apply(BestOfN(n=2), group)
    assert kept == [1, 2]
    assert sorted(dropped) == [(0, "not_best_of_n"), (3, "unscored"), (4, "not_best_of_n")]


def test_top_k_distinct_by_answer_uses_the_verifier_equivalence():
    group = rows(
        (r"so \boxed{1,000}", 1.0),
        (r"\boxed{1000}", 1.0),  # same answer as 0, written differently
        (r"\boxed{999}", 0.0),
        ("no answer at all", 0.0),
        (r"<think>\boxed{7}</think>", 0.0),  # an answer only inside the think span
        (r"\boxed{998}", 0.0),
    )
    kept, dropped = apply("top_k_distinct:k=2,by=answer", group)
    assert kept == [0, 2]
    assert sorted(dropped) == [
        (1, "duplicate_answer"),
        (3, "no_final_answer"),
        (4, "no_final_answer"),
        (5, "over_k"),
    ]


def test_top_k_distinct_by_equations_as_in_rft():
    a = "16 - 3 = <<16-3=13>>13 eggs; 13 * 2 = <<13*2=26>>26"
    b = "She keeps 16-3=<<16 - 3 = 13>>13, and earns 13*2 = <<13*2=26>>26 dollars"  # same list
    c = "16 - 3 - 4 = <<16-3-4=9>>9; 9 * 2 = <<9*2=18>>18"
    kept, dropped = apply("top_k_distinct:by=equations", rows((a, 1.0), (b, 1.0), (c, 0.0)))
    assert kept == [0, 2] and dropped == [(1, "duplicate_equations")]


def test_equations_without_calculator_annotations():
    assert equations("So 3 × 4 = 12 and 12 ÷ 2 = 6; in all $1,200 + $300 = $1,500.") == (
        "3*4=12",
        "12/2=6",
        "1200+300=1500",
    )
    assert equations("no arithmetic here") == ()


def test_top_k_distinct_by_ngram_similarity():
    base = "first add the two numbers then divide the sum by two to get the mean"
    near = base + " value"
    other = "multiply the width by the height and report the area of the rectangle"
    group = rows((base, 1.0), (near, 1.0), (other, 1.0))
    assert apply("top_k_distinct:by=ngram,n=3,max_similarity=0.8", group) == (
        [0, 2],
        [(1, "near_duplicate")],
    )
    assert apply("top_k_distinct:by=ngram,n=3,max_similarity=1.0", group)[0] == [0, 1, 2]


@pytest.mark.parametrize(
    ("rewards", "reason"),
    [
        ([0.0, 0.0, 0.0, 0.0], "never_solved"),
        ([1.0, 1.0, 1.0, 1.0], "always_solved"),
        ([1.0, 0.0, 0.0, 0.0], "pass_rate_below_band"),
        ([1.0, 1.0, 1.0, 0.0], "pass_rate_above_band"),
        ([None, None, None, None], "unjudged_prompt"),
        ([1.0, 1.0, 0.0, 0.0], None),
    ],
)
def test_pass_rate_band(rewards, reason):
    group = rows(*((str(i), r) for i, r in enumerate(rewards)))
    kept, dropped = apply("pass_rate:lo=0.3,hi=0.6", group)
    if reason is None:
        assert kept == [0, 1, 2, 3] and not dropped
    else:
        assert kept == [] and {r for _, r in dropped} == {reason} and len(dropped) == 4


def test_pass_rate_band_sees_the_whole_group_wherever_it_stands():
    group = rows(("a", 1.0), ("b", 0.0), ("c", 0.0), ("d", 0.0))
    # The correct filter leaves only correct rows; the band still sees a 1/4 pass rate.
    kept, _dropped = FilterChain(["correct", "pass_rate:lo=0.2,hi=0.5"]).apply(group)
    assert [r["sample"] for r in kept] == [0]
    assert PromptGroup(0, group).pass_rate == 0.25
    assert PassRateBand(drop_extremes=False).apply(group[:1], PromptGroup(0, group[:1]))[0]


def test_length_filter_in_chars_words_and_tokens(tiny_model_path):
    group = rows(("short", 1.0), ("a much longer completion text", 1.0))
    assert apply("length:max=10", group) == ([0], [(1, "too_long")])
    assert apply("length:min=2,unit=words", group) == ([1], [(0, "too_short")])
    from transformers import AutoTokenizer

    n_short = len(AutoTokenizer.from_pretrained(tiny_model_path)("short")["input_ids"])
    by_tokens = LengthFilter(max=n_short, unit="tokens", tokenizer=tiny_model_path)
    assert apply(by_tokens, group) == ([0], [(1, "too_long")])
    assert (
        apply(LengthFilter(max=n_short - 1, unit="tokens", tokenizer=tiny_model_path), group)[0]
        == []
    )


def test_format_filter_reasons():
    group = rows(
        (r"<think>ok</think> \boxed{1}", 1.0),
        (r"<think>never closed \boxed{1}", 1.0),
        (r"no think \boxed{1}", 1.0),
        (r"<think>x</think> \boxed{1} or \boxed{2}", 1.0),
        (r"<think>x</think> \boxed{1", 1.0),
        (r"<think>x</think> The answer is 4", 1.0),
    )
    kept, dropped = apply(FormatFilter(require_think=True, boxed_only=True, max_boxed=1), group)
    assert kept == [0]
    assert dropped == [
        (1, "unclosed_think"),
        (2, "no_think"),
        (3, "too_many_boxed"),
        (4, "unbalanced_braces"),
        (5, "no_answer"),
    ]
    assert apply("format", group)[0] == [0, 2, 3, 5]


def test_cap_and_chat_completions():
    group = rows(*((f"c{i}", 1.0) for i in range(5)))
    for row in group:
        row["completion"] = [{"role": "assistant", "content": row["completion"]}]
    assert apply(CapPerPrompt(2), group) == (
        [0, 1],
        [(2, "over_cap"), (3, "over_cap"), (4, "over_cap")],
    )
    assert apply("length:max=2", group)[0] == [0, 1, 2, 3, 4]


def test_unicode_and_huge_completions_do_not_break_filters():
    huge = "x = 1 + 1 = 2 " * 20000 + r"\boxed{2}"
    group = rows(("résumé ∑ 😀 \\boxed{2}", 1.0), (huge, 1.0), ("", 0.0))
    kept, dropped = FilterChain(
        ["format", "top_k_distinct:by=ngram", "top_k_distinct:by=equations"]
    ).apply(group)
    assert [r["sample"] for r in kept] == [0, 1]
    assert [(d.row["sample"], d.reason) for d in dropped] == [(2, "empty_completion")]


@pytest.mark.parametrize(
    ("spec", "error"),
    [
        ("nope", "unknown filter 'nope': use one of best_of_n, cap, correct"),
        ("threshold", "needs min, max or both"),
        ("pass_rate:lo=0.8,hi=0.2", "0 <= lo <= hi <= 1"),
        ("top_k_distinct:by=vibes", "use one of"),
        ("best_of_n:n=0", "n >= 1"),
        ("cap:nn=3", "bad options for filter 'cap'"),
        ("cap:3", "is not key=value"),
        ("length:max=5,unit=tokens", "needs a tokenizer"),
    ],
)
def test_bad_filter_specs_fail_at_construction(spec, error):
    with pytest.raises((ValueError, KeyError), match=error):
        build_filter(spec)


def test_filter_names_are_the_registry():
    assert filter_names() == [
        "best_of_n", "cap", "correct", "format", "length", "pass_rate", "threshold",
        "top_k_distinct",
    ]  # fmt: skip
    assert isinstance(build_filter("threshold:min=0.5"), Threshold)
    assert isinstance(build_filter("top_k_distinct:k=1"), TopKDistinct)


def test_groups_must_be_contiguous():
    ok = [{"prompt_id": p} for p in (1, 1, 2, 3, 3)]
    assert [len(g) for g in iter_groups(ok)] == [2, 1, 2]
    with pytest.raises(ValueError, match="prompt 1 are not next to each other"):
        list(iter_groups([{"prompt_id": p} for p in (1, 2, 1)]))
    assert [len(g) for g in iter_groups([{"prompt_id": p} for p in (1, 2, 1)], check=False)] == [
        1,
        1,
        1,
    ]


def test_many_distinct_prompts_raise_no_false_alarm():
    assert sum(1 for _ in iter_groups({"prompt_id": i} for i in range(200_000))) == 200_000


def test_a_failing_verifier_does_not_end_the_run(monkeypatch):
    import rewardkit.filters.filters as filters_module

    def broken(a, b):
        raise RecursionError("deeply nested answer")

    monkeypatch.setattr(filters_module, "equivalent", broken)
    group = rows((r"\boxed{2}", 1.0), (r"\boxed{2}", 1.0), (r"\boxed{2.0}", 1.0))
    # Equal strings are still duplicates; the rest count as distinct.
    assert apply("top_k_distinct:by=answer", group) == ([0, 2], [(1, "duplicate_answer")])
