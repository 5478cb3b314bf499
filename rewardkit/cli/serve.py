"""``rewardkit serve``: serve rewards over HTTP to OpenRLHF, slime, TRL and anything else.

``rewardkit serve --reward math --port 8000`` serves one reward; ``--config serve.yaml``
serves several, each at its own route (see :mod:`rewardkit.serve.config`). Needs the
``serve`` extra (Starlette, uvicorn, prometheus_client).
"""

from __future__ import annotations

import argparse
import logging


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("serve", help="serve rewards over HTTP")
    what = parser.add_mutually_exclusive_group(required=True)
    what.add_argument("--reward", help="registered name or module:attribute, options after @")
    what.add_argument("--config", help="YAML/JSON file naming several rewards, one per route")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--processes", type=int, help="worker processes per route (default 2)")
    parser.add_argument("--timeout", type=float, help="seconds a batch may take (default 30)")
    parser.add_argument("--max-batch", type=int, help="samples per scoring call (default 64)")
    parser.add_argument("--max-pending", type=int, help="samples held before 503 (default 4096)")
    parser.add_argument("--log-level", default="warning")
    on_ray = parser.add_argument_group("Ray Serve (the ray extra)")
    on_ray.add_argument(
        "--ray", action="store_true", help="deploy on Ray Serve, a replica set per route"
    )
    replicas = on_ray.add_mutually_exclusive_group()
    replicas.add_argument("--num-replicas", type=int, help="replicas per route (default 1)")
    replicas.add_argument("--autoscale", action="store_true", help="1 to --max-replicas by load")
    on_ray.add_argument("--max-replicas", type=int, default=8)
    on_ray.add_argument("--address", help="Ray cluster to join (auto: the local head)")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    try:
        import uvicorn

        from rewardkit.serve.app import app_from_config
    except ImportError as exc:
        raise ValueError(f"{exc.name} is missing: pip install 'rewardkit[serve]'") from None
    from rewardkit.serve.config import load_config, single_route

    settings = {
        key: value
        for key, value in (
            ("processes", args.processes),
            ("timeout", args.timeout),
            ("max_batch", args.max_batch),
            ("max_pending", args.max_pending),
        )
        if value is not None
    }
    if args.config:
        config = load_config(_with(args.config, settings) if settings else args.config)
    else:
        config = single_route(args.reward, **settings)
    logging.basicConfig(level=args.log_level.upper())
    if args.ray:
        return _run_on_ray(config, args)
    if args.num_replicas is not None or args.autoscale or args.address:
        raise ValueError("--num-replicas, --autoscale and --address go with --ray")
    app = app_from_config(config)
    routes = ", ".join(f"/{r.name}" for r in config.routes)
    where = f"http://{args.host}:{args.port}"
    print(f"rewardkit serve: {where} routes {routes} (default /{config.default})")
    uvicorn.run(
        app,
        host=args.host,
        port=args.port,
        log_level=args.log_level,
        timeout_graceful_shutdown=60,
        access_log=False,
    )
    return 0


def _run_on_ray(config, args: argparse.Namespace) -> int:
    """Deploy on Ray Serve and keep the deployment up until Ctrl-C."""
    import time

    from rewardkit.ray.serve import run_on_ray

    urls = run_on_ray(
        config,
        host=args.host,
        port=args.port,
        address=args.address,
        num_replicas=args.num_replicas or 1,
        autoscale=args.autoscale,
        max_replicas=args.max_replicas,
    )
    for name, url in urls.items():
        print(f"rewardkit serve --ray: route {name} at {url}")
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        from ray import serve

        serve.shutdown()
    return 0


def _with(path: str, settings: dict) -> dict:
    """The config file's mapping with command-line settings over its top-level defaults."""
    from rewardkit.serve.config import read_config_file

    return {**read_config_file(path), **settings}
