"""Benchmark the model-verifier cascade: what the rules send to the model, and what it costs.

1. Routing, per set: the share of pairs whose rules' outcome is ``wrong_answer`` (an answer
   was found and rejected), the only pairs the cascade sends to a verifier model; also that
   share among the pairs labelled right (the rules' false negatives, all the model can win)
   and among those labelled wrong (requests that can only confirm a 0). Sets:

   - ``team``, ``holdout``, ``variants``, ``hacking``, ``holdout2``, ``holdout3``: the
     labelled equivalence sets in ``data/equivalence/``, as ``\\boxed{pred}`` against gold;
   - ``math500``: ``\\boxed{answer}`` against the boxed answer of the reference solution
     (every pair is right);
   - ``gsm8k``: the 5,276 labelled model solutions (``is_correct``) against the ``A: N`` line
     of the ground truth, the answer read with every convention (``boxed_only=False``).

2. Wall time of ``BoxedAccuracy`` on 1,024 GSM8K model solutions against the fake server
   (``FakeJudgeServer``, its toy verifier) at 200 ms a reply and 64 requests at once:
   the rules alone, the cascade, and the naive design that asks the model about every pair.
   The verifier's comparison cache is cleared before each design.

3. With ``--model-verifier FORMAT[:MODEL]@URL`` (a real server, e.g. ``vllm serve
   zhangchenxu/TinyV-1.5B``), the timing runs against it instead, and per set it reports
   what the model says about the pairs sent to it: the share of right pairs it recovers,
   of wrong pairs it pays (false positives) and of requests that failed.

Without a real verifier (none runs here: no GPU), the times are the cascade's own overhead
and the model's latency as the fake server plays it, not any verifier's accuracy.

Usage (from the repository root)::

    python benchmarks/cascade_bench.py --data-dir ../shared/data    # about a minute
    python benchmarks/cascade_bench.py --skip-timing --json cascade.json
    python benchmarks/cascade_bench.py --model-verifier tinyv@http://localhost:8000/v1
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import re
import sys
import time
from pathlib import Path

from tqdm import tqdm

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATA_DIR = REPO_ROOT.parent / "shared" / "data"
EQUIVALENCE = REPO_ROOT / "data" / "equivalence"
TEAM_SETS = {
    "team": "pairs.jsonl",
    "holdout": "holdout.jsonl",
    "variants": "math500_variants.jsonl",
    "hacking": "reward_hacking.jsonl",
    "holdout2": "holdout2.jsonl",
    "holdout3": "holdout3.jsonl",
}
GSM8K_MODELS = ("6b_finetuning", "6b_verification", "175b_finetuning", "175b_verification")
A_LINE = re.compile(r"^A:\s*(.+?)\s*$", re.MULTILINE)


def team_pairs(name: str) -> list[tuple[str, str, bool]]:
    rows = [json.loads(x) for x in (EQUIVALENCE / TEAM_SETS[name]).read_text().splitlines() if x]
    return [(f"\\boxed{{{r['pred']}}}", r["gold"], bool(r["equivalent"])) for r in rows]


def math500_pairs(data_dir: Path) -> list[tuple[str, str, bool]]:
    from rewardkit.text import last_boxed

    pairs = []
    for line in (data_dir / "math500.jsonl").read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        pairs.append((f"\\boxed{{{row['answer']}}}", last_boxed(row["solution"]) or "", True))
    return pairs


def gsm8k_pairs(data_dir: Path) -> list[tuple[str, str, bool, str]]:
    """(solution, gold, label, question) of every labelled model solution."""
    pairs = []
    path = data_dir / "gsm8k_example_model_solutions.jsonl"
    for line in path.read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        gold = A_LINE.findall(row["ground_truth"])[-1]
        for model in GSM8K_MODELS:
            answer = row[model]
            pairs.append((answer["solution"], gold, bool(answer["is_correct"]), row["question"]))
    return pairs


def routing(name: str, pairs: list[tuple], boxed_only: bool) -> dict:
    from rewardkit.verify import verify_batch

    verdicts = verify_batch(
        [(p[0], p[1]) for p in tqdm(pairs, desc=name, unit="pair", leave=False)],
        boxed_only=boxed_only,
    )
    sent = [v.reason == "wrong_answer" for v in verdicts]
    right = [s for s, p in zip(sent, pairs, strict=True) if p[2]]
    wrong = [s for s, p in zip(sent, pairs, strict=True) if not p[2]]
    agree = sum(v.correct == p[2] for v, p in zip(verdicts, pairs, strict=True))
    return {
        "set": name,
        "pairs": len(pairs),
        "forwarded": sum(sent) / len(pairs),
        "of_right": sum(right) / len(right) if right else None,
        "of_wrong": sum(wrong) / len(wrong) if wrong else None,
        "rules_accuracy": agree / len(pairs),
    }


def timing(pairs: list[tuple], make_verifier) -> list[dict]:
    """Wall time of BoxedAccuracy three ways; ``make_verifier()`` builds a fresh verifier."""
    from rewardkit.rewards import BoxedAccuracy
    from rewardkit.verify import api, verify_batch

    completions = [p[0] for p in pairs]
    columns = {"answer": [p[1] for p in pairs], "question": [p[3] for p in pairs]}
    rows = []

    def run(design: str, score, verifier=None) -> None:
        api._CACHE.clear()
        before = verifier.backend.usage.requests if verifier is not None else 0
        start = time.perf_counter()
        results = score()
        elapsed = time.perf_counter() - start
        values = [r.value for r in results if r.value is not None]
        rows.append(
            {
                "design": design,
                "completions": len(completions),
                "wall_s": elapsed,
                "model_requests": (verifier.backend.usage.requests - before) if verifier else 0,
                "mean_reward": sum(values) / len(values),
            }
        )

    rules = BoxedAccuracy(boxed_only=False)
    run("rules alone", lambda: rules.score(completions=completions, **columns))
    cascade = BoxedAccuracy(boxed_only=False, model_verifier=make_verifier())
    run(
        "cascade (rules, then model)",
        lambda: cascade.score(completions=completions, **columns),
        cascade.model_verifier,
    )
    naive_verifier = make_verifier()

    def naive():
        verdicts = verify_batch(list(zip(completions, columns["answer"], strict=True)),
                                boxed_only=False)  # fmt: skip
        asked = naive_verifier.review(
            [dataclasses.replace(v, reason="wrong_answer") for v in verdicts],
            columns["question"],
        )
        return [_Result(float(v.correct)) for v in asked]

    run("model for every pair (naive)", naive, naive_verifier)
    return rows


def model_verdicts(name: str, pairs: list[tuple], boxed_only: bool, verifier) -> dict:
    """What the verifier says about the pairs the rules send it, against the labels."""
    from rewardkit.verify import verify_batch
    from rewardkit.verify.model_verifier import MODEL_REASONS

    questions = [p[3] if len(p) > 3 else None for p in pairs]
    verdicts = verify_batch(
        [(p[0], p[1]) for p in pairs],
        boxed_only=boxed_only,
        questions=questions,
        model_verifier=verifier,
    )
    sent = [(v, p[2]) for v, p in zip(verdicts, pairs, strict=True) if v.reason in MODEL_REASONS]
    right = [v for v, label in sent if label]
    wrong = [v for v, label in sent if not label]
    failed = [v for v, _ in sent if v.reason in ("model_unavailable", "model_unparseable")]
    return {
        "set": name,
        "sent": len(sent),
        "recovered": sum(v.correct for v in right) / len(right) if right else None,
        "false_positive": sum(v.correct for v in wrong) / len(wrong) if wrong else None,
        "failed": len(failed) / len(sent) if sent else None,
    }


@dataclasses.dataclass
class _Result:
    value: float


def print_routing(rows: list[dict]) -> None:
    def pct(x):
        return "    -" if x is None else f"{100 * x:5.1f}%"

    print("\nPairs the rules send to the model (outcome wrong_answer)")
    print(f"{'set':10} {'pairs':>6} {'sent':>7} {'of right':>9} {'of wrong':>9} {'rules acc':>9}")
    for r in rows:
        print(
            f"{r['set']:10} {r['pairs']:6d} {pct(r['forwarded']):>7} {pct(r['of_right']):>9} "
            f"{pct(r['of_wrong']):>9} {pct(r['rules_accuracy']):>9}"
        )


def print_model(rows: list[dict], label: str) -> None:
    def pct(x):
        return "    -" if x is None else f"{100 * x:5.1f}%"

    print(f"\nWhat {label} says about the pairs sent to it (against the labels)")
    print(f"{'set':10} {'sent':>6} {'right->ok':>10} {'wrong->ok':>10} {'failed':>7}")
    for r in rows:
        print(
            f"{r['set']:10} {r['sent']:6d} {pct(r['recovered']):>10} "
            f"{pct(r['false_positive']):>10} {pct(r['failed']):>7}"
        )


def print_timing(rows: list[dict], label: str) -> None:
    print(f"\nBoxedAccuracy wall time, {label}")
    print(f"{'design':30} {'completions':>11} {'wall s':>8} {'requests':>9} {'mean reward':>11}")
    for r in rows:
        print(
            f"{r['design']:30} {r['completions']:11d} {r['wall_s']:8.2f} "
            f"{r['model_requests']:9d} {r['mean_reward']:11.3f}"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", type=Path, default=DEFAULT_DATA_DIR)
    parser.add_argument("--n", type=int, default=1024, help="completions in the timing part")
    parser.add_argument("--latency", type=float, default=0.2, help="fake server: s a reply")
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument(
        "--model-verifier",
        metavar="FORMAT[:MODEL]@URL",
        help="a real verifier server: time it instead of the fake one, and report what it "
        "says about the pairs each set sends it",
    )
    parser.add_argument(
        "--ask-fake", action="store_true", help="report the fake verifier's verdicts too"
    )
    parser.add_argument(
        "--sets", nargs="+", default=[*TEAM_SETS, "math500", "gsm8k"], help="sets to route"
    )
    parser.add_argument("--skip-timing", action="store_true")
    parser.add_argument("--json", type=Path, help="write the results as JSON")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(REPO_ROOT))
    from rewardkit.judge.testing_server import FakeJudgeServer
    from rewardkit.verify import ModelVerifier, model_verifier_from

    unknown = set(args.sets) - {*TEAM_SETS, "math500", "gsm8k"}
    if unknown:
        parser.error(f"unknown sets {sorted(unknown)}")
    sets = [(name, team_pairs(name), True) for name in TEAM_SETS if name in args.sets]
    if args.data_dir.is_dir():
        if "math500" in args.sets:
            sets.append(("math500", math500_pairs(args.data_dir), True))
        if "gsm8k" in args.sets:
            sets.append(("gsm8k", gsm8k_pairs(args.data_dir), False))
    elif {"math500", "gsm8k"} & set(args.sets):
        print(f"shared data not found at {args.data_dir}: MATH-500 and GSM8K left out")
    rows = [routing(name, pairs, boxed_only) for name, pairs, boxed_only in sets]
    print_routing(rows)
    results: dict = {"routing": rows}
    with FakeJudgeServer(latency=args.latency) as server:
        if args.model_verifier:
            label = f"model verifier {args.model_verifier}"

            def make_verifier():
                return model_verifier_from(f"{args.model_verifier},cache=false")
        else:
            label = f"fake verifier at {args.latency * 1000:.0f} ms, {args.concurrency} at once"

            def make_verifier():
                return ModelVerifier(
                    "tinyv", "tinyv", base_url=server.base_url, cache=False,
                    max_concurrency=args.concurrency, timeout=30,
                )  # fmt: skip

        if args.model_verifier or args.ask_fake:
            said = [model_verdicts(n, p, b, make_verifier()) for n, p, b in sets]
            print_model(said, label)
            results["model"] = said
        gsm8k = next((p for n, p, _ in sets if n == "gsm8k"), None)
        if not args.skip_timing and gsm8k:
            results["timing"] = timing(gsm8k[: args.n], make_verifier)
            print_timing(results["timing"], label)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
