"""Preference pairs from the policy's own scored samples, then DPO.

For each training problem, ``num_samples`` completions are drawn, scored with ``reward`` and
filtered with ``rewardkit.filters`` (default: ``pass_rate``, which drops problems always or
never solved); ``rewardkit.filters.Exporter("dpo")`` pairs, within each problem, the best
(chosen) with the worst (rejected) where their scores differ. ``pairs.jsonl`` keeps the
pairs, ``samples/`` the filter run (``stats.json``, ``dropped.jsonl``, ``pass_rates.png``).

    python recipes/dpo_from_samples.py --config recipes/configs/dpo_tiny.yaml
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
class DPOSampleArguments:
    """Where the samples come from."""

    model_name_or_path: str = field(
        default="tiny", metadata={"help": "policy to sample from and train"}
    )
    problems: int | None = field(
        default=None, metadata={"help": "problems to sample (default: all)"}
    )
    filters: list[str] = field(
        default_factory=lambda: ["pass_rate"],
        metadata={"help": "rewardkit.filters chain before pairing"},
    )


def main(dpo_args, sampling_args, data_args, tiny_args, dpo_config) -> Any:
    """Sample, pair, train; returns the trainer."""
    from datasets import Dataset
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from trl import DPOTrainer

    rows = load_math_rows(data_args)[: dpo_args.problems]
    model_path = resolve_model(
        dpo_args.model_name_or_path,
        dpo_config.output_dir,
        rows,
        tiny_args,
        seed=dpo_config.seed,
        cpu=dpo_config.use_cpu,
    )
    tokenizer = AutoTokenizer.from_pretrained(model_path)
    model = AutoModelForCausalLM.from_pretrained(model_path)
    records = sample_records(model, tokenizer, rows, sampling_args, data_args.system_prompt)
    out = Path(dpo_config.output_dir)
    pairs, stats = score_filter_export(
        records, sampling_args.reward, dpo_args.filters, "dpo", out_dir=out / "samples"
    )
    print(f"{len(pairs)} preference pairs from {len(records)} problems: {stats}")
    if not pairs:
        raise RuntimeError(
            "no problem had samples with different scores: no pairs to train on; "
            "sample more (num_samples) or at a higher temperature"
        )
    out.mkdir(parents=True, exist_ok=True)
    with (out / "pairs.jsonl").open("w") as f:
        for pair in pairs:
            f.write(json.dumps(pair) + "\n")
    dataset = Dataset.from_list(
        [{k: p[k] for k in ("prompt", "chosen", "rejected")} for p in pairs]
    )
    trainer = DPOTrainer(
        model=model, args=dpo_config, train_dataset=dataset, processing_class=tokenizer
    )
    trainer.train()
    trainer.save_model(dpo_config.output_dir)
    tokenizer.save_pretrained(dpo_config.output_dir)
    return trainer


if __name__ == "__main__":
    from trl import DPOConfig, TrlParser

    parser = TrlParser(
        (DPOSampleArguments, SamplingArguments, DataArguments, TinyModelArguments, DPOConfig)
    )
    main(*parse_recipe_args(parser))
