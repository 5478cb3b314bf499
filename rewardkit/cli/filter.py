"""``rewardkit filter``: score N completions per prompt, filter them, export a TRL dataset.

Example (GSM8K solutions of four models, one record per question)::

    rewardkit filter --input solutions.jsonl --prompt-field question \\
        --completion-field 6b_finetuning --completion-field 175b_verification \\
        --reward boxed_accuracy@extract=lenient \\
        --filter pass_rate --filter top_k_distinct:k=2,by=equations \\
        --format sft --out runs/sft

With ``--generate MODEL`` the input holds prompts (and gold answers) and ``--n``
completions per prompt are sampled first. Rerunning the same command after an
interruption resumes the generation and the scoring where they stopped.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from rewardkit.filters import (
    FORMATS,
    Exporter,
    Scorer,
    build_filter,
    filter_names,
    generate_completions,
    read_completions,
    run_filter,
)
from rewardkit.filters.export import PAIRINGS
from rewardkit.rewards import get_reward


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "filter",
        help="rejection sampling: score, filter and export completions as a TRL dataset",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    source = parser.add_argument_group("input")
    source.add_argument("--input", required=True, type=Path, help="JSONL (.gz) or Parquet")
    source.add_argument("--prompt-field", default="prompt")
    source.add_argument(
        "--completion-field",
        action="append",
        help="field holding a completion, a list of them, or an object with one "
        "(repeatable; default: completion)",
    )
    source.add_argument("--id-field", help="prompt id column (default: consecutive prompts)")

    sampling = parser.add_argument_group("generation (instead of reading completions)")
    sampling.add_argument("--generate", metavar="MODEL", help="sample completions with MODEL")
    sampling.add_argument("--engine", choices=("transformers", "vllm"), default="transformers")
    sampling.add_argument("--n", type=int, default=4, help="completions per prompt")
    sampling.add_argument("--max-new-tokens", type=int, default=512)
    sampling.add_argument("--temperature", type=float, default=1.0)
    sampling.add_argument("--top-p", type=float, default=1.0)
    sampling.add_argument("--seed", type=int, default=0)
    sampling.add_argument("--generation-batch-size", type=int, default=8)

    scoring = parser.add_argument_group("rewards")
    scoring.add_argument(
        "--reward",
        action="append",
        required=True,
        help="registered name or module:attr, options after @: boxed_accuracy@extract=lenient",
    )
    scoring.add_argument("--weights", type=float, nargs="+", help="one weight per --reward")
    scoring.add_argument("--correct", help="the reward that decides correctness (default: first)")
    scoring.add_argument("--pass-threshold", type=float, default=1.0)
    scoring.add_argument("--batch-size", type=int, default=512)
    scoring.add_argument("--workers", type=int, default=1, help="scoring processes")

    filtering = parser.add_argument_group("filters")
    filtering.add_argument(
        "--filter",
        action="append",
        default=[],
        metavar="SPEC",
        help=f"name[:key=value,...], applied in order; names: {', '.join(filter_names())}",
    )
    filtering.add_argument("--pass-at-k", default="1", help="comma-separated k values")

    output = parser.add_argument_group("output")
    output.add_argument("--out", required=True, type=Path, help="output directory")
    output.add_argument("--format", choices=FORMATS, default="sft")
    style = output.add_mutually_exclusive_group()
    style.add_argument("--conversational", action="store_true", default=None)
    style.add_argument("--plain", dest="conversational", action="store_false")
    output.add_argument("--margin", type=float, default=0.0, help="DPO: least reward gap")
    output.add_argument("--pairs", choices=PAIRINGS, default="best_worst")
    output.add_argument("--max-pairs", type=int)
    output.add_argument("--keep-column", action="append", default=[], help="copy into records")
    output.add_argument("--shard-rows", type=int, default=8192)
    output.add_argument("--overwrite", action="store_true", help="start afresh in --out")
    output.add_argument("--no-progress", action="store_true")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    rewards = [get_reward(spec) for spec in args.reward]
    ks = [int(k) for k in args.pass_at_k.split(",") if k.strip()]
    scorer = Scorer(
        rewards,
        args.weights,
        correct=args.correct if args.correct is not None else 0,
        pass_threshold=args.pass_threshold,
        batch_size=args.batch_size,
        workers=args.workers,
    )
    filters = [build_filter(spec) for spec in args.filter]  # bad specs fail before any work
    exporter = Exporter(
        args.format,
        conversational=args.conversational,
        margin=args.margin,
        pairs=args.pairs,
        max_pairs=args.max_pairs,
        columns=args.keep_column,
    )
    fields = args.completion_field or ["completion"]
    if not args.input.is_file():
        raise FileNotFoundError(f"no such input file: {args.input}")
    status = args.input.stat()
    fingerprint = {
        "path": str(args.input.resolve()),
        "size": status.st_size,
        "mtime_ns": status.st_mtime_ns,
        "fields": [args.prompt_field, fields, args.id_field],
    }
    if args.generate:
        fingerprint["generate"] = [args.generate, args.engine, args.n, args.max_new_tokens,
                                   args.temperature, args.top_p, args.seed]  # fmt: skip
        rows = generate_completions(
            args.input,
            args.generate,
            n=args.n,
            engine=args.engine,
            prompt_field=args.prompt_field,
            batch_size=args.generation_batch_size,
            max_new_tokens=args.max_new_tokens,
            temperature=args.temperature,
            top_p=args.top_p,
            seed=args.seed,
            shards_dir=args.out / "generated",
            overwrite=args.overwrite,
            progress=not args.no_progress,
        )
    else:
        rows = read_completions(
            args.input,
            prompt_field=args.prompt_field,
            completion_fields=fields,
            id_field=args.id_field,
        )
    report = run_filter(
        rows,
        scorer,
        filters,
        exporter,
        args.out,
        shard_rows=args.shard_rows,
        ks=ks,
        input_fingerprint=fingerprint,
        overwrite=args.overwrite,
        progress=not args.no_progress,
    )
    print(report.stats.table())
    print()
    for label, path in (
        ("dataset", report.dataset),
        ("drops", report.dropped),
        ("pass rates", report.pass_rates),
        ("histogram", report.histogram),
        ("summary", report.summary),
    ):
        print(f"{label:<12}{path}")
    sys.stdout.flush()
    return 0
