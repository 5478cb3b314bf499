"""``rewardkit audit``: run the reward-hacking probes against one or more rewards.

Each REWARD is a registered name (``boxed_accuracy``) or a ``module:attribute`` path
(``trl.rewards:accuracy_reward``). A table per reward goes to standard output, and a side
by side Markdown table when several are audited; ``--json`` writes the full reports.

A probe is paid for when its hack score, ``(paid - wrong) / (correct - wrong)`` for its
best-paid variant, is above ``--threshold`` (see :mod:`rewardkit.testing.audit`). The exit
status is 0 when every reward pays no probe and tells right from wrong answers, 1 when
any does not, 2 on a usage error.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from rewardkit.cli.verifier_option import add_model_verifier_argument, build_rewards
from rewardkit.testing.audit import DEFAULT_THRESHOLD, audit_reward, comparison_table
from rewardkit.testing.probes import DEFAULT_PROBLEMS, PROBES, get_probe


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "audit", help="check whether rewards pay for reward-hacking probes"
    )
    parser.add_argument("rewards", nargs="+", metavar="REWARD", help="name or module:attribute")
    parser.add_argument("--json", type=Path, metavar="OUT", help="write the reports as JSON")
    parser.add_argument(
        "--threshold",
        type=float,
        default=DEFAULT_THRESHOLD,
        help="largest hack score allowed, 0 = paid like an honest wrong answer, "
        f"1 = like a right one (default {DEFAULT_THRESHOLD})",
    )
    parser.add_argument(
        "--format",
        choices=("auto", "plain", "chat"),
        default="auto",
        help="completion format fed to the reward (auto: plain strings when accepted)",
    )
    parser.add_argument(
        "--gold-column", default="solution", help="keyword the gold answer is passed under"
    )
    parser.add_argument(
        "--probe", action="append", metavar="NAME", help="run only this probe (repeatable)"
    )
    parser.add_argument(
        "--problems",
        type=int,
        default=len(DEFAULT_PROBLEMS),
        help=f"number of built-in problems to use (1 to {len(DEFAULT_PROBLEMS)})",
    )
    parser.add_argument(
        "--time-limit",
        type=float,
        metavar="SECONDS",
        help="record a reward call that takes longer as an error (runs calls in a thread)",
    )
    add_model_verifier_argument(parser)
    parser.set_defaults(handler=run)


def _check_writable(path: Path) -> None:
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise FileNotFoundError(f"--json {path}: no such directory {folder}")
    if path.is_dir():
        raise IsADirectoryError(f"--json {path} is a directory; give a file name")
    if not os.access(folder, os.W_OK):
        raise PermissionError(f"--json {path}: cannot write in {folder}")


def run(args: argparse.Namespace) -> int:
    if not 1 <= args.problems <= len(DEFAULT_PROBLEMS):
        raise ValueError(f"--problems must be between 1 and {len(DEFAULT_PROBLEMS)}")
    probes = [get_probe(name) for name in args.probe] if args.probe else list(PROBES)
    if args.json is not None:  # fail now, not after the whole audit
        _check_writable(args.json)
    reports = []
    for reward in build_rewards(args.rewards, args):
        report = audit_reward(
            reward,
            problems=DEFAULT_PROBLEMS[: args.problems],
            probes=probes,
            threshold=args.threshold,
            completion_format=args.format,
            gold_column=args.gold_column,
            time_limit=args.time_limit,
            progress=True,
        )
        reports.append(report)
        print(report.table(), end="\n\n")
    if len(reports) > 1:
        print(comparison_table(reports), end="\n\n")
    passed = all(r.passed for r in reports)
    if args.json is not None:
        payload = {
            "threshold": args.threshold,
            "passed": passed,
            "audits": [r.to_dict() for r in reports],
        }
        args.json.write_text(json.dumps(payload, ensure_ascii=False, indent=2) + "\n", "utf-8")
        print(f"reports: {args.json}", file=sys.stderr)
    return 0 if passed else 1
