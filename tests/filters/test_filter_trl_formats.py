"""The SFT, DPO and KTO datasets the filters export train a step in TRL's trainers."""

from __future__ import annotations

import math

import pytest
from datasets import load_dataset
from filter_data import GSM8K_MODELS, gsm8k_slice, synthetic_records

from rewardkit.filters import Exporter, Scorer, read_completions, run_filter
from rewardkit.rewards import BoxedAccuracy

FORMATS = ("sft", "dpo", "kto")


def _train_one_step(fmt: str, dataset, model_path: str, out: str) -> None:
    common = {
        "output_dir": out,
        "per_device_train_batch_size": 2,
        "max_steps": 1,
        "learning_rate": 1e-3,
        "report_to": "none",
        "use_cpu": True,
        "save_strategy": "no",
        "logging_steps": 1,
    }
    if fmt == "sft":
        from trl import SFTConfig, SFTTrainer

        trainer = SFTTrainer(
            model=model_path, args=SFTConfig(max_length=256, **common), train_dataset=dataset
        )
    elif fmt == "dpo":
        from trl import DPOConfig, DPOTrainer

        trainer = DPOTrainer(
            model=model_path, args=DPOConfig(max_length=256, **common), train_dataset=dataset
        )
    else:
        from trl import KTOConfig, KTOTrainer

        trainer = KTOTrainer(
            model=model_path, args=KTOConfig(max_length=256, **common), train_dataset=dataset
        )
    trainer.train()
    assert trainer.state.global_step == 1
    losses = [log["loss"] for log in trainer.state.log_history if "loss" in log]
    assert losses and all(math.isfinite(loss) for loss in losses)


def _export(rows, fmt, out_dir, conversational):
    report = run_filter(
        rows,
        Scorer([BoxedAccuracy(boxed_only=False)]),
        ["pass_rate"],  # prompts with both right and wrong answers: DPO pairs exist
        Exporter(fmt, conversational=conversational),
        out_dir,
        progress=False,
    )
    dataset = load_dataset("json", data_files=str(report.dataset), split="train")
    assert len(dataset) == report.stats.records > 0
    return dataset


@pytest.mark.parametrize("fmt", FORMATS)
def test_synthetic_conversational_dataset_trains(fmt, tiny_model_path, tmp_path):
    rows = read_completions(synthetic_records(), completion_fields=["completions"])
    dataset = _export(rows, fmt, tmp_path / "out", conversational=True)
    first = dataset[0]
    assert first["prompt"][0]["role"] == "user"
    key = {"sft": "completion", "dpo": "chosen", "kto": "completion"}[fmt]
    assert first[key][0]["role"] == "assistant"
    if fmt == "kto":
        assert set(dataset["label"]) == {True, False}
    _train_one_step(fmt, dataset, tiny_model_path, str(tmp_path / "trainer"))


@pytest.mark.parametrize("fmt", FORMATS)
def test_gsm8k_plain_dataset_trains(fmt, shared_data, tiny_model_path, tmp_path):
    path = gsm8k_slice(shared_data, 12, tmp_path)
    rows = read_completions(path, prompt_field="question", completion_fields=GSM8K_MODELS)
    dataset = _export(rows, fmt, tmp_path / "out", conversational=False)
    assert isinstance(dataset[0]["prompt"], str)
    if fmt == "dpo":
        assert all(m > 0 for m in dataset["margin"])  # ties never make a pair
        assert all(c != r for c, r in zip(dataset["chosen"], dataset["rejected"], strict=True))
    _train_one_step(fmt, dataset, tiny_model_path, str(tmp_path / "trainer"))
