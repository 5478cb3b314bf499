r"""rewardkit's verifier vs Math-Verify on labelled cases that other projects wrote.

Sets (both tools judge every case in one run; see ``data/equivalence/README.md``):

- ``foreign``: ``data/equivalence/foreign_graders.jsonl``, answer pairs transcribed from other
  graders' own test files (Math-Verify, NeMo-Skills, MARIO_EVAL, Qwen2.5-Math, MindSpeed-RL),
  each row citing its source. rewardkit gets ``equivalent(prediction, gold)``, Math-Verify the
  same pair through ``verifier_bench``'s reading (boxed or as written).
- ``foreign_completions``: ``data/equivalence/foreign_completions.jsonl``, whole model outputs
  from Math-Verify's tests with their gold and label. rewardkit gets
  ``verify(completion, gold, extract="lenient")``; Math-Verify ``verify(parse(gold),
  parse(completion))`` (its default extraction of the whole text).

Rows a careful human grader would label otherwise carry ``"disputed"`` and are left out of
the scores (listed with ``--show-disputed``). Per set and per category the table gives
accuracy, precision, recall, specificity, FP and FN, for each tool.

Usage (from the repository root; Math-Verify comes with the ``bench`` extra)::

    python benchmarks/foreign_bench.py
    python benchmarks/foreign_bench.py --sets foreign --json foreign.json
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from verifier_bench import REPO_ROOT, Case, Tools, run_set  # noqa: E402

DATA = REPO_ROOT / "data" / "equivalence"
SETS = {
    "foreign": DATA / "foreign_graders.jsonl",
    "foreign_completions": DATA / "foreign_completions.jsonl",
}
TOOLS = ("rewardkit", "math-verify")


def read_rows(path: Path) -> tuple[list[dict], list[dict]]:
    """(scored rows, disputed rows) of a JSONL file."""
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]
    return [r for r in rows if "disputed" not in r], [r for r in rows if "disputed" in r]


def pair_case(tools: Tools, row: dict) -> Case:
    pred, gold = row["prediction"], row["gold"]
    return Case(
        row["equivalent"],
        (pred, gold),
        f"[{row['category']}] {pred[:60]!r} vs {gold[:60]!r}  ({row['source'].split('/')[1]})",
        lambda p=pred, g=gold, **o: tools.rk_equivalent(p, g, **o),
        lambda p=pred, g=gold: tools.mv_equivalent(p, g),
    )


def completion_case(tools: Tools, row: dict) -> Case:
    completion, gold = row["completion"], row["gold"]
    return Case(
        row["correct"],
        (completion, gold),
        f"[{row['category']}] ...{completion[-60:]!r} vs {gold[:40]!r}",
        lambda c=completion, g=gold, **o: tools.rk_verify(c, g, extract="lenient", **o).correct,
        lambda c=completion, g=gold: bool(tools.mv_verify(tools.mv_read(g), tools.mv_parse(c))),
    )


def recording(case: Case, verdicts: dict[str, list[bool]]) -> Case:
    """The same case, with each tool's verdict appended to ``verdicts`` (a raise is False)."""

    def rk(**options):
        verdicts["rewardkit"].append(False)
        verdicts["rewardkit"][-1] = bool(case.rewardkit(**options))
        return verdicts["rewardkit"][-1]

    def mv():
        verdicts["math-verify"].append(False)
        verdicts["math-verify"][-1] = bool(case.math_verify())
        return verdicts["math-verify"][-1]

    return Case(case.label, case.key, case.show, rk, mv)


def rates(predictions: list[bool], labels: list[bool]) -> dict:
    tp = sum(p and y for p, y in zip(predictions, labels, strict=True))
    tn = sum(not p and not y for p, y in zip(predictions, labels, strict=True))
    fp = sum(p and not y for p, y in zip(predictions, labels, strict=True))
    fn = sum(y and not p for p, y in zip(predictions, labels, strict=True))
    n = len(labels)
    return {
        "n": n,
        "pos": tp + fn,
        "accuracy": (tp + tn) / n if n else float("nan"),
        "precision": tp / (tp + fp) if tp + fp else float("nan"),
        "recall": tp / (tp + fn) if tp + fn else float("nan"),
        "specificity": tn / (tn + fp) if tn + fp else float("nan"),
        "fp": fp,
        "fn": fn,
    }


def print_breakdown(name: str, cases: list[Case], categories: list[str], result: dict) -> dict:
    labels = [case.label for case in cases]
    groups: dict[str, list[int]] = defaultdict(list)
    for index, category in enumerate(categories):
        groups[category].append(index)
    table: dict = {}
    header = f"{'category':<17} {'n':>4} {'pos':>4}  " + "  ".join(
        f"{t[:10]:>10} {'prec':>5} {'rec':>5} {'spec':>5} {'FP':>3} {'FN':>3}" for t in TOOLS
    )
    print(f"\n== {name}: accuracy / precision / recall / specificity per category ==")
    print(header)
    print("-" * len(header))
    for category in [*sorted(groups), "ALL"]:
        idx = range(len(cases)) if category == "ALL" else groups[category]
        row = {}
        for tool in TOOLS:
            predictions = result[tool + "_predictions"]
            row[tool] = rates([predictions[i] for i in idx], [labels[i] for i in idx])
        table[category] = row
        first = row[TOOLS[0]]
        cells = "  ".join(
            f"{r['accuracy']:>10.3f} {r['precision']:>5.2f} {r['recall']:>5.2f} "
            f"{r['specificity']:>5.2f} {r['fp']:>3} {r['fn']:>3}"
            for r in (row[t] for t in TOOLS)
        )
        print(f"{category:<17} {first['n']:>4} {first['pos']:>4}  {cells}")
    return table


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sets", default=",".join(SETS), help=f"comma list of {list(SETS)}")
    parser.add_argument("--show-mistakes", type=int, default=200, metavar="N")
    parser.add_argument("--show-disputed", action="store_true")
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args(argv)

    tools = Tools()
    tools.warm_up()
    results: dict = {}
    for name in [s.strip() for s in args.sets.split(",") if s.strip()]:
        rows, disputed = read_rows(SETS[name])
        build = pair_case if name == "foreign" else completion_case
        cases = [build(tools, row) for row in rows]
        print(f"\n{name}: {len(cases)} scored cases ({len(disputed)} disputed, left out)")
        verdicts: dict[str, list[bool]] = {tool: [] for tool in TOOLS}
        result = run_set(name, [recording(case, verdicts) for case in cases])
        for tool in TOOLS:
            result[tool + "_predictions"] = verdicts[tool]
        table = print_breakdown(name, cases, [row["category"] for row in rows], result)
        for tool in TOOLS:
            lines = result["mistakes"][tool]
            print(f"\n  {tool} mistakes ({len(lines)}):")
            for line in lines[: args.show_mistakes]:
                print(f"    {line}")
        if args.show_disputed:
            for row in disputed:
                print(f"  disputed: {row.get('prediction', row.get('completion', ''))[:60]!r} "
                      f"vs {row['gold'][:40]!r}: {row['disputed']}")  # fmt: skip
        results[name] = {"table": table, "mistakes": result["mistakes"],
                         "summary": {t: result[t] for t in TOOLS}}  # fmt: skip
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
