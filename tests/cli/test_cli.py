"""The `rewardkit` command as a whole: version, `python -m`, rewards from the working
directory, one input reader for score and filter, outputs that fail early and cleanly."""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import rewardkit
from rewardkit.cli import main

ROOT = Path(__file__).resolve().parents[2]


def write_jsonl(path: Path, rows) -> Path:
    path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    return path


def test_version_and_python_dash_m(capsys):
    with pytest.raises(SystemExit) as stop:
        main(["--version"])
    assert stop.value.code == 0
    assert capsys.readouterr().out.strip() == f"rewardkit {rewardkit.__version__}"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    result = subprocess.run(
        [sys.executable, "-m", "rewardkit", "--help"], capture_output=True, text=True, env=env
    )
    assert result.returncode == 0 and "filter" in result.stdout


def test_module_attribute_rewards_load_from_the_working_directory(tmp_path, monkeypatch):
    (tmp_path / "my_rewards_cwd.py").write_text(
        "def has_four(completions, **kwargs):\n"
        "    return [1.0 if '4' in c else 0.0 for c in completions]\n"
    )
    data = write_jsonl(tmp_path / "in.jsonl", [{"completion": "4"}, {"completion": "5"}])
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "path", [p for p in sys.path if p not in ("", str(tmp_path))])
    out = tmp_path / "s.jsonl"
    args = ["score", "--reward", "my_rewards_cwd:has_four", "--data", str(data), "--out", str(out)]
    assert main(args) == 0
    assert [json.loads(line)["reward"] for line in out.read_text().splitlines()] == [1.0, 0.0]


def test_score_reads_what_filter_reads(tmp_path):
    """Objects with a `solution` field and .jsonl.gz, as `rewardkit filter` reads them."""
    rows = [
        {"prompt": "2+2?", "model": {"solution": r"\boxed{4}", "is_correct": True}, "answer": "4"},
        {"prompt": "2+3?", "model": {"solution": r"\boxed{6}", "is_correct": False}, "answer": "5"},
    ]
    data = tmp_path / "in.jsonl.gz"
    with gzip.open(data, "wt", encoding="utf-8") as handle:
        handle.writelines(json.dumps(r) + "\n" for r in rows)
    out = tmp_path / "s.jsonl"
    base = ["score", "--reward", "boxed_accuracy", "--data", str(data), "--out", str(out)]
    assert main([*base, "--completion-field", "model"]) == 0
    scored = [json.loads(line) for line in out.read_text().splitlines()]
    assert [(r["reward"], r["reason"]) for r in scored] == [(1.0, "ok"), (0.0, "wrong_answer")]
    assert (tmp_path / "s.jsonl").exists() and not (tmp_path / "in.scores.jsonl").exists()


def test_score_failures_leave_no_output_and_suggest_out(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    out = tmp_path / "x.jsonl"
    missing = ["score", "--reward", "boxed_accuracy", "--data", str(tmp_path / "none.jsonl")]
    assert main([*missing, "--out", str(out)]) == 2
    assert "no such input file" in capsys.readouterr().err
    assert not out.exists() and list(tmp_path.iterdir()) == []
    data = write_jsonl(tmp_path / "in.jsonl", [{"completion": r"\boxed{1}", "answer": "1"}])
    blocker = tmp_path / "a_file"
    blocker.write_text("")  # a folder that cannot be created or written, even by root
    args = ["score", "--reward", "boxed_accuracy", "--data", str(data)]
    assert main([*args, "--out", str(blocker / "s.jsonl")]) == 2
    assert "choose the output with --out" in capsys.readouterr().err


def test_score_table_fits_composite_reasons_and_details_are_json(tmp_path, capsys):
    rows = [{"completion": "no think, no box", "answer": "4"}, {"completion": "x", "answer": "4"}]
    data = write_jsonl(tmp_path / "in.jsonl", rows)
    out = tmp_path / "o.jsonl"
    assert main(["score", "--reward", "math", "--data", str(data), "--out", str(out)]) == 0
    lines = capsys.readouterr().out.splitlines()
    table = lines[lines.index("") + 1 : lines.index("", lines.index("") + 1)]
    assert any(len(line.split()[0]) > 24 for line in table[1:])  # format:think_format:...
    assert len({len(line) for line in table}) == 1  # header and rows line up
    first = json.loads(out.read_text().splitlines()[0])
    assert first["components"]["format"]["reason"] == "think_format:no_think"


def test_audit_json_to_a_missing_directory_fails_before_the_audit(tmp_path, monkeypatch, capsys):
    import rewardkit.cli.audit as audit_cli

    def no_audit(*args, **kwargs):
        raise AssertionError("the audit ran before --json was checked")

    monkeypatch.setattr(audit_cli, "audit_reward", no_audit)
    target = tmp_path / "no" / "such" / "dir" / "audit.json"
    assert main(["audit", "boxed_accuracy", "--json", str(target)]) == 2
    assert "no such directory" in capsys.readouterr().err


def test_audit_names_the_gold_column_not_the_format(tmp_path, monkeypatch, capsys):
    (tmp_path / "gold_reward_mod.py").write_text(
        "def needs_answer(completions, answer, **kwargs):\n    return [1.0 for _ in completions]\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    status = main(
        ["audit", "gold_reward_mod:needs_answer", "--problems", "1", "--probe", "echo_prompt"]
    )
    out = capsys.readouterr().out
    assert status == 1
    assert "plain-string" not in out
    assert "--gold-column" in out
