"""Judge backends: an OpenAI-compatible server or a local transformers model.

>>> make_backend("openai", model="judge", base_url="http://127.0.0.1:8000/v1")
OpenAIBackend(model='judge')
"""

from __future__ import annotations

from typing import Any

from rewardkit.judge.backends.base import (
    FAILURE_REASONS,
    JudgeBackend,
    JudgeConfigError,
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
    "JudgeConfigError",
    "JudgeFailure",
    "JudgeReply",
    "JudgeRequest",
    "OpenAIBackend",
    "TransformersBackend",
    "Usage",
    "make_backend",
]


def make_backend(
    backend: JudgeBackend | str = "openai",
    *,
    model: str | None = None,
    base_url: str | None = None,
    api_key_env: str | None = None,
    **options: Any,
) -> JudgeBackend:
    """A ready backend as it is, or one built by kind (``"openai"``, ``"transformers"``) for
    ``model`` with ``options`` (``max_concurrency=...``, ``timeout=...``, ...)."""
    named = {"base_url": base_url, "api_key_env": api_key_env}
    given = {key: value for key, value in named.items() if value is not None}
    if isinstance(backend, JudgeBackend):
        if model is not None or given or options:
            raise ValueError("give either a ready backend or model/base_url/options, not both")
        return backend
    if backend not in BACKENDS:
        raise ValueError(f"unknown judge backend {backend!r}: use one of {', '.join(BACKENDS)}")
    if model is None:
        raise ValueError(f"the {backend!r} judge backend needs model=... (the judge model's name)")
    return BACKENDS[backend](model=model, **given, **options)
