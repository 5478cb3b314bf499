"""Every recipe config loads with TRL's parser, and the command line overrides any field."""

from __future__ import annotations

from pathlib import Path

import pytest
from common import DataArguments, TinyModelArguments
from dpo_from_samples import DPOSampleArguments
from evaluate import EvalArguments
from grpo_math import RLArguments, build_rewards, objective_fields_set, trainer_and_config
from rft import RFTArguments
from sampling import SamplingArguments
from trl import DPOConfig, GRPOConfig, ModelConfig, SFTConfig, TrlParser

from rewardkit.trl import ObjectiveGRPOConfig

CONFIGS = Path(__file__).resolve().parents[2] / "recipes" / "configs"
PARSERS = {
    "tiny_sft.yaml": (DataArguments, TinyModelArguments, ModelConfig, SFTConfig),
    "sft_qwen_gsm8k.yaml": (DataArguments, TinyModelArguments, ModelConfig, SFTConfig),
    "tiny_grpo.yaml": (
        DataArguments,
        TinyModelArguments,
        RLArguments,
        ModelConfig,
        ObjectiveGRPOConfig,
    ),
    "grpo_qwen_gsm8k.yaml": (
        DataArguments,
        TinyModelArguments,
        RLArguments,
        ModelConfig,
        ObjectiveGRPOConfig,
    ),
    "grpo_qwen_gsm8k_tinyv.yaml": (
        DataArguments,
        TinyModelArguments,
        RLArguments,
        ModelConfig,
        ObjectiveGRPOConfig,
    ),
    "evaluate_math500.yaml": (EvalArguments, DataArguments),
    "rft_tiny.yaml": (
        RFTArguments,
        SamplingArguments,
        DataArguments,
        TinyModelArguments,
        SFTConfig,
    ),
    "dpo_tiny.yaml": (
        DPOSampleArguments,
        SamplingArguments,
        DataArguments,
        TinyModelArguments,
        DPOConfig,
    ),
}


def parse(name: str, *overrides: str):
    return TrlParser(PARSERS[name]).parse_args_and_config(
        ["--config", str(CONFIGS / name), *overrides]
    )


def test_every_config_file_has_a_parser():
    assert {p.name for p in CONFIGS.glob("*.yaml")} == set(PARSERS)


@pytest.mark.parametrize("name", sorted(PARSERS))
def test_config_loads(name):
    if "qwen" in name:  # bf16 configs are for GPUs; on CPU they load with bf16 switched off
        parsed = parse(name, "--bf16", "false")
    else:
        parsed = parse(name)
    assert len(parsed) == len(PARSERS[name])


def test_command_line_overrides_yaml_fields():
    data, _, rl, model, config = parse(
        "tiny_grpo.yaml",
        "--learning_rate",
        "0.123",
        "--num_generations",
        "4",
        "--reward_funcs",
        "boxed_accuracy",
        "boxed_accuracy",
        "--levels",
        "2,3",
        "--model_name_or_path",
        "somewhere",
    )
    assert config.learning_rate == 0.123 and config.num_generations == 4
    assert config.max_completion_length == 24  # from the file
    assert rl.reward_funcs == ["boxed_accuracy", "boxed_accuracy"]
    assert data.levels == "2,3" and model.model_name_or_path == "somewhere"


def test_rewards_built_by_name_with_kwargs():
    rl = RLArguments(
        reward_funcs=["boxed_accuracy"], reward_kwargs='{"boxed_accuracy": {"boxed_only": false}}'
    )
    (reward,) = build_rewards(rl)
    assert reward.__name__ == "boxed_accuracy" and reward.boxed_only is False
    assert reward(completions=["#### 4"], answer=["4"]) == [1.0]


@pytest.mark.parametrize(
    "rl, match",
    [
        (RLArguments(reward_funcs=["no_such_reward"]), "no_such_reward"),
        (RLArguments(reward_kwargs="{oops"), "not valid JSON"),
        (RLArguments(reward_kwargs='{"other": {}}'), "not in reward_funcs"),
        (RLArguments(reward_funcs=[]), "at least one"),
    ],
)
def test_bad_reward_config_raises_clearly(rl, match):
    with pytest.raises((ValueError, KeyError), match=match):
        build_rewards(rl)


def test_rloo_takes_the_shared_fields_and_unknown_algorithms_raise(tmp_path):
    from trl import RLOOConfig, RLOOTrainer

    grpo = GRPOConfig(
        output_dir=str(tmp_path),
        use_cpu=True,
        bf16=False,
        learning_rate=0.01,
        num_generations=4,
        per_device_train_batch_size=8,
        beta=0.02,
    )
    trainer_class, config = trainer_and_config(RLArguments(algorithm="rloo"), grpo)
    assert trainer_class is RLOOTrainer and isinstance(config, RLOOConfig)
    assert (config.learning_rate, config.num_generations, config.beta) == (0.01, 4, 0.02)
    with pytest.raises(ValueError, match="grpo or 'rloo'|'grpo' or 'rloo'"):
        trainer_and_config(RLArguments(algorithm="ppo"), grpo)


def test_objective_options_choose_rewardkits_trainer(tmp_path):
    from trl import GRPOTrainer

    from rewardkit.trl import ObjectiveGRPOTrainer

    *_, plain = parse("tiny_grpo.yaml")
    assert objective_fields_set(plain) == []
    assert trainer_and_config(RLArguments(), plain)[0] is GRPOTrainer
    *_, chosen = parse("tiny_grpo.yaml", "--kl_estimator", "k1", "--advantage_estimator", "rloo")
    assert sorted(objective_fields_set(chosen)) == ["advantage_estimator", "kl_estimator"]
    assert trainer_and_config(RLArguments(), chosen)[0] is ObjectiveGRPOTrainer
    with pytest.raises(ValueError, match="apply to algorithm 'grpo' only"):
        trainer_and_config(RLArguments(algorithm="rloo"), chosen)


@pytest.fixture
def no_gpu(monkeypatch):
    """This machine as one without a GPU, whatever it has."""
    import rewardkit.trl.device as device

    monkeypatch.setattr(device, "has_accelerator", lambda: False)
    monkeypatch.setattr("rewardkit.trl.trainer.has_accelerator", lambda: False)


@pytest.mark.parametrize("name", ["grpo_qwen_gsm8k.yaml", "sft_qwen_gsm8k.yaml"])
def test_the_gpu_configs_run_on_a_machine_without_a_gpu(name, no_gpu, caplog, monkeypatch):
    import torch
    from common import parse_recipe_args

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)  # TRL's own check too
    with caplog.at_level("WARNING"):
        *_, config = parse_recipe_args(TrlParser(PARSERS[name]), ["--config", str(CONFIGS / name)])
    assert (config.use_cpu, config.bf16) == (True, False)
    said = [r.getMessage() for r in caplog.records if "no GPU" in r.getMessage()]
    assert said == ["no GPU found: training on the CPU (use_cpu=True, bf16=False)"]


def test_objective_config_detects_a_machine_without_a_gpu(no_gpu, caplog, tmp_path):
    with caplog.at_level("WARNING"):
        config = ObjectiveGRPOConfig(output_dir=str(tmp_path), report_to="none")
    assert (config.use_cpu, config.bf16) == (True, False)
    assert any("no GPU found" in r.getMessage() for r in caplog.records)


def test_rloo_keeps_the_device_settings(tmp_path):
    grpo = GRPOConfig(output_dir=str(tmp_path), use_cpu=True, bf16=False, report_to="none")
    _, config = trainer_and_config(RLArguments(algorithm="rloo"), grpo)
    assert (config.use_cpu, config.bf16) == (True, False)
