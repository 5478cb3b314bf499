"""What ``rewardkit serve`` serves: routes, each a reward with its scoring settings.

A config file (YAML or JSON) names the rewards and, optionally, the server's limits::

    default: math              # also served at /get_reward, /slime, /v1/score
    max_body_mb: 16
    routes:
      math: math               # a registered name, options after @, or module:attribute
      strict: "math@strict=true"
      blend:                   # a weighted sum of rewards
        weights: {boxed_accuracy: 0.9, think_format: 0.1}
      judge:                   # any reward with options, and scoring settings
        reward: rubric_judge
        options: {rubric: rubric.yaml, model: my-judge, base_url: "http://judge:8001/v1"}
        label_column: solution
        timeout: 120

Each route's settings are those of :class:`~rewardkit.serve.scorer.Scorer`
(``executor``, ``processes``, ``max_batch``, ``max_wait_ms``, ``timeout``,
``max_pending``) and ``label_column``, the column the frameworks' label goes to; set at
the top level they are every route's default.

>>> config = load_config({"routes": {"m": "math", "s": {"reward": "math",
...                       "options": {"strict": True}, "timeout": 5}}})
>>> [(r.name, r.scorer_options["timeout"]) for r in config.routes], config.default
([('m', 30.0), ('s', 5)], 'm')
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rewardkit.rewards.compose import WeightedSum
from rewardkit.rewards.registry import get_reward

__all__ = ["RouteConfig", "ServeConfig", "load_config", "single_route"]

SCORER_KEYS = ("executor", "processes", "max_batch", "max_wait_ms", "timeout", "max_pending")
ROUTE_KEYS = ("reward", "options", "weights", "label_column", *SCORER_KEYS)
TOP_KEYS = ("routes", "default", "max_body_mb", "label_column", *SCORER_KEYS)
_DEFAULTS = {
    "executor": "auto",
    "processes": 2,
    "max_batch": 64,
    "max_wait_ms": 5.0,
    "timeout": 30.0,
    "max_pending": 4096,
}
_ROUTE_NAME = re.compile(r"[A-Za-z0-9_.-]{1,64}")


@dataclass(frozen=True)
class RouteConfig:
    """One route: its ``name`` (the URL prefix), how to build its reward, and settings."""

    name: str
    spec: str | None = None
    options: dict[str, Any] = field(default_factory=dict)
    weights: dict[str, float] | None = None
    label_column: str = "answer"
    scorer_options: dict[str, Any] = field(default_factory=dict)

    def build_reward(self) -> Any:
        """The reward object (a weighted sum when ``weights`` is given)."""
        if self.weights is not None:
            terms = [(get_reward(spec), float(w)) for spec, w in self.weights.items()]
            return WeightedSum(terms, name=self.name, **self.options)
        return get_reward(self.spec, **self.options)

    def scorer_kwargs(self) -> dict[str, Any]:
        """Keyword arguments of :class:`~rewardkit.serve.scorer.Scorer`."""
        options = dict(self.scorer_options)
        options["max_wait"] = float(options.pop("max_wait_ms")) / 1000.0
        return options


@dataclass(frozen=True)
class ServeConfig:
    """The routes to serve, the default route and the body size limit."""

    routes: tuple[RouteConfig, ...]
    default: str
    max_body_bytes: int = 16 << 20


def single_route(spec: str, **settings: Any) -> ServeConfig:
    """A config serving one reward, named after its spec (``--reward math``).

    >>> single_route("math@strict=true").routes[0].name
    'math'
    """
    name = re.sub(r"[^A-Za-z0-9_.-]", "_", spec.partition("@")[0].rpartition(":")[2]) or "reward"
    return load_config({"routes": {name: spec}, **settings})


def load_config(source: str | Path | dict[str, Any]) -> ServeConfig:
    """A :class:`ServeConfig` from a YAML/JSON file or an already-read mapping; every
    mistake is a ``ValueError`` that names the key."""
    data = read_config_file(source) if isinstance(source, (str, Path)) else source
    if not isinstance(data, dict):
        raise ValueError("a serve config is a mapping with a 'routes' key")
    _unknown(data, TOP_KEYS, "the serve config")
    routes_in = data.get("routes")
    if not isinstance(routes_in, dict) or not routes_in:
        raise ValueError("the serve config needs 'routes': a mapping of route name to reward")
    defaults = {**_DEFAULTS, **{k: data[k] for k in SCORER_KEYS if k in data}}
    label = data.get("label_column", "answer")
    routes = tuple(_route(str(n), v, defaults, label) for n, v in routes_in.items())
    default = str(data.get("default", routes[0].name))
    if default not in {r.name for r in routes}:
        raise ValueError(f"default route {default!r} is not one of the routes")
    max_mb = data.get("max_body_mb", 16)
    if not isinstance(max_mb, (int, float)) or max_mb <= 0:
        raise ValueError(f"max_body_mb must be a positive number, got {max_mb!r}")
    return ServeConfig(routes, default, int(max_mb * (1 << 20)))


def _route(name: str, value: Any, defaults: dict[str, Any], label: str) -> RouteConfig:
    if not _ROUTE_NAME.fullmatch(name) or name in ("health", "metrics", "v1"):
        raise ValueError(f"route name {name!r} must be letters, digits, '_', '-', '.'")
    if isinstance(value, str):
        value = {"reward": value}
    if not isinstance(value, dict):
        raise ValueError(f"route {name!r}: expected a reward name or a mapping, got {value!r}")
    _unknown(value, ROUTE_KEYS, f"route {name!r}")
    weights = value.get("weights")
    if (weights is None) == ("reward" not in value):
        raise ValueError(f"route {name!r} needs exactly one of 'reward' and 'weights'")
    if weights is not None and not (
        isinstance(weights, dict) and weights and all(_number(w) for w in weights.values())
    ):
        raise ValueError(f"route {name!r}: 'weights' maps reward names to numbers")
    options = value.get("options") or {}
    if not isinstance(options, dict):
        raise ValueError(f"route {name!r}: 'options' must be a mapping")
    scorer = {**defaults, **{k: value[k] for k in SCORER_KEYS if k in value}}
    return RouteConfig(
        name=name,
        spec=value.get("reward"),
        options=dict(options),
        weights=dict(weights) if weights is not None else None,
        label_column=str(value.get("label_column", label)),
        scorer_options=scorer,
    )


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _unknown(data: dict[str, Any], known: tuple[str, ...], where: str) -> None:
    unknown = sorted(set(data) - set(known))
    if unknown:
        raise ValueError(f"unknown key(s) {unknown} in {where}; known: {', '.join(known)}")


def read_config_file(path: str | Path) -> Any:
    """The mapping in a YAML or JSON (``.json``) file."""
    text = Path(path).read_text(encoding="utf-8")
    if str(path).endswith(".json"):
        return json.loads(text)
    import yaml

    return yaml.safe_load(text)
