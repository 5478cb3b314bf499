"""What of a sample the judge sees: the question, the response cut to size, a reference,
the sample's rubric, and the groups of one prompt's completions (group mode).

>>> from rewardkit.rewards.base import make_samples
>>> samples = make_samples(["q1", "q1", "q2"], ["a", "b", "c"], None, {})
>>> prompt_groups(samples, None)
[[0, 1], [2]]
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from rewardkit.judge.rubric import Rubric, RubricError, load_rubric, load_rubric_text
from rewardkit.rewards.base import Sample
from rewardkit.text import completion_text


def sample_rubric(sample: Sample, default: Rubric | None, column: str | None) -> Rubric | str:
    """The sample's rubric (from ``column`` when it has one, else ``default``), or why
    there is none."""
    if column is not None:
        raw = sample.columns.get(column)
        if raw is not None:
            try:
                return load_rubric(raw) if not isinstance(raw, str) else load_rubric_text(raw)
            except RubricError as exc:
                return str(exc)
    if default is None:
        return f"no rubric in column {column!r} and no default rubric"
    return default


def judged_texts(
    sample: Sample, max_response_chars: int, reference_column: str | None
) -> tuple[str, str, str | None]:
    """(question, response cut to ``max_response_chars``, reference or None) of a sample."""
    response = sample.text
    if len(response) > max_response_chars:
        cut = len(response) - max_response_chars
        response = f"{response[:max_response_chars]}\n[... {cut} more characters cut ...]"
    reference = None
    if reference_column is not None:
        value = sample.columns.get(reference_column)
        reference = None if value is None else str(value)
    return prompt_text(sample.prompt), response, reference


def prompt_groups(samples: Sequence[Sample], num_generations: int | None) -> list[list[int]]:
    """Runs of consecutive samples with the same prompt, ``num_generations`` at most."""
    groups: list[list[int]] = []
    previous: Any = object()
    for i, sample in enumerate(samples):
        key = _prompt_key(sample.prompt)
        full = num_generations is not None and groups and len(groups[-1]) >= num_generations
        if groups and key == previous and not full:
            groups[-1].append(i)
        else:
            groups.append([i])
        previous = key
    return groups


def prompt_text(prompt: Any) -> str:
    """The question in a prompt: a plain string, or the last user message of a chat.

    >>> prompt_text([{"role": "system", "content": "Be brief."},
    ...              {"role": "user", "content": "2+2?"}])
    '2+2?'
    """
    if isinstance(prompt, (list, tuple)):
        users = [m for m in prompt if isinstance(m, dict) and m.get("role") == "user"]
        if users:
            return completion_text(users[-1])
    return completion_text(prompt)


def _prompt_key(prompt: Any) -> str:
    try:
        return json.dumps(prompt, sort_keys=True, default=str)
    except (TypeError, ValueError):
        return repr(prompt)
