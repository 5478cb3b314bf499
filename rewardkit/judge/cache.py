"""A persistent cache of judge replies, shared by processes, safe across crashes.

Replies live in one SQLite file (default ``$REWARDKIT_CACHE_DIR/judge.sqlite``, else
``$XDG_CACHE_HOME/rewardkit/judge.sqlite``, else ``~/.cache/rewardkit/judge.sqlite``),
keyed by a SHA-256 of the backend kind, the model, the messages and the sampling
parameters. The database runs in WAL mode with a busy timeout, so several processes
(data-parallel ranks, a rerun beside a crashed run) read and write it at once; each reply
is committed the moment it arrives, so a crash loses no finished verdict. Failures are
never cached. A broken cache file costs a warning and cache misses, never a crash.

>>> import tempfile, os
>>> from rewardkit.judge.backends.base import JudgeReply, JudgeRequest
>>> cache = JudgeCache(os.path.join(tempfile.mkdtemp(), "judge.sqlite"))
>>> request = JudgeRequest(({"role": "user", "content": "hi"},))
>>> key = cache.key({"backend": "openai", "model": "m"}, request)
>>> cache.put(key, JudgeReply("Rating: [[7]]"))
>>> cache.get_many([key])[key].text
'Rating: [[7]]'
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import os
import sqlite3
import threading
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from rewardkit.judge.backends.base import JudgeReply, JudgeRequest

logger = logging.getLogger(__name__)

CACHE_FILE = "judge.sqlite"
_BUSY_TIMEOUT_MS = 30_000
_SELECT_CHUNK = 500  # keys per SELECT ... IN (...), under SQLite's variable limit


@functools.lru_cache(maxsize=256)
def _canonical(items: tuple[tuple[str, Any], ...]) -> str:
    """Canonical JSON of a small mapping given as sorted items (cached: it rarely changes)."""
    return json.dumps(dict(items), sort_keys=True)


def default_cache_path() -> Path:
    """Where the judge cache lives unless told otherwise.

    >>> default_cache_path().name
    'judge.sqlite'
    """
    explicit = os.environ.get("REWARDKIT_CACHE_DIR")
    if explicit:
        return Path(explicit).expanduser() / CACHE_FILE
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "rewardkit" / CACHE_FILE


class JudgeCache:
    """Judge replies by request, in SQLite at ``path`` (default: :func:`default_cache_path`)."""

    def __init__(self, path: str | Path | None = None) -> None:
        self.path = Path(path).expanduser() if path is not None else default_cache_path()
        self._local = threading.local()
        self._warned = False
        try:
            self._connection()  # fail early on an unusable path
        except (sqlite3.Error, OSError) as exc:
            raise ValueError(
                f"judge cache {self.path} is unusable ({exc}); delete it or pass another cache path"
            ) from exc

    def __repr__(self) -> str:
        return f"JudgeCache({str(self.path)!r})"

    def __getstate__(self) -> dict[str, Any]:
        return {"path": self.path}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.path = state["path"]
        self._local = threading.local()
        self._warned = False

    def _connection(self) -> sqlite3.Connection:
        """This thread's connection (a connection must not cross threads or forks)."""
        connection = getattr(self._local, "connection", None)
        if connection is not None and self._local.pid == os.getpid():
            return connection
        self.path.parent.mkdir(parents=True, exist_ok=True)
        connection = sqlite3.connect(
            self.path,
            timeout=_BUSY_TIMEOUT_MS / 1000,
            isolation_level=None,
            check_same_thread=False,
        )
        connection.execute(f"PRAGMA busy_timeout={_BUSY_TIMEOUT_MS}")
        connection.execute("PRAGMA journal_mode=WAL")
        # In WAL mode, NORMAL survives a process crash: a committed reply is in the log.
        connection.execute("PRAGMA synchronous=NORMAL")
        connection.execute(
            "CREATE TABLE IF NOT EXISTS replies (key TEXT PRIMARY KEY, reply TEXT NOT NULL, "
            "created REAL NOT NULL)"
        )
        self._local.connection = connection
        self._local.pid = os.getpid()
        return connection

    @staticmethod
    def key(identity: dict[str, str], request: JudgeRequest) -> str:
        """The cache key of ``request`` sent to the backend with ``identity``: SHA-256 over
        length-prefixed fields, so two different requests never share a key."""
        fields = [
            _canonical(tuple(sorted(identity.items()))),
            _canonical(tuple(sorted(request.sampling().items()))),
        ]
        for message in request.messages:
            fields.append(f"message with {len(message)} fields")
            for name in sorted(message):
                value = message[name]
                fields.append(name)
                fields.append("s" + value if isinstance(value, str) else "j" + json.dumps(value))
        payload = "".join(f"{len(field)}:{field}" for field in fields)
        return hashlib.sha256(payload.encode("utf-8", "surrogatepass")).hexdigest()

    def get_many(self, keys: Iterable[str]) -> dict[str, JudgeReply]:
        """The cached replies among ``keys`` (missing keys are left out)."""
        keys = list(dict.fromkeys(keys))
        found: dict[str, JudgeReply] = {}
        try:
            connection = self._connection()
            for start in range(0, len(keys), _SELECT_CHUNK):
                chunk = keys[start : start + _SELECT_CHUNK]
                rows = connection.execute(
                    f"SELECT key, reply FROM replies WHERE key IN ({','.join('?' * len(chunk))})",
                    chunk,
                ).fetchall()
                for key, reply in rows:
                    found[key] = JudgeReply.from_json(json.loads(reply), cached=True)
        except (sqlite3.Error, ValueError, KeyError, TypeError) as exc:
            self._warn_once(f"judge cache {self.path} unreadable ({exc}); judging without it")
        return found

    def put(self, key: str, reply: JudgeReply) -> None:
        """Store one reply, committed at once."""
        try:
            self._connection().execute(
                "INSERT OR REPLACE INTO replies (key, reply, created) VALUES (?, ?, ?)",
                (key, json.dumps(reply.to_json(), ensure_ascii=False), time.time()),
            )
        except sqlite3.Error as exc:
            self._warn_once(f"judge cache {self.path} not written ({exc})")

    def _warn_once(self, message: str) -> None:
        """A broken cache warns once per process, not once per verdict."""
        if not self._warned:
            self._warned = True
            logger.warning(message)
        else:
            logger.debug(message)

    def __len__(self) -> int:
        return self._connection().execute("SELECT COUNT(*) FROM replies").fetchone()[0]

    def clear(self) -> None:
        """Forget every cached reply."""
        self._connection().execute("DELETE FROM replies")
