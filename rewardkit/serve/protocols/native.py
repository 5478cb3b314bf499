"""rewardkit's own batch protocol, ``POST /v1/score``: TRL-shaped columns in, rich results out.

The body holds ``completions`` (plain strings or chat messages), optionally ``prompts``
and ``completion_ids``, and any dataset column as a list of the same length (``answer``,
``solution``...). The reply has one ``{"value", "reason", "details"}`` per completion and
the batch's reason shares.

>>> samples = parse({"completions": ["\\\\boxed{4}"], "answer": ["4"]})
>>> samples[0].columns
{'answer': '4'}
>>> parse({"completions": ["a", "b"], "answer": ["4"]})
Traceback (most recent call last):
...
rewardkit.serve.protocols.BadRequest: field 'answer' has 1 items but there are 2 completions
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rewardkit.rewards.base import RewardResult, Sample, make_samples
from rewardkit.serve.protocols import BadRequest, check_fields, check_list, is_completion
from rewardkit.serve.results import reason_shares, to_json

__all__ = ["parse", "reply"]


def _is_ids(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(t, int) for t in value)


def parse(body: Any) -> list[Sample]:
    """Samples from a native body."""
    check_fields(body, required=("completions",), strict=False)
    completions = check_list(
        body, "completions", None, item=(is_completion, "a string or a list of chat messages")
    )
    if completions is None:
        raise BadRequest("field 'completions' must be a list, got null")
    n = len(completions)
    prompts = check_list(body, "prompts", n, item=(is_completion, "a string or chat messages"))
    ids = check_list(body, "completion_ids", n, item=(_is_ids, "a list of token ids"))
    columns = {}
    for name in body:
        if name not in ("completions", "prompts", "completion_ids"):
            if not isinstance(body[name], list):
                raise BadRequest(f"column {name!r} must be a list with one item per completion")
            columns[name] = check_list(body, name, n)
    return make_samples(prompts, completions, ids, columns)


def reply(name: str, results: Sequence[RewardResult]) -> dict[str, Any]:
    """The native reply."""
    return {
        "reward": name,
        "results": [to_json(r) for r in results],
        "reasons": reason_shares(results) if results else {},
    }
