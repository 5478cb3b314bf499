"""Serving rewardkit's rewards to RL frameworks over HTTP (the ``serve`` extra).

:class:`Scorer` (batching, worker processes, deadlines) is plain Python; :func:`create_app`
wraps scorers in a Starlette app (``rewardkit serve``), and :class:`RemoteReward` is the
TRL reward function that calls a running server.

>>> from rewardkit.serve import load_config
>>> load_config({"routes": {"math": "math"}}).default
'math'
"""

from rewardkit.serve.config import RouteConfig, ServeConfig, load_config, single_route
from rewardkit.serve.scorer import Overloaded, Scorer

_LAZY = {
    "create_app": "rewardkit.serve.app",
    "app_from_config": "rewardkit.serve.app",
    "RemoteReward": "rewardkit.serve.client",
}


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'rewardkit.serve' has no attribute {name!r}")


__all__ = [
    "Overloaded",
    "RemoteReward",
    "RouteConfig",
    "Scorer",
    "ServeConfig",
    "app_from_config",
    "create_app",
    "load_config",
    "single_route",
]
