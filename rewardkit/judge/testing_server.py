"""A fake chat-completions server on loopback that injects faults, for testing judge setups.

:class:`FakeJudgeServer` speaks enough of the OpenAI chat-completions protocol for
:class:`~rewardkit.judge.backends.OpenAIBackend` and misbehaves on request: ``latency``
before every reply, and per-request faults: ``rate_limit`` (429 with ``Retry-After``),
``server_error`` (500), ``drop`` (the connection closes with no reply), ``malformed``
(a 200 whose body is not JSON) and ``slow`` (the reply comes after ``slow_seconds``).
Use it to check that your rubric, prompts and retry settings survive a bad judge before
a training run depends on them. Run it alone with
``python -m rewardkit.judge.testing_server --latency 0.2``.

The default replies come from :func:`toy_judge`, a rule (not a model): a criterion is met
when the response contains the criterion's last word; a rating counts the response's
distinct words; a ranking prefers more distinct words; the first wrong step is the
first step containing "wrong". Pass ``responder`` to script your own.

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
import json
import re
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

OK = "ok"
RATE_LIMIT = "rate_limit"
SERVER_ERROR = "server_error"
DROP = "drop"
MALFORMED = "malformed"
SLOW = "slow"
FAULTS = (OK, RATE_LIMIT, SERVER_ERROR, DROP, MALFORMED, SLOW)

_FENCE = re.compile(r"<([a-z]+)_([0-9a-f]{16})>\n(.*?)\n</\1_\2>", re.DOTALL)
_WORD = re.compile(r"\w+")

Responder = Callable[[dict[str, Any]], "str | dict[str, Any]"]


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
    """A threaded HTTP server on ``host``:``port`` (0: any free port); a context manager.

    Args:
        responder: ``responder(request_body) -> str`` (the reply text) or a dict with
            ``content`` and optionally OpenAI-style ``logprobs``; default :func:`toy_judge`.
        latency: seconds every request waits before its reply or fault.
        faults: a list of fault names used by the first requests in order (then ``ok``),
            or ``faults(index, body) -> name or None`` deciding per request.
        retry_after: the ``Retry-After`` header of ``rate_limit`` replies, in seconds.
        slow_seconds: how long a ``slow`` reply takes.
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
        self._stopping = threading.Event()
        self.requests: list[dict[str, Any]] = []  # bodies, in arrival order
        self.arrivals: list[float] = []  # time.monotonic() of each arrival
        self.served: list[str] = []  # the fault (or "ok") each request got
        self.headers: list[dict[str, str]] = []  # request headers, in arrival order
        self.in_flight = 0
        self.max_in_flight = 0  # the most requests handled at once
        self._httpd = _Server((host, port), _Handler)
        self._httpd.judge = self
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}/v1"

    def start(self) -> FakeJudgeServer:
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()  # wakes handlers sleeping in `slow` and `latency`
        self._httpd.shutdown()
        self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> FakeJudgeServer:  # noqa: PYI034 (Self needs Python 3.11)
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def count(self) -> int:
        """Requests received so far."""
        with self._lock:
            return len(self.requests)

    def _admit(self, body: dict[str, Any], headers: dict[str, str]) -> str:
        with self._lock:
            index = len(self.requests)
            self.requests.append(body)
            self.headers.append(headers)
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
            self.arrivals.append(time.monotonic())
            if self._fault_rule is not None:
                fault = self._fault_rule(index, body) or OK
            else:
                fault = self._fault_queue.popleft() if self._fault_queue else OK
            self.served.append(fault)
            return fault

    def _done(self) -> None:
        with self._lock:
            self.in_flight -= 1

    def _wait(self, seconds: float) -> None:
        if seconds > 0:
            self._stopping.wait(seconds)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 512  # many clients connect at once; a short backlog drops SYNs
    judge: FakeJudgeServer


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as real servers do
    disable_nagle_algorithm = True  # headers and body go out as separate writes
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        return

    def do_POST(self) -> None:
        judge = self.server.judge
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length)
        if self.path.split("?")[0].rstrip("/") not in ("/v1/chat/completions", "/chat/completions"):
            self._send(404, {"error": {"message": f"no route {self.path}"}})
            return
        try:
            body = json.loads(raw)
        except json.JSONDecodeError:
            self._send(400, {"error": {"message": "request body is not JSON"}})
            return
        fault = judge._admit(body, {k.lower(): v for k, v in self.headers.items()})
        try:
            self._reply(judge, fault, body)
        finally:
            judge._done()

    def _reply(self, judge: FakeJudgeServer, fault: str, body: dict[str, Any]) -> None:
        judge._wait(judge.latency)
        if fault == DROP:
            self.close_connection = True  # the socket closes with no reply
            return
        if fault == RATE_LIMIT:
            self._send(
                429,
                {"error": {"message": "rate limited"}},
                {"Retry-After": f"{judge.retry_after:g}"},
            )
            return
        if fault == SERVER_ERROR:
            self._send(500, {"error": {"message": "internal error"}})
            return
        if fault == MALFORMED:
            self._send_raw(200, b'{"choices": [{"message": {"content": "Verdict: YE')
            return
        if fault == SLOW:
            judge._wait(judge.slow_seconds)
        reply = judge.responder(body)
        if isinstance(reply, str):
            reply = {"content": reply}
        prompt_chars = sum(len(str(m.get("content", ""))) for m in body.get("messages", []))
        choice: dict[str, Any] = {
            "index": 0,
            "message": {"role": "assistant", "content": reply["content"]},
            "finish_reason": "stop",
        }
        if reply.get("logprobs") is not None:
            choice["logprobs"] = {"content": reply["logprobs"]}
        self._send(
            200,
            {
                "id": f"chatcmpl-{len(judge.requests)}",
                "object": "chat.completion",
                "created": int(time.time()),
                "model": body.get("model", "fake-judge"),
                "choices": [choice],
                # ~4 characters a token, as a stand-in for a tokenizer
                "usage": {
                    "prompt_tokens": prompt_chars // 4 + 1,
                    "completion_tokens": len(reply["content"]) // 4 + 1,
                    "total_tokens": prompt_chars // 4 + len(reply["content"]) // 4 + 2,
                },
            },
        )

    def _send(
        self, status: int, payload: dict[str, Any], headers: dict[str, str] | None = None
    ) -> None:
        self._send_raw(status, json.dumps(payload).encode(), headers)

    def _send_raw(self, status: int, data: bytes, headers: dict[str, str] | None = None) -> None:
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            for key, value in (headers or {}).items():
                self.send_header(key, value)
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):  # the client gave up (timeout)
            self.close_connection = True


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
        server._httpd.serve_forever(poll_interval=0.05)
    except KeyboardInterrupt:
        pass
    finally:
        server._httpd.server_close()


if __name__ == "__main__":
    main()
