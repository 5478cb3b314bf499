"""The reward server: a Starlette app over :class:`~rewardkit.serve.scorer.Scorer` objects.

Every route ``R`` of the config answers each framework's protocol:

- ``POST /R/get_reward``: OpenRLHF (:mod:`rewardkit.serve.protocols.openrlhf`);
- ``POST /R/slime`` (a number) and ``POST /R/slime/dict`` (``{"score", "reason", "acc"}``):
  slime (:mod:`rewardkit.serve.protocols.slime`);
- ``POST /R/v1/score``: the native batch route (:mod:`rewardkit.serve.protocols.native`);

and the default route answers the same paths without the prefix. ``GET /health`` and
``GET /metrics`` (Prometheus text) cover the whole server. Bad bodies get a 4xx naming
the problem, a full scorer a 503 with ``Retry-After``.

>>> from starlette.testclient import TestClient
>>> from rewardkit.serve.scorer import Scorer
>>> app = create_app({"acc": Scorer("boxed_accuracy", executor="thread")})
>>> with TestClient(app) as client:
...     client.post("/get_reward", json={"query": ["Q \\\\boxed{4}"], "prompts": ["Q"],
...                                      "labels": ["4"]}).json()["rewards"]
[1.0]
"""

from __future__ import annotations

import contextlib
import json
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from rewardkit.serve.config import ServeConfig
from rewardkit.serve.metrics import CONTENT_TYPE, Metrics
from rewardkit.serve.protocols import BadRequest, native, openrlhf, slime
from rewardkit.serve.scorer import Overloaded, Scorer, TooManySamples

__all__ = ["app_from_config", "create_app"]

logger = logging.getLogger(__name__)

Answer = Callable[[Scorer, Any, str], Awaitable[tuple[Any, list]]]


async def _openrlhf(scorer: Scorer, body: Any, label_column: str) -> tuple[Any, list]:
    samples, flags = openrlhf.parse(body, label_column)
    results = await scorer.score(samples)
    return openrlhf.reply(results, flags, scorer.reasons), results


async def _slime(scorer: Scorer, body: Any, label_column: str) -> tuple[Any, list]:
    results = await scorer.score([slime.parse(body, label_column)])
    return slime.value(results[0]), results


async def _slime_dict(scorer: Scorer, body: Any, label_column: str) -> tuple[Any, list]:
    results = await scorer.score([slime.parse(body, label_column)])
    return slime.as_dict(results[0]), results


async def _native(scorer: Scorer, body: Any, label_column: str) -> tuple[Any, list]:
    results = await scorer.score(native.parse(body))
    return native.reply(scorer.name, results), results


PROTOCOLS: dict[str, tuple[str, Answer]] = {
    "get_reward": ("openrlhf", _openrlhf),
    "slime": ("slime", _slime),
    "slime/dict": ("slime", _slime_dict),
    "v1/score": ("native", _native),
}


def create_app(
    scorers: Mapping[str, Scorer],
    *,
    default: str | None = None,
    label_columns: Mapping[str, str] | None = None,
    max_body_bytes: int = 16 << 20,
    manage_scorers: bool = True,
) -> Starlette:
    """The ASGI app serving ``scorers`` (route name -> scorer).

    ``label_columns`` names, per route, the column the frameworks' label fills (default
    ``answer``). With ``manage_scorers`` the app starts the scorers on startup and, on
    shutdown, finishes what they hold before stopping their workers.
    """
    if not scorers:
        raise ValueError("create_app needs at least one scorer")
    default = default or next(iter(scorers))
    if default not in scorers:
        raise ValueError(f"default route {default!r} is not one of {sorted(scorers)}")
    labels = dict(label_columns or {})
    metrics = Metrics()
    state = {"draining": False}

    def endpoint(route: str, path: str) -> Callable[[Request], Awaitable[Response]]:
        protocol, answer = PROTOCOLS[path]
        scorer, label_column = scorers[route], labels.get(route, "answer")

        async def handle(request: Request) -> Response:
            start = time.perf_counter()
            headers, results = {}, []
            try:
                body = await _read_json(request, max_body_bytes)
                payload, results = await answer(scorer, body, label_column)
                status = 200
            except BadRequest as exc:
                status, payload = exc.status, {"error": str(exc)}
            except TooManySamples as exc:  # a 503 would be retried for ever
                status, payload = 413, {"error": str(exc)}
            except Overloaded as exc:
                status, payload = 503, {"error": str(exc)}
                headers["Retry-After"] = str(max(1, round(exc.retry_after)))
            except Exception as exc:  # noqa: BLE001  (a bug here: say so, keep serving)
                logger.exception("route %s/%s failed", route, path)
                status, payload = 500, {"error": f"internal error: {type(exc).__name__}"}
            metrics.observe(
                route, protocol, status, time.perf_counter() - start, (r.reason for r in results)
            )
            return JSONResponse(payload, status_code=status, headers=headers)

        return handle

    routes = []
    for name in scorers:
        for path in PROTOCOLS:
            routes.append(Route(f"/{name}/{path}", endpoint(name, path), methods=["POST"]))
            if name == default:
                routes.append(Route(f"/{path}", endpoint(name, path), methods=["POST"]))

    async def health(request: Request) -> Response:
        body = {
            "status": "draining" if state["draining"] else "ok",
            "default": default,
            "routes": {n: {"reward": s.name, "pending": s.pending} for n, s in scorers.items()},
        }
        return JSONResponse(body, status_code=503 if state["draining"] else 200)

    async def render_metrics(request: Request) -> Response:
        text = metrics.render({n: s.pending for n, s in scorers.items()})
        return Response(text, media_type=CONTENT_TYPE)

    routes += [Route("/health", health), Route("/metrics", render_metrics)]

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette):
        state["draining"] = False
        if manage_scorers:
            for scorer in scorers.values():
                await scorer.start()
        yield
        state["draining"] = True
        if manage_scorers:
            for scorer in scorers.values():
                await scorer.close()

    app = Starlette(routes=routes, lifespan=lifespan)
    app.state.scorers = dict(scorers)
    app.state.metrics = metrics
    return app


def app_from_config(config: ServeConfig) -> Starlette:
    """:func:`create_app` over the scorers a :class:`ServeConfig` describes."""
    scorers = {r.name: Scorer(r.build_reward(), **r.scorer_kwargs()) for r in config.routes}
    return create_app(
        scorers,
        default=config.default,
        label_columns={r.name: r.label_column for r in config.routes},
        max_body_bytes=config.max_body_bytes,
    )


async def _read_json(request: Request, limit: int) -> Any:
    """The request's JSON body, refusing one over ``limit`` bytes before reading it all."""
    declared = request.headers.get("content-length")
    if declared is not None:
        if not declared.isdigit():
            raise BadRequest(f"bad Content-Length {declared[:40]!r}", status=400)
        if int(declared) > limit:
            raise BadRequest(f"the body has {declared} bytes; at most {limit} allowed", 413)
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise BadRequest(f"the body is over {limit} bytes", status=413)
        chunks.append(chunk)
    raw = b"".join(chunks)
    if not raw.strip():
        raise BadRequest("the body is empty; send a JSON object", status=400)
    try:
        return json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise BadRequest(f"the body is not UTF-8 text: {exc.reason}", status=400) from None
    except json.JSONDecodeError as exc:
        where = f"line {exc.lineno} column {exc.colno}"
        raise BadRequest(f"the body is not valid JSON: {exc.msg} at {where}", status=400) from None
    except RecursionError:
        raise BadRequest("the body's JSON is nested too deeply", status=400) from None
