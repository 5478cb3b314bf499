"""``rewardkit score``: score a JSONL file of completions with a reward.

Each input line is a JSON object with a ``completion`` (plain text or chat messages), an
optional ``prompt`` and the dataset columns the reward reads (``answer``, ``solution``...).
Per-row scores go to a JSONL file; a summary table goes to standard output.
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


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("score", help="score a JSONL file of completions")
    parser.add_argument(
        "--reward",
        required=True,
        help="registered name or module:attribute; options after @ (name@key=value,...)",
    )
    parser.add_argument("--data", required=True, type=Path, help="input JSONL file")
    parser.add_argument(
        "--out", type=Path, help="per-row scores (JSONL); default: DATA with .scores.jsonl"
    )
    parser.add_argument("--completion-field", default="completion")
    parser.add_argument("--prompt-field", default="prompt")
    parser.add_argument("--batch-size", type=int, default=256)
    add_model_verifier_argument(parser)
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    if args.batch_size < 1:
        raise ValueError("--batch-size must be at least 1")
    [reward] = build_rewards([args.reward], args)
    score = getattr(reward, "score", None)
    out = args.out or args.data.with_suffix(".scores.jsonl")
    values: list[float] = []
    reasons: Counter[str] = Counter()
    n_rows = 0
    with out.open("w", encoding="utf-8") as sink:
        for batch in tqdm(_batches(args.data, args.batch_size), desc="scoring", unit="batch"):
            prompts = [row.pop(args.prompt_field, None) for row in batch]
            try:
                completions = [row.pop(args.completion_field) for row in batch]
            except KeyError:
                field = args.completion_field
                raise ValueError(f"a row of {args.data} has no {field!r} field") from None
            columns = {key: [row.get(key) for row in batch] for key in _keys(batch)}
            if score is not None:
                results = score(prompts, completions, None, **columns)
                rows = [
                    {"reward": r.value, "reason": r.reason, **_jsonable(r.details)} for r in results
                ]
            else:
                rows = [
                    {"reward": v}
                    for v in reward(prompts=prompts, completions=completions, **columns)
                ]
            for row in rows:
                row = {"index": n_rows, **row}
                n_rows += 1
                sink.write(json.dumps(row, ensure_ascii=False) + "\n")
                if row["reward"] is not None:
                    values.append(float(row["reward"]))
                reasons[row.get("reason", "ok" if row["reward"] is not None else "none")] += 1
    _print_summary(getattr(reward, "__name__", args.reward), n_rows, values, reasons, out)
    return 0


def _batches(path: Path, size: int) -> Iterator[list[dict[str, Any]]]:
    with path.open(encoding="utf-8") as lines:
        numbered = ((number, line) for number, line in enumerate(lines, start=1) if line.strip())
        while chunk := list(islice(numbered, size)):
            batch = []
            for number, line in chunk:
                try:
                    row = json.loads(line)
                except json.JSONDecodeError as exc:
                    raise ValueError(f"{path}:{number}: not JSON ({exc.msg})") from None
                if not isinstance(row, dict):
                    raise ValueError(f"{path}:{number}: expected a JSON object")
                batch.append(row)
            yield batch


def _keys(batch: list[dict[str, Any]]) -> list[str]:
    return list(dict.fromkeys(key for row in batch for key in row))


def _jsonable(details: dict[str, Any]) -> dict[str, Any]:
    return {
        k: v if isinstance(v, (str, int, float, bool, type(None))) else str(v)
        for k, v in details.items()
    }


def _print_summary(
    name: str, n_rows: int, values: list[float], reasons: Counter, out: Path
) -> None:
    mean = sum(values) / len(values) if values else float("nan")
    lines = [
        f"reward   {name}",
        f"rows     {n_rows}",
        f"scored   {len(values)}",
        f"mean     {mean:.4f}",
        "",
        f"{'reason':<24}{'count':>8}{'share':>9}",
    ]
    for reason, count in reasons.most_common():
        lines.append(f"{reason:<24}{count:>8}{count / max(n_rows, 1):>9.1%}")
    lines += ["", f"per-row scores: {out}"]
    print("\n".join(lines), file=sys.stdout)
