"""``--model-verifier``: a verifier model behind the rules, for the rewards that take one.

``FORMAT[:MODEL]@URL[,key=value...]`` (see :func:`rewardkit.verify.model_verifier_from`),
e.g. ``tinyv@http://localhost:8001/v1`` beside ``vllm serve zhangchenxu/TinyV-1.5B
--port 8001``. It goes to every named reward that accepts ``model_verifier`` (``math``,
``boxed_accuracy``); the others are built as they are, with a note on standard error.

>>> args = argparse.Namespace(model_verifier="xverify:xv@http://127.0.0.1:1/v1,cache=false")
>>> [type(r).__name__ for r in build_rewards(["boxed_accuracy", "math"], args)]
['AsyncBoxedAccuracy', 'AsyncGate']
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import Any

from rewardkit.rewards import get_reward
from rewardkit.verify import model_verifier_from

__all__ = ["add_model_verifier_argument", "build_rewards"]


def add_model_verifier_argument(parser: Any) -> None:
    """Add ``--model-verifier`` to a parser or argument group."""
    parser.add_argument(
        "--model-verifier",
        metavar="FORMAT[:MODEL]@URL",
        help="ask a verifier model (tinyv, xverify, compassverifier, general_verifier, "
        "generic) about the answers the rules reject, e.g. tinyv@http://localhost:8001/v1",
    )


def build_rewards(specs: Sequence[str], args: argparse.Namespace) -> list[Any]:
    """The rewards named by ``specs``, with ``args.model_verifier`` where they take one."""
    verifier = model_verifier_from(getattr(args, "model_verifier", None))
    if verifier is None:
        return [get_reward(spec) for spec in specs]
    rewards, took = [], 0
    for spec in specs:
        try:
            rewards.append(get_reward(spec, model_verifier=verifier))
            took += 1
        except TypeError as exc:
            if "model_verifier" not in str(exc):
                raise
            print(f"note: {spec} takes no model verifier; built without it", file=sys.stderr)
            rewards.append(get_reward(spec))
    if not took:
        raise ValueError(f"--model-verifier: none of {', '.join(specs)} takes a model verifier")
    return rewards
