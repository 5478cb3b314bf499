"""Judge backends: an OpenAI-compatible server or a local transformers model.

>>> make_backend("openai", model="judge", base_url="http://127.0.0.1:8000/v1")
OpenAIBackend(model='judge')
"""

from __future__ import annotations

from typing import Any

from rewardkit.judge.backends.base import (
    FAILURE_REASONS,
    JudgeBackend,
    JudgeFailure,
    JudgeReply,
    JudgeRequest,
    Usage,
)
from rewardkit.judge.backends.openai import OpenAIBackend
from rewardkit.judge.backends.transformers_backend import TransformersBackend

BACKENDS = {"openai": OpenAIBackend, "transformers": TransformersBackend}

__all__ = [
    "BACKENDS",
    "FAILURE_REASONS",
    "JudgeBackend",
    "JudgeFailure",
    "JudgeReply",
    "JudgeRequest",
    "OpenAIBackend",
    "TransformersBackend",
    "Usage",
    "make_backend",
]


def make_backend(backend: JudgeBackend | str = "openai", **options: Any) -> JudgeBackend:
    """A backend object, or one built by kind (``"openai"``, ``"transformers"``) with
    ``options`` (``model=...``, ``base_url=...``, ...)."""
    if isinstance(backend, JudgeBackend):
        if options:
            raise TypeError(f"options {sorted(options)} given with a ready backend {backend!r}")
        return backend
    if backend not in BACKENDS:
        raise ValueError(f"unknown judge backend {backend!r}: use one of {', '.join(BACKENDS)}")
    if options.get("model") is None:
        raise ValueError(f"the {backend!r} judge backend needs model=... (the judge model's name)")
    return BACKENDS[backend](**options)
