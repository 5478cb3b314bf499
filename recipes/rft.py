"""Rejection-sampling fine-tuning, iterated: sample, score, keep the right ones, SFT, repeat.

Each iteration samples ``num_samples`` completions per training problem from the current
model, scores them with ``reward``, keeps up to ``keep_per_prompt`` distinct completions
scoring at least ``min_score``, and fine-tunes on them; the next iteration samples from the
result. ``rft_log.json`` records how many were kept per iteration.

    python recipes/rft.py --config recipes/configs/rft_tiny.yaml
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from common import DataArguments, TinyModelArguments, load_math_rows, resolve_model
from sampling import SamplingArguments, sample_and_score


@dataclass
class RFTArguments:
    """The rejection-sampling loop."""

    model_name_or_path: str = field(default="tiny", metadata={"help": "model to start from"})
    iterations: int = 2
    min_score: float = field(default=1.0, metadata={"help": "keep completions scoring >= this"})
    keep_per_prompt: int = field(default=1, metadata={"help": "distinct completions kept per "
                                                      "problem"})
    problems_per_iteration: int | None = field(default=None, metadata={"help": "problems "
                                               "sampled per iteration (default: all)"})


def select(records: list[dict[str, Any]], min_score: float, keep: int) -> list[dict[str, Any]]:
    """Prompt-completion rows of the distinct completions scoring at least ``min_score``,
    at most ``keep`` per problem.

    >>> select([{"prompt": "p", "completions": ["a", "a", "b", "c"], "scores": [1, 1, 0, 1]}],
    ...        1.0, 5)
    [{'prompt': 'p', 'completion': 'a'}, {'prompt': 'p', 'completion': 'c'}]
    """
    rows = []
    for record in records:
        kept: list[str] = []
        for text, score in zip(record["completions"], record["scores"], strict=True):
            if score is not None and score >= min_score and text not in kept and len(kept) < keep:
                kept.append(text)
        rows += [{"prompt": record["prompt"], "completion": text} for text in kept]
    return rows


def main(rft_args, sampling_args, data_args, tiny_args, sft_config) -> list[dict[str, Any]]:
    """Run the loop; returns one log entry per iteration."""
    from datasets import Dataset
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from trl import SFTTrainer

    rows = load_math_rows(data_args)
    model_path = resolve_model(rft_args.model_name_or_path, sft_config.output_dir, rows,
                               tiny_args, seed=sft_config.seed,
                               cpu=sft_config.use_cpu)
    out = Path(sft_config.output_dir)
    log = []
    for iteration in range(rft_args.iterations):
        tokenizer = AutoTokenizer.from_pretrained(model_path)
        model = AutoModelForCausalLM.from_pretrained(model_path)
        start = (iteration * (rft_args.problems_per_iteration or 0)) % len(rows)
        batch = rows[start:start + rft_args.problems_per_iteration] \
            if rft_args.problems_per_iteration else rows
        records = sample_and_score(model, tokenizer, batch, sampling_args,
                                   data_args.system_prompt)
        kept = select(records, rft_args.min_score, rft_args.keep_per_prompt)
        scores = [s for r in records for s in r["scores"] if s is not None]
        entry = {"iteration": iteration, "problems": len(batch), "kept": len(kept),
                 "mean_score": sum(scores) / max(1, len(scores))}
        log.append(entry)
        print(entry)
        if not kept:
            print("nothing passed the filter: stopping")
            break
        sft_config.output_dir = str(out / f"iteration_{iteration}")
        dataset = Dataset.from_list([
            {"prompt": r["prompt"],
             "completion": [{"role": "assistant", "content": r["completion"]}]}
            for r in kept])
        trainer = SFTTrainer(model=model, args=sft_config, train_dataset=dataset,
                             processing_class=tokenizer)
        trainer.train()
        trainer.save_model(sft_config.output_dir)
        tokenizer.save_pretrained(sft_config.output_dir)
        model_path = sft_config.output_dir
    out.mkdir(parents=True, exist_ok=True)
    (out / "rft_log.json").write_text(json.dumps(log, indent=2) + "\n")
    return log


if __name__ == "__main__":
    from trl import SFTConfig, TrlParser

    parser = TrlParser((RFTArguments, SamplingArguments, DataArguments, TinyModelArguments,
                        SFTConfig))
    main(*parser.parse_args_and_config())
