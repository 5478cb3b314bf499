"""Reading an OpenAI-compatible server's answers: reply bodies, streamed chunks, errors.

Replies become :class:`JudgeReply` (with ``finish_reason``; a reply that only thought
before it was cut off keeps its unclosed ``<think>``); error responses become
:class:`JudgeFailure` with the URL, the status, the server's message and, for a 4xx
that no retry can fix (a wrong model name, route or field), ``permanent=True`` and a hint.

>>> read_reply(b'{"choices": [{"message": {"content": "[[7]]"}, "finish_reason": "stop"}]}')
JudgeReply(text='[[7]]', logprobs=None, prompt_tokens=0, completion_tokens=0, cached=False, \
finish_reason='stop')
>>> http_failure(404, '{"detail": "Not Found"}', "http://h:8000", "m", 1).detail
'HTTP 404 from http://h:8000/chat/completions: {"detail": "Not Found"} (hint: base_url \
usually ends in /v1, e.g. http://h:8000/v1)'
"""

from __future__ import annotations

import email.utils
import json
import math
import time
from typing import Any

from rewardkit.judge.backends.base import (
    JUDGE_REJECTED,
    JUDGE_UNAVAILABLE,
    RATE_LIMITED,
    JudgeFailure,
    JudgeReply,
)
from rewardkit.judge.parse import TokenLogprob

_BODY_CHARS = 500  # of an error body, in failure details and logs
# A 400 about the request's size is about that request; other 400s naming these are not.
_PER_REQUEST = ("context length", "context window", "too long", "maximum context", "exceeds")
_CONFIG_WORDS = ("model", "unsupported", "unknown", "unexpected", "unrecognized", "not supported")
_NEVER = (401, 403, 404, 405, 422)


def retry_after(value: str | None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or an HTTP date).

    >>> retry_after("2"), retry_after("soon")
    (2.0, None)
    """
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


def http_failure(status: int, text: str, base_url: str, model: str, attempt: int) -> JudgeFailure:
    """The failure an error response means (not for 200)."""
    url = f"{base_url}/chat/completions"
    body = " ".join(text.split())[:_BODY_CHARS] or "(empty body)"
    detail = f"HTTP {status} from {url}: {body}"
    if status == 429:
        return JudgeFailure(RATE_LIMITED, detail, attempt)
    if status >= 500 or status == 408:  # 408: the server gave up waiting
        return JudgeFailure(JUDGE_UNAVAILABLE, detail, attempt)
    lowered = body.lower()
    permanent = status in _NEVER or (
        status == 400
        and not any(word in lowered for word in _PER_REQUEST)
        and (model.lower() in lowered or any(word in lowered for word in _CONFIG_WORDS))
    )
    if status == 404 and not base_url.rstrip("/").endswith("/v1"):
        detail += f" (hint: base_url usually ends in /v1, e.g. {base_url.rstrip('/')}/v1)"
    elif status in (401, 403):
        detail += " (hint: check the API key: api_key_env names the variable holding it)"
    elif permanent:
        detail += (
            " (hint: check model= against the server's model list and the fields in "
            "extra_body; OpenAI reasoning models want max_tokens_field='max_completion_tokens' "
            "and send_temperature=False)"
        )
    return JudgeFailure(JUDGE_REJECTED, detail, attempt, permanent=permanent)


def read_reply(content: bytes) -> JudgeReply | str:
    """A :class:`JudgeReply` from a response body, or what is wrong with the body."""
    try:
        data = json.loads(content)
        choice = data["choices"][0]
        message = choice["message"]
        return _reply(
            message.get("content"),
            message.get("reasoning_content") or message.get("reasoning"),
            choice.get("finish_reason"),
            (choice.get("logprobs") or {}).get("content"),
            data.get("usage") or {},
        )
    except (ValueError, KeyError, IndexError, TypeError, AttributeError) as exc:
        return f"malformed reply body ({type(exc).__name__}: {str(exc)[:200]})"


class StreamReader:
    """Assembles a reply from server-sent ``data:`` lines of a streamed chat completion.

    >>> stream = StreamReader()
    >>> for line in ['data: {"choices": [{"delta": {"content": "[["}}]}',
    ...              'data: {"choices": [{"delta": {"content": "7]]"}, "finish_reason": "stop"}]}',
    ...              'data: [DONE]']:
    ...     stream.feed(line)
    >>> stream.reply().text
    '[[7]]'
    """

    def __init__(self) -> None:
        self.content: list[str] = []
        self.reasoning: list[str] = []
        self.logprobs: list[dict] = []
        self.finish_reason: str | None = None
        self.usage: dict = {}
        self.saw_content = False

    def feed(self, line: str) -> None:
        if not line.startswith("data:"):
            return
        data = line[5:].strip()
        if not data or data == "[DONE]":
            return
        chunk = json.loads(data)
        self.usage = chunk.get("usage") or self.usage
        for choice in chunk.get("choices") or ():
            delta = choice.get("delta") or {}
            if isinstance(delta.get("content"), str):
                self.saw_content = True
                self.content.append(delta["content"])
            thought = delta.get("reasoning_content") or delta.get("reasoning")
            if isinstance(thought, str):
                self.reasoning.append(thought)
            self.logprobs.extend((choice.get("logprobs") or {}).get("content") or ())
            self.finish_reason = choice.get("finish_reason") or self.finish_reason

    def reply(self) -> JudgeReply | str:
        try:
            return _reply(
                "".join(self.content) if self.saw_content else None,
                "".join(self.reasoning),
                self.finish_reason,
                self.logprobs,
                self.usage,
            )
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            return f"malformed streamed reply ({type(exc).__name__}: {str(exc)[:200]})"


def _reply(
    text: Any, reasoning: Any, finish_reason: Any, logprobs: Any, usage: dict
) -> JudgeReply | str:
    if not isinstance(reasoning, str):
        reasoning = ""
    finish = finish_reason if isinstance(finish_reason, str) else None
    if text is not None and not isinstance(text, str):
        return f"message content is {type(text).__name__}, not text"
    if not text and reasoning:  # a thinking judge that ran out of tokens: keep <think> open
        text = f"<think>{reasoning}"
    elif text is None:
        return "the reply has no message content"
    elif reasoning and "</think>" not in text:
        text = f"<think>{reasoning}</think>{text}"  # keep a reasoning parser's split visible
    tokens = None
    if logprobs:
        tokens = tuple(
            TokenLogprob(
                str(t["token"]),
                float(t["logprob"]),
                tuple((str(x["token"]), float(x["logprob"])) for x in t.get("top_logprobs") or ()),
            )
            for t in logprobs
        )
    return JudgeReply(
        text,
        tokens,
        int(usage.get("prompt_tokens") or 0),
        int(usage.get("completion_tokens") or 0),
        finish_reason=finish,
    )
