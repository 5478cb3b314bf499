"""The ``rewardkit`` command (also ``python -m rewardkit``). Each subcommand lives in a
module of this package that defines ``add_parser(subparsers)``, which registers the
subcommand and its handler. ``module:attribute`` names load from the working directory."""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence

SUBCOMMANDS = ("score", "audit", "filter", "serve")


def build_parser() -> argparse.ArgumentParser:
    from rewardkit import __version__

    parser = argparse.ArgumentParser(
        prog="rewardkit",
        description="Reward functions, filters and audits for RL fine-tuning on math.",
    )
    parser.add_argument("--version", action="version", version=f"rewardkit {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in SUBCOMMANDS:
        importlib.import_module(f"rewardkit.cli.{name}").add_parser(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    args = build_parser().parse_args(argv)
    _import_from_cwd()
    try:
        return int(args.handler(args) or 0)
    except (OSError, ValueError, KeyError, TypeError) as exc:
        print(f"rewardkit {args.command}: error: {exc}", file=sys.stderr)
        return 2


def _import_from_cwd() -> None:
    """Let ``module:attribute`` names load from the working directory, as under
    ``python -m`` (a console script has only its own folder on the path)."""
    cwd = os.getcwd()
    if "" not in sys.path and cwd not in sys.path:
        sys.path.insert(0, cwd)


if __name__ == "__main__":
    sys.exit(main())
