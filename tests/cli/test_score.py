"""`rewardkit score`: scores a JSONL file, writes per-row scores and prints a summary."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from rewardkit.cli import main

EXAMPLES = Path(__file__).resolve().parents[2] / "data" / "examples" / "completions.jsonl"


def write_jsonl(path: Path, rows) -> Path:
    path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    return path


def test_scores_rows_and_prints_a_summary(tmp_path, capsys):
    data = write_jsonl(
        tmp_path / "in.jsonl",
        [
            {"prompt": "1+1?", "completion": r"\boxed{2}", "answer": "2"},
            {"completion": [{"role": "assistant", "content": "no box"}], "answer": "2"},
            {"completion": r"\boxed{1}", "answer": ""},
        ],
    )
    out = tmp_path / "scores.jsonl"
    assert (
        main(
            [
                "score",
                "--reward",
                "boxed_accuracy",
                "--data",
                str(data),
                "--out",
                str(out),
                "--batch-size",
                "2",
            ]
        )
        == 0
    )
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert [(r["index"], r["reward"], r["reason"]) for r in rows] == [
        (0, 1.0, "ok"),
        (1, 0.0, "no_answer"),
        (2, None, "no_gold"),
    ]
    printed = capsys.readouterr().out
    assert "rows     3" in printed and "scored   2" in printed and "mean     0.5000" in printed
    assert "no_gold" in printed


def test_default_output_goes_to_the_working_directory(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "data").mkdir()
    data = write_jsonl(tmp_path / "data" / "in.jsonl", [{"completion": "abc"}])
    assert main(["score", "--reward", "rewardkit.text:completion_text", "--data", str(data)]) == 2
    assert not list(tmp_path.glob("*.jsonl")) and not list(tmp_path.glob(".*.tmp"))
    two = write_jsonl(
        tmp_path / "data" / "two.jsonl", [{"completion": r"\boxed{3}", "answer": "3"}]
    )
    assert main(["score", "--reward", "boxed_accuracy", "--data", str(two)]) == 0
    assert (tmp_path / "two.scores.jsonl").exists()
    assert not (tmp_path / "data" / "two.scores.jsonl").exists()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("not json\n", "not JSON"),
        ("[1, 2]\n", "JSON object"),
        ('{"prompt": "p"}\n', "no completion field 'completion' (its fields: 'prompt')"),
    ],
)
def test_bad_input_files_fail_with_a_clear_message(tmp_path, capsys, content, message):
    data = tmp_path / "bad.jsonl"
    data.write_text(content)
    assert main(["score", "--reward", "boxed_accuracy", "--data", str(data)]) == 2
    assert message in capsys.readouterr().err


def test_unknown_reward_and_missing_file(tmp_path, capsys):
    assert main(["score", "--reward", "nope", "--data", str(EXAMPLES)]) == 2
    assert "unknown reward" in capsys.readouterr().err
    assert (
        main(["score", "--reward", "boxed_accuracy", "--data", str(tmp_path / "none.jsonl")]) == 2
    )


def test_console_help_runs():
    result = subprocess.run(
        [sys.executable, "-m", "rewardkit.cli", "--help"], capture_output=True, text=True
    )
    assert result.returncode == 0
    assert "score" in result.stdout


def test_readme_example_file_scores(tmp_path, capsys):
    out = tmp_path / "examples.scores.jsonl"
    assert (
        main(["score", "--reward", "boxed_accuracy", "--data", str(EXAMPLES), "--out", str(out)])
        == 0
    )
    reasons = [json.loads(line)["reason"] for line in out.read_text().splitlines()]
    assert len(reasons) == 10
    assert {"ok", "wrong_answer", "no_answer", "unbalanced_braces", "unclosed_think"} <= set(
        reasons
    )


def test_reward_options_after_at(tmp_path):
    data = write_jsonl(tmp_path / "in.jsonl", [{"completion": "#### 7", "answer": "7"}])
    out = tmp_path / "out.jsonl"
    args = ["score", "--data", str(data), "--out", str(out), "--reward"]
    assert main([*args, "boxed_accuracy@boxed_only=false"]) == 0
    assert json.loads(out.read_text())["reward"] == 1.0
    assert main([*args, "boxed_accuracy"]) == 0
    assert json.loads(out.read_text())["reward"] == 0.0


def test_lenient_extraction_through_a_reward_option(tmp_path):
    """`--reward boxed_accuracy@extract=lenient` reads prose answers; the default does not."""
    car, sum_ = "A car drives 60 mph for 2 h. How far?", "What is 17 + 26?"
    rows = [
        {"prompt": car, "completion": "It goes 120 miles in 2 hours.", "answer": "120"},
        {"prompt": sum_, "completion": "The sum is $43$.", "answer": "43"},
        {"prompt": sum_, "completion": "It could be 43, or maybe 33.", "answer": "43"},
    ]
    data = write_jsonl(tmp_path / "in.jsonl", rows)
    scores = {}
    for spec in ("boxed_accuracy", "boxed_accuracy@extract=lenient"):
        out = tmp_path / f"{len(scores)}.jsonl"
        assert main(["score", "--reward", spec, "--data", str(data), "--out", str(out)]) == 0
        scores[spec] = [json.loads(line)["reward"] for line in out.read_text().splitlines()]
    assert scores == {
        "boxed_accuracy": [0.0, 0.0, 0.0],
        "boxed_accuracy@extract=lenient": [1.0, 1.0, 0.0],
    }
