"""GRPO (or RLOO) on math problems with rewardkit rewards chosen by name and weight.

The config names the rewards (``reward_funcs``: registered names such as ``boxed_accuracy``,
or ``module:attribute`` for your own) and TRL's ``reward_weights`` weighs them; every other
``GRPOConfig`` field (``beta``, ``loss_type``, ``num_generations``, ``use_vllm``, ...) passes
through to TRL, from the YAML file or the command line.

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

from common import DataArguments, TinyModelArguments, load_math_rows, resolve_model, rl_dataset

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
        metadata={"help": 'JSON: keyword arguments per reward name, e.g. '
                  '\'{"boxed_accuracy": {"boxed_only": false}}\''},
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


def trainer_and_config(rl_args: RLArguments, grpo_config: Any) -> tuple[type, Any]:
    """TRL's trainer class for ``algorithm`` and its config (RLOO takes the shared fields)."""
    from trl import GRPOTrainer, RLOOConfig, RLOOTrainer

    if rl_args.algorithm == "grpo":
        return GRPOTrainer, grpo_config
    if rl_args.algorithm == "rloo":
        defaults = type(grpo_config)(output_dir=grpo_config.output_dir, use_cpu=True)
        changed = {  # the fields the user set, carried over to RLOO's own config
            f.name: getattr(grpo_config, f.name) for f in dataclasses.fields(RLOOConfig)
            if f.init and hasattr(grpo_config, f.name)
            and getattr(grpo_config, f.name) != getattr(defaults, f.name)
        }
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
    model_path = resolve_model(model_args.model_name_or_path, config.output_dir, rows,
                               tiny_args, seed=config.seed,
                               cpu=config.use_cpu)
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
        info = {"algorithm": rl_args.algorithm, "num_processes": trainer.accelerator.num_processes,
                "global_step": trainer.state.global_step,
                "rewards": [r.__name__ for r in rewards],
                "log_history": trainer.state.log_history}
        (Path(config.output_dir) / "run_info.json").write_text(json.dumps(info, indent=1))
    return trainer


if __name__ == "__main__":
    from trl import GRPOConfig, ModelConfig, TrlParser

    parser = TrlParser((DataArguments, TinyModelArguments, RLArguments, ModelConfig, GRPOConfig))
    main(*parser.parse_args_and_config())
