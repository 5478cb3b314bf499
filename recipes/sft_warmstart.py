"""Supervised warm start on worked solutions in the reasoning format (``<think>`` + boxed).

Trains on prompt-completion pairs (chat format), with the loss on the completion only, and
saves the model and tokenizer to ``output_dir``.

    python recipes/sft_warmstart.py --config recipes/configs/sft_qwen_gsm8k.yaml
    python recipes/sft_warmstart.py --config recipes/configs/tiny_sft.yaml --max_steps 50
"""

from __future__ import annotations

from common import (
    DataArguments,
    TinyModelArguments,
    load_math_rows,
    parse_recipe_args,
    resolve_model,
    sft_dataset,
)


def main(data_args, tiny_args, model_args, sft_config) -> str:
    """Run the warm start; returns the directory of the trained model."""
    from transformers import AutoTokenizer
    from trl import SFTTrainer, get_peft_config

    rows = load_math_rows(data_args)
    model_path = resolve_model(
        model_args.model_name_or_path,
        sft_config.output_dir,
        rows,
        tiny_args,
        seed=sft_config.seed,
        cpu=sft_config.use_cpu,
    )
    if model_args.dtype and model_args.dtype != "auto":
        sft_config.model_init_kwargs = (sft_config.model_init_kwargs or {}) | {
            "dtype": model_args.dtype
        }
    tokenizer = AutoTokenizer.from_pretrained(model_path)
    trainer = SFTTrainer(
        model=model_path,
        args=sft_config,
        train_dataset=sft_dataset(rows, data_args.system_prompt),
        processing_class=tokenizer,
        peft_config=get_peft_config(model_args),
    )
    trainer.train()
    trainer.save_model(sft_config.output_dir)
    if trainer.accelerator.is_main_process:
        tokenizer.save_pretrained(sft_config.output_dir)
    return sft_config.output_dir


if __name__ == "__main__":
    from trl import ModelConfig, SFTConfig, TrlParser

    parser = TrlParser((DataArguments, TinyModelArguments, ModelConfig, SFTConfig))
    main(*parse_recipe_args(parser))
