"""TRL record formats: SFT prompt-completion, DPO pairs (margin, no ties), KTO labels."""

from __future__ import annotations

import pytest

from rewardkit.filters import Exporter


def rows(*rewards, prompt="What is 2 + 2?"):
    return [
        {"prompt": prompt, "completion": f"answer {i}", "reward": r, "correct": r == 1.0,
         "prompt_id": 7}
        for i, r in enumerate(rewards)
    ]  # fmt: skip


def test_sft_plain_and_conversational():
    group = rows(1.0, 0.0)
    assert Exporter("sft").records(group) == [
        {"prompt": "What is 2 + 2?", "completion": "answer 0"},
        {"prompt": "What is 2 + 2?", "completion": "answer 1"},
    ]
    chat = Exporter("sft", conversational=True, columns=["prompt_id"]).records(group)[0]
    assert chat == {
        "prompt": [{"role": "user", "content": "What is 2 + 2?"}],
        "completion": [{"role": "assistant", "content": "answer 0"}],
        "prompt_id": 7,
    }


def test_chat_input_follows_its_format_and_can_be_flattened_only_on_the_completion_side():
    messages = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "2+2?"}]
    group = rows(1.0, prompt=messages)
    group[0]["completion"] = [{"role": "assistant", "content": "4"}]
    record = Exporter("sft").records(group)[0]
    assert record["prompt"] == messages and record["completion"][0]["content"] == "4"
    with pytest.raises(ValueError, match="cannot be exported as plain text"):
        Exporter("sft", conversational=False).records(group)


def test_dpo_best_worst_pairs_drop_ties_and_respect_the_margin():
    assert Exporter("dpo").records(rows(0.5, 0.5, 0.5)) == []  # all tied: no preference
    pair = Exporter("dpo").records(rows(0.2, 0.9, 0.9, 0.1))
    assert pair == [
        {
            "prompt": "What is 2 + 2?",
            "chosen": "answer 1",
            "rejected": "answer 3",
            "score_chosen": 0.9,
            "score_rejected": 0.1,
            "margin": pytest.approx(0.8),
        }
    ]
    assert Exporter("dpo", margin=0.9).records(rows(0.2, 0.9, 0.1)) == []


def test_dpo_all_pairs_best_gaps_first_with_a_cap():
    group = rows(1.0, 0.5, 0.5, 0.0)
    records = Exporter("dpo", pairs="all").records(group)
    pairs = [(r["chosen"], r["rejected"]) for r in records]
    assert pairs[0] == ("answer 0", "answer 3")
    assert ("answer 1", "answer 2") not in pairs and ("answer 2", "answer 1") not in pairs
    assert len(pairs) == 5  # 6 pairs of 4 rows, less the tie
    assert len(Exporter("dpo", pairs="all", max_pairs=2).records(group)) == 2


def test_dpo_skips_unscored_rows():
    group = rows(1.0, 0.0)
    group[1]["reward"] = None
    assert Exporter("dpo").records(group) == []


def test_kto_labels_from_correctness():
    group = rows(1.0, 0.0)
    group.append({**group[0], "correct": None, "completion": "unjudged"})
    records = Exporter("kto").records(group)
    assert [(r["completion"], r["label"]) for r in records] == [
        ("answer 0", True),
        ("answer 1", False),
    ]


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"format": "ppo"}, "unknown format 'ppo': use one of sft, dpo, kto"),
        ({"format": "dpo", "pairs": "some"}, "unknown pairing"),
        ({"format": "dpo", "margin": -1}, "margin must be >= 0"),
        ({"format": "dpo", "max_pairs": 0}, "max_pairs must be at least 1"),
    ],
)
def test_bad_settings_fail_at_construction(kwargs, error):
    with pytest.raises(ValueError, match=error):
        Exporter(**kwargs)


def test_missing_extra_column_is_a_clear_error():
    with pytest.raises(KeyError, match="no column"):
        Exporter("sft", columns=["level"]).records(rows(1.0))


def test_rows_of_several_prompts_are_refused():
    rows = [
        {"prompt_id": 0, "prompt": "2+2?", "completion": "4", "reward": 1.0, "correct": True},
        {"prompt_id": 1, "prompt": "3+3?", "completion": "5", "reward": 0.0, "correct": False},
    ]
    for fmt in ("sft", "dpo", "kto"):
        with pytest.raises(ValueError, match="rows of one prompt, got rows of 2 prompt_id"):
            Exporter(fmt).records(rows)
    no_ids = [{k: v for k, v in r.items() if k != "prompt_id"} for r in rows]
    with pytest.raises(ValueError, match="got rows of 2 prompts"):
        Exporter("dpo").records(no_ids)
    assert len(Exporter("dpo").records([rows[0], {**rows[1], "prompt_id": 0}])) == 1
