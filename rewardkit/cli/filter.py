"""``rewardkit filter``: score N completions per prompt, filter them, export a TRL dataset.

Example (GSM8K solutions of four models, one record per question)::

    rewardkit filter --input solutions.jsonl --prompt-field question \\
        --completion-field 6b_finetuning --completion-field 175b_verification \\
        --reward boxed_accuracy@extract=lenient \\
        --filter pass_rate --filter top_k_distinct:k=2,by=equations \\
        --format sft --out runs/sft

With ``--generate MODEL`` the input holds prompts (and gold answers) and ``--n``
completions per prompt are sampled first. Rerunning the same command after an
interruption resumes the generation and the scoring where they stopped; a rerun with
other reward options, another input or edited scores is refused, naming what differs.
The summary shows the filters' drop reasons beside the rewards' own reasons; when nothing
is kept a warning says why (``--strict``: exit status 1).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from rewardkit.cli.verifier_option import add_model_verifier_argument, build_rewards
from rewardkit.filters import (
    FORMATS,
    Exporter,
    FilterStats,
    Scorer,
    build_filter,
    filter_names,
    generate_completions,
    read_completions,
    run_filter,
)
from rewardkit.filters.export import PAIRINGS
from rewardkit.filters.pipeline import EXECUTORS
from rewardkit.filters.shards import SettingsMismatch, ShardError


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "filter",
        help="rejection sampling: score, filter and export completions as a TRL dataset",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    source = parser.add_argument_group("input")
    source.add_argument(
        "--input",
        required=True,
        help="JSONL (.gz) or Parquet file; with --executor ray also a directory of shards "
        "or an object-store URL (s3://...), read by Ray Data",
    )
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
    scoring.add_argument(
        "--executor",
        choices=EXECUTORS,
        default="local",
        help="where scoring runs: this machine, or a Ray cluster through Ray Data",
    )
    scoring.add_argument(
        "--address", help="Ray cluster to join with --executor ray (auto: the local head)"
    )
    add_model_verifier_argument(scoring)

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
    output.add_argument(
        "--strict", action="store_true", help="exit with status 1 when nothing is kept"
    )
    parser.set_defaults(handler=run)


# The CLI flag behind each setting the resumable stores fingerprint (see run()).
_GENERATE_FLAGS = {
    "model": "--generate",
    "engine": "--engine",
    "n": "--n",
    "max_new_tokens": "--max-new-tokens",
    "temperature": "--temperature",
    "top_p": "--top-p",
    "seed": "--seed",
    "prompt_field": "--prompt-field",
    "shard_rows": "--n (rows of a chunk of prompts)",
}
_FLAGS = {
    "scorer.rewards": "--reward",
    "scorer.weights": "--weights",
    "scorer.correct": "--correct",
    "scorer.pass_threshold": "--pass-threshold",
    "input.prompt_field": "--prompt-field",
    "input.completion_fields": "--completion-field",
    "input.id_field": "--id-field",
    "shard_rows": "--shard-rows",
    **{f"input.generate.{key}": flag for key, flag in _GENERATE_FLAGS.items()},
}


def _source(args: argparse.Namespace):
    """The input: a local file, or (with ``--executor ray``) records that Ray Data's
    readers stream from a directory of shards or an object store."""
    path = Path(args.input)
    if path.is_file():
        return path
    if args.executor == "ray" and ("://" in args.input or path.is_dir()):
        from rewardkit.ray.data import read_records_on_ray

        return read_records_on_ray(args.input, address=args.address)
    raise FileNotFoundError(f"no such input file: {args.input}")


def run(args: argparse.Namespace) -> int:
    rewards = build_rewards(args.reward, args)
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
    source = _source(args)
    # The input's content is checked row by row on resume; these say how it is read.
    fingerprint: dict = {
        "prompt_field": args.prompt_field,
        "completion_fields": fields,
        "id_field": args.id_field,
    }
    if args.generate:
        generate = {"model": args.generate, "engine": args.engine, "n": args.n,
                    "max_new_tokens": args.max_new_tokens, "temperature": args.temperature,
                    "top_p": args.top_p, "seed": args.seed}  # fmt: skip
        fingerprint["generate"] = generate
        rows = generate_completions(
            source,
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
            source,
            prompt_field=args.prompt_field,
            completion_fields=fields,
            id_field=args.id_field,
        )
    try:
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
            executor=args.executor,
            address=args.address,
        )
    except SettingsMismatch as exc:
        flags = _FLAGS if exc.directory.name == "scored" else _GENERATE_FLAGS
        raise ValueError(
            f"{exc.describe(flags)}rerun with the same options, or use another --out, or "
            "--overwrite to start again"
        ) from None
    except ShardError as exc:
        raise ValueError(
            f"{exc.problem}; use another --out, or --overwrite to start again"
        ) from None
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
    if report.stats.kept_rows == 0 or report.stats.records == 0:
        print(f"rewardkit filter: warning: {_nothing_kept(report.stats)}", file=sys.stderr)
        return 1 if args.strict else 0
    return 0


def _nothing_kept(stats: FilterStats) -> str:
    """Why nothing was kept, in one line: the filters' main drop reason and the rewards'
    main reasons behind it."""
    if stats.rows == 0:
        return "the input has no completions"
    if stats.kept_rows:
        return (
            f"{stats.kept_rows} completions were kept but made no records "
            "(dpo: no prompt has two kept completions with different rewards)"
        )
    parts = []
    if stats.dropped:
        reason, count = stats.dropped.most_common(1)[0]
        parts.append(f"the filters dropped all {stats.rows} completions (mostly {reason}: {count})")
    for name, counts in stats.reasons.items():
        reason, count = counts.most_common(1)[0]
        parts.append(f"{name} gave {reason} for {count / stats.rows:.0%}")
    return "nothing was kept: " + "; ".join(parts)
