r"""The reward server on Ray Serve: one deployment per route, replicas across a cluster.

Each route of a :class:`~rewardkit.serve.ServeConfig` becomes a Ray Serve application
whose replicas run the plain server's own Starlette app for that one route
(:func:`rewardkit.serve.app_from_config`), so the protocols, the bad-body answers, the
503s and ``/metrics`` are the same code. The default route is served at ``/`` (its
paths with and without the route prefix, as the plain server does), every other route
at ``/<route>``. ``/health`` and ``/metrics`` answer for the replica that took the
request; Ray's own metrics export has the cluster-wide serve metrics.

``rewardkit serve --ray --num-replicas 2`` (or ``--autoscale``) runs :func:`run_on_ray`.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from rewardkit.ray.data import ensure_ray
from rewardkit.serve.config import ServeConfig

__all__ = ["build_serve_app", "run_on_ray"]

# Replicas added or removed under --autoscale follow Ray Serve's request-based policy:
# about this many requests in flight per replica.
AUTOSCALE_TARGET_ONGOING = 64


def build_serve_app(
    config: ServeConfig,
    *,
    num_replicas: int = 1,
    autoscale: bool = False,
    max_replicas: int = 8,
    num_cpus: float = 1,
) -> dict[str, tuple[Any, str]]:
    """Ray Serve applications for ``config``: route name -> (application, route prefix).

    Each replica reserves ``num_cpus`` CPUs; with ``autoscale`` the replica count moves
    between 1 and ``max_replicas`` with the load.
    """
    from ray import serve

    if num_replicas < 1 or max_replicas < 1:
        raise ValueError("num_replicas and max_replicas must be at least 1")
    scaling: dict[str, Any] = {"num_replicas": num_replicas}
    if autoscale:
        scaling = {
            "autoscaling_config": {
                "min_replicas": 1,
                "max_replicas": max_replicas,
                "target_ongoing_requests": AUTOSCALE_TARGET_ONGOING,
            }
        }
    apps = {}
    for route in config.routes:
        one = replace(config, routes=(route,), default=route.name)
        deployment = serve.deployment(
            serve.ingress(_app_builder(one))(_RouteReplica),
            name=f"reward-{route.name}",
            ray_actor_options={"num_cpus": num_cpus},
            **scaling,
        )
        prefix = "/" if route.name == config.default else f"/{route.name}"
        apps[route.name] = (deployment.bind(), prefix)
    return apps


def run_on_ray(
    config: ServeConfig,
    *,
    host: str = "127.0.0.1",
    port: int = 8000,
    address: str | None = None,
    **options: Any,
) -> dict[str, str]:
    """Deploy ``config`` on Ray Serve (HTTP on ``host:port``) and return each route's URL.

    ``options`` go to :func:`build_serve_app`. The applications keep running until
    ``ray.serve.shutdown()`` (or the cluster stops).
    """
    ensure_ray(address)
    from ray import serve

    serve.start(http_options={"host": host, "port": port})
    urls = {}
    for name, (app, prefix) in build_serve_app(config, **options).items():
        serve.run(app, name=f"rewardkit-{name}", route_prefix=prefix)
        urls[name] = f"http://{host}:{port}{prefix.rstrip('/')}"
    return urls


def _app_builder(config: ServeConfig):
    """A function that builds the one-route Starlette app inside each replica (Ray Serve
    takes a plain function as an app builder; a callable object would be the app)."""

    def build():
        from rewardkit.serve.app import app_from_config

        return app_from_config(config)

    return build


class _RouteReplica:
    """A replica of one route; its requests are answered by the ingress app."""
