"""Sample completions from a model, then score and filter them with ``rewardkit.filters``
(the data of RFT and DPO from samples)."""

from __future__ import annotations

import json
import tempfile
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from common import chat_prompt
from evaluate import generate


@dataclass
class SamplingArguments:
    """How the policy's own samples are drawn and scored."""

    num_samples: int = field(default=8, metadata={"help": "completions per problem"})
    sample_temperature: float = 1.0
    sample_max_new_tokens: int = 512
    sample_batch_size: int = 64
    reward: str = field(default="boxed_accuracy", metadata={"help": "reward name or module:attr"})


def sample_records(
    model: Any,
    tokenizer: Any,
    rows: list[dict[str, Any]],
    args: SamplingArguments,
    system_prompt: str | None = None,
) -> list[dict[str, Any]]:
    """One record per problem: ``prompt`` (chat), gold ``answer`` and sampled ``completions``."""
    prompts = [chat_prompt(r["problem"], system_prompt) for r in rows]
    completions = generate(
        model,
        tokenizer,
        prompts,
        num_return_sequences=args.num_samples,
        do_sample=True,
        temperature=args.sample_temperature,
        max_new_tokens=args.sample_max_new_tokens,
        batch_size=max(1, args.sample_batch_size // args.num_samples),
        desc="sampling",
    )
    return [
        {"prompt": p, "answer": r["answer"], "completions": c}
        for r, p, c in zip(rows, prompts, completions, strict=True)
    ]


def score_filter_export(
    records: list[dict[str, Any]],
    reward: str,
    filters: Sequence[str],
    export: str,
    out_dir: str | Path | None = None,
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Score every completion with ``reward``, apply the ``filters`` chain and export each
    problem's kept rows in TRL's ``export`` format (``sft``, ``dpo``, ``kto``) through
    ``rewardkit.filters.run_filter``, one problem at a time (a DPO pair never crosses
    problems); returns (records, statistics). The run's files (dataset, ``dropped.jsonl``,
    ``pass_rates.jsonl``, ``stats.json``, ``pass_rates.png``) go to ``out_dir`` (a
    temporary folder when ``None``), started afresh."""
    from rewardkit.filters import Exporter, Scorer, read_completions, run_filter

    with tempfile.TemporaryDirectory() as scratch:
        report = run_filter(
            read_completions(records, completion_fields=["completions"]),
            Scorer(reward),
            list(filters),
            Exporter(export),
            out_dir if out_dir is not None else scratch,
            overwrite=True,
            progress=False,
        )
        rows = [json.loads(line) for line in report.dataset.read_text("utf-8").splitlines()]
        dropped = Counter(
            f"{d['filter']}:{d['reason']}"
            for d in map(json.loads, report.dropped.read_text("utf-8").splitlines())
        )
    stats = report.stats
    return rows, {
        "problems": stats.prompts,
        "completions": stats.rows,
        "kept": stats.kept_rows,
        "exported": stats.records,
        "mean_reward": stats.mean_reward or 0.0,
        "dropped": dict(dropped),
    }
