"""``--model-verifier FORMAT@URL`` on ``rewardkit score``, ``audit`` and ``filter``, in
``recipes/evaluate.py``, and the GRPO recipe config that points one at ``vllm serve``."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from rewardkit.cli import main
from rewardkit.judge.testing_server import FakeJudgeServer

RECIPES = Path(__file__).resolve().parents[2] / "recipes"


@pytest.fixture
def server():
    with FakeJudgeServer() as running:
        yield running


def spec(server, name="tinyv"):
    return f"{name}:v@{server.base_url},cache=false,max_retries=0"


def write(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def test_score_asks_the_model_about_rejected_answers(server, tmp_path, capsys):
    rows = [
        {"completion": r"\boxed{12}", "answer": "12", "question": "How many?"},
        {"completion": r"\boxed{12 apples}", "answer": "12", "question": "How many?"},
        {"completion": r"\boxed{13 apples}", "answer": "12", "question": "How many?"},
        {"completion": "no answer", "answer": "12", "question": "How many?"},
    ]
    data = write(tmp_path / "rows.jsonl", rows)
    reward = "boxed_accuracy@units=match"
    out = tmp_path / "rows.scores.jsonl"
    command = ["score", "--reward", reward, "--data", str(data), "--out", str(out)]
    status = main([*command, "--model-verifier", spec(server)])
    assert status == 0
    scored = [json.loads(x) for x in out.read_text().splitlines()]
    assert [r["reason"] for r in scored] == ["ok", "ok_by_model", "wrong_by_model", "no_answer"]
    assert [r["reward"] for r in scored] == [1.0, 1.0, 0.0, 0.0]
    assert server.count == 2
    assert "ok_by_model" in capsys.readouterr().out


def test_a_bad_spec_is_a_clear_error(tmp_path, capsys):
    data = write(tmp_path / "rows.jsonl", [{"completion": "x", "answer": "1"}])

    def score(reward, verifier):
        command = ["score", "--reward", reward, "--data", str(data), "--out", str(tmp_path / "o")]
        return main([*command, "--model-verifier", verifier])

    assert score("boxed_accuracy", "tinyv") == 2
    assert "is not FORMAT[:MODEL]@URL" in capsys.readouterr().err
    assert score("boxed_accuracy", "tiny@http://127.0.0.1:1/v1") == 2
    assert "use one of compassverifier" in capsys.readouterr().err
    assert score("rewardkit.rewards:ThinkFormat", "tinyv@http://h/v1,cache=false") == 2
    assert "takes a model verifier" in capsys.readouterr().err


def test_audit_with_a_model_verifier(server, tmp_path, capsys):
    out = tmp_path / "audit.json"
    command = ["audit", "math", "rewardkit.rewards:ThinkFormat", "--problems", "2"]
    status = main([*command, "--probe", "verifier_injection", "--probe", "confident_wrong",
                   "--model-verifier", spec(server), "--json", str(out)])  # fmt: skip
    captured = capsys.readouterr()
    assert "ThinkFormat takes no model verifier" in captured.err
    audits = json.loads(out.read_text())["audits"]
    math = next(a for a in audits if a["reward"] == "math")
    assert {p["name"]: p["hack_score"] for p in math["probes"]}["verifier_injection"] == 0.0
    assert server.count > 0 and status in (0, 1)


def test_filter_with_a_model_verifier(server, tmp_path):
    rows = [
        {"prompt": f"p{i}", "completions": [r"\boxed{4 cm}", r"\boxed{5 cm}"], "answer": "4"}
        for i in range(3)
    ]
    data = write(tmp_path / "in.jsonl", rows)
    out = tmp_path / "out"
    status = main(
        [
            "filter", "--input", str(data), "--completion-field", "completions",
            "--reward", "boxed_accuracy@units=match", "--model-verifier", spec(server),
            "--format", "kto", "--out", str(out), "--no-progress",
        ]
    )  # fmt: skip
    assert status == 0
    kept = [json.loads(x) for x in (out / "kto.jsonl").read_text().splitlines()]
    labels = {(r["completion"], r["label"]) for r in kept}
    assert labels == {(r"\boxed{4 cm}", True), (r"\boxed{5 cm}", False)}  # by the model
    assert server.count == 6  # each pair once, with its prompt as the question


def test_evaluate_scores_with_a_model_verifier(server):
    sys.path.insert(0, str(RECIPES))
    try:
        from evaluate import score_problem
    finally:
        sys.path.remove(str(RECIPES))
    from rewardkit.verify import model_verifier_from

    mv = model_verifier_from(spec(server, "xverify"))
    score = score_problem(
        r"\boxed{\text{4 of them}}", [r"\boxed{\text{4 of them}}", r"\boxed{3}"], "4", [1, 2], True,
        question="How many?", model_verifier=mv,
    )  # fmt: skip
    assert score["accuracy"] == 1.0 and score["pass@1"] == 0.5
    assert server.count == 3 and mv.spent()["overturned"] == 2  # greedy and one sample


def test_the_grpo_config_points_boxed_accuracy_at_a_tinyv_server():
    sys.path.insert(0, str(RECIPES))
    try:
        from common import DataArguments, TinyModelArguments
        from grpo_math import RLArguments, build_rewards
        from trl import ModelConfig, TrlParser

        from rewardkit.trl import ObjectiveGRPOConfig

        parser = TrlParser(
            (DataArguments, TinyModelArguments, RLArguments, ModelConfig, ObjectiveGRPOConfig)
        )
        config = RECIPES / "configs" / "grpo_qwen_gsm8k_tinyv.yaml"
        parsed = parser.parse_args_and_config(["--config", str(config), "--bf16", "false"])
    finally:
        sys.path.remove(str(RECIPES))
    rl_args = next(a for a in parsed if isinstance(a, RLArguments))
    [reward] = build_rewards(rl_args)
    verifier = reward.model_verifier
    assert verifier.format.name == "tinyv"
    assert verifier.backend.model == "zhangchenxu/TinyV-1.5B"
    assert verifier.backend.base_url == "http://localhost:8001/v1"
    assert verifier.backend.max_concurrency == 64
    assert "vllm serve zhangchenxu/TinyV-1.5B" in config.read_text()


def test_the_cascade_bench_runs(tmp_path):
    sys.path.insert(0, str(RECIPES.parent / "benchmarks"))
    try:
        import cascade_bench
    finally:
        sys.path.remove(str(RECIPES.parent / "benchmarks"))
    out = tmp_path / "bench.json"
    args = ["--skip-timing", "--ask-fake", "--latency", "0", "--sets", "hacking", "holdout3"]
    assert cascade_bench.main([*args, "--json", str(out)]) == 0
    results = json.loads(out.read_text())
    assert [r["set"] for r in results["routing"]] == ["hacking", "holdout3"]
    for row in results["routing"]:
        assert 0.0 <= row["forwarded"] <= 1.0 and row["pairs"] > 0
    assert all(r["sent"] >= 0 for r in results["model"])
