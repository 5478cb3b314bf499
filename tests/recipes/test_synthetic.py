"""The synthetic problem generator: seeded, correct, disjoint splits, careless teacher."""

from __future__ import annotations

import re

import pytest

from rewardkit.datasets import LEVELS, generate_problems, train_eval_split
from rewardkit.text import split_think
from rewardkit.verify import verify


def test_same_seed_same_problems_other_seed_other_problems():
    assert generate_problems(50, seed=3) == generate_problems(50, seed=3)
    assert generate_problems(50, seed=3) != generate_problems(50, seed=4)


@pytest.mark.parametrize("level", LEVELS)
def test_worked_solutions_reach_the_gold_answer(level):
    for row in generate_problems(200, seed=level, levels=[level]):
        assert row["level"] == level
        assert verify(row["solution"], row["answer"], boxed_only=True).correct, row
        assert split_think(row["solution"]).status == "closed"
        assert row["solution_correct"] is True


def _check_arithmetic(row):
    """Recompute every step of a worked solution and the answer from the problem text."""
    think = split_think(row["solution"]).think
    value = None
    for a, op, b, result in re.findall(r"(\d+) ([-+*]) (\d+) = (-?\d+)", think):
        a, b, result = int(a), int(b), int(result)
        assert result == {"+": a + b, "-": a - b, "*": a * b}[op]
        assert value is None or a == value
        value = result
    return value


def test_every_step_is_right_and_answers_are_never_negative():
    for row in generate_problems(300, seed=1, levels=[1, 2, 3]):
        assert _check_arithmetic(row) == int(row["answer"]) >= 0


def test_algebra_answers_solve_the_equation():
    for row in generate_problems(100, seed=2, levels=[4, 5]):
        a, b, c = map(int, re.findall(r"\d+", row["problem"].replace("x", " "))[-3:])
        assert a * int(row["answer"]) + b == c


def test_careless_teacher_errs_on_losses_and_leaves_gold_answers_right():
    clean = generate_problems(400, seed=5, levels=[1, 2])
    noisy = generate_problems(400, seed=5, levels=[1, 2], teacher_error=0.7)
    assert [r["problem"] for r in clean] == [r["problem"] for r in noisy]
    assert [r["answer"] for r in clean] == [r["answer"] for r in noisy]
    wrong = [r for r in noisy if not r["solution_correct"]]
    assert 0.2 < len(wrong) / len(noisy) < 0.7
    for row in noisy:
        right = verify(row["solution"], row["answer"], boxed_only=True).correct
        # A careless step reads "loses 5" as "+ 5"; the answer is then wrong (loss > 0).
        assert right == row["solution_correct"]
        if not right:
            assert " - " not in row["solution"]


def test_split_is_disjoint_and_deterministic():
    train, held_out = train_eval_split(500, 100, seed=7, levels=[1])
    assert len(train) == 500 and len(held_out) == 100
    assert not {r["problem"] for r in train} & {r["problem"] for r in held_out}
    assert (train, held_out) == train_eval_split(500, 100, seed=7, levels=[1])


@pytest.mark.parametrize("bad", [{"levels": []}, {"levels": [0]}, {"levels": [6]}])
def test_bad_levels_raise(bad):
    with pytest.raises(ValueError, match="levels"):
        generate_problems(3, **bad)


def test_negative_count_raises():
    with pytest.raises(ValueError, match="n must be"):
        generate_problems(-1)


def test_make_synthetic_cli_writes_loadable_jsonl(tmp_path):
    import importlib.util
    from pathlib import Path

    from common import DataArguments, load_math_rows

    script = Path(__file__).resolve().parents[2] / "data" / "make_synthetic.py"
    spec = importlib.util.spec_from_file_location("make_synthetic", script)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.main(["--out", str(tmp_path), "--n-train", "20", "--n-eval", "5", "--levels", "2,5"])
    args = DataArguments(
        data_file=str(tmp_path / "train.jsonl"), eval_data_file=str(tmp_path / "test.jsonl")
    )
    train, test = load_math_rows(args), load_math_rows(args, held_out=True)
    assert len(train) == 20 and len(test) == 5
    assert {r["level"] for r in train + test} <= {2, 5}
    assert train[0]["solution"] == train_eval_split(20, 5, seed=0, levels=[2, 5])[0][0]["solution"]
