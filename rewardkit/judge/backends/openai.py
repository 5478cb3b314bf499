"""A judge behind an OpenAI-compatible chat-completions endpoint (vLLM, SGLang, Ollama,
hosted APIs), over ``httpx.AsyncClient``.

At most ``max_concurrency`` requests are in flight; each attempt gets ``timeout`` seconds
in all; 429, 5xx, malformed replies, dropped connections and timeouts are retried up to
``max_retries`` times, or for ``retry_for`` seconds, with exponential backoff and full
jitter, or after the server's ``Retry-After``. Other 4xx errors (a wrong model name, a bad
key) are not retried. After ``breaker_failures`` failures in a row the backend answers
``judge_unavailable`` at once for ``breaker_cooldown`` seconds (a circuit breaker).
``stream=True`` reads replies as server-sent events, so that a request given up on closes
its connection and a server that streams stops generating for it.

>>> backend = OpenAIBackend("qwen3-8b", base_url="http://127.0.0.1:8000/v1")
>>> sorted(backend.identity())  # the backend's part of the cache key
['backend', 'base_url', 'model', 'wire']
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
import os
import random
import ssl
import sys
import time
import weakref
from typing import Any

from rewardkit.judge.backends.base import (
    BAD_JUDGE_REPLY,
    JUDGE_UNAVAILABLE,
    RATE_LIMITED,
    TIMEOUT,
    JudgeBackend,
    JudgeFailure,
    JudgeReply,
    JudgeRequest,
    Outcome,
)
from rewardkit.judge.backends.breaker import CircuitBreaker
from rewardkit.judge.backends.openai_wire import StreamReader, http_failure, read_reply, retry_after

logger = logging.getLogger(__name__)

_POOL_SIZE = 2  # connections per httpx client


class OpenAIBackend(JudgeBackend):
    """Chat completions at ``base_url`` (ending in ``/v1``) with ``model``.

    Args:
        model: the judge model's name on the server.
        base_url: the API root, e.g. ``http://localhost:8000/v1`` for ``vllm serve``.
        api_key_env: the environment variable holding the API key (read when the client is
            made, never stored or pickled); ``None`` for servers without keys.
        max_concurrency: requests in flight at once; match it to what the server runs at
            once (vLLM's ``--max-num-seqs``), more only queues there and times out.
        timeout: seconds for one attempt, connection to last byte.
        max_retries: further attempts after a retryable failure.
        retry_for: instead of counting, retry for this many seconds after the first
            attempt (for a judge that may restart: 60 covers a restart of ~30 s).
        backoff_base, backoff_max: the backoff before retry ``k`` is uniform in
            ``[0, min(backoff_max, backoff_base * 2**k)]`` (full jitter).
        max_retry_after: the longest ``Retry-After`` honoured, in seconds.
        breaker_failures, breaker_cooldown: after that many failed attempts in a row
            (timeouts, 5xx, connection errors), answer new requests ``judge_unavailable``
            at once for ``breaker_cooldown`` seconds (with ``retry_for``: they wait for the
            cool-down to end instead, within their retry window); ``breaker_failures=0``
            turns it off.
        extra_body: extra JSON fields for every request (``{"chat_template_kwargs": ...}``);
            they win over the fields the backend writes (``max_tokens``, ``temperature``).
        max_tokens_field: the name of the reply-length field (``"max_completion_tokens"``
            for OpenAI's reasoning models).
        send_temperature: ``False`` for servers that reject ``temperature``.
        stream: read replies as server-sent events, so a request given up on (its
            timeout, the call's deadline) closes its connection and the server can stop.
    """

    kind = "openai"

    def __init__(
        self,
        model: str,
        base_url: str = "https://api.openai.com/v1",
        api_key_env: str | None = None,
        *,
        max_concurrency: int = 16,
        timeout: float = 60.0,
        max_retries: int = 4,
        retry_for: float | None = None,
        backoff_base: float = 0.5,
        backoff_max: float = 20.0,
        max_retry_after: float = 60.0,
        breaker_failures: int = 10,
        breaker_cooldown: float = 30.0,
        extra_body: dict[str, Any] | None = None,
        max_tokens_field: str = "max_tokens",
        send_temperature: bool = True,
        stream: bool = False,
    ) -> None:
        super().__init__(model)
        if not isinstance(base_url, str) or not base_url.startswith(("http://", "https://")):
            raise ValueError(f"base_url must be an http(s) URL, got {base_url!r}")
        if api_key_env is not None and not os.environ.get(api_key_env):
            raise ValueError(
                f"the judge's API key variable {api_key_env!r} is not set; export it or pass "
                "api_key_env=None for a server without keys"
            )
        if not isinstance(max_concurrency, int) or max_concurrency < 1:
            raise ValueError(f"max_concurrency must be a positive integer, got {max_concurrency!r}")
        if not timeout > 0:
            raise ValueError(f"timeout must be positive, got {timeout!r}")
        if not isinstance(max_retries, int) or max_retries < 0:
            raise ValueError(f"max_retries must be a non-negative integer, got {max_retries!r}")
        if retry_for is not None and not retry_for >= 0:
            raise ValueError(f"retry_for must be a number of seconds >= 0, got {retry_for!r}")
        if backoff_base < 0 or backoff_max < 0 or max_retry_after < 0:
            raise ValueError("backoff_base, backoff_max and max_retry_after must be >= 0")
        if max_tokens_field not in ("max_tokens", "max_completion_tokens"):
            raise ValueError(
                f"max_tokens_field must be 'max_tokens' or 'max_completion_tokens', "
                f"got {max_tokens_field!r}"
            )
        try:
            json.dumps(extra_body or {}, sort_keys=True)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"extra_body must be JSON: {exc}") from None
        try:
            import httpx  # noqa: F401  (the `judge` extra; fail here, not on the first request)
        except ModuleNotFoundError:
            raise ImportError(
                "the OpenAI-compatible judge backend needs httpx: pip install 'rewardkit[judge]'"
            ) from None
        self.base_url = base_url.rstrip("/")
        self.api_key_env = api_key_env
        self.max_concurrency = max_concurrency
        self.timeout = float(timeout)
        self.max_retries = max_retries
        self.retry_for = None if retry_for is None else float(retry_for)
        self.backoff_base = float(backoff_base)
        self.backoff_max = float(backoff_max)
        self.max_retry_after = float(max_retry_after)
        self.extra_body = dict(extra_body or {})
        self.max_tokens_field = max_tokens_field
        self.send_temperature = bool(send_temperature)
        self.stream = bool(stream)
        self.breaker = CircuitBreaker(breaker_failures, breaker_cooldown, f"judge at {base_url}")
        # One client and one semaphore per event loop: both are bound to the loop they run in.
        self._per_loop: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state["_per_loop"] = None
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._per_loop = weakref.WeakKeyDictionary()

    def identity(self) -> dict[str, str]:
        """Backend, model, server and every field sent beside the request's own: the cache
        key, so another server, checkpoint URL or ``extra_body`` never gets old replies."""
        wire = {
            "extra_body": self.extra_body,
            "max_tokens_field": self.max_tokens_field,
            "send_temperature": self.send_temperature,
        }
        return {
            **super().identity(),
            "base_url": self.base_url,
            "wire": json.dumps(wire, sort_keys=True, ensure_ascii=False),
        }

    def default_call_timeout(self) -> float:
        """The longest one request may take through its retries, plus one ``timeout`` of
        waiting for a connection slot: ``timeout * (max_retries + 2) + backoff_max *
        max_retries`` (440 s with the defaults), or with ``retry_for``: ``retry_for + 2 *
        timeout``."""
        if self.retry_for is not None:
            return self.retry_for + 2 * self.timeout
        return self.timeout * (self.max_retries + 2) + self.backoff_max * self.max_retries

    def _loop_state(self) -> tuple[list[Any], asyncio.Queue]:
        """This event loop's clients and free connection slots, made on first use."""
        loop = asyncio.get_running_loop()
        state = self._per_loop.get(loop)
        if state is None:
            import httpx

            headers = {}
            if self.api_key_env is not None:
                headers["Authorization"] = f"Bearer {os.environ.get(self.api_key_env, '')}"
            # httpcore's pool checks every connection (a poll() each) whenever it places a
            # request, so one pool of 64 connections spends more CPU than the requests
            # (measured: 5x slower at concurrency 64); many two-connection pools keep that
            # check short. Slot k always uses client k // _POOL_SIZE.
            n_clients = math.ceil(self.max_concurrency / _POOL_SIZE)
            # One TLS context for all clients (each would load the CA bundle); none for http.
            tls: Any = False
            if self.base_url.startswith("https://"):
                import certifi  # an httpx dependency

                tls = ssl.create_default_context(cafile=certifi.where())
            clients = [
                httpx.AsyncClient(
                    base_url=self.base_url,
                    headers=headers,
                    verify=tls,
                    timeout=httpx.Timeout(self.timeout),
                    limits=httpx.Limits(
                        max_connections=_POOL_SIZE, max_keepalive_connections=_POOL_SIZE
                    ),
                )
                for _ in range(n_clients)
            ]
            slots: asyncio.Queue = asyncio.Queue()
            for slot in range(self.max_concurrency):
                slots.put_nowait(slot)
            state = (clients, slots)
            self._per_loop[loop] = state
        return state

    async def aclose(self) -> None:
        loop = asyncio.get_running_loop()
        state = self._per_loop.pop(loop, None)
        if state is not None:
            for client in state[0]:
                await client.aclose()

    def _body(self, request: JudgeRequest) -> dict[str, Any]:
        body: dict[str, Any] = {"model": self.model, "messages": list(request.messages)}
        if self.send_temperature:
            body["temperature"] = request.temperature
        body[self.max_tokens_field] = request.max_tokens
        if request.top_logprobs:
            body["logprobs"] = True
            body["top_logprobs"] = request.top_logprobs
        if request.seed is not None:
            body["seed"] = request.seed
        if self.stream:
            body["stream"] = True
        body.update(self.extra_body)  # the user's fields win
        return body

    async def complete(self, request: JudgeRequest) -> Outcome:
        clients, slots = self._loop_state()
        body = self._body(request)
        started = time.monotonic()
        attempt = 0
        answered = False  # the last attempt got an error response (its connection may close)
        checked = False  # the breaker is asked once, when the request is about to be sent
        while True:
            slot = await slots.get()
            if not checked and not self.breaker.allows():
                checked = True
                slots.put_nowait(slot)
                cooldown = self.breaker.remaining()
                window_left = math.inf if self.retry_for is None else self.retry_for
                window_left -= time.monotonic() - started
                if self.retry_for is None or cooldown >= window_left:
                    self.usage.add(failures=1)
                    return JudgeFailure(JUDGE_UNAVAILABLE, self.breaker.why(), 0)
                # Willing to wait (retry_for): wait out the cool-down sending nothing, then
                # go as a probe, retrying within the window as any request does.
                await asyncio.sleep(cooldown + random.uniform(0, self.backoff_base))
                continue
            checked = True
            attempt += 1
            try:
                self.usage.add(requests=1, retries=int(attempt > 1))
                client = clients[slot // _POOL_SIZE]
                outcome, wait_hint, answered = await self._attempt(client, body, attempt, answered)
            finally:
                slots.put_nowait(slot)
            if isinstance(outcome, JudgeReply):
                self.breaker.record_success()
                self.usage.add(
                    prompt_tokens=outcome.prompt_tokens, completion_tokens=outcome.completion_tokens
                )
                return outcome
            if outcome.reason in (JUDGE_UNAVAILABLE, TIMEOUT):
                self.breaker.record_failure(outcome.detail)
            if outcome.reason not in _RETRYABLE:
                break
            # A request already retrying keeps to its own budget; the breaker only stops
            # new requests from queueing up behind a judge that is down.
            wait = self._backoff(attempt - 1, wait_hint)
            if not self._may_retry(attempt, time.monotonic() + wait - started):
                break
            await asyncio.sleep(wait)
        self.usage.add(failures=1)
        return outcome

    def _may_retry(self, attempts: int, elapsed_at_retry: float) -> bool:
        if self.retry_for is not None:
            return elapsed_at_retry < self.retry_for
        return attempts <= self.max_retries

    async def _attempt(
        self, client: Any, body: dict[str, Any], attempt: int, answered: bool
    ) -> tuple[Outcome, float | None, bool]:
        """One attempt: (reply or failure, the server's ``Retry-After`` if it gave one,
        whether the server answered at all)."""
        import httpx

        url = f"{self.base_url}/chat/completions"
        for resend in range(2):
            try:
                outcome, wait_hint = await _within(self.timeout, self._post(client, body, attempt))
                return outcome, wait_hint, True
            except (asyncio.TimeoutError, httpx.TimeoutException) as exc:
                detail = f"no reply from {url} within {self.timeout:g} s ({type(exc).__name__})"
                return JudgeFailure(TIMEOUT, detail, attempt), None, False
            except httpx.TransportError as exc:
                stale = isinstance(exc, (httpx.RemoteProtocolError, httpx.ReadError))
                if stale and answered and resend == 0:
                    # The server answered the last attempt with an error and closed that
                    # keep-alive connection: send again at once on a fresh one, uncounted.
                    logger.debug("judge connection to %s was closed (%s); resending", url, exc)
                    continue
                detail = f"{type(exc).__name__} from {url}: {exc}"
                return JudgeFailure(JUDGE_UNAVAILABLE, detail, attempt), None, False
        raise AssertionError("unreachable")

    async def _post(
        self, client: Any, body: dict[str, Any], attempt: int
    ) -> tuple[Outcome, float | None]:
        async with client.stream("POST", "/chat/completions", json=body) as response:
            status = response.status_code
            if status == 200 and self.stream:
                reader = StreamReader()
                async for line in response.aiter_lines():
                    reader.feed(line)
                reply = reader.reply()
            else:
                content = await response.aread()
                if status != 200:
                    text = content.decode("utf-8", "replace")
                    wait = retry_after(response.headers.get("retry-after"))
                    return http_failure(status, text, self.base_url, self.model, attempt), wait
                reply = read_reply(content)
        if isinstance(reply, str):
            url = f"{self.base_url}/chat/completions"
            return JudgeFailure(BAD_JUDGE_REPLY, f"{reply} (from {url})", attempt), None
        return reply, None

    def _backoff(self, attempt: int, wait_hint: float | None) -> float:
        if wait_hint is not None:
            # The server said when; a little jitter keeps waiting clients from returning at once.
            wait = min(wait_hint, self.max_retry_after)
            return wait + random.uniform(0, 0.1 * wait)
        # Full jitter: sleep ~ U(0, min(cap, base * 2^k)) (Brooker, "Exponential Backoff
        # and Jitter", AWS Architecture Blog, 2015).
        return random.uniform(0, min(self.backoff_max, self.backoff_base * 2**attempt))


_RETRYABLE = (JUDGE_UNAVAILABLE, TIMEOUT, RATE_LIMITED, BAD_JUDGE_REPLY)


async def _within(seconds: float, awaitable: Any) -> Any:
    """``await awaitable``, raising ``TimeoutError`` after ``seconds`` in all."""
    if sys.version_info >= (3, 11):  # no extra task per request
        async with asyncio.timeout(seconds):
            return await awaitable
    return await asyncio.wait_for(awaitable, seconds)
