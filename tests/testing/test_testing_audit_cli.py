"""``rewardkit audit``: tables, JSON, exit status."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from rewardkit.cli import SUBCOMMANDS, main
from rewardkit.testing.probes import PROBES

HERE = Path(__file__).parent


@pytest.fixture
def test_rewards_importable(monkeypatch):
    monkeypatch.syspath_prepend(str(HERE))


def test_audit_is_a_subcommand():
    assert "audit" in SUBCOMMANDS


def test_a_clean_reward_exits_zero_and_writes_json(tmp_path, capsys):
    out = tmp_path / "audit.json"
    status = main(["audit", "boxed_accuracy", "--problems", "2", "--json", str(out)])
    assert status == 0
    printed = capsys.readouterr().out
    assert "reward boxed_accuracy (plain completions)" in printed and "PASSED" in printed
    data = json.loads(out.read_text())
    assert data["passed"] is True and data["threshold"] == 0.1
    [audit] = data["audits"]
    assert audit["reward"] == "boxed_accuracy" and len(audit["probes"]) == len(PROBES)


def test_a_hackable_reward_by_path_exits_one(tmp_path, capsys, test_rewards_importable):
    out = tmp_path / "audit.json"
    status = main(["audit", "audit_test_rewards:last_box", "--problems", "2", "--json", str(out)])
    assert status == 1
    assert "FAILED: paid for several_boxed" in capsys.readouterr().out
    assert "several_boxed" in json.loads(out.read_text())["audits"][0]["flagged"]


def test_threshold_and_probe_selection(capsys, test_rewards_importable):
    args = ["audit", "audit_test_rewards:last_box", "--problems", "1", "--probe", "confident_wrong"]
    assert main(args) == 0
    args = ["audit", "audit_test_rewards:last_box", "--problems", "1", "--probe", "several_boxed"]
    assert main(args) == 1
    assert main([*args, "--threshold", "1.0"]) == 0  # paid 1.0 is not MORE than 1.0


def test_several_rewards_print_a_side_by_side_table(capsys, test_rewards_importable):
    status = main(
        ["audit", "boxed_accuracy", "audit_test_rewards:chat_only_last_box", "--problems", "2"]
    )
    printed = capsys.readouterr().out
    assert status == 1
    assert "| probe | boxed_accuracy | chat_only_last_box |" in printed
    assert "crashed on plain-string completions" in printed


def test_trl_accuracy_reward_is_audited_in_chat_format(tmp_path, capsys):
    pytest.importorskip("math_verify")
    out = tmp_path / "trl.json"
    status = main(
        [
            "audit",
            "trl.rewards:accuracy_reward",
            "--problems",
            "2",
            "--probe",
            "answer_in_think_only",
            "--json",
            str(out),
        ]
    )
    [audit] = json.loads(out.read_text())["audits"]
    assert audit["completion_format"] == "chat"
    assert audit["findings"][0].startswith("crashed on plain-string completions")
    assert status == 1 and audit["flagged"] == ["answer_in_think_only"]


@pytest.mark.parametrize(
    "args",
    [
        ["audit", "no_such_reward"],
        ["audit", "boxed_accuracy", "--probe", "no_such_probe"],
        ["audit", "boxed_accuracy", "--problems", "0"],
        ["audit", "boxed_accuracy", "--threshold", "nan"],
        ["audit", "boxed_accuracy", "--time-limit", "-1"],
    ],
)
def test_usage_errors_exit_two(args, capsys):
    assert main(args) == 2
    assert "rewardkit audit: error:" in capsys.readouterr().err


def test_runs_as_a_module(tmp_path):
    done = subprocess.run(
        [sys.executable, "-m", "rewardkit.cli", "audit", "boxed_accuracy", "--problems", "1"],
        check=False,
        capture_output=True,
        text=True,
        cwd=Path(__file__).parents[2],
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "PASSED" in done.stdout
