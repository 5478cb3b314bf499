r"""Benchmark rewardkit's math answer verifier against Math-Verify, side by side in one run.

Sets (each pair is judged by both tools and scored against its label):

- ``team``, ``holdout``, ``variants``, ``hacking``, ``holdout2``, ``holdout3``: the labelled
  equivalence sets in ``data/equivalence/`` (``pairs.jsonl``, ``holdout.jsonl``,
  ``math500_variants.jsonl``, ``reward_hacking.jsonl``, ``holdout2.jsonl``, ``holdout3.jsonl``;
  all but the first written after the verifier, see the README there). rewardkit gets
  ``equivalent(pred, gold)``. Math-Verify gets each string as ``\boxed{...}`` (as ``parse``
  reads boxed answers first), or as written when it already carries math delimiters (``$``,
  ``\(``, ``\[``, ``\boxed``), falling back to the other form when it extracts nothing from
  the first; then ``verify(gold, pred)``.
- ``math500``: ``\boxed{answer}`` (the ``answer`` field) against the last boxed answer of the
  reference ``solution``; every pair is equivalent. rewardkit gets ``verify(completion, gold)``,
  Math-Verify ``verify(parse(gold as \boxed{}), parse(completion))``.
- ``gsm8k``: the 5,276 labelled model solutions (1,319 questions x 4 models); the label is
  the file's ``is_correct``. The gold is the text of the ``A: N`` line of ``ground_truth``.
  rewardkit gets the whole model solution, ``verify(solution, gold)``, and finds the answer
  itself; Math-Verify gets the text of the solution's last ``A: ...`` line (no such line: no
  answer, judged wrong), the fairest extraction for it since ``parse`` on the whole solution
  picks up intermediate numbers.
- ``lenient``: whole completions with no box in three styles, Minerva (``Final Answer: The
  final answer is $X$. I hope it is correct.``), chat markdown (``**Final Answer:** X``) and
  plain prose ending in a math span, with wrong answers and the question's own numbers
  restated at the end as negatives (``data/extraction/lenient_styles.jsonl``). rewardkit
  gets ``verify(completion, gold, extract="lenient", question=prompt)``, Math-Verify
  ``verify(parse(gold as \boxed{}), parse(completion))`` (its default extraction reads the
  whole text: LaTeX spans and bare expressions).

Per pair, time is the wall time of the whole judgement (parsing both strings and comparing),
after untimed warm-up calls on pairs from no set (imports, worker processes). Math-Verify runs
in the main thread, where its SIGALRM timeouts work. A thread-safety check then calls
rewardkit from worker threads with a short timeout on slow inputs and reports how far any
call overran it (target: <= 0.5 s).

Usage (from the repository root; Math-Verify comes with the ``bench`` extra)::

    pip install -e ".[bench]"
    python benchmarks/verifier_bench.py                        # all sets, a few minutes
    python benchmarks/verifier_bench.py --sets team --limit 100 --json bench.json
"""

from __future__ import annotations

import argparse
import functools
import json
import logging
import math
import re
import statistics
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATA_DIR = REPO_ROOT.parent / "shared" / "data"
DEFAULT_PAIRS = REPO_ROOT / "data" / "equivalence" / "pairs.jsonl"
DEFAULT_HOLDOUT = REPO_ROOT / "data" / "equivalence" / "holdout.jsonl"
DEFAULT_VARIANTS = REPO_ROOT / "data" / "equivalence" / "math500_variants.jsonl"
DEFAULT_HACKING = REPO_ROOT / "data" / "equivalence" / "reward_hacking.jsonl"
DEFAULT_HOLDOUT2 = REPO_ROOT / "data" / "equivalence" / "holdout2.jsonl"
DEFAULT_HOLDOUT3 = REPO_ROOT / "data" / "equivalence" / "holdout3.jsonl"
DEFAULT_FORMS = REPO_ROOT / "data" / "equivalence" / "answer_forms.jsonl"
DEFAULT_LENIENT = REPO_ROOT / "data" / "extraction" / "lenient_styles.jsonl"
SETS = (
    "team", "holdout", "variants", "hacking", "holdout2", "holdout3", "forms", "math500", "gsm8k",
    "lenient",
)  # fmt: skip
GSM8K_MODELS = ("6b_finetuning", "6b_verification", "175b_finetuning", "175b_verification")
A_LINE = re.compile(r"^A:\s*(.*?)\s*$", re.MULTILINE)
MATH_DELIMITERS = re.compile(r"(?<!\\)\$|\\\(|\\\[|\\boxed|\\fbox")

# Inputs that are slow to compare symbolically (seconds each) or must be refused fast (towers).
# Each thread adds its own "+k" to the gold, so no call is answered from a cache.
SLOW_INPUTS = [
    ("(x+1)^{60}(x-1)^{60}", "(x^2-1)^{60}"),
    (r"\sin^{12}(x)+\cos^{12}(x)", r"\sin^{10}(x)+\cos^{10}(x)"),
    ("(a+b+c+d+e+f)^{30}", "(a+b+c+d+e+f)^{29}(a+b+c+d+e+f+1)"),
    (r"\frac{(x+1)^{50}}{(x-1)^{50}}", r"\frac{(x+1)^{49}}{(x-1)^{51}}"),
    (r"\tan(\tan(\tan(\tan(x))))", r"\sin(\sin(\sin(\sin(x))))"),
    (r"(1+x)\binom{x}{100000}", r"\binom{x}{100000}+x\binom{x}{100000}"),
    ("9^{9^{9^{9}}}", "9^{9^{9^{9}}}+1"),
    ("2^{2^{2^{2^{2^{2}}}}}", "2^{65536}"),
]


WARM_UP_PAIRS = [
    ("(y+3)^2", "y^2+6y+9"),  # the symbolic path: starts rewardkit's worker processes
    (r"\frac{7}{9}", "0.7777777778"),
    ("y > 7", r"(7, \infty)"),
    (r"\begin{pmatrix} 7 \\ 9 \end{pmatrix}", r"\begin{pmatrix} 7 \\ 9 \end{pmatrix}"),
]


@dataclass
class Case:
    """One labelled pair, with the call each tool makes for it."""

    label: bool
    key: tuple  # the two answers compared: equal keys are repeated pairs
    show: str  # short description for error listings
    rewardkit: Callable[..., bool]  # takes rewardkit's verify options as keywords
    math_verify: Callable[[], bool]


@dataclass
class ToolRun:
    """How one tool did on one set."""

    predictions: list[bool] = field(default_factory=list)
    seconds: list[float] = field(default_factory=list)
    errors: int = 0

    def summary(self, labels: list[bool]) -> dict:
        n = len(self.predictions)
        correct = sum(p == y for p, y in zip(self.predictions, labels, strict=True))
        fp = sum(p and not y for p, y in zip(self.predictions, labels, strict=True))
        fn = sum(y and not p for p, y in zip(self.predictions, labels, strict=True))
        ms = sorted(s * 1000 for s in self.seconds)
        return {
            "pairs": n,
            "correct": correct,
            "accuracy": correct / n if n else 0.0,
            "false_positives": fp,
            "false_negatives": fn,
            "exceptions": self.errors,
            "median_ms": statistics.median(ms) if ms else 0.0,
            "p99_ms": _percentile(ms, 99),
            "pairs_per_s": n / sum(self.seconds) if sum(self.seconds) > 0 else 0.0,
        }


def _percentile(sorted_values: list[float], q: float) -> float:
    """Nearest-rank percentile of an already sorted list."""
    if not sorted_values:
        return 0.0
    rank = max(1, math.ceil(q / 100 * len(sorted_values)))  # smallest value >= q% of all
    return sorted_values[rank - 1]


def _timed(call: Callable[[], bool]) -> tuple[bool, float, bool]:
    """(prediction, seconds, raised): an exception counts as a 'not equivalent' judgement."""
    start = time.perf_counter()
    try:
        result = bool(call())
        raised = False
    except Exception:  # noqa: BLE001 - a tool crashing on a pair is a wrong judgement, not a stop
        result, raised = False, True
    return result, time.perf_counter() - start, raised


class Tools:
    """The two verifiers behind one small interface."""

    def __init__(self) -> None:
        try:
            from math_verify import parse, verify
        except ImportError:
            sys.exit(
                "verifier_bench needs Math-Verify, the peer it compares against: "
                'pip install -e ".[bench]"  (or: pip install "math-verify[antlr4_13_2]")'
            )
        logging.getLogger("math_verify").setLevel(logging.CRITICAL)
        from rewardkit.verify import equivalent
        from rewardkit.verify import verify as rk_verify

        self.mv_parse, self.mv_verify = parse, verify
        self.rk_equivalent, self.rk_verify = equivalent, rk_verify

    # Math-Verify
    def mv_read(self, text: str) -> list:
        """Math-Verify's parse of an answer string, trying the boxed and the written form."""
        boxed = f"\\boxed{{{text}}}"
        forms = [text, boxed] if MATH_DELIMITERS.search(text) else [boxed, text]
        for form in forms:
            parsed = self.mv_parse(form)
            if parsed:
                return parsed
        return []

    def warm_up(self) -> None:
        """Lazy imports, parser tables and rewardkit's worker processes, before any timing.

        The pairs are not in any set, so no timed call is answered from a warm cache.
        """
        for pred, gold in WARM_UP_PAIRS:
            self.rk_equivalent(pred, gold)
            self.mv_equivalent(pred, gold)

    def mv_equivalent(self, pred: str, gold: str) -> bool:
        gold_parsed = self.mv_read(gold)
        pred_parsed = self.mv_read(pred)
        return bool(gold_parsed and pred_parsed and self.mv_verify(gold_parsed, pred_parsed))


def team_cases(tools: Tools, path: Path) -> list[Case]:
    cases = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        row = json.loads(line)
        pred, gold = row["pred"], row["gold"]
        labelled_with = row.get("options", {})  # the options the label assumes
        cases.append(
            Case(
                row["equivalent"],
                (pred, gold),
                f"[{row['category']}] {pred[:60]!r} vs {gold[:60]!r}",
                lambda p=pred, g=gold, r=labelled_with, **o: tools.rk_equivalent(p, g, **r, **o),
                lambda p=pred, g=gold: tools.mv_equivalent(p, g),
            )
        )
    return cases


def math500_cases(tools: Tools, data_dir: Path) -> list[Case]:
    from rewardkit.text import last_boxed

    cases = []
    for line in (data_dir / "math500.jsonl").read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        completion = f"\\boxed{{{row['answer']}}}"
        gold = last_boxed(row["solution"])
        if gold is None:
            raise ValueError(f"{row['unique_id']}: reference solution has no boxed answer")
        cases.append(
            Case(
                True,
                (row["answer"], gold),
                f"{row['unique_id']}: {row['answer'][:60]!r} vs {gold[:60]!r}",
                lambda c=completion, g=gold, **o: tools.rk_verify(c, g, **o).correct,
                lambda c=completion, g=gold: bool(
                    tools.mv_verify(tools.mv_parse(f"\\boxed{{{g}}}"), tools.mv_parse(c))
                ),
            )
        )
    return cases


def gsm8k_cases(tools: Tools, data_dir: Path) -> list[Case]:
    cases = []
    path = data_dir / "gsm8k_example_model_solutions.jsonl"
    for index, line in enumerate(path.read_text(encoding="utf-8").splitlines()):
        row = json.loads(line)
        gold_lines = A_LINE.findall(row["ground_truth"])
        if not gold_lines:
            raise ValueError(f"question {index}: ground truth has no 'A: N' line")
        gold = gold_lines[-1]
        for model in GSM8K_MODELS:
            solution = row[model]["solution"]
            pred_lines = A_LINE.findall(solution)
            pred = pred_lines[-1] if pred_lines else None
            cases.append(
                Case(
                    bool(row[model]["is_correct"]),
                    (pred, gold),
                    f"q{index} {model}: {str(pred)[:40]!r} vs {gold!r}",
                    lambda s=solution, g=gold, **o: tools.rk_verify(s, g, **o).correct,
                    lambda p=pred, g=gold: (
                        p is not None
                        and bool(tools.mv_verify(tools.mv_parse(g), tools.mv_parse(p)))
                    ),
                )
            )
    return cases


def lenient_cases(tools: Tools, path: Path) -> list[Case]:
    cases = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        row = json.loads(line)
        completion, gold, prompt = row["completion"], row["gold"], row["prompt"]
        cases.append(
            Case(
                row["correct"],
                (completion, gold, prompt),
                f"[{row['style']}] {completion[-60:]!r} vs {gold!r}",
                lambda c=completion, g=gold, q=prompt, **o: (
                    tools.rk_verify(c, g, extract="lenient", question=q, **o).correct
                ),
                lambda c=completion, g=gold: bool(
                    tools.mv_verify(tools.mv_parse(f"\\boxed{{{g}}}"), tools.mv_parse(c))
                ),
            )
        )
    return cases


def run_set(name: str, cases: list[Case], *, cold: bool = False) -> dict:
    """Judge every case with both tools, timing each call.

    With ``cold``, no rewardkit call can be answered from its outcome cache: the cache key
    includes the options, so each call gets its own timeout, a billionth of a second apart
    from the default 5 s (public API only; the verdicts are unchanged).
    """
    from tqdm import tqdm

    labels = [case.label for case in cases]
    runs = {"rewardkit": ToolRun(), "math-verify": ToolRun()}
    mistakes: dict[str, list[str]] = {"rewardkit": [], "math-verify": []}
    for case in tqdm(cases, desc=name, unit="pair"):
        options = {"timeout": 5.0 + len(runs["rewardkit"].seconds) * 1e-9} if cold else {}
        rk_call = functools.partial(case.rewardkit, **options)
        for tool, call in (("rewardkit", rk_call), ("math-verify", case.math_verify)):
            prediction, seconds, raised = _timed(call)
            run = runs[tool]
            run.predictions.append(prediction)
            run.seconds.append(seconds)
            run.errors += raised
            if prediction != case.label:
                kind = "FP" if prediction else "FN"
                mistakes[tool].append(f"{kind}{' (raised)' if raised else ''} {case.show}")
    result = {tool: run.summary(labels) for tool, run in runs.items()}
    result["mistakes"] = mistakes
    return result


def print_table(name: str, result: dict) -> None:
    header = (
        f"{'tool':<12} {'pairs':>6} {'accuracy':>9} {'FP':>5} {'FN':>5} {'exc':>4} "
        f"{'median ms':>10} {'p99 ms':>9} {'pairs/s':>9}"
    )
    print(f"\n== {name} ==")
    print(header)
    print("-" * len(header))
    for tool in ("rewardkit", "math-verify"):
        s = result[tool]
        print(
            f"{tool:<12} {s['pairs']:>6} {s['accuracy']:>9.2%} {s['false_positives']:>5} "
            f"{s['false_negatives']:>5} {s['exceptions']:>4} {s['median_ms']:>10.3f} "
            f"{s['p99_ms']:>9.2f} {s['pairs_per_s']:>9.0f}"
        )
    rk, mv = result["rewardkit"], result["math-verify"]
    ratio = mv["median_ms"] / rk["median_ms"] if rk["median_ms"] else float("inf")
    throughput = rk["pairs_per_s"] / mv["pairs_per_s"] if mv["pairs_per_s"] else float("inf")
    result["speed_ratio_median"] = ratio
    result["speed_ratio_throughput"] = throughput
    print(
        f"speed ratio (math-verify / rewardkit): median {ratio:.1f}x, throughput {throughput:.1f}x"
    )


def print_mistakes(result: dict, limit: int) -> None:
    for tool, lines in result["mistakes"].items():
        if lines:
            print(f"  {tool} mistakes ({len(lines)}):")
            for text in lines[:limit]:
                print(f"    {text}")
            if len(lines) > limit:
                print(f"    ... {len(lines) - limit} more")


def thread_check(tools: Tools, timeout: float, threads: int) -> dict:
    """Call rewardkit from worker threads with a short timeout on slow inputs.

    Reports, per input, the slowest call's overrun past ``timeout`` (target <= 0.5 s) and the
    verdicts; also what Math-Verify does when called from a worker thread.
    """
    from rewardkit.verify import verify as rk_verify

    def one_call(pred: str, gold: str) -> tuple[float, str]:
        start = time.perf_counter()
        try:
            verdict = rk_verify(f"\\boxed{{{pred}}}", gold, timeout=timeout)
            outcome = verdict.reason
        except Exception as exc:  # noqa: BLE001 - report, the check must finish
            outcome = f"raised {type(exc).__name__}"
        return time.perf_counter() - start, outcome

    report: dict = {"timeout_s": timeout, "threads": threads, "inputs": []}
    with ThreadPoolExecutor(max_workers=threads) as pool:
        for pred, gold in SLOW_INPUTS:
            futures = [pool.submit(one_call, pred, f"{gold}+{k}") for k in range(threads)]
            results = [f.result() for f in futures]
            slowest = max(seconds for seconds, _ in results)
            report["inputs"].append(
                {
                    "pred": pred,
                    "gold": gold,
                    "max_s": slowest,
                    "overrun_s": max(0.0, slowest - timeout),
                    "outcomes": sorted({outcome for _, outcome in results}),
                }
            )
    outcomes = {outcome for entry in report["inputs"] for outcome in entry["outcomes"]}
    report["max_overrun_s"] = max(entry["overrun_s"] for entry in report["inputs"])
    report["raised"] = any(outcome.startswith("raised") for outcome in outcomes)
    report["reached_timeout"] = "timeout" in outcomes
    report["met"] = report["max_overrun_s"] <= 0.5 and not report["raised"]

    mv_outcome: list[str] = []

    def mv_in_thread() -> None:
        try:
            tools.mv_equivalent(*SLOW_INPUTS[0])
            mv_outcome.append("returned")
        except Exception as exc:  # noqa: BLE001
            mv_outcome.append(f"raised {type(exc).__name__}: {str(exc)[:80]}")

    worker = threading.Thread(target=mv_in_thread, daemon=True)
    worker.start()
    worker.join(timeout=30)
    report["math_verify_in_thread"] = mv_outcome[0] if mv_outcome else "still running after 30 s"

    print(f"\n== thread safety: {threads} threads, timeout {timeout} s ==")
    for entry in report["inputs"]:
        print(
            f"  {entry['pred'][:45]:<45} max {entry['max_s']:.2f} s  "
            f"overrun {entry['overrun_s']:.2f} s  {', '.join(entry['outcomes'])}"
        )
    verdict = "met" if report["met"] else "MISSED"
    if report["raised"]:
        verdict += " (a call raised instead of returning a verdict)"
    if not report["reached_timeout"]:
        verdict += " (no input hit the timeout: the check did not test it)"
    print(f"  max overrun {report['max_overrun_s']:.2f} s (target <= 0.5 s): {verdict}")
    print(f"  math-verify from a worker thread: {report['math_verify_in_thread']}")
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sets", default=",".join(SETS), help=f"comma list of {SETS}")
    parser.add_argument("--limit", type=int, default=None, help="at most this many pairs a set")
    parser.add_argument("--data-dir", type=Path, default=DEFAULT_DATA_DIR)
    parser.add_argument("--pairs", type=Path, default=DEFAULT_PAIRS, help="the team's set")
    parser.add_argument("--holdout", type=Path, default=DEFAULT_HOLDOUT, help="held-out set")
    parser.add_argument("--variants", type=Path, default=DEFAULT_VARIANTS, help="MATH-style forms")
    parser.add_argument("--hacking", type=Path, default=DEFAULT_HACKING, help="reward hacks")
    parser.add_argument("--holdout2", type=Path, default=DEFAULT_HOLDOUT2, help="2nd held-out")
    parser.add_argument("--holdout3", type=Path, default=DEFAULT_HOLDOUT3, help="3rd held-out")
    parser.add_argument("--forms", type=Path, default=DEFAULT_FORMS, help="answer forms (v2)")
    parser.add_argument("--lenient", type=Path, default=DEFAULT_LENIENT, help="whole completions")
    parser.add_argument("--json", type=Path, default=None, help="write all results here")
    parser.add_argument("--show-mistakes", type=int, default=20, metavar="N",
                        help="list up to N mistakes per tool and set (0: none)")  # fmt: skip
    parser.add_argument("--thread-timeout", type=float, default=0.5)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--no-thread-check", action="store_true")
    parser.add_argument("--cold", action="store_true",
                        help="no rewardkit call answered from its cache (see run_set)")  # fmt: skip
    args = parser.parse_args(argv)

    names = [name.strip() for name in args.sets.split(",") if name.strip()]
    unknown = sorted(set(names) - set(SETS))
    if unknown:
        parser.error(f"unknown sets {unknown}; known: {', '.join(SETS)}")
    if {"math500", "gsm8k"} & set(names) and not args.data_dir.is_dir():
        parser.error(f"data dir {args.data_dir} not found (pass --data-dir, or --sets team)")

    if str(REPO_ROOT) not in sys.path:  # benchmark this checkout's rewardkit
        sys.path.insert(0, str(REPO_ROOT))
    tools = Tools()
    tools.warm_up()
    import rewardkit

    print(f"rewardkit from {Path(rewardkit.__file__).parent}")
    builders = {
        "team": lambda: team_cases(tools, args.pairs),
        "holdout": lambda: team_cases(tools, args.holdout),
        "variants": lambda: team_cases(tools, args.variants),
        "hacking": lambda: team_cases(tools, args.hacking),
        "holdout2": lambda: team_cases(tools, args.holdout2),
        "holdout3": lambda: team_cases(tools, args.holdout3),
        "forms": lambda: team_cases(tools, args.forms),
        "math500": lambda: math500_cases(tools, args.data_dir),
        "gsm8k": lambda: gsm8k_cases(tools, args.data_dir),
        "lenient": lambda: lenient_cases(tools, args.lenient),
    }
    results: dict = {}
    for name in names:
        cases = builders[name]()[: args.limit]
        distinct = len({case.key for case in cases})
        print(
            f"\n{name}: {len(cases)} pairs, {distinct} distinct" + (" (cold)" if args.cold else "")
        )
        results[name] = run_set(name, cases, cold=args.cold)
        results[name]["distinct_pairs"] = distinct
        print_table(name, results[name])
        if args.show_mistakes:
            print_mistakes(results[name], args.show_mistakes)
    if not args.no_thread_check:
        results["thread_check"] = thread_check(tools, args.thread_timeout, args.threads)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
        print(f"\nwrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
