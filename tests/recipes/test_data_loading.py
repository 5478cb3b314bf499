"""Recipes read GSM8K- and MATH-shaped local files and synthetic problems into one row shape."""

from __future__ import annotations

import json

import pytest
from common import (
    DataArguments,
    load_math_rows,
    normalise_row,
    read_rows_file,
    rl_dataset,
    sft_dataset,
)

from rewardkit.verify import verify

GSM8K = [
    {
        "question": "Natalia sold 48 clips in April and half as many in May. How many in all?",
        "answer": "Natalia sold 48/2 = <<48/2=24>>24 clips in May.\n"
        "She sold 48+24 = <<48+24=72>>72.\n#### 72",
    },
    {
        "question": "A shirt costs $1,200 for 2. How much for 1?",
        "answer": "1200 / 2 = 600\n#### 600",
    },
    {"question": "What is 3 + 4?", "answer": "3 + 4 = 7\n#### 7"},
]
MATH500 = [
    {
        "problem": "Convert $(0,3)$ to polar coordinates.",
        "solution": "So it is $\\boxed{\\left( 3, \\frac{\\pi}{2} \\right)}.$",
        "answer": "\\left( 3, \\frac{\\pi}{2} \\right)",
        "subject": "Precalculus",
        "level": 2,
        "unique_id": "test/precalculus/807.json",
    },
    {
        "problem": "What is $1+1$?",
        "solution": "We add: $\\boxed{2}$.",
        "answer": "2",
        "subject": "Prealgebra",
        "level": 1,
        "unique_id": "test/prealgebra/1.json",
    },
]
MATH_NO_ANSWER = [
    {"problem": "2+2?", "solution": "It is $\\boxed{4}$.", "type": "Algebra", "level": "Level 3"}
]


def write_jsonl(path, rows):
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return str(path)


def test_gsm8k_rows_become_think_and_boxed_solutions(tmp_path):
    rows = load_math_rows(
        DataArguments(data_file=write_jsonl(tmp_path / "g.jsonl", GSM8K), n_eval=1)
    )
    assert [r["answer"] for r in rows] == ["72", "600"]  # last row held out
    first = rows[0]
    assert "<<" not in first["solution"] and first["solution"].startswith("<think>Natalia")
    assert verify(first["solution"], first["answer"], boxed_only=True).correct
    held_out = load_math_rows(
        DataArguments(data_file=str(tmp_path / "g.jsonl"), n_eval=1), held_out=True
    )
    assert [r["answer"] for r in held_out] == ["7"]


def test_math500_rows_keep_subject_level_and_answer(tmp_path):
    args = DataArguments(
        data_file="unused", eval_data_file=write_jsonl(tmp_path / "m.jsonl", MATH500)
    )
    rows = load_math_rows(args, held_out=True)
    assert [(r["subject"], r["level"]) for r in rows] == [("Precalculus", 2), ("Prealgebra", 1)]
    assert rows[1]["answer"] == "2"
    assert rows[1]["solution"].startswith("<think>") and rows[1]["solution"].endswith("\\boxed{2}")


def test_math_rows_without_answer_use_the_boxed_one():
    row = normalise_row(MATH_NO_ANSWER[0])
    assert (row["answer"], row["subject"], row["level"]) == ("4", "Algebra", 3)


@pytest.mark.parametrize(
    "row, match",
    [
        ({"text": "hello"}, "unknown row format"),
        ({"question": "q", "answer": "no hashes"}, "####"),
        ({"problem": "p", "solution": "no box"}, "no answer"),
    ],
)
def test_malformed_rows_raise_clear_errors(row, match):
    with pytest.raises(ValueError, match=match):
        normalise_row(row)


def test_bad_files_raise_clear_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="not found"):
        read_rows_file(tmp_path / "missing.jsonl")
    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps(GSM8K[0]) + "\n{oops\n")
    with pytest.raises(ValueError, match="bad.jsonl:2"):
        read_rows_file(bad)
    with pytest.raises(ValueError, match="n_eval"):
        load_math_rows(DataArguments(data_file=write_jsonl(tmp_path / "g.jsonl", GSM8K)))


def test_synthetic_source_and_trl_datasets():
    args = DataArguments(n_train=30, n_eval=5, levels="1,4", teacher_error=0.0)
    train, held_out = load_math_rows(args), load_math_rows(args, held_out=True)
    assert len(train) == 30 and len(held_out) == 5
    assert {r["level"] for r in train} <= {1, 4}
    rl = rl_dataset(train[:2], system_prompt="Be brief.")
    assert rl[0]["prompt"][0] == {"role": "system", "content": "Be brief."}
    assert rl[0]["answer"] == train[0]["answer"]
    sft = sft_dataset(train[:2])
    assert sft[0]["completion"][0]["content"] == train[0]["solution"]
    assert sft[0]["prompt"] == [{"role": "user", "content": train[0]["problem"]}]


def test_real_gsm8k_and_math500_files_load(shared_data):
    gsm = load_math_rows(DataArguments(data_file=str(shared_data / "gsm8k_test.jsonl")))
    assert all(verify(r["solution"], r["answer"], boxed_only=True).correct for r in gsm[:200])
    math = load_math_rows(
        DataArguments(eval_data_file=str(shared_data / "math500.jsonl"), n_eval=500), held_out=True
    )
    assert len(math) == 500 and {r["level"] for r in math} == {1, 2, 3, 4, 5}
