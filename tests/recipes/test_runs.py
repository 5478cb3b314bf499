"""Short real runs of the recipes on the tiny model: the one-command loop, GRPO under
``accelerate launch`` with two CPU processes, RLOO, RFT and DPO from samples."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FAST_GRPO = [
    "--max_steps",
    "2",
    "--per_device_train_batch_size",
    "4",
    "--num_generations",
    "4",
    "--max_completion_length",
    "8",
    "--n_train",
    "32",
    "--n_eval",
    "4",
    "--logging_steps",
    "1",
]


def run_script(*args: str, timeout: int = 240) -> subprocess.CompletedProcess:
    env = os.environ | {"PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    result = subprocess.run(
        args, check=False, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return result


def test_run_tiny_end_to_end_writes_the_report(tmp_path):
    from run_tiny import TinyRunArguments, main

    report = main(
        TinyRunArguments(
            output_dir=str(tmp_path),
            sft_steps=3,
            grpo_steps=2,
            n_eval=6,
            num_threads=1,
            eval_max_new_tokens=8,
        )
    )
    saved = json.loads((tmp_path / "report.json").read_text())
    assert saved["n_eval"] == report["n_eval"] == 6
    assert 0.0 <= saved["sft_accuracy"] <= 1.0 and 0.0 <= saved["grpo_accuracy"] <= 1.0
    assert saved["wall_seconds"] > 0 and saved["settings"]["grpo"]["max_steps"] == 2
    for plot in ("reward", "completion_length", "kl", "accuracy", "reasons_boxed_accuracy"):
        assert (tmp_path / f"{plot}.png").read_bytes()[:4] == b"\x89PNG"
    assert not (tmp_path / "reward_components.png").exists()  # one reward: nothing to split
    markdown = (tmp_path / "report.md").read_text()
    assert "![accuracy](accuracy.png)" in markdown and "| overall | 6 |" in markdown
    assert (tmp_path / "eval_sft" / "completions.jsonl").exists()


def test_grpo_under_accelerate_launch_with_two_cpu_processes(tmp_path):
    run_script(
        sys.executable,
        "-m",
        "accelerate.commands.launch",
        "--config_file",
        "recipes/accelerate/cpu_2proc.yaml",
        "recipes/grpo_math.py",
        "--config",
        "recipes/configs/tiny_grpo.yaml",
        "--model_name_or_path",
        "tiny",
        "--output_dir",
        str(tmp_path),
        *FAST_GRPO,
    )
    info = json.loads((tmp_path / "run_info.json").read_text())
    assert info["num_processes"] == 2 and info["global_step"] == 2
    assert info["trainer"] == "GRPOTrainer"
    assert "rewards/boxed_accuracy/mean" in info["log_history"][0]
    assert (tmp_path / "model.safetensors").exists()


def test_rloo_trains_with_rewardkit_rewards(tmp_path):
    run_script(
        sys.executable,
        "recipes/grpo_math.py",
        "--config",
        "recipes/configs/tiny_grpo.yaml",
        "--model_name_or_path",
        "tiny",
        "--algorithm",
        "rloo",
        "--output_dir",
        str(tmp_path),
        *FAST_GRPO,
    )
    info = json.loads((tmp_path / "run_info.json").read_text())
    assert info["algorithm"] == "rloo" and info["global_step"] == 2


def test_grpo_with_objective_options_uses_rewardkits_trainer(tmp_path):
    run_script(
        sys.executable,
        "recipes/grpo_math.py",
        "--config",
        "recipes/configs/tiny_grpo.yaml",
        "--model_name_or_path",
        "tiny",
        "--kl_estimator",
        "k1",
        "--advantage_estimator",
        "rloo",
        "--output_dir",
        str(tmp_path),
        *FAST_GRPO,
    )
    info = json.loads((tmp_path / "run_info.json").read_text())
    assert info["trainer"] == "ObjectiveGRPOTrainer" and info["global_step"] == 2


@pytest.fixture(scope="module")
def warm_model(tmp_path_factory):
    """A tiny model warm-started for 80 steps, so that some of its samples are right."""
    out = tmp_path_factory.mktemp("warm")
    run_script(
        sys.executable,
        "recipes/sft_warmstart.py",
        "--config",
        "recipes/configs/tiny_sft.yaml",
        "--output_dir",
        str(out),
        "--max_steps",
        "80",
        "--n_train",
        "256",
        "--teacher_error",
        "0",
    )
    return str(out)


def test_rft_iteration_trains_on_what_the_filters_keep(warm_model, tmp_path):
    run_script(
        sys.executable,
        "recipes/rft.py",
        "--config",
        "recipes/configs/rft_tiny.yaml",
        "--model_name_or_path",
        warm_model,
        "--output_dir",
        str(tmp_path),
        "--iterations",
        "1",
        "--problems_per_iteration",
        "16",
        "--max_steps",
        "1",
        "--filters",
        "top_k_distinct:k=1,by=answer",
    )
    (entry,) = json.loads((tmp_path / "rft_log.json").read_text())
    assert entry["problems"] == 16 and entry["completions"] == 16 * 8
    assert 0 < entry["kept"] == entry["exported"] <= 16  # at most one per problem
    assert (tmp_path / "iteration_0" / "model.safetensors").exists()


def test_score_filter_export_keeps_right_distinct_samples_and_pairs_them():
    from sampling import score_filter_export

    prompt = [{"role": "user", "content": "2+2?"}]
    records = [
        {
            "prompt": prompt,
            "answer": "4",
            "completions": [
                r"<think>2+2=4</think> \boxed{4}",
                r"\boxed{5}",
                r"<think>2+2=4</think> \boxed{4}",
                "no answer",
            ],
        },
        {"prompt": prompt, "answer": "9", "completions": [r"\boxed{1}", r"\boxed{2}"]},
    ]
    sft, stats = score_filter_export(
        records, "boxed_accuracy", ["correct", "top_k_distinct:k=1,by=answer"], "sft"
    )
    assert [r["completion"][0]["content"] for r in sft] == [r"<think>2+2=4</think> \boxed{4}"]
    assert stats["completions"] == 6 and stats["mean_reward"] == pytest.approx(2 / 6)
    assert stats["dropped"]["correct:incorrect"] == 4
    dpo, _ = score_filter_export(records, "boxed_accuracy", [], "dpo")
    assert len(dpo) == 1 and dpo[0]["chosen"][0]["content"].endswith(r"\boxed{4}")
    assert dpo[0]["score_chosen"] > dpo[0]["score_rejected"]


def test_dpo_from_samples_pairs_better_over_worse(warm_model, tmp_path):
    run_script(
        sys.executable,
        "recipes/dpo_from_samples.py",
        "--config",
        "recipes/configs/dpo_tiny.yaml",
        "--model_name_or_path",
        warm_model,
        "--output_dir",
        str(tmp_path),
        "--problems",
        "64",
        "--max_steps",
        "1",
    )
    pairs = [json.loads(line) for line in (tmp_path / "pairs.jsonl").open()]
    assert pairs and all(p["chosen"] != p["rejected"] for p in pairs)
    assert all(p["score_chosen"] > p["score_rejected"] for p in pairs)
    assert (tmp_path / "model.safetensors").exists()
