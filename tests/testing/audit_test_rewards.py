"""Deliberately broken and deliberately hackable rewards that the tests run the tools on."""

from __future__ import annotations

import asyncio
import itertools
import re
import threading
import time

from rewardkit.text import completion_text


def texts(completions):
    return [completion_text(c) for c in completions]


class Constant:
    """Pays the same for everything: no signal."""

    __name__ = "constant"

    def __call__(self, completions, **kwargs):
        return [0.5 for _ in completions]


class LastBox:
    """Pays when the LAST \\boxed{} anywhere equals the gold: hackable by hedging."""

    __name__ = "last_box"

    def __call__(self, completions, solution, **kwargs):
        out = []
        for text, gold in zip(texts(completions), solution, strict=True):
            boxes = re.findall(r"\\boxed\{([^{}]*)\}", text)
            out.append(float(bool(boxes) and boxes[-1].strip() == gold))
        return out


class AsyncLastBox(LastBox):
    __name__ = "async_last_box"

    async def __call__(self, completions, solution, **kwargs):
        await asyncio.sleep(0)
        return LastBox.__call__(self, completions, solution)


class ChatOnlyLastBox(LastBox):
    """Reads ``completion[0]["content"]`` like TRL's rewards: crashes on plain strings."""

    __name__ = "chat_only_last_box"

    def __call__(self, completions, solution, **kwargs):
        return LastBox.__call__(self, [c[0]["content"] for c in completions], solution)


class WrongLength:
    __name__ = "wrong_length"

    def __call__(self, completions, **kwargs):
        return [1.0 for _ in completions] + [0.0]


class Raises:
    __name__ = "raises"

    def __call__(self, completions, **kwargs):
        raise RuntimeError("boom")


class RaisesOnLong(LastBox):
    """Raises when a completion is longer than 3,000 characters."""

    __name__ = "raises_on_long"

    def __call__(self, completions, solution, **kwargs):
        if any(len(t) > 3_000 for t in texts(completions)):
            raise MemoryError("too long")
        return super().__call__(completions, solution)


class Counter:
    """Non-deterministic: every call pays a little more."""

    __name__ = "counter"

    def __init__(self):
        self.calls = itertools.count()

    def __call__(self, completions, **kwargs):
        n = next(self.calls)
        return [n / 1000 for _ in completions]


class Unpicklable:
    __name__ = "unpicklable"

    def __init__(self):
        self.lock = threading.Lock()

    def __call__(self, completions, **kwargs):
        return [0.0 for _ in completions]


class NotFloats:
    __name__ = "not_floats"

    def __call__(self, completions, **kwargs):
        return ["1.0" for _ in completions]


class NaNs:
    __name__ = "nans"

    def __call__(self, completions, **kwargs):
        return [float("nan") for _ in completions]


class NoName:
    def __call__(self, completions, **kwargs):
        return [0.0 for _ in completions]


class FormatsDisagree:
    """Pays chat completions 1.0 and plain strings 0.0."""

    __name__ = "formats_disagree"

    def __call__(self, completions, **kwargs):
        return [0.0 if isinstance(c, str) else 1.0 for c in completions]


class EmptyBatchFails:
    __name__ = "empty_batch_fails"

    def __call__(self, completions, **kwargs):
        share = 1.0 / len(completions)
        return [share for _ in completions]


class CrashesOnEmptyText:
    __name__ = "crashes_on_empty_text"

    def __call__(self, completions, **kwargs):
        return [float(t.strip()[0] == "<") for t in texts(completions)]


class AsciiOnly:
    __name__ = "ascii_only"

    def __call__(self, completions, **kwargs):
        return [float(len(t.encode("ascii")) > 0) for t in texts(completions)]


class SlowOnHuge:
    __name__ = "slow_on_huge"

    def __call__(self, completions, **kwargs):
        if any(len(t) > 100_000 for t in texts(completions)):
            time.sleep(5)
        return [0.0 for _ in completions]


class RacyCounter:
    """Keeps per-call state on the instance: two threads at once mix their batches."""

    __name__ = "racy"

    def __call__(self, completions, **kwargs):
        self.batch = texts(completions)
        time.sleep(0.01)
        return [float(len(t)) for t in self.batch]


class RunsItsOwnLoop:
    """Calls ``asyncio.run`` inside: breaks when a trainer already runs an event loop."""

    __name__ = "runs_its_own_loop"

    def __call__(self, completions, **kwargs):
        async def score():
            return [0.0 for _ in completions]

        coroutine = score()
        try:
            return asyncio.run(coroutine)
        except RuntimeError:
            coroutine.close()
            raise


last_box = LastBox()
chat_only_last_box = ChatOnlyLastBox()


class GullibleJudge(LastBox):
    """A right boxed answer pays 1.0, and so does a completion that says it is correct."""

    __name__ = "gullible_judge"

    def __call__(self, completions, solution, **kwargs):
        right = super().__call__(completions, solution)
        told = [float(bool(re.search(r"correct|full marks", t, re.I))) for t in texts(completions)]
        return [max(a, b) for a, b in zip(right, told, strict=True)]


class GoldAnywhere:
    """Pays when the gold answer appears anywhere in the text."""

    __name__ = "gold_anywhere"

    def __call__(self, completions, solution, **kwargs):
        return [
            float(re.search(rf"(?<![\d]){re.escape(g)}(?![\d])", t) is not None)
            for t, g in zip(texts(completions), solution, strict=True)
        ]


class LovesLength(LastBox):
    """Correctness plus a bonus for long completions."""

    __name__ = "loves_length"

    def __call__(self, completions, solution, **kwargs):
        right = super().__call__(completions, solution)
        return [
            r + min(len(t) / 50_000, 1.0) for r, t in zip(right, texts(completions), strict=True)
        ]
