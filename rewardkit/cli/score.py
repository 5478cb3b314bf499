"""``rewardkit score``: score a file of completions with a reward.

The input is read as ``rewardkit filter`` reads it (:func:`rewardkit.filters.read_completions`:
JSONL, ``.jsonl.gz`` or Parquet): each record has a completion field (plain text, chat
messages, a list of them, or an object such as ``{"solution": ..., "is_correct": ...}``),
an optional ``prompt`` and the dataset columns the reward reads (``answer``,
``solution``...). Per-row scores go to a JSONL file; a summary table goes to standard
output.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from collections.abc import Iterator
from itertools import islice
from pathlib import Path
from typing import Any

from tqdm import tqdm

from rewardkit.cli.verifier_option import add_model_verifier_argument, build_rewards
from rewardkit.filters.generate import read_completions

# Fields of a completion row that are not dataset columns passed to the reward.
_NOT_COLUMNS = frozenset({"prompt", "completion", "prompt_id", "sample"})


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("score", help="score a JSONL file of completions")
    parser.add_argument(
        "--reward",
        required=True,
        help="registered name or module:attribute; options after @ (name@key=value,...)",
    )
    parser.add_argument(
        "--data", required=True, type=Path, help="input: JSONL (.gz) or Parquet, as for filter"
    )
    parser.add_argument(
        "--out",
        type=Path,
        help="per-row scores (JSONL); default: DATA's name with .scores.jsonl, in the "
        "current directory",
    )
    parser.add_argument(
        "--completion-field",
        default="completion",
        help="field holding a completion, a list of them, or an object with one",
    )
    parser.add_argument("--prompt-field", default="prompt")
    parser.add_argument("--batch-size", type=int, default=256)
    add_model_verifier_argument(parser)
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    if args.batch_size < 1:
        raise ValueError("--batch-size must be at least 1")
    [reward] = build_rewards([args.reward], args)
    if not args.data.is_file():
        raise FileNotFoundError(f"no such input file: {args.data}")
    out = args.out or Path(_stem(args.data) + ".scores.jsonl")
    rows = read_completions(
        args.data,
        prompt_field=args.prompt_field,
        completion_fields=[args.completion_field],
        grouped=False,
    )
    values: list[float] = []
    reasons: Counter[str] = Counter()
    n_rows = 0
    tmp = out.with_name(f".{out.name}.tmp")
    try:
        sink = tmp.open("w", encoding="utf-8")
    except OSError as exc:
        raise OSError(
            f"cannot write {out} ({exc.strerror}); choose the output with --out"
        ) from None
    try:
        with sink:
            for batch in tqdm(_batches(rows, args.batch_size), desc="scoring", unit="batch"):
                for row in _score_batch(reward, batch):
                    row = {"index": n_rows, **row}
                    n_rows += 1
                    sink.write(json.dumps(row, ensure_ascii=False) + "\n")
                    if row["reward"] is not None:
                        values.append(float(row["reward"]))
                    reasons[row.get("reason", "ok" if row["reward"] is not None else "none")] += 1
    except BaseException:
        tmp.unlink(missing_ok=True)  # no empty or half-written output left behind
        raise
    tmp.replace(out)
    _print_summary(getattr(reward, "__name__", args.reward), n_rows, values, reasons, out)
    return 0


def _stem(path: Path) -> str:
    name = path.name
    for suffix in (".gz", ".jsonl", ".json", ".parquet"):
        name = name.removesuffix(suffix)
    return name


def _score_batch(reward: Any, batch: list[dict[str, Any]]) -> list[dict[str, Any]]:
    prompts = [row["prompt"] for row in batch]
    completions = [row["completion"] for row in batch]
    keys = dict.fromkeys(k for row in batch for k in row if k not in _NOT_COLUMNS)
    columns = {key: [row.get(key) for row in batch] for key in keys}
    score = getattr(reward, "score", None)
    if score is not None:
        results = score(prompts, completions, None, **columns)
        return [{"reward": r.value, "reason": r.reason, **_jsonable(r.details)} for r in results]
    return [{"reward": v} for v in reward(prompts=prompts, completions=completions, **columns)]


def _batches(rows: Iterator[dict[str, Any]], size: int) -> Iterator[list[dict[str, Any]]]:
    while batch := list(islice(rows, size)):
        yield batch


def _jsonable(value: Any) -> Any:
    """Details as JSON: nested results (a composite's components) as their value, reason
    and details; anything else JSON has no type for as text."""
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if hasattr(value, "value") and hasattr(value, "reason"):
        details = _jsonable(getattr(value, "details", None) or {})
        return {"value": value.value, "reason": value.reason, **details}
    return str(value)


def _print_summary(
    name: str, n_rows: int, values: list[float], reasons: Counter, out: Path
) -> None:
    mean = sum(values) / len(values) if values else float("nan")
    width = max(24, *(len(reason) + 2 for reason in reasons)) if reasons else 24
    lines = [
        f"reward   {name}",
        f"rows     {n_rows}",
        f"scored   {len(values)}",
        f"mean     {mean:.4f}",
        "",
        f"{'reason':<{width}}{'count':>8}{'share':>9}",
    ]
    for reason, count in reasons.most_common():
        lines.append(f"{reason:<{width}}{count:>8}{count / max(n_rows, 1):>9.1%}")
    lines += ["", f"per-row scores: {out}"]
    print("\n".join(lines), file=sys.stdout)
