"""Rejection-sampling fine-tuning, iterated: sample, score, keep the right ones, SFT, repeat.

Each iteration samples ``num_samples`` completions per training problem from the current
model, scores them with ``reward`` and keeps what the ``filters`` chain of
``rewardkit.filters`` passes (default: the correct ones, one per distinct list of equations,
as in Yuan et al. 2023), fine-tunes on them, and samples from the result in the next
iteration. ``rft_log.json`` records per iteration what was kept and why the rest was dropped;
``samples_<i>/`` holds each iteration's filter run (``stats.json``, ``dropped.jsonl``,
``pass_rates.png``).

    python recipes/rft.py --config recipes/configs/rft_tiny.yaml
"""

from __future__ import annotations

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
)
from sampling import SamplingArguments, sample_records, score_filter_export


@dataclass
class RFTArguments:
    """The rejection-sampling loop."""

    model_name_or_path: str = field(default="tiny", metadata={"help": "model to start from"})
    iterations: int = 2
    filters: list[str] = field(
        default_factory=lambda: ["correct", "top_k_distinct:k=1,by=equations"],
        metadata={"help": "rewardkit.filters chain, by name (see filter_names())"},
    )
    problems_per_iteration: int | None = field(
        default=None, metadata={"help": "problems sampled per iteration (default: all)"}
    )


def main(rft_args, sampling_args, data_args, tiny_args, sft_config) -> list[dict[str, Any]]:
    """Run the loop; returns one log entry per iteration."""
    from datasets import Dataset
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from trl import SFTTrainer

    rows = load_math_rows(data_args)
    model_path = resolve_model(
        rft_args.model_name_or_path,
        sft_config.output_dir,
        rows,
        tiny_args,
        seed=sft_config.seed,
        cpu=sft_config.use_cpu,
    )
    out = Path(sft_config.output_dir)
    log = []
    for iteration in range(rft_args.iterations):
        tokenizer = AutoTokenizer.from_pretrained(model_path)
        model = AutoModelForCausalLM.from_pretrained(model_path)
        start = (iteration * (rft_args.problems_per_iteration or 0)) % len(rows)
        batch = (
            rows[start : start + rft_args.problems_per_iteration]
            if rft_args.problems_per_iteration
            else rows
        )
        records = sample_records(model, tokenizer, batch, sampling_args, data_args.system_prompt)
        kept, stats = score_filter_export(
            records,
            sampling_args.reward,
            rft_args.filters,
            "sft",
            out_dir=out / f"samples_{iteration}",
        )
        log.append({"iteration": iteration} | stats)
        print(log[-1])
        if not kept:
            print("nothing passed the filters: stopping")
            break
        sft_config.output_dir = str(out / f"iteration_{iteration}")
        dataset = Dataset.from_list(kept)
        trainer = SFTTrainer(
            model=model, args=sft_config, train_dataset=dataset, processing_class=tokenizer
        )
        trainer.train()
        trainer.save_model(sft_config.output_dir)
        tokenizer.save_pretrained(sft_config.output_dir)
        model_path = sft_config.output_dir
    out.mkdir(parents=True, exist_ok=True)
    (out / "rft_log.json").write_text(json.dumps(log, indent=2) + "\n")
    return log


if __name__ == "__main__":
    from trl import SFTConfig, TrlParser

    parser = TrlParser(
        (RFTArguments, SamplingArguments, DataArguments, TinyModelArguments, SFTConfig)
    )
    main(*parse_recipe_args(parser))
