"""Rewards for the server tests, importable by the worker processes (see conftest)."""

from __future__ import annotations

import os
import time

from rewardkit.rewards import Reward, RewardResult


class Contains(Reward):
    """1.0 when the completion contains the label; sleeps ``hang`` seconds on "HANG",
    ``delay`` seconds on every batch; records batch sizes in ``REWARDKIT_TEST_LOG``."""

    name = "contains"
    reasons = ("ok", "missing")

    def __init__(self, *, delay: float = 0.0, hang: float = 60.0, name: str | None = None):
        super().__init__(name=name)
        self.delay = delay
        self.hang = hang

    def score_samples(self, samples):
        log = os.environ.get("REWARDKIT_TEST_LOG")
        if log:
            with open(log, "a") as f:
                f.write(f"{len(samples)}\n")
        if self.delay:
            time.sleep(self.delay)
        if any("HANG" in s.text for s in samples):
            time.sleep(self.hang)
        return [self._one(s) for s in samples]

    def _one(self, sample):
        label = str(sample.columns.get("answer", ""))
        if label and label in sample.text:
            return RewardResult(1.0)
        return RewardResult(0.0, "missing", {"label": label})
