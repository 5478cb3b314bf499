"""Preference pairs from the policy's own scored samples, then DPO.

For each training problem, ``num_samples`` completions are drawn and scored; a problem with
both a best and a worse completion gives the pair (chosen = highest score, rejected = lowest).
Problems whose samples all score the same give no pair. ``pairs.jsonl`` keeps the pairs.

    python recipes/dpo_from_samples.py --config recipes/configs/dpo_tiny.yaml
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from common import DataArguments, TinyModelArguments, load_math_rows, resolve_model
from sampling import SamplingArguments, sample_and_score


@dataclass
class DPOSampleArguments:
    """Where the samples come from."""

    model_name_or_path: str = field(default="tiny", metadata={"help": "policy to sample from "
                                                              "and train"})
    problems: int | None = field(default=None, metadata={"help": "problems to sample "
                                                         "(default: all)"})


def preference_pairs(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One (chosen, rejected) pair per problem whose scores differ.

    >>> preference_pairs([{"prompt": "p", "completions": ["a", "b", "c"], "scores": [0, 1, None]},
    ...                   {"prompt": "q", "completions": ["d", "e"], "scores": [1, 1]}])
    [{'prompt': 'p', 'chosen': 'b', 'rejected': 'a'}]
    """
    pairs = []
    for record in records:
        pairs_of_record = zip(record["completions"], record["scores"], strict=True)
        scored = [(s, t) for t, s in pairs_of_record if s is not None]
        if not scored:
            continue
        best = max(scored, key=lambda st: st[0])
        worst = min(scored, key=lambda st: st[0])
        if best[0] > worst[0]:
            pairs.append({"prompt": record["prompt"], "chosen": best[1], "rejected": worst[1]})
    return pairs


def main(dpo_args, sampling_args, data_args, tiny_args, dpo_config) -> Any:
    """Sample, pair, train; returns the trainer."""
    from datasets import Dataset
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from trl import DPOTrainer

    rows = load_math_rows(data_args)[: dpo_args.problems]
    model_path = resolve_model(dpo_args.model_name_or_path, dpo_config.output_dir, rows,
                               tiny_args, seed=dpo_config.seed,
                               cpu=dpo_config.use_cpu)
    tokenizer = AutoTokenizer.from_pretrained(model_path)
    model = AutoModelForCausalLM.from_pretrained(model_path)
    records = sample_and_score(model, tokenizer, rows, sampling_args, data_args.system_prompt)
    pairs = preference_pairs(records)
    print(f"{len(pairs)} preference pairs from {len(records)} problems")
    if not pairs:
        raise RuntimeError("no problem had samples with different scores: no pairs to train on; "
                           "sample more (num_samples) or at a higher temperature")
    out = Path(dpo_config.output_dir)
    out.mkdir(parents=True, exist_ok=True)
    with (out / "pairs.jsonl").open("w") as f:
        for pair in pairs:
            f.write(json.dumps(pair) + "\n")
    dataset = Dataset.from_list([
        {"prompt": p["prompt"], "chosen": [{"role": "assistant", "content": p["chosen"]}],
         "rejected": [{"role": "assistant", "content": p["rejected"]}]} for p in pairs])
    trainer = DPOTrainer(model=model, args=dpo_config, train_dataset=dataset,
                         processing_class=tokenizer)
    trainer.train()
    trainer.save_model(dpo_config.output_dir)
    tokenizer.save_pretrained(dpo_config.output_dir)
    return trainer


if __name__ == "__main__":
    from trl import DPOConfig, TrlParser

    parser = TrlParser((DPOSampleArguments, SamplingArguments, DataArguments, TinyModelArguments,
                        DPOConfig))
    main(*parser.parse_args_and_config())
