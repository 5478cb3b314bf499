"""A circuit breaker: after ``failures`` failures in a row, stop calling for ``cooldown`` s.

A judge that is down should cost a training step nothing, not ``timeout x retries`` per
request: once the breaker is open, new requests are answered ``judge_unavailable`` at
once; after the cool-down requests go through again, and one success closes it (one more
failure opens it for another cool-down). Opening is logged once at WARNING.

>>> breaker = CircuitBreaker(failures=2, cooldown=60, name="judge")
>>> breaker.record_failure("timeout"); breaker.allows()
True
>>> breaker.record_failure("timeout"); breaker.allows()
False
>>> breaker.record_success(); breaker.allows()
True
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

logger = logging.getLogger(__name__)


class CircuitBreaker:
    """Consecutive-failure breaker, safe to share between threads and event loops.

    ``failures=0`` turns it off.
    """

    def __init__(self, failures: int, cooldown: float, name: str = "judge") -> None:
        if not isinstance(failures, int) or failures < 0:
            raise ValueError(f"breaker_failures must be a non-negative integer, got {failures!r}")
        if not cooldown >= 0:
            raise ValueError(f"breaker_cooldown must be >= 0, got {cooldown!r}")
        self.failures = failures
        self.cooldown = float(cooldown)
        self.name = name
        self.opened = 0  # how many times it opened
        self._consecutive = 0
        self._open_until = 0.0
        self._last = ""
        self._lock = threading.Lock()

    def __getstate__(self) -> dict[str, Any]:
        return {"failures": self.failures, "cooldown": self.cooldown, "name": self.name}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(**state)

    def remaining(self) -> float:
        """Seconds until requests may go again (0 when closed)."""
        with self._lock:
            return max(0.0, self._open_until - time.monotonic())

    def allows(self) -> bool:
        return self.remaining() == 0.0

    def why(self) -> str:
        """Why a request was not sent, for its failure detail."""
        return (
            f"circuit breaker open: {self._consecutive} failures in a row (last: {self._last}); "
            f"not sending for {self.remaining():.0f} s more"
        )

    def record_success(self) -> None:
        with self._lock:
            if self._consecutive >= self.failures > 0:
                logger.info("%s: answering again; circuit breaker closed", self.name)
            self._consecutive = 0
            self._open_until = 0.0

    def record_failure(self, detail: str) -> None:
        if not self.failures:
            return
        with self._lock:
            self._consecutive += 1
            self._last = detail
            now = time.monotonic()
            if self._consecutive >= self.failures and now >= self._open_until:
                self._open_until = now + self.cooldown
                self.opened += 1
                log = logger.warning if self.opened == 1 else logger.debug
                log(
                    "%s: %d failures in a row (last: %s); answering judge_unavailable at once "
                    "for %g s (circuit breaker)",
                    self.name,
                    self._consecutive,
                    detail,
                    self.cooldown,
                )
