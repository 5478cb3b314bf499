"""GRPO (or RLOO) on math problems with rewardkit rewards chosen by name and weight.

The config names the rewards (``reward_funcs``: registered names such as ``boxed_accuracy``,
or ``module:attribute`` for your own) and TRL's ``reward_weights`` weighs them; every other
``GRPOConfig`` field (``beta``, ``loss_type``, ``num_generations``, ``use_vllm``, ...) passes
through to TRL, from the YAML file or the command line. Setting one of rewardkit's objective
options (``kl_estimator``, ``kl_placement``, ``advantage_estimator``, ``policy_loss``,
``loss_aggregation``, ``dynamic_sampling``, ...) trains with ``rewardkit.trl.ObjectiveGRPOTrainer``.

    python recipes/grpo_math.py --config recipes/configs/grpo_qwen_gsm8k.yaml
    accelerate launch --config_file recipes/accelerate/ddp.yaml recipes/grpo_math.py \\
        --config recipes/configs/grpo_qwen_gsm8k.yaml --learning_rate 5e-7
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from common import (
    DataArguments,
    TinyModelArguments,
    load_math_rows,
    parse_recipe_args,
    resolve_model,
    rl_dataset,
)

from rewardkit import get_reward


@dataclass
class RLArguments:
    """Which rewards and which trainer."""

    reward_funcs: list[str] = field(
        default_factory=lambda: ["boxed_accuracy"],
        metadata={"help": "reward names (see rewardkit.reward_names()) or module:attribute"},
    )
    reward_kwargs: str = field(
        default="{}",
        metadata={
            "help": "JSON: keyword arguments per reward name, e.g. "
            '\'{"boxed_accuracy": {"boxed_only": false}}\''
        },
    )
    algorithm: str = field(default="grpo", metadata={"help": "grpo or rloo"})


def build_rewards(rl_args: RLArguments) -> list[Any]:
    """The reward objects named in the config, built with their keyword arguments."""
    try:
        kwargs = json.loads(rl_args.reward_kwargs or "{}")
    except json.JSONDecodeError as err:
        raise ValueError(f"reward_kwargs is not valid JSON: {err.msg}") from None
    unknown = set(kwargs) - set(rl_args.reward_funcs)
    if unknown:
        raise ValueError(f"reward_kwargs names rewards not in reward_funcs: {sorted(unknown)}")
    if not rl_args.reward_funcs:
        raise ValueError("reward_funcs must name at least one reward")
    return [get_reward(name, **kwargs.get(name, {})) for name in rl_args.reward_funcs]


def objective_fields_set(config: Any) -> list[str]:
    """The objective options (rewardkit's ``ObjectiveGRPOConfig`` fields beyond TRL's
    ``GRPOConfig``) that ``config`` sets to something other than their default; the policy
    loss and aggregation count as set only when they differ from what ``loss_type`` implies."""
    from trl import GRPOConfig

    from rewardkit.trl import ObjectiveGRPOConfig
    from rewardkit.trl.trainer import TRL_LOSS_TYPES

    trl_fields = {f.name for f in dataclasses.fields(GRPOConfig)}
    defaults = {
        f.name: f.default_factory() if f.default is dataclasses.MISSING else f.default
        for f in dataclasses.fields(ObjectiveGRPOConfig)
        if f.name not in trl_fields
    }
    loss, aggregation = TRL_LOSS_TYPES.get(getattr(config, "loss_type", None), (None, None))
    if loss == "ppo_clip" and getattr(config, "importance_sampling_level", None) == "sequence":
        loss = "gspo"  # what ObjectiveGRPOConfig derives from TRL's settings
    defaults |= {"policy_loss": loss, "loss_aggregation": aggregation}
    return [
        name
        for name, default in defaults.items()
        if hasattr(config, name) and getattr(config, name) != default
    ]


def trainer_and_config(rl_args: RLArguments, grpo_config: Any) -> tuple[type, Any]:
    """The trainer class for ``algorithm`` and its config: TRL's ``GRPOTrainer``, or
    rewardkit's ``ObjectiveGRPOTrainer`` when the config sets an objective option
    (``kl_estimator``, ``advantage_estimator``, ``policy_loss``, ...); RLOO takes the
    fields it shares with GRPO."""
    from trl import GRPOTrainer, RLOOConfig, RLOOTrainer

    objective_options = objective_fields_set(grpo_config)
    if rl_args.algorithm == "grpo":
        if objective_options:
            from rewardkit.trl import ObjectiveGRPOTrainer

            return ObjectiveGRPOTrainer, grpo_config
        return GRPOTrainer, grpo_config
    if objective_options and rl_args.algorithm == "rloo":
        raise ValueError(
            f"objective options {objective_options} apply to algorithm 'grpo' "
            "only; RLOO uses TRL's RLOOTrainer"
        )
    if rl_args.algorithm == "rloo":
        defaults = type(grpo_config)(output_dir=grpo_config.output_dir, use_cpu=True)
        changed = {  # the fields the user set, carried over to RLOO's own config
            f.name: getattr(grpo_config, f.name)
            for f in dataclasses.fields(RLOOConfig)
            if f.init
            and hasattr(grpo_config, f.name)
            and getattr(grpo_config, f.name) != getattr(defaults, f.name)
        }
        # the device settings always (the defaults above had to be built on the CPU)
        changed |= {"use_cpu": grpo_config.use_cpu, "bf16": grpo_config.bf16}
        changed.pop("generation_batch_size", None)  # derived in __post_init__
        return RLOOTrainer, RLOOConfig(**{"output_dir": grpo_config.output_dir} | changed)
    raise ValueError(f"algorithm must be 'grpo' or 'rloo', got {rl_args.algorithm!r}")


def main(data_args, tiny_args, rl_args, model_args, grpo_config, callbacks=()) -> Any:
    """Train; returns the trainer (its ``state.log_history`` holds the logged metrics)."""
    from transformers import AutoTokenizer
    from trl import get_peft_config

    rewards = build_rewards(rl_args)
    trainer_class, config = trainer_and_config(rl_args, grpo_config)
    rows = load_math_rows(data_args)
    model_path = resolve_model(
        model_args.model_name_or_path,
        config.output_dir,
        rows,
        tiny_args,
        seed=config.seed,
        cpu=config.use_cpu,
    )
    tokenizer = AutoTokenizer.from_pretrained(model_path)
    trainer = trainer_class(
        model=model_path,
        reward_funcs=rewards,
        args=config,
        train_dataset=rl_dataset(rows, data_args.system_prompt),
        processing_class=tokenizer,
        peft_config=get_peft_config(model_args),
        callbacks=list(callbacks),
    )
    trainer.train()
    trainer.save_model(config.output_dir)
    if trainer.accelerator.is_main_process:
        tokenizer.save_pretrained(config.output_dir)
        info = {
            "algorithm": rl_args.algorithm,
            "trainer": trainer_class.__name__,
            "num_processes": trainer.accelerator.num_processes,
            "global_step": trainer.state.global_step,
            "rewards": [r.__name__ for r in rewards],
            "log_history": trainer.state.log_history,
        }
        (Path(config.output_dir) / "run_info.json").write_text(json.dumps(info, indent=1))
    return trainer


if __name__ == "__main__":
    from trl import ModelConfig, TrlParser

    from rewardkit.trl import ObjectiveGRPOConfig  # GRPOConfig plus the objective options

    parser = TrlParser(
        (DataArguments, TinyModelArguments, RLArguments, ModelConfig, ObjectiveGRPOConfig)
    )
    main(*parse_recipe_args(parser))
