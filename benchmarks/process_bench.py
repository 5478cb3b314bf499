"""Process rewards on real GSM8K model solutions: quality of the arithmetic checker and
throughput of the default composite reward.

1. Quality. ``gsm8k_example_model_solutions.jsonl`` holds 1,319 GSM8K test questions with 4
   real model solutions each (GPT-3 6B/175B, fine-tuned and verifier-selected), labelled
   correct or not, with calculator annotations ``<<48/2=24>>``. The reasoning is the
   solution minus its final ``A: N`` line, one step a line. A solution is *flagged* when
   the arithmetic checker finds a wrong step. How well does the flag predict a wrong final
   answer? Precision, recall, share flagged, against the base rate of wrong answers (the
   precision of flagging at random).

2. Throughput. 1,024 completions of about 400 tokens built from those solutions
   (``<think>reasoning, padded with lines of other solutions</think> \\boxed{N}``, token
   ids from a whitespace/punctuation tokenization) scored by the composite
   ``math`` (think format gate + boxed accuracy) + 0.5 * arithmetic process reward (Clip,
   summed) + DAPO overlong punishment, each part alone, and the composite on 2 worker
   processes (the batch split in halves; CPU rate = completions / CPU time of both).
   Each reward runs in a fresh process: the first call has every cache cold, the second
   repeats the batch (the step checker's and the verifier's caches hit); best of
   ``--repeats`` processes. Wall-clock and CPU-time rates are both shown: on a shared
   machine wall-clock undercounts.
   Target: >= 2,000 completions per second on 2 CPU cores, model-based scorers excluded.

Run from the repository root::

    PYTHONPATH=. python benchmarks/process_bench.py [--data PATH] [--n 1024] [--tokens 400]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from tqdm import tqdm

from rewardkit.rewards import (
    ArithmeticChecker,
    OverlongPenalty,
    ProcessReward,
    WeightedSum,
    math_reward,
    segment_steps,
)
from rewardkit.rewards.format import SingleBoxedAnswer, ThinkFormat
from rewardkit.rewards.steps import reasoning_span

DEFAULT_DATA = Path("../shared/data/gsm8k_example_model_solutions.jsonl")
SOURCES = ("6b_finetuning", "6b_verification", "175b_finetuning", "175b_verification")
_FINAL_RE = re.compile(r"\n?A:\s*(.+?)\s*$")
_TOKEN_RE = re.compile(r"\w+|[^\w\s]")


def load(path: Path) -> list[dict]:
    """One record per solution: question, solution, label, source, final answer, gold."""
    rows = []
    with path.open() as handle:
        for line in handle:
            item = json.loads(line)
            gold = _FINAL_RE.search(item["ground_truth"]).group(1)
            for source in SOURCES:
                solution = item[source]["solution"]
                final = _FINAL_RE.search(solution)
                rows.append(
                    {
                        "question": item["question"],
                        "solution": solution,
                        "correct": bool(item[source]["is_correct"]),
                        "source": source,
                        "answer": final.group(1) if final else "",
                        "gold": gold,
                    }
                )
    return rows


def flag_quality(rows: list[dict]) -> tuple[list[list[str]], float]:
    checker = ArithmeticChecker()
    ArithmeticChecker.clear_cache()
    flags = []
    start = time.perf_counter()
    for row in tqdm(rows, desc="checking solutions", leave=False):
        text = row["solution"]
        steps = [s.text for s in segment_steps(text, span=reasoning_span(text), mode="lines")]
        flags.append(any(score == 0.0 for score in checker.score_steps(row["question"], steps)))
    elapsed = time.perf_counter() - start
    table = []
    for source in (*SOURCES, "all"):
        pick = [i for i, r in enumerate(rows) if source in ("all", r["source"])]
        wrong = [i for i in pick if not rows[i]["correct"]]
        flagged = [i for i in pick if flags[i]]
        hits = [i for i in flagged if not rows[i]["correct"]]
        table.append(
            [
                source,
                str(len(pick)),
                f"{len(wrong) / len(pick):.3f}",
                f"{len(flagged) / len(pick):.3f}",
                f"{len(hits) / len(flagged):.3f}" if flagged else "-",
                f"{len(hits) / len(wrong):.3f}" if wrong else "-",
            ]
        )
    return table, elapsed


def build_completions(rows: list[dict], n: int, tokens: int) -> tuple[list, list, list]:
    """``n`` completions of about ``tokens`` simple tokens, their ids and gold answers."""
    lines = [
        line
        for r in rows
        for line in r["solution"][: reasoning_span(r["solution"])[1]].split("\n")
        if line.strip()
    ]
    vocab: dict[str, int] = {}
    completions, ids, golds = [], [], []
    cursor = 0
    for i in range(n):
        row = rows[i % len(rows)]
        body = row["solution"][: reasoning_span(row["solution"])[1]]
        while len(_TOKEN_RE.findall(body)) < tokens - 12:
            body += "\n" + lines[cursor % len(lines)]
            cursor += 7
        text = f"<think>\n{body}\n</think>\nThe answer is \\boxed{{{row['answer']}}}."
        completions.append(text)
        ids.append([vocab.setdefault(tok, len(vocab)) for tok in _TOKEN_RE.findall(text)])
        golds.append(row["gold"])
    return completions, ids, golds


def composite() -> WeightedSum:
    return WeightedSum(
        [
            (math_reward(), 1.0),
            (ProcessReward(aggregation="sum", transform="clip"), 0.5),
            (OverlongPenalty(max_length=512, cache=128), 1.0),
        ],
        name="math_process",
    )


REWARDS = {
    "think format": lambda: ThinkFormat(),
    "single boxed answer": lambda: SingleBoxedAnswer(),
    "math (format gate + boxed accuracy)": lambda: math_reward(),
    "arithmetic process reward": lambda: ProcessReward(aggregation="sum", transform="clip"),
    "overlong punishment": lambda: OverlongPenalty(max_length=512, cache=128),
    "composite (all of the above)": composite,
    "composite, 2 worker processes": composite,
}
_WORKER_REWARD = None


def _start_worker() -> None:
    global _WORKER_REWARD
    _WORKER_REWARD = composite()
    _WORKER_REWARD(completions=["<think>1 + 1 = 2</think> \\boxed{2}"], answer=["2"])  # imports


def _score_part(kwargs: dict) -> tuple[int, float]:
    cpu = time.process_time()
    values = _WORKER_REWARD(**kwargs)
    return len(values), time.process_time() - cpu


def _measure_two_workers(kwargs: dict, n: int) -> list[str]:
    """The batch split in halves over 2 worker processes (started and warmed up first)."""
    halves = [
        {k: v[: n // 2] for k, v in kwargs.items()},
        {k: v[n // 2 :] for k, v in kwargs.items()},
    ]
    row = []
    with ProcessPoolExecutor(2, initializer=_start_worker) as pool:
        list(pool.map(time.sleep, [0.5, 0.5]))  # both workers started
        for _ in range(2):
            wall = time.perf_counter()
            parts = list(pool.map(_score_part, halves))
            wall = time.perf_counter() - wall
            assert sum(count for count, _ in parts) == n
            row += [f"{n / wall:,.0f}", f"{n / sum(cpu for _, cpu in parts):,.0f}"]
    return row


def measure(label: str, data: Path, n: int, tokens: int) -> list[str]:
    """Throughput of one reward: first call in this (fresh) process, then a second call on
    the same batch; completions per second in wall-clock and in CPU time."""
    rows = load(data)
    completions, ids, golds = build_completions(rows, n, tokens)
    kwargs = {
        "prompts": [r["question"] for r in rows[:n]],
        "completions": completions,
        "completion_ids": ids,
        "answer": golds,
    }
    if label == "composite, 2 worker processes":
        return [label, *_measure_two_workers(kwargs, n)]
    reward = REWARDS[label]()
    row = [label]
    for _ in range(2):
        wall, cpu = time.perf_counter(), time.process_time()
        values = reward(**kwargs)
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        assert len(values) == len(completions)
        row += [f"{n / wall:,.0f}", f"{n / cpu:,.0f}"]
    return row


def throughput(data: Path, n: int, tokens: int, repeats: int) -> list[list[str]]:
    """Each reward measured in fresh processes, so no cache is warm on the first call; the
    best of ``repeats`` processes is kept (the machine is shared: slower runs measure the
    neighbours)."""
    command = [sys.executable, __file__, "--data", str(data), "--n", str(n)]
    table = []
    for label in tqdm(REWARDS, desc="throughput", leave=False):
        runs = []
        for _ in range(repeats):
            out = subprocess.run(
                [*command, "--tokens", str(tokens), "--measure", label],
                capture_output=True,
                text=True,
                check=True,
            )
            runs.append(json.loads(out.stdout.strip().splitlines()[-1]))
        best = [max(float(run[i].replace(",", "")) for run in runs) for i in range(1, 5)]
        table.append([label, *(f"{x:,.0f}" for x in best)])
    return table


def print_table(title: str, header: list[str], rows: list[list[str]]) -> None:
    widths = [max(len(str(x)) for x in col) for col in zip(header, *rows, strict=True)]
    print(f"\n{title}")
    print("  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)))
    print("  ".join("-" * w for w in widths))
    for row in rows:
        print("  ".join(str(x).ljust(w) for x, w in zip(row, widths, strict=True)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--n", type=int, default=1024, help="completions for throughput")
    parser.add_argument("--tokens", type=int, default=400, help="tokens per completion")
    parser.add_argument("--repeats", type=int, default=3, help="fresh processes per reward")
    parser.add_argument("--measure", choices=list(REWARDS), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:  # a child process of throughput()
        print(json.dumps(measure(args.measure, args.data, args.n, args.tokens)))
        return
    if not args.data.exists():
        raise SystemExit(f"data not found: {args.data} (run from the repository root)")
    rows = load(args.data)
    print(f"{len(rows)} solutions from {args.data}; CPU cores visible: {os.cpu_count()}")

    table, elapsed = flag_quality(rows)
    print_table(
        "Arithmetic checker: does 'contains a wrong step' predict a wrong final answer?",
        ["source", "solutions", "wrong (base rate)", "flagged", "precision", "recall"],
        table,
    )
    print(f"checked {len(rows)} solutions in {elapsed:.2f} s ({len(rows) / elapsed:,.0f}/s)")

    completions, ids, _ = build_completions(rows, args.n, args.tokens)
    mean_tokens = sum(len(x) for x in ids) / len(ids)
    mean_chars = sum(len(c) for c in completions) / len(completions)
    load_average = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print_table(
        f"Throughput on {len(completions)} completions (~{mean_tokens:.0f} tokens, "
        f"{mean_chars:.0f} characters each), completions per second, "
        f"best of {args.repeats} fresh processes "
        f"(load average {load_average:.1f} on {os.cpu_count()} cores)",
        ["reward", "1st call wall", "1st call CPU", "2nd call wall", "2nd call CPU"],
        throughput(args.data, args.n, args.tokens, args.repeats),
    )
    print("target: composite >= 2,000 completions/s on 2 cores (model-based scorers excluded)")


if __name__ == "__main__":
    main()
