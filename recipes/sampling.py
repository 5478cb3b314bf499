"""Sample completions from a model and score them with a rewardkit reward (RFT and DPO data)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from common import chat_prompt
from evaluate import generate

from rewardkit import get_reward


@dataclass
class SamplingArguments:
    """How the policy's own samples are drawn and scored."""

    num_samples: int = field(default=8, metadata={"help": "completions per problem"})
    sample_temperature: float = 1.0
    sample_max_new_tokens: int = 512
    sample_batch_size: int = 64
    reward: str = field(default="boxed_accuracy", metadata={"help": "reward name or module:attr"})


def sample_and_score(
    model: Any, tokenizer: Any, rows: list[dict[str, Any]], args: SamplingArguments,
    system_prompt: str | None = None,
) -> list[dict[str, Any]]:
    """One record per problem: ``prompt`` (chat), ``completions`` and their ``scores``
    (``None`` where the reward could not score)."""
    prompts = [chat_prompt(r["problem"], system_prompt) for r in rows]
    completions = generate(
        model, tokenizer, prompts, num_return_sequences=args.num_samples, do_sample=True,
        temperature=args.sample_temperature, max_new_tokens=args.sample_max_new_tokens,
        batch_size=max(1, args.sample_batch_size // args.num_samples), desc="sampling",
    )
    reward = get_reward(args.reward)
    records = []
    for row, prompt, texts in zip(rows, prompts, completions, strict=True):
        scores = reward(prompts=[prompt] * len(texts), completions=texts,
                        answer=[row["answer"]] * len(texts))
        records.append({"prompt": prompt, "answer": row["answer"], "completions": texts,
                        "scores": scores})
    return records
