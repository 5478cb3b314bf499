r"""Scale-out on Ray (the ``ray`` extra): scoring on Ray Data, reward actors, Ray Serve.

The one-machine paths stay as they are; these run the same scorer where a Ray cluster
does the work:

- :func:`score_rows_on_ray` scores completion rows with Ray Data and streams them back in
  input order; ``run_filter(..., executor="ray")`` and ``rewardkit filter --executor ray``
  use it, so grouping, filtering and export are the local pipeline's own code.
- :func:`sample_chunks_on_ray` samples N completions per prompt with engines held by Ray
  actors (vLLM's offline engine, or transformers);
  ``generate_completions(..., executor="ray")`` uses it.
- :class:`RewardActor` and :class:`RewardActorPool` score from inside Ray tasks (verl's
  reward workers, NeMo-RL's environments) without HTTP.
- :func:`build_serve_app` deploys the reward server on Ray Serve
  (``rewardkit serve --ray``).

Ray is imported only when one of these is used (``pip install 'rewardkit[ray]'``).
"""

from __future__ import annotations

import importlib

__all__ = [
    "RewardActor",
    "RewardActorPool",
    "build_serve_app",
    "require_ray",
    "sample_chunks_on_ray",
    "score_rows_on_ray",
]

_LAZY = {
    "RewardActor": "rewardkit.ray.actors",
    "RewardActorPool": "rewardkit.ray.actors",
    "build_serve_app": "rewardkit.ray.serve",
    "sample_chunks_on_ray": "rewardkit.ray.generate",
    "score_rows_on_ray": "rewardkit.ray.data",
}


def require_ray():
    """The ``ray`` module, or an ImportError that says how to install it.

    >>> require_ray().__name__
    'ray'
    """
    try:
        return importlib.import_module("ray")
    except ImportError as exc:
        raise ImportError("this needs Ray: pip install 'rewardkit[ray]' (ray[data,serve])") from exc


def __getattr__(name: str):
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'rewardkit.ray' has no attribute {name!r}")
