r"""A verifier model behind the rules: asked only when the rules say ``wrong_answer``.

The rules decide first. Only an answer that was found and rejected (``wrong_answer``) goes
to the model, with the gold and the question: a missing answer, a hedge
(``multiple_answers``), a format failure, ``too_long`` or ``timeout`` never does, so the
model can neither rescue a missing format nor be used to get around it. The verdict's
reason says who decided:

- ``ok`` / ``wrong_answer``: the rules (the model was not asked);
- ``ok_by_model`` / ``wrong_by_model`` / ``invalid_by_model``: the model (``invalid``:
  CompassVerifier's C, a truncated, repetitive or refusing answer; scored as wrong);
- ``model_unavailable``: the backend failed (the rules' verdict stands; logged);
- ``model_unparseable``: the reply held no verdict in the format's words (the rules'
  verdict stands);
- ``model_truncated``: the reply was cut off by ``max_tokens`` (``finish_reason``
  ``length``) and never read as a verdict, also after one re-ask with
  ``truncated_max_tokens`` (the rules' verdict stands; logged with the hint to raise
  ``max_tokens``).

Requests go through the judge's :class:`~rewardkit.judge.engine.JudgeClient`, as the
judge reward's do: one ``call_timeout`` bounds a whole review (what has not come back is
``model_unavailable``), the backend's circuit breaker answers at once after
``breaker_failures`` failures in a row, and a first call that no request can get past
(a wrong model name, a URL without ``/v1``) raises
:class:`~rewardkit.verify.errors.ServerConfigError` (the judge's ``JudgeConfigError``)
instead of failing silently at every step.

Layering: this module sits in ``verify`` and imports nothing from ``judge`` when it is
imported. A :class:`ModelVerifier` takes any backend object with the judge backend's small
protocol (``identity()``, ``async complete_many(requests, on_result)``, ``usage``); the
judge's OpenAI-compatible or transformers backend, the cache and the fences are imported
when a verifier is built from a model name or first asked.

>>> from rewardkit.judge.testing_server import FakeJudgeServer
>>> from rewardkit.verify import verify
>>> with FakeJudgeServer() as server:
...     mv = ModelVerifier("tinyv", "zhangchenxu/TinyV-1.5B", base_url=server.base_url,
...                        cache=False)
...     verify(r"\boxed{12 apples}", "12", model_verifier=mv, units="match").reason
'ok_by_model'
"""

from __future__ import annotations

import dataclasses
import json
import logging
import threading
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Protocol

from rewardkit.verify.verifier_formats import FORMATS, VERDICTS, format_names, neutralise

if TYPE_CHECKING:
    from rewardkit.verify.api import Verdict

__all__ = ["MODEL_REASONS", "ModelVerifier", "VerifierBackend", "model_verifier_from"]

logger = logging.getLogger(__name__)

OK_BY_MODEL = "ok_by_model"
WRONG_BY_MODEL = "wrong_by_model"
INVALID_BY_MODEL = "invalid_by_model"
MODEL_UNAVAILABLE = "model_unavailable"
MODEL_UNPARSEABLE = "model_unparseable"
MODEL_TRUNCATED = "model_truncated"
MODEL_REASONS = (
    OK_BY_MODEL,
    WRONG_BY_MODEL,
    INVALID_BY_MODEL,
    MODEL_UNAVAILABLE,
    MODEL_UNPARSEABLE,
    MODEL_TRUNCATED,
)
FORWARDED = "wrong_answer"  # the one rules' outcome the model may overturn
_REASON_OF = dict(zip(VERDICTS, (OK_BY_MODEL, WRONG_BY_MODEL, INVALID_BY_MODEL), strict=True))


class VerifierBackend(Protocol):
    """What a :class:`ModelVerifier` needs of a backend (the judge backends have it)."""

    usage: Any

    def identity(self) -> dict[str, str]: ...

    async def complete_many(self, requests: Sequence[Any], on_result: Any = None) -> list: ...

    async def aclose(self) -> None: ...


@dataclasses.dataclass
class VerifierStats:
    """Running totals of a verifier's work: pairs seen, forwarded to the model, overturned
    (rules' wrong, model's right), failures, seconds spent waiting for the model, and the
    cache hits. Thread-safe; tokens are read from the backend's usage."""

    seen: int = 0
    forwarded: int = 0
    overturned: int = 0
    unavailable: int = 0
    unparseable: int = 0
    truncated: int = 0
    cache_hits: int = 0
    latency_s: float = 0.0
    _lock: threading.Lock = dataclasses.field(default_factory=threading.Lock, repr=False)

    def add(self, **amounts: float) -> None:
        with self._lock:
            for key, amount in amounts.items():
                setattr(self, key, getattr(self, key) + amount)

    def snapshot(self) -> dict[str, float]:
        with self._lock:
            return {
                f.name: getattr(self, f.name)
                for f in dataclasses.fields(self)
                if not f.name.startswith("_")
            }

    def __getstate__(self) -> dict[str, float]:
        return self.snapshot()

    def __setstate__(self, state: dict[str, float]) -> None:
        self.__init__(**state)


class ModelVerifier:
    """Ask a verifier model about the pairs the rules reject.

    Args:
        format: the prompt format, one of ``tinyv``, ``xverify``, ``compassverifier``,
            ``general_verifier``, ``generic`` (see :mod:`rewardkit.verify.verifier_formats`).
        model: the model's name on the server (or a local path for ``transformers``).
        backend: ``"openai"`` (an OpenAI-compatible server: vLLM, SGLang, Ollama, hosted),
            ``"transformers"`` (a local model), or a ready backend object.
        base_url: the API root of an ``openai`` backend, e.g. ``http://localhost:8000/v1``.
        api_key_env: the environment variable holding the API key, if the server wants one.
        cache: ``True`` (the judge's default SQLite cache), a path, a ``JudgeCache`` or
            ``False``: verdicts are stored there and never asked twice.
        max_tokens: the reply budget (default: the format's, from its model card).
        temperature: the sampling temperature (0: greedy, as the cards use).
        max_answer_chars, max_question_chars: texts are cut to this size for the model.
        call_timeout: seconds for one whole review (connection slots, retries and re-asks
            included), as the judge's: default the backend's (440 s for the OpenAI
            backend's defaults; ``retry_for + 2 * timeout`` with ``retry_for``).
        truncated_max_tokens: ``max_tokens`` of the one re-ask of a reply cut off by
            ``max_tokens`` (default: twice ``max_tokens``; ``0``: report
            ``model_truncated`` without asking again).
        **backend_options: passed to the backend (``max_concurrency``, ``timeout``,
            ``max_retries``, ``retry_for``, ``breaker_failures``, ``breaker_cooldown``, ...).
    """

    def __init__(
        self,
        format: str,
        model: str | None = None,
        *,
        backend: VerifierBackend | str = "openai",
        base_url: str | None = None,
        api_key_env: str | None = None,
        cache: Any = True,
        max_tokens: int | None = None,
        temperature: float = 0.0,
        max_answer_chars: int = 2_000,
        max_question_chars: int = 8_000,
        call_timeout: float | None = None,
        truncated_max_tokens: int | None = None,
        **backend_options: Any,
    ) -> None:
        if format not in FORMATS:
            raise ValueError(
                f"unknown model verifier format {format!r}: use one of {', '.join(format_names())}"
            )
        self.format = FORMATS[format]
        if isinstance(backend, str):
            if not model:
                raise ValueError(
                    f"a {format!r} model verifier needs model=... (the verifier model's name; "
                    f"formats: {', '.join(format_names())})"
                )
            from rewardkit.judge.backends import make_backend

            backend = make_backend(
                backend, model=model, base_url=base_url, api_key_env=api_key_env, **backend_options
            )
        elif model is not None or base_url is not None or backend_options:
            raise ValueError("give either a ready backend or model/base_url/options, not both")
        for need in ("identity", "complete_many"):
            if not callable(getattr(backend, need, None)):
                raise TypeError(f"a model verifier backend needs {need}(), got {backend!r}")
        self.max_tokens = int(max_tokens or self.format.max_tokens)
        if self.max_tokens < 1 or temperature < 0:
            raise ValueError("max_tokens must be positive and temperature >= 0")
        from rewardkit.judge.engine import JudgeClient

        self.client = JudgeClient(
            backend,
            _resolve_cache(cache),
            reask=1,
            reask_unparsed=False,
            call_timeout=call_timeout,
            truncated_max_tokens=2 * self.max_tokens
            if truncated_max_tokens is None
            else truncated_max_tokens,
        )
        self.temperature = float(temperature)
        self.max_answer_chars = max_answer_chars
        self.max_question_chars = max_question_chars
        self.stats = VerifierStats()
        self._warned_truncated = False

    @property
    def backend(self) -> VerifierBackend:
        return self.client.backend

    @property
    def cache(self) -> Any:
        return self.client.cache

    def __repr__(self) -> str:
        return f"ModelVerifier({self.format.name!r}, backend={self.backend!r})"

    # -- prompts -------------------------------------------------------------------

    def messages(self, question: str | None, answer: str, gold: str) -> list[dict[str, str]]:
        """The chat messages asking about one pair (untrusted texts fenced)."""
        from rewardkit.judge.prompts import fence, render

        def fenced(text: str, label: str, limit: int) -> str:
            if len(text) > limit:
                text = f"{text[:limit]}\n[... {len(text) - limit} more characters cut ...]"
            return fence(neutralise(text, self.format.markers), label)

        user = render(
            self.format.template,
            question=fenced(question or "(not given)", "question", self.max_question_chars),
            gold=fenced(gold, "gold", self.max_answer_chars),
            answer=fenced(answer, "answer", self.max_answer_chars),
        )
        system = [{"role": "system", "content": self.format.system}] if self.format.system else []
        return [*system, {"role": "user", "content": user}]

    # -- the cascade ---------------------------------------------------------------

    def review(
        self, verdicts: Sequence[Verdict], questions: Sequence[str | None] | None = None
    ) -> list[Verdict]:
        """The rules' ``verdicts`` with each ``wrong_answer`` decided by the model (all of a
        batch asked at once, under the backend's concurrency limit, within ``call_timeout``).
        Never raises on model faults, but for ``ServerConfigError`` at a first call that
        no request can get past. Works from synchronous code, also inside a running event loop."""
        from rewardkit.judge.engine import run_sync

        async def ask_and_close() -> list[Verdict]:
            try:
                return await self.areview(verdicts, questions)
            finally:
                close = getattr(self.backend, "aclose", None)
                if close is not None:
                    await close()

        if not any(v.reason == FORWARDED for v in verdicts):
            self.stats.add(seen=len(verdicts))
            return list(verdicts)
        return run_sync(ask_and_close)

    async def areview(
        self, verdicts: Sequence[Verdict], questions: Sequence[str | None] | None = None
    ) -> list[Verdict]:
        """:meth:`review`, awaited on the caller's event loop."""
        from rewardkit.judge.backends.base import TRUNCATED, JudgeConfigError, JudgeRequest

        if questions is not None and len(questions) != len(verdicts):
            raise ValueError(f"{len(questions)} questions for {len(verdicts)} verdicts")
        forward = [i for i, v in enumerate(verdicts) if v.reason == FORWARDED]
        self.stats.add(seen=len(verdicts), forwarded=len(forward))
        if not forward:
            return list(verdicts)
        requests = [
            JudgeRequest(
                tuple(
                    self.messages(
                        questions[i] if questions is not None else None,
                        verdicts[i].answer or "",
                        verdicts[i].gold or "",
                    )
                ),
                temperature=self.temperature,
                max_tokens=self.max_tokens,
            )
            for i in forward
        ]
        hits, start = self.client.cache_hits, time.monotonic()
        try:
            answers = await self.client.ask(requests, self._read)
        except JudgeConfigError:
            raise  # a misconfigured verifier stops the run at its first call, as the judge
        except Exception:  # a backend that breaks its promise must not end a run
            logger.exception("model verifier backend %r failed", self.backend)
            answers = None
        self.stats.add(latency_s=time.monotonic() - start, cache_hits=self.client.cache_hits - hits)
        reviewed = list(verdicts)
        failures: dict[str, int] = {}
        for n, i in enumerate(forward):
            answer = answers[n] if answers is not None else None
            if answer is None or answer.failure is not None:
                reason = answer.failure.reason if answer is not None else "internal_error"
                failures[reason] = failures.get(reason, 0) + 1
                reviewed[i] = dataclasses.replace(verdicts[i], reason=MODEL_UNAVAILABLE)
            elif answer.parsed is None:
                truncated = answer.reason == TRUNCATED
                self.stats.add(**{"truncated" if truncated else "unparseable": 1})
                if truncated and not self._warned_truncated:
                    self._warned_truncated = True
                    logger.warning(
                        "model verifier %r: a reply was cut off by max_tokens (%d) before its "
                        "verdict: raise max_tokens (or truncated_max_tokens); the rules' "
                        "verdict stands",
                        self.backend,
                        self.max_tokens,
                    )
                reviewed[i] = dataclasses.replace(
                    verdicts[i], reason=MODEL_TRUNCATED if truncated else MODEL_UNPARSEABLE
                )
            else:
                correct = answer.parsed == "correct"
                self.stats.add(overturned=int(correct))
                reviewed[i] = dataclasses.replace(
                    verdicts[i], correct=correct, reason=_REASON_OF[answer.parsed]
                )
        if failures:
            self.stats.add(unavailable=sum(failures.values()))
            logger.warning(
                "model verifier %r unavailable for %d of %d pairs (%s): the rules' verdict stands",
                self.backend,
                sum(failures.values()),
                len(forward),
                ", ".join(f"{k}: {n}" for k, n in failures.items()),
            )
        return reviewed

    def _read(self, index: int, reply: Any) -> tuple[str | None, str]:
        """The verdict of one reply and why; a reply cut off by ``max_tokens`` has none
        (its last words may be a verdict the model was about to take back)."""
        if reply.truncated:
            return None, "truncated"
        reading = self.format.parse(reply.text)
        if reading.verdict is None:
            logger.debug("model verifier reply unreadable (%s): %.200r", reading.reason, reply.text)
        return reading.verdict, reading.reason

    def spent(self) -> dict[str, float]:
        """What this verifier did so far: :class:`VerifierStats` and the backend's tokens."""
        usage = getattr(self.backend, "usage", None)
        tokens = usage.snapshot() if hasattr(usage, "snapshot") else {}
        return {
            **self.stats.snapshot(),
            "prompt_tokens": tokens.get("prompt_tokens", 0),
            "completion_tokens": tokens.get("completion_tokens", 0),
        }


def _resolve_cache(cache: Any) -> Any:
    if cache is False or cache is None:
        return None
    from rewardkit.judge.engine import resolve_cache

    return resolve_cache(cache)


def model_verifier_from(spec: ModelVerifier | str | dict | None) -> ModelVerifier | None:
    """A :class:`ModelVerifier` from a ready one, ``None``, a mapping of its arguments (a
    YAML config) or a ``FORMAT[:MODEL]@URL[,key=value...]`` string (the command line;
    values read as JSON when they parse). Without ``MODEL`` the format's model card names
    the model.

    >>> model_verifier_from("tinyv:TinyV@http://127.0.0.1:8000/v1,cache=false").backend
    OpenAIBackend(model='TinyV')
    >>> model_verifier_from({"format": "xverify", "model": "xv", "base_url": "http://h/v1",
    ...                      "cache": False}).format.name
    'xverify'
    """
    if spec is None or isinstance(spec, ModelVerifier):
        return spec
    if isinstance(spec, dict):
        return ModelVerifier(**spec)
    if not isinstance(spec, str):
        raise TypeError(f"a model verifier is a FORMAT@URL string or a mapping, got {spec!r}")
    head, at, rest = spec.strip().partition("@")
    url, *items = rest.split(",")
    if not at or not url.strip():
        raise ValueError(
            f"model verifier {spec!r} is not FORMAT[:MODEL]@URL "
            f"(formats: {', '.join(format_names())})"
        )
    name, _, model = head.partition(":")
    name = name.strip()
    if name not in FORMATS:
        raise ValueError(
            f"unknown model verifier format {name!r}: use one of {', '.join(format_names())}"
        )
    options: dict[str, Any] = {}
    for item in filter(None, (i.strip() for i in items)):
        key, eq, raw = item.partition("=")
        if not eq or not key.strip():
            raise ValueError(f"model verifier option {item!r} of {spec!r} is not key=value")
        try:
            options[key.strip()] = json.loads(raw)
        except json.JSONDecodeError:
            options[key.strip()] = raw.strip()
    model = model.strip() or FORMATS[name].model
    return ModelVerifier(name, model, base_url=url.strip(), **options)
