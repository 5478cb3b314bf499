"""A small thread-safe LRU cache bounded by entries and by bytes, safe across ``fork``.

Untrusted answers can be long or hold big numbers, so each entry is stored with its
estimated size and the cache drops least recently used entries until both the number of
entries and the total size are under their caps. A child process forked while another
thread held the cache's lock starts with a fresh lock and an empty cache.

>>> cache = LRUCache(maxsize=2)
>>> cache.put("a", 1); cache.put("b", 2); cache.put("c", 3)
>>> cache.get("a") is None, cache.get("c")
(True, 3)
"""

from __future__ import annotations

import os
import threading
import weakref
from collections import OrderedDict
from collections.abc import Hashable
from typing import Any

__all__ = ["LRUCache"]

_ALL: weakref.WeakSet[LRUCache] = weakref.WeakSet()


class LRUCache:
    """At most ``maxsize`` entries and ``maxbytes`` estimated bytes; the least recently
    used entries go first, an entry bigger than ``maxbytes`` is not stored."""

    def __init__(self, maxsize: int, maxbytes: int = 64 << 20) -> None:
        self.maxsize = maxsize
        self.maxbytes = maxbytes
        self._reset()
        _ALL.add(self)

    def _reset(self) -> None:
        self._data: OrderedDict[Hashable, tuple[Any, int]] = OrderedDict()
        self.nbytes = 0
        self._lock = threading.Lock()

    def get(self, key: Hashable) -> Any:
        """The value stored under ``key``, or ``None``."""
        with self._lock:
            entry = self._data.get(key)
            if entry is None:
                return None
            self._data.move_to_end(key)
            return entry[0]

    def put(self, key: Hashable, value: Any, nbytes: int = 0) -> None:
        """Store ``value`` under ``key``; ``nbytes`` estimates what the entry holds."""
        if nbytes > self.maxbytes:
            return
        with self._lock:
            old = self._data.pop(key, None)
            if old is not None:
                self.nbytes -= old[1]
            self._data[key] = (value, nbytes)
            self.nbytes += nbytes
            while len(self._data) > self.maxsize or self.nbytes > self.maxbytes:
                _, (_, size) = self._data.popitem(last=False)
                self.nbytes -= size

    def clear(self) -> None:
        with self._lock:
            self._data.clear()
            self.nbytes = 0

    def __len__(self) -> int:
        return len(self._data)


def _reset_after_fork() -> None:
    """The child of a fork has one thread: a lock held by another thread of the parent
    would never be released."""
    for cache in list(_ALL):
        cache._reset()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_reset_after_fork)
