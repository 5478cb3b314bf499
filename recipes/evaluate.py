"""Evaluate a model on held-out math problems with rewardkit's verifier.

Metrics: ``accuracy`` (greedy decoding, one completion per problem), and from
``num_samples`` sampled completions per problem ``pass@k`` (the unbiased estimator of
Chen et al. 2021) and ``maj@k`` (majority vote over the first k sampled answers), overall
and per subject and level. Writes
``metrics.json``, ``metrics.md`` (a markdown table) and ``completions.jsonl``. The progress
bar counts problems and, within a batch, generated tokens; ``--max_samples N`` evaluates the
first N held-out problems (a quick look before a long run).

    python recipes/evaluate.py --config recipes/configs/evaluate_math500.yaml \\
        --model_name_or_path runs/grpo --max_samples 20
"""

from __future__ import annotations

import json
import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from common import DataArguments, chat_prompt, load_math_rows

from rewardkit.verify import ModelVerifier, equivalent, model_verifier_from, verify, verify_batch


@dataclass
class EvalArguments:
    """What to evaluate and how."""

    model_name_or_path: str = field(metadata={"help": "a trained model directory or hub name"})
    output_dir: str = field(default="runs/eval", metadata={"help": "where metrics go"})
    num_samples: int = field(
        default=0,
        metadata={"help": "sampled completions per problem for pass@k / maj@k (0: greedy only)"},
    )
    k: str = field(default="1,4", metadata={"help": "k values for pass@k and maj@k"})
    temperature: float = 1.0
    max_new_tokens: int = 512
    batch_size: int = 64
    extract: str = field(
        default="boxed",
        metadata={
            "help": "how answers are read: boxed (only a \\boxed{} answer counts), conventions "
            "(also 'The answer is', '####', 'Answer:', bold) or lenient (also the last math "
            "span or number of the final statement; several boxes: the last one wins)",
            "choices": ["boxed", "conventions", "lenient"],
        },
    )
    boxed_only: bool | None = field(
        default=None, metadata={"help": "old spelling: true is --extract boxed"}
    )
    model_verifier: str | None = field(
        default=None,
        metadata={
            "help": "FORMAT[:MODEL]@URL: ask a verifier model about the answers the rules "
            "reject, e.g. tinyv@http://localhost:8001/v1"
        },
    )
    seed: int = 0
    num_threads: int | None = field(default=None, metadata={"help": "torch CPU threads"})


def pass_at_k(n: int, c: int, k: int) -> float:
    """Unbiased pass@k from ``n`` samples of which ``c`` are correct: 1 - C(n-c, k) / C(n, k).

    >>> pass_at_k(4, 1, 1), pass_at_k(4, 0, 2), pass_at_k(4, 3, 2)
    (0.25, 0.0, 1.0)
    """
    if k > n:
        raise ValueError(f"pass@{k} needs at least {k} samples, got {n}")
    if n - c < k:
        return 1.0
    return 1.0 - math.comb(n - c, k) / math.comb(n, k)  # Chen et al. 2021, eq. (1)


def majority_answer(answers: Sequence[str | None]) -> str | None:
    """The most common answer, answers equal under :func:`rewardkit.equivalent` counted
    together; ties go to the answer seen first. ``None`` (no answer) never wins."""
    groups: list[list[str]] = []
    for answer in answers:
        if answer is None:
            continue
        for group in groups:
            if equivalent(answer, group[0]):
                group.append(answer)
                break
        else:
            groups.append([answer])
    return max(groups, key=len)[0] if groups else None


def score_problem(
    greedy: str | None,
    samples: Sequence[str],
    gold: str,
    ks: Sequence[int],
    extract: str | bool = "boxed",
    *,
    question: str | None = None,
    model_verifier: ModelVerifier | None = None,
) -> dict[str, Any]:
    """The metrics of one problem from its greedy completion and sampled completions.

    ``extract`` is verify's (``True`` / ``False``: the old ``boxed_only``); the
    ``question`` keeps the lenient reading off the problem's own numbers and is shown to
    a ``model_verifier``, which is asked about the answers the rules reject.
    """
    if isinstance(extract, bool):
        extract = "boxed" if extract else "conventions"
    result: dict[str, Any] = {}
    mv = {"question": question, "model_verifier": model_verifier}
    if greedy is not None:
        verdict = verify(greedy, gold, extract=extract, **mv)
        result["accuracy"] = float(verdict.correct)
        result["greedy_answer"] = verdict.answer
    if samples:
        verdicts = verify_batch(
            [(s, gold) for s in samples],
            extract=extract,
            questions=[question] * len(samples),
            model_verifier=model_verifier,
        )
        correct = sum(v.correct for v in verdicts)
        for k in ks:
            result[f"pass@{k}"] = pass_at_k(len(samples), correct, k)
            vote = majority_answer([v.answer for v in verdicts[:k]])
            result[f"maj@{k}"] = float(vote is not None and equivalent(vote, gold))
        result["sample_answers"] = [v.answer for v in verdicts]
    return result


def summarize(rows: Sequence[dict[str, Any]], scores: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Mean of each metric overall, per subject and per level.

    >>> rows = [{"subject": "a", "level": 1}, {"subject": "b", "level": 1}]
    >>> summarize(rows, [{"accuracy": 1.0}, {"accuracy": 0.0}])["overall"]
    {'n': 2, 'accuracy': 0.5}
    """
    groups: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row, score in zip(rows, scores, strict=True):
        groups["overall"].append(score)
        groups[f"subject={row.get('subject', 'unknown')}"].append(score)
        groups[f"level={row.get('level', 0)}"].append(score)
    summary = {}
    for name, members in groups.items():
        metrics = sorted(
            {k for s in members for k, v in s.items() if isinstance(v, float)}, key=_metric_order
        )
        summary[name] = {"n": len(members)} | {
            m: sum(s[m] for s in members) / len(members) for m in metrics
        }
    return summary


def _metric_order(metric: str) -> tuple[str, int]:
    """accuracy first, then pass@k and maj@k by k."""
    name, _, k = metric.partition("@")
    return ("" if name == "accuracy" else name, int(k or 0))


def markdown_table(summary: dict[str, dict[str, Any]]) -> str:
    """The summary as a markdown table, one row a group."""
    metrics = [k for k in summary["overall"] if k != "n"]
    lines = ["| group | n | " + " | ".join(metrics) + " |", "|---|---:|" + "---:|" * len(metrics)]
    for name in ["overall"] + sorted(k for k in summary if k != "overall"):
        values = " | ".join(f"{summary[name].get(m, float('nan')):.3f}" for m in metrics)
        lines.append(f"| {name} | {summary[name]['n']} | {values} |")
    return "\n".join(lines) + "\n"


def generate(
    model: Any,
    tokenizer: Any,
    prompts: Sequence[list[dict[str, str]]],
    *,
    num_return_sequences: int = 1,
    do_sample: bool = False,
    temperature: float = 1.0,
    max_new_tokens: int = 512,
    batch_size: int = 64,
    desc: str = "generating",
) -> list[list[str]]:
    """Completions (text with special tokens but no padding / end token) per chat prompt."""
    import torch
    from tqdm.auto import tqdm

    tokenizer.padding_side = "left"
    texts = [
        tokenizer.apply_chat_template(p, add_generation_prompt=True, tokenize=False)
        for p in prompts
    ]
    drop = {t for t in (tokenizer.pad_token, tokenizer.eos_token) if t}
    was_training = model.training
    model.eval()
    outputs: list[list[str]] = []
    bar = tqdm(total=len(texts), desc=desc, unit="problem", leave=False)
    for start in range(0, len(texts), batch_size):
        chunk = texts[start : start + batch_size]
        batch = tokenizer(chunk, return_tensors="pt", padding=True, add_special_tokens=False).to(
            model.device
        )
        progress = _TokenProgress(bar, batch["input_ids"].shape[1], max_new_tokens)
        with torch.no_grad():
            generated = model.generate(
                **batch,
                max_new_tokens=max_new_tokens,
                do_sample=do_sample,
                temperature=temperature if do_sample else None,
                top_p=None,
                top_k=None,
                num_return_sequences=num_return_sequences,
                pad_token_id=tokenizer.pad_token_id,
                eos_token_id=tokenizer.eos_token_id,
                stopping_criteria=[progress],
            )
        decoded = tokenizer.batch_decode(generated[:, batch["input_ids"].shape[1] :])
        for token in drop:
            decoded = [d.replace(token, "") for d in decoded]
        for i in range(0, len(decoded), num_return_sequences):
            outputs.append(decoded[i : i + num_return_sequences])
        bar.update(len(chunk))
    bar.close()
    model.train(was_training)
    return outputs


class _TokenProgress:
    """A stopping criterion that never stops: it shows the batch's generated tokens on the
    progress bar, so a long CPU batch visibly moves."""

    def __init__(self, bar: Any, prompt_length: int, max_new_tokens: int) -> None:
        self.bar, self.prompt_length, self.max_new_tokens = bar, prompt_length, max_new_tokens

    def __call__(self, input_ids: Any, scores: Any, **kwargs: Any) -> Any:
        import torch

        done = input_ids.shape[1] - self.prompt_length
        self.bar.set_postfix_str(f"token {done}/{self.max_new_tokens}", refresh=False)
        self.bar.update(0)  # redraws at most every mininterval seconds
        return torch.zeros(input_ids.shape[0], dtype=torch.bool, device=input_ids.device)


def evaluate_model(
    model: Any,
    tokenizer: Any,
    rows: Sequence[dict[str, Any]],
    *,
    system_prompt: str | None = None,
    num_samples: int = 0,
    ks: Sequence[int] = (1,),
    temperature: float = 1.0,
    max_new_tokens: int = 512,
    batch_size: int = 64,
    extract: str | bool = "boxed",
    seed: int = 0,
    model_verifier: ModelVerifier | None = None,
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """(summary, per-problem records) of ``model`` on ``rows``; greedy accuracy always."""
    from transformers import set_seed

    prompts = [chat_prompt(r["problem"], system_prompt) for r in rows]
    greedy = generate(
        model,
        tokenizer,
        prompts,
        max_new_tokens=max_new_tokens,
        batch_size=batch_size,
        desc="greedy",
    )
    sampled: list[list[str]] = [[] for _ in rows]
    if num_samples:
        set_seed(seed)
        sampled = generate(
            model,
            tokenizer,
            prompts,
            num_return_sequences=num_samples,
            do_sample=True,
            temperature=temperature,
            max_new_tokens=max_new_tokens,
            batch_size=max(1, batch_size // num_samples),
            desc="sampling",
        )
    ks = [k for k in ks if k <= num_samples] if num_samples else []
    records, scores = [], []
    for row, g, s in zip(rows, greedy, sampled, strict=True):
        score = score_problem(
            g[0],
            s,
            row["answer"],
            ks,
            extract,
            question=row["problem"],
            model_verifier=model_verifier,
        )
        scores.append(score)
        records.append(
            {
                "problem": row["problem"],
                "gold": row["answer"],
                "subject": row.get("subject"),
                "level": row.get("level"),
                "greedy": g[0],
                "samples": s,
            }
            | score
        )
    return summarize(rows, scores), records


def write_results(output_dir: str | Path, summary: dict, records: list[dict]) -> Path:
    """Write metrics.json, metrics.md and completions.jsonl under ``output_dir``."""
    out = Path(output_dir)
    out.mkdir(parents=True, exist_ok=True)
    (out / "metrics.json").write_text(json.dumps(summary, indent=2) + "\n")
    (out / "metrics.md").write_text(markdown_table(summary))
    with (out / "completions.jsonl").open("w") as f:
        for record in records:
            f.write(json.dumps(record) + "\n")
    return out


def main(eval_args: EvalArguments, data_args: DataArguments) -> dict[str, Any]:
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    if eval_args.num_threads:
        torch.set_num_threads(eval_args.num_threads)
    rows = load_math_rows(data_args, held_out=True)
    tokenizer = AutoTokenizer.from_pretrained(eval_args.model_name_or_path)
    model = AutoModelForCausalLM.from_pretrained(eval_args.model_name_or_path)
    if torch.cuda.is_available():
        model = model.to("cuda")
    summary, records = evaluate_model(
        model,
        tokenizer,
        rows,
        system_prompt=data_args.system_prompt,
        num_samples=eval_args.num_samples,
        ks=[int(k) for k in eval_args.k.split(",")],
        temperature=eval_args.temperature,
        max_new_tokens=eval_args.max_new_tokens,
        batch_size=eval_args.batch_size,
        extract=eval_args.extract if eval_args.boxed_only is None else eval_args.boxed_only,
        seed=eval_args.seed,
        model_verifier=model_verifier_from(eval_args.model_verifier),
    )
    out = write_results(eval_args.output_dir, summary, records)
    print(markdown_table(summary))
    print(f"wrote {out / 'metrics.json'}")
    return summary


if __name__ == "__main__":
    from trl import TrlParser

    main(*TrlParser((EvalArguments, DataArguments)).parse_args_and_config())
