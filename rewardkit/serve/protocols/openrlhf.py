"""OpenRLHF's remote reward protocol (``--remote_rm_url http://host:port/get_reward``).

OpenRLHF (0.11, ``openrlhf/utils/agent.py``) posts ``{"query": [...], "prompts": [...],
"labels": [...]}`` where each query is the decoded prompt + response, and reads
``rewards``, ``scores`` and ``extra_logs`` from the reply; every ``extra_logs`` value
becomes a tensor, so they are lists of numbers, one per sample. The response is the
query after its prompt; when the prompt is not a prefix of the query the whole query is
scored and ``extra_logs["prompt_not_prefix"]`` says so.

>>> samples, flags = parse({"query": ["Q: 1+1? A: \\\\boxed{2}"], "prompts": ["Q: 1+1?"],
...                         "labels": ["2"]})
>>> samples[0].text, samples[0].columns, flags
(' A: \\\\boxed{2}', {'answer': '2'}, [False])
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rewardkit.rewards.base import RewardResult, Sample
from rewardkit.serve.protocols import BadRequest, check_fields, check_list
from rewardkit.serve.results import accuracy, number

__all__ = ["parse", "reply"]

FIELDS = ("query", "prompts", "labels")


def _is_label(value: Any) -> bool:
    return value is None or isinstance(value, (str, int, float))


def parse(body: Any, label_column: str = "answer") -> tuple[list[Sample], list[bool]]:
    """Samples from an OpenRLHF body, and per sample whether its prompt was not a prefix."""
    check_fields(body, required=("query",), optional=("prompts", "labels"))
    queries = check_list(body, "query", None, item=(lambda q: isinstance(q, str), "a string"))
    if queries is None:
        raise BadRequest("field 'query' must be a list of strings, got null")
    n = len(queries)
    prompts = check_list(body, "prompts", n, item=(lambda p: isinstance(p, str), "a string"))
    labels = check_list(body, "labels", n, item=(_is_label, "a string, a number or null"))
    samples, flags = [], []
    for i, query in enumerate(queries):
        prompt = prompts[i] if prompts is not None else None
        response, cut = split_query(query, prompt)
        flags.append(prompt is not None and not cut)
        columns = {label_column: labels[i]} if labels is not None else {}
        samples.append(Sample(prompt=prompt, completion=response, text=response, columns=columns))
    return samples, flags


def split_query(query: str, prompt: str | None) -> tuple[str, bool]:
    """The response part of ``query`` and whether the prompt was cut off its front.

    >>> split_query("PROMPT answer", "PROMPT")
    (' answer', True)
    >>> split_query("<s>PROMPT answer", "PROMPT")
    ('<s>PROMPT answer', False)
    """
    if prompt and query.startswith(prompt):
        return query[len(prompt) :], True
    return query, not prompt


def reply(
    results: Sequence[RewardResult], flags: Sequence[bool], reasons: Sequence[str]
) -> dict[str, Any]:
    """OpenRLHF's reply: ``rewards`` (a ``None`` value, which OpenRLHF cannot hold, is 0.0
    and counted in ``extra_logs["unscored"]``), ``scores`` (the same values), and
    ``extra_logs`` with the accuracy and one 0/1 list per reason the reward declares
    (``reason/other`` for any other), so that every reply has the same keys."""
    values = [number(r.value) for r in results]
    known = set(reasons)
    logs: dict[str, list[float]] = {
        "acc": [accuracy(r) for r in results],
        "unscored": [float(number(r.value) != r.value) for r in results],  # None or NaN
        "prompt_not_prefix": [float(f) for f in flags],
    }
    for reason in reasons:
        logs[f"reason/{reason}"] = [float(r.reason == reason) for r in results]
    logs["reason/other"] = [float(r.reason not in known) for r in results]
    return {"rewards": values, "scores": list(values), "extra_logs": logs}
