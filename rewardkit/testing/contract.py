r"""The reward contract: what any reward function must do to be safe inside a TRL trainer.

:func:`check_reward_contract` calls a reward the way TRL's GRPOTrainer does (keywords
``prompts``, ``completions``, ``completion_ids``, ``trainer_state``, ``log_metric``,
``log_extra`` and the dataset columns) and checks that it

- returns a list with one value per completion, each a finite float or ``None``;
- gives the same values when called again (deterministic), and after a pickle round trip;
- accepts plain-string and chat-format completions, and scores the same text the same;
- survives an empty batch, empty completions, unicode and a huge completion;
- gives the same values when called from several threads at once and from inside a
  running asyncio loop (async rewards are awaited);
- has a ``__name__`` (TRL names its logged metrics after it) and pickles (TRL ships
  rewards to worker processes).

:func:`assert_reward_contract` raises an ``AssertionError`` listing every failed check,
for use in pytest.

>>> from rewardkit.rewards import BoxedAccuracy
>>> report = check_reward_contract(BoxedAccuracy())
>>> report.passed, len(report.checks) == len(CHECKS)
(True, True)
"""

from __future__ import annotations

import asyncio
import math
import pickle
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from rewardkit.testing.calling import call_like_trl, is_async_reward, with_deadline

__all__ = [
    "CHECKS",
    "CheckResult",
    "ContractReport",
    "assert_reward_contract",
    "check_reward_contract",
]

CHECKS = (
    "has_name",
    "length",
    "value_types",
    "deterministic",
    "plain_strings",
    "chat_messages",
    "formats_agree",
    "empty_batch",
    "empty_completion",
    "unicode",
    "huge_input",
    "picklable",
    "threads",
    "asyncio",
)

DEFAULT_PROMPTS = ("What is 2 + 2?", "What is 3 * 5?", "What is 10 - 7?", "What is 9 / 3?")
DEFAULT_COMPLETIONS = (
    "<think>\n2 + 2 = 4\n</think>\n\nThe answer is \\boxed{4}.",
    "<think>\n3 * 5 = 16\n</think>\n\nThe answer is \\boxed{16}.",
    "10 - 7 = 3, so the answer is 3.",
    "",
)
DEFAULT_COLUMNS: Mapping[str, Sequence[Any]] = {"solution": ("4", "15", "3", "3")}
UNICODE_COMPLETIONS = (
    # Cyrillic, full-width 4
    "\u0417\u0434\u0440\u0430\u0432\u0441\u0442\u0432\u0443\u0439 \\boxed{\uff14}",
    "\u6570\u5b66 \U0001f9ee\U0001f525 \\boxed{\u2074\u2044\u2082}",  # CJK, emoji, superscripts
    "\u202eRTL override\u202c zero\u200bwidth \x00 nul \ufeff bom \\boxed{4\u0301}",
    "<think>\u00e9\u0301\u0327" * 50 + "</think> \\boxed{\u221a\u03c0}",
)


@dataclass(frozen=True)
class CheckResult:
    """One contract check: its name, whether it passed, and what went wrong."""

    name: str
    passed: bool
    message: str = ""


@dataclass
class ContractReport:
    """Every check's result for one reward."""

    reward: str
    checks: list[CheckResult] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return all(c.passed for c in self.checks)

    @property
    def failures(self) -> list[CheckResult]:
        return [c for c in self.checks if not c.passed]

    def __getitem__(self, name: str) -> CheckResult:
        for check in self.checks:
            if check.name == name:
                return check
        raise KeyError(f"no check named {name!r} in this report")

    def to_dict(self) -> dict[str, Any]:
        return {
            "reward": self.reward,
            "passed": self.passed,
            "checks": [
                {"name": c.name, "passed": c.passed, "message": c.message} for c in self.checks
            ],
        }

    def __str__(self) -> str:
        lines = [f"reward contract of {self.reward}: {'passed' if self.passed else 'FAILED'}"]
        for c in self.checks:
            lines.append(f"  {'ok  ' if c.passed else 'FAIL'} {c.name:<17} {c.message}".rstrip())
        return "\n".join(lines)


class _Failed(Exception):
    """A check's failure, with the message to report."""


def check_reward_contract(
    reward: Callable[..., Any],
    *,
    prompts: Sequence[str] = DEFAULT_PROMPTS,
    completions: Sequence[str] = DEFAULT_COMPLETIONS,
    columns: Mapping[str, Sequence[Any]] = DEFAULT_COLUMNS,
    skip: Iterable[str] = (),
    huge_chars: int = 1_000_000,
    time_limit: float = 30.0,
    n_threads: int = 4,
) -> ContractReport:
    """Run every contract check against ``reward`` and return the report.

    ``prompts``, ``completions`` (plain text; the chat form is built from them) and
    ``columns`` (dataset columns, one value per completion) are the batch the checks
    use; the default is four arithmetic problems with the gold answer in ``solution``.
    ``skip`` names checks to leave out. A call that takes longer than ``time_limit``
    seconds fails its check (the huge input is given ``huge_chars`` characters).
    """
    unknown = set(skip) - set(CHECKS)
    if unknown:
        raise ValueError(f"unknown checks {sorted(unknown)}: known ones are {', '.join(CHECKS)}")
    n = len(completions)
    if n == 0 or len(prompts) != n or any(len(v) != n for v in columns.values()):
        raise ValueError("prompts, completions and every column need the same, nonzero length")
    batch = _Batch(reward, list(prompts), list(completions), dict(columns), time_limit)
    report = ContractReport(str(getattr(reward, "__name__", type(reward).__name__)))
    checks: dict[str, Callable[[], str]] = {
        "has_name": batch.has_name,
        "length": batch.length,
        "value_types": batch.value_types,
        "deterministic": batch.deterministic,
        "plain_strings": lambda: batch.accepts("plain"),
        "chat_messages": lambda: batch.accepts("chat"),
        "formats_agree": batch.formats_agree,
        "empty_batch": batch.empty_batch,
        "empty_completion": batch.empty_completion,
        "unicode": batch.unicode,
        "huge_input": lambda: batch.huge_input(huge_chars),
        "picklable": batch.picklable,
        "threads": lambda: batch.threads(n_threads),
        "asyncio": batch.in_asyncio,
    }
    for name in CHECKS:
        if name in skip:
            continue
        try:
            report.checks.append(CheckResult(name, True, checks[name]()))
        except _Failed as failure:
            report.checks.append(CheckResult(name, False, str(failure)))
        except Exception as exc:  # a check that cannot run has failed
            report.checks.append(CheckResult(name, False, f"raised {_describe(exc)}"))
    return report


def assert_reward_contract(reward: Callable[..., Any], **options: Any) -> ContractReport:
    """:func:`check_reward_contract`, raising ``AssertionError`` with the report on failure.

    >>> assert_reward_contract(lambda completions, **kw: [1.0] * len(completions))
    Traceback (most recent call last):
    ...
    AssertionError: reward contract of <lambda>: FAILED
    ...
    """
    report = check_reward_contract(reward, **options)
    if not report.passed:
        raise AssertionError(str(report))
    return report


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"[:300]


def _same(a: Sequence[Any], b: Sequence[Any]) -> bool:
    if len(a) != len(b):
        return False
    for x, y in zip(a, b, strict=True):
        if x is None or y is None:
            if x is not y:
                return False
        elif not (x == y or (_isnan(x) and _isnan(y))):
            return False
    return True


def _isnan(x: Any) -> bool:
    try:
        return math.isnan(x)
    except TypeError:
        return False


def _chat(text: str) -> list[dict[str, str]]:
    return [{"role": "assistant", "content": text}]


class _Batch:
    """One batch and the reward under test; each method is one check."""

    def __init__(self, reward, prompts, completions, columns, time_limit):
        self.reward = reward
        self.prompts = prompts
        self.completions = completions
        self.columns = columns
        self.time_limit = time_limit
        self._baseline: list[Any] | None = None
        self._baseline_error: str | None = None
        self.format = "plain"

    # -- calling -------------------------------------------------------------------
    def call(self, completions: Sequence[str], fmt: str | None = None, reward=None, rows=None):
        """Call the reward as TRL does on ``completions`` (texts) in format ``fmt``."""
        fmt = fmt or self.format
        rows = list(range(len(completions))) if rows is None else rows
        prompts, completions, columns = self._batch(completions, fmt, rows)
        return call_like_trl(reward or self.reward, completions, prompts, columns)

    def _batch(self, completions: Sequence[str], fmt: str, rows: list[int]):
        prompts: list[Any] = [self.prompts[i % len(self.prompts)] for i in rows]
        if fmt == "chat":
            prompts = [[{"role": "user", "content": p}] for p in prompts]
            completions = [_chat(c) for c in completions]
        columns = {k: [v[i % len(v)] for i in rows] for k, v in self.columns.items()}
        return prompts, list(completions), columns

    def baseline(self) -> list[Any]:
        """The values for the batch, in plain format, else chat when plain fails."""
        if self._baseline is None:
            if self._baseline_error is not None:
                raise _Failed(f"the reward fails on the test batch: {self._baseline_error}")
            try:
                self._baseline = _as_list(self.call(self.completions, "plain"))
            except Exception as plain_exc:  # any error of the reward fails the check
                try:
                    self._baseline = _as_list(self.call(self.completions, "chat"))
                    self.format = "chat"
                except Exception as exc:  # any error of the reward fails the check
                    self._baseline_error = _describe(exc)
                    raise _Failed(
                        f"the reward raises on the test batch: {_describe(plain_exc)} (plain), "
                        f"{self._baseline_error} (chat)"
                    ) from None
        return self._baseline

    def checked(self, values: Any, n: int, what: str) -> list[Any]:
        values = _as_list(values)
        if len(values) != n:
            raise _Failed(f"{what}: returned {len(values)} values for {n} completions")
        bad = [v for v in values if not _valid(v)]
        if bad:
            raise _Failed(f"{what}: values must be finite floats or None, got {bad[0]!r}")
        return values

    # -- checks --------------------------------------------------------------------
    def has_name(self) -> str:
        name = getattr(self.reward, "__name__", None)
        if not isinstance(name, str) or not name:
            raise _Failed("no __name__: TRL names the reward's logged metrics after it")
        return name

    def length(self) -> str:
        values = self.baseline()
        if len(values) != len(self.completions):
            raise _Failed(f"returned {len(values)} values for {len(self.completions)} completions")
        return f"{len(values)} values for {len(values)} completions ({self.format} format)"

    def value_types(self) -> str:
        self.checked(self.baseline(), len(self.completions), "test batch")
        return ", ".join(_show(v) for v in self.baseline())

    def deterministic(self) -> str:
        first = self.baseline()
        for _ in range(2):
            again = _as_list(self.call(self.completions))
            if not _same(first, again):
                raise _Failed(f"two calls on the same batch gave {first} and {again}")
        return "three calls agree"

    def accepts(self, fmt: str) -> str:
        try:
            values = self.call(self.completions, fmt)
        except Exception as exc:  # any error of the reward fails the check
            raise _Failed(f"raises on {fmt} completions: {_describe(exc)}") from None
        self.checked(values, len(self.completions), f"{fmt} completions")
        return ""

    def formats_agree(self) -> str:
        try:
            plain = _as_list(self.call(self.completions, "plain"))
            chat = _as_list(self.call(self.completions, "chat"))
        except Exception as exc:  # any error of the reward fails the check
            raise _Failed(f"cannot compare: {_describe(exc)}") from None
        if not _same(plain, chat):
            raise _Failed(f"the same text scores {plain} as plain strings but {chat} as chat")
        return ""

    def empty_batch(self) -> str:
        try:
            values = self.call([], rows=[])
        except Exception as exc:  # any error of the reward fails the check
            raise _Failed(f"raises on an empty batch: {_describe(exc)}") from None
        self.checked(values, 0, "empty batch")
        return ""

    def empty_completion(self) -> str:
        texts = ["", "   \n\t", "<think></think>", "\\boxed{}"]
        values = self._call_checked(texts, "empty completions")
        return ", ".join(_show(v) for v in values)

    def unicode(self) -> str:
        values = self._call_checked(list(UNICODE_COMPLETIONS), "unicode completions")
        return ", ".join(_show(v) for v in values)

    def huge_input(self, n_chars: int) -> str:
        unit = "1 + 1 = 2. {{\\boxed{"
        text = "<think>" + unit * (n_chars // len(unit)) + "</think> \\boxed{4}"
        start = time.perf_counter()
        outcome = with_deadline(
            lambda: self.call([text, "\\boxed{4}"], rows=[0, 0]), self.time_limit
        )
        if outcome is None:
            raise _Failed(
                f"no result within {self.time_limit:g} s on a {len(text):,}-char completion"
            )
        values, error = outcome
        if error is not None:
            raise _Failed(f"raises on a {len(text):,}-char completion: {_describe(error)}")
        self.checked(values, 2, "huge completion")
        return f"{len(text):,} chars in {time.perf_counter() - start:.2f} s"

    def picklable(self) -> str:
        try:
            copy = pickle.loads(pickle.dumps(self.reward))
        except Exception as exc:  # any error of the reward fails the check
            raise _Failed(f"cannot be pickled: {_describe(exc)}") from None
        values = _as_list(self.call(self.completions, reward=copy))
        if not _same(values, self.baseline()):
            raise _Failed(f"the unpickled copy gives {values}, the original {self.baseline()}")
        return ""

    def threads(self, n_threads: int) -> str:
        # Two different batches (the test batch and its reverse) interleaved, so that a
        # reward keeping per-call state on itself mixes them up.
        rows = list(range(len(self.completions)))
        batches = [(self.completions, rows), (self.completions[::-1], rows[::-1])]
        expected = [self.baseline(), _as_list(self.call(batches[1][0], rows=batches[1][1]))]
        with ThreadPoolExecutor(n_threads) as pool:
            futures = [
                pool.submit(self.call, batches[k % 2][0], rows=batches[k % 2][1])
                for k in range(4 * n_threads)
            ]
            try:
                results = [_as_list(f.result(timeout=self.time_limit)) for f in futures]
            except Exception as exc:  # any error of the reward fails the check
                raise _Failed(f"raises when called from threads: {_describe(exc)}") from None
        for k, values in enumerate(results):
            if not _same(values, expected[k % 2]):
                raise _Failed(
                    f"gives {values} from a thread but {expected[k % 2]} from the main one"
                )
        return f"{len(results)} calls from {n_threads} threads agree"

    def in_asyncio(self) -> str:
        expected = self.baseline()

        async def main() -> list[Any]:
            if is_async_reward(self.reward):
                outs = await asyncio.gather(*(self._async_call() for _ in range(4)))
            else:
                inline = self.call(self.completions)  # a sync reward called inside a running loop
                threaded = await asyncio.gather(
                    *(asyncio.to_thread(self.call, self.completions) for _ in range(3))
                )
                outs = [inline, *threaded]
            return [_as_list(o) for o in outs]

        outcome = with_deadline(lambda: asyncio.run(main()), self.time_limit)
        if outcome is None:
            raise _Failed(f"no result within {self.time_limit:g} s inside an event loop")
        results, error = outcome
        if error is not None:
            raise _Failed(f"raises inside a running event loop: {_describe(error)}")
        for values in results:
            if not _same(values, expected):
                raise _Failed(f"gives {values} inside an event loop but {expected} outside")
        return (
            "awaited concurrently"
            if is_async_reward(self.reward)
            else "called inside a running loop"
        )

    async def _async_call(self) -> Any:
        rows = list(range(len(self.completions)))
        prompts, completions, columns = self._batch(self.completions, self.format, rows)
        return await self.reward(
            prompts=prompts,
            completions=completions,
            completion_ids=[list(c.encode("utf-8")) for c in self.completions],
            trainer_state=None,
            log_metric=lambda *a: None,
            log_extra=lambda *a: None,
            **columns,
        )

    def _call_checked(self, texts: list[str], what: str) -> list[Any]:
        rows = [i % len(self.completions) for i in range(len(texts))]
        try:
            values = self.call(texts, rows=rows)
        except Exception as exc:  # any error of the reward fails the check
            raise _Failed(f"raises on {what}: {_describe(exc)}") from None
        return self.checked(values, len(texts), what)


def _as_list(values: Any) -> list[Any]:
    if values is None or isinstance(values, (str, bytes, dict)):
        raise _Failed(f"must return a list of rewards, got {type(values).__name__}")
    try:
        return list(values)
    except TypeError:
        raise _Failed(f"must return a list of rewards, got {type(values).__name__}") from None


def _valid(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    return math.isfinite(value)


def _show(value: Any) -> str:
    return "None" if value is None else f"{value:g}" if _valid(value) else repr(value)
