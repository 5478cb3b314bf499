"""A judge behind an OpenAI-compatible chat-completions endpoint (vLLM, SGLang, Ollama,
hosted APIs), over ``httpx.AsyncClient``.

At most ``max_concurrency`` requests are in flight; each gets ``timeout`` seconds in all;
429, 5xx, malformed replies, dropped connections and timeouts are retried up to
``max_retries`` times with exponential backoff and full jitter, or after the server's
``Retry-After``. Other 4xx errors (a wrong model name, a bad key) are not retried.

>>> backend = OpenAIBackend("qwen3-8b", base_url="http://127.0.0.1:8000/v1")
>>> backend.identity()
{'backend': 'openai', 'model': 'qwen3-8b'}
"""

from __future__ import annotations

import asyncio
import email.utils
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
    JUDGE_REJECTED,
    JUDGE_UNAVAILABLE,
    RATE_LIMITED,
    TIMEOUT,
    JudgeBackend,
    JudgeFailure,
    JudgeReply,
    JudgeRequest,
    Outcome,
)
from rewardkit.judge.parse import TokenLogprob

logger = logging.getLogger(__name__)

_POOL_SIZE = 2  # connections per httpx client


class OpenAIBackend(JudgeBackend):
    """Chat completions at ``base_url`` (ending in ``/v1``) with ``model``.

    Args:
        model: the judge model's name on the server.
        base_url: the API root, e.g. ``http://localhost:8000/v1`` for ``vllm serve``.
        api_key_env: the environment variable holding the API key (read when the client is
            made, never stored or pickled); ``None`` for servers without keys.
        max_concurrency: requests in flight at once.
        timeout: seconds for one attempt, connection to last byte.
        max_retries: further attempts after a retryable failure.
        backoff_base, backoff_max: the backoff before retry ``k`` is uniform in
            ``[0, min(backoff_max, backoff_base * 2**k)]`` (full jitter).
        max_retry_after: the longest ``Retry-After`` honoured, in seconds.
        extra_body: extra JSON fields for every request (``{"chat_template_kwargs": ...}``).
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
        backoff_base: float = 0.5,
        backoff_max: float = 20.0,
        max_retry_after: float = 60.0,
        extra_body: dict[str, Any] | None = None,
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
        if backoff_base < 0 or backoff_max < 0 or max_retry_after < 0:
            raise ValueError("backoff_base, backoff_max and max_retry_after must be >= 0")
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
        self.backoff_base = float(backoff_base)
        self.backoff_max = float(backoff_max)
        self.max_retry_after = float(max_retry_after)
        self.extra_body = dict(extra_body or {})
        # One client and one semaphore per event loop: both are bound to the loop they run in.
        self._per_loop: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state["_per_loop"] = None
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._per_loop = weakref.WeakKeyDictionary()

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
        body: dict[str, Any] = {
            **self.extra_body,
            "model": self.model,
            "messages": list(request.messages),
            "temperature": request.temperature,
            "max_tokens": request.max_tokens,
        }
        if request.top_logprobs:
            body["logprobs"] = True
            body["top_logprobs"] = request.top_logprobs
        if request.seed is not None:
            body["seed"] = request.seed
        return body

    async def complete(self, request: JudgeRequest) -> Outcome:
        import httpx

        clients, slots = self._loop_state()
        body = self._body(request)
        failure = JudgeFailure(JUDGE_UNAVAILABLE, "no attempt made", 0)
        for attempt in range(self.max_retries + 1):
            retry_after: float | None = None
            slot = await slots.get()
            try:
                self.usage.add(requests=1, retries=int(attempt > 0))
                try:
                    client = clients[slot // _POOL_SIZE]
                    response = await _within(
                        self.timeout, client.post("/chat/completions", json=body)
                    )
                except (asyncio.TimeoutError, httpx.TimeoutException) as exc:
                    failure = JudgeFailure(
                        TIMEOUT,
                        f"no reply within {self.timeout:g} s ({type(exc).__name__})",
                        attempt + 1,
                    )
                except httpx.TransportError as exc:
                    failure = JudgeFailure(
                        JUDGE_UNAVAILABLE, f"{type(exc).__name__}: {exc}", attempt + 1
                    )
                else:
                    status = response.status_code
                    if status == 200:
                        reply = _read_reply(response.content)
                        if isinstance(reply, JudgeReply):
                            self.usage.add(
                                prompt_tokens=reply.prompt_tokens,
                                completion_tokens=reply.completion_tokens,
                            )
                            return reply
                        failure = JudgeFailure(BAD_JUDGE_REPLY, reply, attempt + 1)
                    elif status == 429:
                        retry_after = _retry_after(response.headers.get("retry-after"))
                        failure = JudgeFailure(RATE_LIMITED, "HTTP 429", attempt + 1)
                    elif status >= 500 or status == 408:  # 408: the server gave up waiting
                        retry_after = _retry_after(response.headers.get("retry-after"))
                        failure = JudgeFailure(JUDGE_UNAVAILABLE, f"HTTP {status}", attempt + 1)
                    else:  # 4xx: the request itself is wrong; retrying cannot help
                        self.usage.add(failures=1)
                        return JudgeFailure(
                            JUDGE_REJECTED, f"HTTP {status}: {response.text[:300]}", attempt + 1
                        )
            finally:
                slots.put_nowait(slot)
            if attempt < self.max_retries:
                await asyncio.sleep(self._backoff(attempt, retry_after))
        self.usage.add(failures=1)
        logger.debug("judge request failed after %d attempts: %s", failure.attempts, failure.detail)
        return failure

    def _backoff(self, attempt: int, retry_after: float | None) -> float:
        if retry_after is not None:
            # The server said when; a little jitter keeps waiting clients from returning at once.
            wait = min(retry_after, self.max_retry_after)
            return wait + random.uniform(0, 0.1 * wait)
        # Full jitter: sleep ~ U(0, min(cap, base * 2^k)) (Brooker, "Exponential Backoff
        # and Jitter", AWS Architecture Blog, 2015).
        return random.uniform(0, min(self.backoff_max, self.backoff_base * 2**attempt))


async def _within(seconds: float, awaitable: Any) -> Any:
    """``await awaitable``, raising ``TimeoutError`` after ``seconds`` in all."""
    if sys.version_info >= (3, 11):  # no extra task per request
        async with asyncio.timeout(seconds):
            return await awaitable
    return await asyncio.wait_for(awaitable, seconds)


def _retry_after(value: str | None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        seconds = when.timestamp() - time.time()
    if not math.isfinite(seconds):
        return None
    return max(0.0, seconds)


def _read_reply(content: bytes) -> JudgeReply | str:
    """A :class:`JudgeReply` from a response body, or what is wrong with the body."""
    try:
        data = json.loads(content)
        choice = data["choices"][0]
        message = choice["message"]
        text = message.get("content")
        reasoning = message.get("reasoning_content") or message.get("reasoning")
        if not isinstance(reasoning, str):
            reasoning = ""
        if text is None and reasoning:  # a thinking judge that ran out of tokens
            return JudgeReply(f"<think>{reasoning}", *_usage_and_logprobs(data, choice))
        if text is None:
            return "the reply has no message content"
        if not isinstance(text, str):
            return f"message content is {type(text).__name__}, not text"
        if reasoning and "</think>" not in text:
            text = f"<think>{reasoning}</think>{text}"  # keep a reasoning parser's split visible
        return JudgeReply(text, *_usage_and_logprobs(data, choice))
    except (ValueError, KeyError, IndexError, TypeError, AttributeError) as exc:
        return f"malformed reply body ({type(exc).__name__}: {str(exc)[:200]})"


def _usage_and_logprobs(data: dict, choice: dict) -> tuple[tuple | None, int, int]:
    """(token log-probabilities or None, prompt tokens, completion tokens) of a reply."""
    usage = data.get("usage") or {}
    logprobs = None
    content_logprobs = (choice.get("logprobs") or {}).get("content")
    if content_logprobs:
        logprobs = tuple(
            TokenLogprob(
                str(t["token"]),
                float(t["logprob"]),
                tuple((str(x["token"]), float(x["logprob"])) for x in t.get("top_logprobs") or ()),
            )
            for t in content_logprobs
        )
    return (
        logprobs,
        int(usage.get("prompt_tokens") or 0),
        int(usage.get("completion_tokens") or 0),
    )
