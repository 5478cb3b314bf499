"""`rewardkit filter` end to end: summary table, files, and clear errors."""

from __future__ import annotations

import json

from filter_data import synthetic_records, write_jsonl

from rewardkit.cli import main


def test_filter_command_writes_dataset_and_prints_summary(tmp_path, capsys):
    data = write_jsonl(tmp_path / "in.jsonl", synthetic_records(n_prompts=10, n=4))
    out = tmp_path / "out"
    status = main(
        [
            "filter", "--input", str(data), "--completion-field", "completions",
            "--reward", "boxed_accuracy", "--filter", "pass_rate",
            "--filter", "top_k_distinct:k=2,by=answer", "--format", "dpo", "--pairs", "all",
            "--pass-at-k", "1,2", "--out", str(out), "--no-progress", "--conversational",
        ]
    )  # fmt: skip
    assert status == 0
    printed = capsys.readouterr().out
    assert "pass@2" in printed and "always_solved" in printed and "never_solved" in printed
    stats = json.loads((out / "stats.json").read_text())
    assert stats["prompts"] == 10 and stats["rows"] == 40
    # Rates 0..4/4 cycle: prompts 0, 5 never solved, 4, 9 always solved.
    assert stats["dropped"]["never_solved"] == 8 and stats["dropped"]["always_solved"] == 8
    records = [json.loads(line) for line in (out / "dpo.jsonl").read_text().splitlines()]
    assert len(records) == 6  # one pair (the right answer, one wrong) for each of 6 prompts
    assert all(r["chosen"][0]["role"] == "assistant" for r in records)
    assert (out / "pass_rates.png").read_bytes()[:4] == b"\x89PNG"
    drops = [json.loads(line) for line in (out / "dropped.jsonl").read_text().splitlines()]
    assert {d["filter"] for d in drops} == {"pass_rate", "top_k_distinct"}


def test_filter_command_errors_are_clear(tmp_path, capsys):
    data = write_jsonl(tmp_path / "in.jsonl", synthetic_records(n_prompts=2))
    base = ["filter", "--input", str(data), "--completion-field", "completions"]
    assert (
        main([*base, "--reward", "boxed_accuracy", "--filter", "sharpen", "--out", str(tmp_path)])
        == 2
    )
    assert "unknown filter 'sharpen': use one of best_of_n" in capsys.readouterr().err
    assert main([*base, "--reward", "boxed_acc", "--out", str(tmp_path)]) == 2
    assert "unknown reward 'boxed_acc'" in capsys.readouterr().err
    assert main([*base, "--reward", "boxed_accuracy@boxed_only", "--out", str(tmp_path)]) == 2
    assert "is not key=value" in capsys.readouterr().err
    missing = ["filter", "--input", str(tmp_path / "none.jsonl"), "--reward", "boxed_accuracy"]
    assert main([*missing, "--out", str(tmp_path)]) == 2
    assert "no such input file" in capsys.readouterr().err


def test_filter_command_generates_with_a_model(tiny_model_path, tmp_path, capsys):
    prompts = [{"prompt": f"What is {i} + 1?", "answer": str(i + 1)} for i in range(3)]
    data = write_jsonl(tmp_path / "prompts.jsonl", prompts)
    out = tmp_path / "out"
    command = [
        "filter", "--input", str(data), "--generate", tiny_model_path, "--n", "2",
        "--max-new-tokens", "4", "--reward", "boxed_accuracy", "--filter", "length:min=0",
        "--format", "kto", "--out", str(out), "--no-progress",
    ]  # fmt: skip
    assert main(command) == 0
    first = capsys.readouterr().out
    records = [json.loads(line) for line in (out / "kto.jsonl").read_text().splitlines()]
    assert len(records) == 6  # 3 prompts x 2 samples, all judged (a random model: all wrong)
    assert {r["label"] for r in records} == {False}
    assert json.loads((out / "generated" / "manifest.json").read_text())["complete"]
    assert main(command) == 0  # a rerun reads both stores back and gives the same table
    assert capsys.readouterr().out == first


def test_everything_dropped_shows_the_rewards_reasons_and_warns(tmp_path, capsys):
    records = [
        {
            "prompt": f"{i} + 1?",
            "completions": [f"#### {i + 1}", f"#### {i + 2}"],
            "answer": str(i + 1),
        }
        for i in range(3)
    ]  # GSM8K-style answers: boxed_accuracy (boxed only) finds no answer in any of them
    data = write_jsonl(tmp_path / "in.jsonl", records)
    command = ["filter", "--input", str(data), "--completion-field", "completions",
               "--reward", "boxed_accuracy", "--filter", "correct", "--out", str(tmp_path / "o"),
               "--no-progress"]  # fmt: skip
    assert main(command) == 0
    captured = capsys.readouterr()
    table = captured.out
    assert "incorrect" in table  # the filter's reason...
    assert "boxed_accuracy reasons (reward)" in table and "no_answer" in table  # ...and its cause
    assert "warning: nothing was kept" in captured.err
    assert "boxed_accuracy gave no_answer for 100%" in captured.err
    assert main([*command, "--strict"]) == 1
    stats = json.loads((tmp_path / "o" / "stats.json").read_text())
    assert stats["reward_reasons"] == {"boxed_accuracy": {"no_answer": 6}}
    drop = json.loads((tmp_path / "o" / "dropped.jsonl").read_text().splitlines()[0])
    assert drop["reasons"] == {"boxed_accuracy": "no_answer"}


def test_dpo_without_any_pair_warns(tmp_path, capsys):
    records = [{"prompt": "1 + 1?", "completions": [r"\boxed{2}", r"\boxed{2}"], "answer": "2"}]
    data = write_jsonl(tmp_path / "in.jsonl", records)
    command = ["filter", "--input", str(data), "--completion-field", "completions",
               "--reward", "boxed_accuracy", "--format", "dpo", "--out", str(tmp_path / "o"),
               "--no-progress"]  # fmt: skip
    assert main(command) == 0
    assert "2 completions were kept but made no records" in capsys.readouterr().err
    assert main([*command, "--strict"]) == 1
