"""A fake chat-completions server on loopback that injects faults, for testing judge setups.

:class:`FakeJudgeServer` speaks enough of the OpenAI chat-completions protocol for
:class:`~rewardkit.judge.backends.OpenAIBackend` and misbehaves on request: ``latency``
before every reply, and per-request faults: ``rate_limit`` (429 with ``Retry-After``),
``server_error`` (500), ``error_then_close`` (500, then the server closes that keep-alive
connection a moment later, as a crashing worker does), ``drop`` (the connection closes with
no reply), ``malformed`` (a 200 whose body is not JSON), ``slow`` (the reply comes after
``slow_seconds``) and ``freeze`` (no reply until the client gives up). :meth:`restart`
takes the whole server down for a while. Requests with ``"stream": true`` get server-sent
events, and a streamed reply stops when its client leaves (``abandoned`` counts requests
whose client left before the reply was complete). Use it to check that your rubric,
prompts and retry settings survive a bad judge before a training run depends on them. Run
it alone with ``python -m rewardkit.judge.testing_server --latency 0.2``.

The default replies come from :func:`toy_judge`, a rule (not a model): a criterion is met
when the response contains the criterion's last word; a rating counts the response's
distinct words; a ranking prefers more distinct words; the first wrong step is the
first step containing "wrong"; a verifier model's prompt gets
:func:`~rewardkit.judge.toy_verifier.toy_verifier`'s verdict in that model's words. Pass
``responder`` to script your own: it gets the request body and returns the reply text, or
a dict with ``content`` and optionally ``reasoning_content``, ``finish_reason`` and
OpenAI-style ``logprobs``.

>>> import httpx
>>> with FakeJudgeServer(faults=["server_error"]) as server:
...     body = {"model": "m", "messages": [{"role": "user", "content": "hi"}]}
...     first = httpx.post(server.base_url + "/chat/completions", json=body)
...     second = httpx.post(server.base_url + "/chat/completions", json=body)
>>> first.status_code, second.json()["choices"][0]["message"]["content"]
(500, 'I cannot tell.')
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import socket
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from http import HTTPStatus
from typing import Any

from rewardkit.judge.toy_verifier import toy_verifier

OK = "ok"
RATE_LIMIT = "rate_limit"
SERVER_ERROR = "server_error"
DROP = "drop"
MALFORMED = "malformed"
SLOW = "slow"
FREEZE = "freeze"
ERROR_THEN_CLOSE = "error_then_close"
FAULTS = (OK, RATE_LIMIT, SERVER_ERROR, DROP, MALFORMED, SLOW, FREEZE, ERROR_THEN_CLOSE)
_POLL_S = 0.02  # how often a frozen or streaming reply checks whether its client left

_FENCE = re.compile(r"<([a-z]+)_([0-9a-f]{16})>\n(.*?)\n</\1_\2>", re.DOTALL)
_WORD = re.compile(r"\w+")

Responder = Callable[[dict[str, Any]], "str | dict[str, Any]"]

# Rules tried first by toy_judge: ``rule(user message) -> reply, or None when not theirs``.
REPLY_RULES: list[Callable[[str], str | None]] = [toy_verifier]


def fenced_blocks(text: str) -> dict[str, list[str]]:
    """The texts fenced by :func:`rewardkit.judge.prompts.fence` in ``text``, by label.

    >>> from rewardkit.judge.prompts import fence
    >>> fenced_blocks("Q: " + fence("2+2?", "question"))
    {'question': ['2+2?']}
    """
    blocks: dict[str, list[str]] = {}
    for label, _, body in _FENCE.findall(text):
        blocks.setdefault(label, []).append(body)
    return blocks


def toy_judge(body: dict[str, Any]) -> str:
    """Deterministic replies to rewardkit's judge prompts (see the module docs)."""
    user = next(
        (
            m.get("content") or ""
            for m in reversed(body.get("messages", []))
            if m.get("role") == "user"
        ),
        "",
    )
    for rule in REPLY_RULES:  # the prompts of other tools: verifier models, ...
        reply = rule(user)
        if reply is not None:
            return reply
    blocks = fenced_blocks(user)
    responses = blocks.get("response", [])
    if "criterion" in blocks and responses:
        words = _WORD.findall(blocks["criterion"][0].lower())
        met = bool(words) and words[-1] in _WORD.findall(responses[0].lower())
        return f"Checked the response.\nVerdict: {'YES' if met else 'NO'}"
    if "step" in blocks:
        wrong = next((i for i, s in enumerate(blocks["step"]) if "wrong" in s.lower()), -1)
        return f"Checked every step. \\boxed{{{wrong}}}"
    if len(responses) >= 2:
        sizes = [len(set(_WORD.findall(r.lower()))) for r in responses]
        order = sorted(range(len(responses)), key=lambda i: -sizes[i])
        return "Compared them.\n" + json.dumps({"ranking": [i + 1 for i in order]})
    if responses:
        scale = re.search(r"from (\d+) \(worst\) to (\d+)", user)
        low, high = (int(scale.group(1)), int(scale.group(2))) if scale else (1, 10)
        rating = min(high, low + len(set(_WORD.findall(responses[0].lower()))))
        return f"Judged against the rubric.\nRating: [[{rating}]]"
    return "I cannot tell."


class FakeJudgeServer:
    """A raw HTTP/1.1 server (asyncio, keep-alive) on ``host``:``port`` (0: any free port),
    run on a background thread; a context manager.

    Args:
        responder: ``responder(request_body) -> str`` (the reply text) or a dict with
            ``content`` and optionally ``reasoning_content``, ``finish_reason`` and
            OpenAI-style ``logprobs``; default :func:`toy_judge`.
        latency: seconds every request waits before its reply or fault.
        faults: a list of fault names used by the first requests in order (then ``ok``),
            or ``faults(index, body) -> name or None`` deciding per request.
        retry_after: the ``Retry-After`` header of ``rate_limit`` replies, in seconds.
        slow_seconds: how long a ``slow`` reply takes (streamed: spread over its chunks).
    """

    def __init__(
        self,
        responder: Responder | None = None,
        *,
        latency: float = 0.0,
        faults: Sequence[str] | Callable[[int, dict[str, Any]], str | None] | None = None,
        retry_after: float = 1.0,
        slow_seconds: float = 5.0,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        if faults is not None and not callable(faults):
            unknown = sorted(set(faults) - set(FAULTS))
            if unknown:
                raise ValueError(f"unknown faults {unknown}: use {', '.join(FAULTS)}")
        self.responder = responder or toy_judge
        self.latency = latency
        self.retry_after = retry_after
        self.slow_seconds = slow_seconds
        self._fault_rule = faults if callable(faults) else None
        self._fault_queue = deque(faults or ()) if not callable(faults) else deque()
        self._lock = threading.Lock()
        self.requests: list[dict[str, Any]] = []  # bodies, in arrival order
        self.arrivals: list[float] = []  # time.monotonic() of each arrival
        self.served: list[str] = []  # the fault (or "ok") each request got
        self.headers: list[dict[str, str]] = []  # request headers (lower-case names)
        self.in_flight = 0
        self.max_in_flight = 0  # the most requests handled at once
        self.open_connections = 0
        self.abandoned = 0  # requests whose client left before the reply was complete
        self.restarts = 0
        # Bound now, so the address is known before the server runs.
        self._socket = socket.create_server((host, port), backlog=1024)
        self._address = self._socket.getsockname()[:2]
        self._loop: asyncio.AbstractEventLoop | None = None
        self._server: asyncio.AbstractServer | None = None
        self._thread: threading.Thread | None = None
        self._connections: set[asyncio.Task] = set()

    @property
    def base_url(self) -> str:
        host, port = self._address
        return f"http://{host}:{port}/v1"

    def restart(self, down_seconds: float) -> None:
        """Go down now (every connection closed, new ones refused) and come back on the
        same port after ``down_seconds``, as a restarted judge does; returns once down."""
        if self._loop is None:
            raise RuntimeError("the server is not running")
        down = threading.Event()
        asyncio.run_coroutine_threadsafe(self._restart(down_seconds, down), self._loop)
        down.wait(10)

    def start(self) -> FakeJudgeServer:
        """Serve on a daemon thread; returns once the server accepts connections."""
        ready = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(ready,), daemon=True)
        self._thread.start()
        ready.wait(10)
        return self

    def stop(self) -> None:
        """Close every connection (waking sleeping replies) and the listening socket."""
        if self._loop is not None and self._loop.is_running():
            self._loop.call_soon_threadsafe(self._loop.stop)
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._socket.close()

    def __enter__(self) -> FakeJudgeServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def count(self) -> int:
        """Requests received so far."""
        with self._lock:
            return len(self.requests)

    def serve_forever(self) -> None:
        """Serve on the calling thread until interrupted."""
        self._run(threading.Event())

    def _run(self, ready: threading.Event) -> None:
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        self._loop = loop
        self._server = loop.run_until_complete(
            asyncio.start_server(self._connection, sock=self._socket)
        )
        ready.set()
        try:
            loop.run_forever()
        finally:
            loop.run_until_complete(self._close())
            pending = asyncio.all_tasks(loop)  # a restart still waiting to come back
            for task in pending:
                task.cancel()
            loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
            loop.close()

    async def _close(self) -> None:
        if self._server is not None:
            self._server.close()
        for task in list(self._connections):
            task.cancel()
        await asyncio.gather(*self._connections, return_exceptions=True)
        if self._server is not None:
            await self._server.wait_closed()
            self._server = None

    async def _restart(self, down_seconds: float, down: threading.Event) -> None:
        self.restarts += 1
        await self._close()
        down.set()
        await asyncio.sleep(down_seconds)
        self._socket = socket.create_server(self._address, backlog=1024)
        self._server = await asyncio.start_server(self._connection, sock=self._socket)

    async def _connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        self._connections.add(task)
        self.open_connections += 1
        try:
            while await self._exchange(reader, writer):
                pass
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
            pass
        except asyncio.CancelledError:
            pass  # shutting down: end quietly (a cancelled handler task logs a traceback)
        finally:
            self.open_connections -= 1
            self._connections.discard(task)
            writer.close()

    async def _exchange(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> bool:
        """Serve one request; whether the connection stays open."""
        head = await reader.readuntil(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        parts = lines[0].split()
        if len(parts) != 3:
            _write(writer, 400, {"error": {"message": "bad request line"}})
            return False
        method, path, version = parts
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            if name:
                headers[name.strip().lower()] = value.strip()
        raw = await reader.readexactly(int(headers.get("content-length") or 0))
        keep_alive = version == "HTTP/1.1" and headers.get("connection", "").lower() != "close"
        if method != "POST" or path.split("?")[0].rstrip("/") not in _ROUTES:
            _write(writer, 404, {"error": {"message": f"no route {method} {path}"}})
            return keep_alive
        try:
            body = json.loads(raw)
        except ValueError:
            _write(writer, 400, {"error": {"message": "request body is not JSON"}})
            return keep_alive
        fault = self._admit(body, headers)
        try:
            if self.latency > 0:
                await asyncio.sleep(self.latency)
            if fault == DROP:
                return False  # the connection closes with no reply
            if fault == FREEZE:
                while not reader.at_eof():
                    await asyncio.sleep(_POLL_S)
                self._abandon()
                return False
            status, payload, extra = self._reply(fault, body)
            if status == 200 and body.get("stream") and isinstance(payload, dict):
                await self._stream(reader, writer, payload, fault == SLOW)
                return False
            if fault == SLOW:
                await asyncio.sleep(self.slow_seconds)  # works on after its client left
                if reader.at_eof():
                    self._abandon()
            _write(writer, status, payload, extra)
            await writer.drain()
            if fault == ERROR_THEN_CLOSE:
                await asyncio.sleep(0.2)  # long enough for the client to reuse the connection
                return False
        finally:
            with self._lock:
                self.in_flight -= 1
        return keep_alive

    def _abandon(self) -> None:
        with self._lock:
            self.abandoned += 1

    async def _stream(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        completion: dict[str, Any],
        slow: bool,
    ) -> None:
        """A completion as server-sent events, a few characters a chunk; stops when the
        client leaves (a ``slow`` stream spreads its chunks over ``slow_seconds``)."""
        choice = completion["choices"][0]
        message = choice["message"]
        pieces: list[dict[str, Any]] = [{"role": "assistant"}]
        for field in ("reasoning_content", "content"):
            text = message.get(field) or ""
            pieces += [{field: text[k : k + 4]} for k in range(0, len(text), 4)]
        pause = self.slow_seconds / len(pieces) if slow else 0.0
        head = "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nConnection: close\r\n\r\n"
        writer.write(head.encode("latin-1"))
        base = {key: completion[key] for key in ("id", "created", "model")}
        base["object"] = "chat.completion.chunk"
        for k, delta in enumerate(pieces):
            last = k == len(pieces) - 1
            chunk_choice: dict[str, Any] = {"index": 0, "delta": delta}
            if last:
                chunk_choice["finish_reason"] = choice["finish_reason"]
                if "logprobs" in choice:
                    chunk_choice["logprobs"] = choice["logprobs"]
            chunk = {**base, "choices": [chunk_choice]}
            if last:
                chunk["usage"] = completion["usage"]
            writer.write(f"data: {json.dumps(chunk)}\n\n".encode())
            await writer.drain()
            waited = 0.0
            while waited < pause:
                if reader.at_eof():  # the client left: stop generating, as a real server does
                    self._abandon()
                    return
                await asyncio.sleep(min(_POLL_S, pause - waited))
                waited += _POLL_S
        writer.write(b"data: [DONE]\n\n")
        await writer.drain()

    def _admit(self, body: dict[str, Any], headers: dict[str, str]) -> str:
        with self._lock:
            index = len(self.requests)
            self.requests.append(body)
            self.headers.append(headers)
            self.arrivals.append(time.monotonic())
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
            if self._fault_rule is not None:
                fault = self._fault_rule(index, body) or OK
            else:
                fault = self._fault_queue.popleft() if self._fault_queue else OK
            self.served.append(fault)
            return fault

    def _reply(self, fault: str, body: dict[str, Any]) -> tuple[int, Any, dict[str, str]]:
        """(status, payload, extra headers) for a request given its fault."""
        if fault == RATE_LIMIT:
            return (
                429,
                {"error": {"message": "rate limited"}},
                {"Retry-After": f"{self.retry_after:g}"},
            )
        if fault in (SERVER_ERROR, ERROR_THEN_CLOSE):
            return 500, {"error": {"message": "internal error"}}, {}
        if fault == MALFORMED:
            return 200, b'{"choices": [{"message": {"content": "Verdict: YE', {}
        reply = self.responder(body)
        if isinstance(reply, str):
            reply = {"content": reply}
        prompt_chars = sum(len(str(m.get("content", ""))) for m in body.get("messages", []))
        message = {"role": "assistant", "content": reply["content"]}
        if reply.get("reasoning_content") is not None:
            message["reasoning_content"] = reply["reasoning_content"]
        choice: dict[str, Any] = {
            "index": 0,
            "message": message,
            "finish_reason": reply.get("finish_reason", "stop"),
        }
        if reply.get("logprobs") is not None:
            choice["logprobs"] = {"content": reply["logprobs"]}
        # ~4 characters a token, as a stand-in for a tokenizer
        prompt_tokens = prompt_chars // 4 + 1
        completion_tokens = len(reply["content"] or "") // 4 + 1
        return (
            200,
            {
                "id": f"chatcmpl-{self.count}",
                "object": "chat.completion",
                "created": int(time.time()),
                "model": body.get("model", "fake-judge"),
                "choices": [choice],
                "usage": {
                    "prompt_tokens": prompt_tokens,
                    "completion_tokens": completion_tokens,
                    "total_tokens": prompt_tokens + completion_tokens,
                },
            },
            {},
        )


_ROUTES = ("/v1/chat/completions", "/chat/completions")


def _write(
    writer: asyncio.StreamWriter, status: int, payload: Any, headers: dict[str, str] | None = None
) -> None:
    """One HTTP/1.1 response in a single write (headers and body in one segment)."""
    data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    lines = [
        f"HTTP/1.1 {status} {HTTPStatus(status).phrase}",
        "Content-Type: application/json",
        f"Content-Length: {len(data)}",
        *(f"{name}: {value}" for name, value in (headers or {}).items()),
    ]
    writer.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + data)


def main(argv: Sequence[str] | None = None) -> None:
    """Serve a fake judge until interrupted; prints its base URL first."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--latency", type=float, default=0.0, help="seconds before each reply")
    args = parser.parse_args(argv)
    server = FakeJudgeServer(latency=args.latency, host=args.host, port=args.port)
    print(server.base_url, flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
