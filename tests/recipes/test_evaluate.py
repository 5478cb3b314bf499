"""evaluate.py: pass@k, maj@k and per-group summaries on toy cases, and on the tiny model."""

from __future__ import annotations

import json

import pytest
from evaluate import (
    majority_answer,
    markdown_table,
    pass_at_k,
    score_problem,
    summarize,
)


def test_pass_at_k_matches_brute_force_over_subsets():
    from itertools import combinations

    outcomes = [1, 0, 0, 1, 0]
    for k in range(1, 6):
        subsets = list(combinations(outcomes, k))
        expected = sum(any(s) for s in subsets) / len(subsets)
        assert pass_at_k(5, 2, k) == pytest.approx(expected)
    with pytest.raises(ValueError, match="at least 6"):
        pass_at_k(5, 2, 6)


def test_majority_groups_equivalent_answers_and_ignores_missing():
    assert majority_answer(["0.5", None, "1/3", "0.50", None, None]) == "0.5"
    assert majority_answer([None, None]) is None
    assert majority_answer(["7", "8"]) == "7"  # tie: first seen


def test_score_problem_greedy_pass_and_majority():
    samples = [r"\boxed{3}", r"\boxed{4}", r"\boxed{4}", "no answer"]
    score = score_problem(r"<think>2+2</think> \boxed{4}", samples, "4", [1, 2, 4], True)
    assert score["accuracy"] == 1.0 and score["greedy_answer"] == "4"
    assert score["pass@1"] == 0.5
    assert score["pass@2"] == pytest.approx(1 - 1 / 6)  # C(2,2)/C(4,2) wrong pairs
    assert score["maj@1"] == 0.0 and score["maj@4"] == 1.0
    wrong = score_problem(r"\boxed{5}", [], "4", [1], True)
    assert wrong == {"accuracy": 0.0, "greedy_answer": "5"}
    # boxed_only: an unboxed final answer does not count
    assert score_problem("The answer is 4", [], "4", [1], True)["accuracy"] == 0.0
    assert score_problem("The answer is 4", [], "4", [1], False)["accuracy"] == 1.0


def test_summary_per_subject_and_level_and_markdown():
    rows = [
        {"subject": "algebra", "level": 1},
        {"subject": "algebra", "level": 2},
        {"subject": "geometry", "level": 2},
    ]
    scores = [
        {"maj@4": 1.0, "accuracy": 1.0, "pass@4": 1.0},
        {"maj@4": 0.0, "accuracy": 0.0, "pass@4": 1.0},
        {"maj@4": 0.0, "accuracy": 0.0, "pass@4": 0.0},
    ]
    summary = summarize(rows, scores)
    assert summary["overall"]["accuracy"] == pytest.approx(1 / 3)
    assert summary["subject=algebra"] == {"n": 2, "accuracy": 0.5, "maj@4": 0.5, "pass@4": 1.0}
    assert summary["level=2"]["pass@4"] == 0.5
    table = markdown_table(summary)
    assert table.splitlines()[0] == "| group | n | accuracy | maj@4 | pass@4 |"
    assert "| subject=geometry | 1 | 0.000 | 0.000 | 0.000 |" in table


def test_evaluate_script_on_the_tiny_model(tiny_model_path, tmp_path):
    from common import DataArguments
    from evaluate import EvalArguments, main

    out = tmp_path / "eval"
    summary = main(
        EvalArguments(
            model_name_or_path=tiny_model_path,
            output_dir=str(out),
            num_samples=2,
            k="1,2",
            max_new_tokens=6,
        ),
        DataArguments(n_train=4, n_eval=6, levels="1,4"),
    )
    assert summary["overall"]["n"] == 6
    assert set(summary["overall"]) == {"n", "accuracy", "pass@1", "pass@2", "maj@1", "maj@2"}
    assert {"level=1", "level=4", "subject=arithmetic", "subject=algebra"} <= set(summary)
    assert json.loads((out / "metrics.json").read_text()) == summary
    records = [json.loads(line) for line in (out / "completions.jsonl").open()]
    assert len(records) == 6 and all(len(r["samples"]) == 2 for r in records)
    assert (out / "metrics.md").read_text().startswith("| group |")


def test_score_problem_refuses_unbalanced_boxes_and_reads_leniently():
    # three \boxed{ and one }: not an answer (it used to count as correct)
    assert score_problem(r"\boxed{\boxed{\boxed{4}", [], "4", [1])["accuracy"] == 0.0
    prose = "Adding them, the total is $4$."
    assert score_problem(prose, [], "4", [1])["accuracy"] == 0.0
    lenient = score_problem(prose, [], "4", [1], "lenient", question="What is 2 + 2?")
    assert lenient["accuracy"] == 1.0
    corrected = r"\boxed{3} ... no wait, \boxed{4}"
    assert score_problem(corrected, [corrected], "4", [1], "lenient")["pass@1"] == 1.0
    assert score_problem(corrected, [], "4", [1], "boxed")["accuracy"] == 0.0


def test_max_samples_takes_a_subset_of_an_eval_data_file(tiny_model_path, tmp_path):
    from common import DataArguments
    from evaluate import EvalArguments, main

    eval_file = tmp_path / "held_out.jsonl"
    rows = [{"problem": f"What is {i} + 1?", "solution": f"\\boxed{{{i + 1}}}"} for i in range(7)]
    eval_file.write_text("".join(json.dumps(r) + "\n" for r in rows))
    out = tmp_path / "eval"
    summary = main(
        EvalArguments(model_name_or_path=tiny_model_path, output_dir=str(out), max_new_tokens=2),
        DataArguments(eval_data_file=str(eval_file), max_samples=3),
    )
    assert summary["overall"]["n"] == 3
    records = [json.loads(line) for line in (out / "completions.jsonl").open()]
    assert [r["problem"] for r in records] == [r["problem"] for r in rows[:3]]


def test_progress_counts_problems_and_the_tokens_of_a_batch(tiny_model_path, monkeypatch):
    import tqdm.auto
    from evaluate import generate
    from transformers import AutoModelForCausalLM, AutoTokenizer

    bars = []

    class Recorder:
        def __init__(self, total=None, **kwargs):
            self.total, self.done, self.postfixes = total, 0, []
            bars.append(self)

        def update(self, n=1):
            self.done += n

        def set_postfix_str(self, text, refresh=True):
            self.postfixes.append(text)

        def close(self):
            pass

    model = AutoModelForCausalLM.from_pretrained(tiny_model_path)
    tokenizer = AutoTokenizer.from_pretrained(tiny_model_path)
    monkeypatch.setattr(tqdm.auto, "tqdm", Recorder)
    prompts = [[{"role": "user", "content": f"What is {i} + 1?"}] for i in range(5)]
    outputs = generate(model, tokenizer, prompts, max_new_tokens=4, batch_size=2)
    assert len(outputs) == 5
    (bar,) = bars
    assert (bar.total, bar.done) == (5, 5)  # problems, not batches
    assert "token 1/4" in bar.postfixes  # moves within a batch, token by token
    assert len(bar.postfixes) > 3  # more updates than the 3 batches


def test_every_config_a_recipe_names_exists():
    import re
    from pathlib import Path

    recipes = Path(__file__).resolve().parents[2] / "recipes"
    named = {
        (script.name, match)
        for script in recipes.glob("*.py")
        for match in re.findall(r"configs/([\w.-]+\.yaml)", script.read_text())
    }
    assert named, "no recipe names a config"
    missing = sorted((s, n) for s, n in named if not (recipes / "configs" / n).is_file())
    assert not missing, f"recipes name configs that do not exist: {missing}"
