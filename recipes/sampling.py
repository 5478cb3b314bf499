"""Sample completions from a model, then score and filter them with ``rewardkit.filters``
(the data of RFT and DPO from samples)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
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
    records: list[dict[str, Any]], reward: str, filters: Sequence[str], export: str
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Score every completion with ``reward``, apply the ``filters`` chain, export rows in
    TRL's ``export`` format (``sft``, ``dpo``, ``kto``); returns (rows, statistics)."""
    from rewardkit.filters import Exporter, FilterChain, Scorer, iter_groups, read_completions

    scored = list(
        Scorer(reward).score_rows(read_completions(records, completion_fields=["completions"]))
    )
    chain = FilterChain(list(filters))
    kept, dropped = [], []
    for group in iter_groups(scored):  # filters judge one problem's samples at a time
        group_kept, group_dropped = chain.apply(group)
        kept += group_kept
        dropped += group_dropped
    rows = Exporter(export).records(kept)
    rewards = [r["reward"] for r in scored if r["reward"] is not None]
    stats = {
        "problems": len(records),
        "completions": len(scored),
        "kept": len(kept),
        "exported": len(rows),
        "mean_reward": sum(rewards) / max(1, len(rewards)),
        "dropped": dict(Counter(f"{d.filter}:{d.reason}" for d in dropped)),
    }
    return rows, stats
