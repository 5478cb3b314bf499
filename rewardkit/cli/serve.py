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


def _with(path: str, settings: dict) -> dict:
    """The config file's mapping with command-line settings over its top-level defaults."""
    from rewardkit.serve.config import read_config_file

    return {**read_config_file(path), **settings}
