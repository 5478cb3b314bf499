"""Small completion sets shared by the filter tests (a plain module: import it by name)."""

from __future__ import annotations

import json
from pathlib import Path

GSM8K_MODELS = ("6b_finetuning", "6b_verification", "175b_finetuning", "175b_verification")


def synthetic_records(n_prompts: int = 6, n: int = 4) -> list[dict]:
    """Wide records: prompt ``i`` asks for ``i + 2`` and has ``i % (n + 1)`` right answers
    among its ``n`` completions, so every pass rate from 0 to 1 occurs."""
    records = []
    for i in range(n_prompts):
        gold = i + 2
        completions = []
        for j in range(n):
            right = j < i % (n + 1)
            answer = gold if right else gold + j + 1
            completions.append(
                f"<think>{i} + 2 = {gold}? step {j}: {i} + {j} = {i + j}</think> "
                f"The result is \\boxed{{{answer}}}."
            )
        records.append(
            {"prompt": f"What is {i} + 2?", "completions": completions, "answer": str(gold)}
        )
    return records


def write_jsonl(path: Path, records: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path


def gsm8k_slice(shared_data: Path, n_questions: int, tmp_path: Path) -> Path:
    """The first questions of the GSM8K example solutions, as their own JSONL file."""
    path = tmp_path / "gsm8k_slice.jsonl"
    with (shared_data / "gsm8k_example_model_solutions.jsonl").open(encoding="utf-8") as src:
        lines = [next(src) for _ in range(n_questions)]
    path.write_text("".join(lines), encoding="utf-8")
    return path
