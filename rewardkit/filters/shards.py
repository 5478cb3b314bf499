"""Resumable sharded output: rows written to disk in fixed-size JSONL shards as they come.

A :class:`ShardStore` is a directory of ``part-NNNNNN.jsonl`` files and a
``manifest.json``. Each full shard is written to a temporary file and renamed into place
(atomic on POSIX), then the manifest is rewritten the same way, so a run killed at any
moment leaves only whole shards behind. A resumed run asks :attr:`ShardStore.done_rows`,
skips that many input rows and goes on: nothing done twice, nothing lost. A run that
stops on an exception (Ctrl-C included) saves its buffered rows first with
:meth:`ShardStore.flush`; a killed one loses at most the rows of one unfinished shard. The manifest
holds a fingerprint of the run's settings; resuming with other settings raises.

>>> import tempfile
>>> store = ShardStore(tempfile.mkdtemp(), shard_rows=2, fingerprint={"reward": "x"})
>>> for i in range(3):
...     store.append({"i": i})
>>> store.done_rows  # one whole shard is on disk; the third row waits in memory
2
>>> store.finish()
>>> [row["i"] for row in store.rows()]
[0, 1, 2]
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

MANIFEST = "manifest.json"

# One encoder for all rows (json.dumps with options builds a new one per call); values
# JSON has no type for, such as dates, are written as text.
encode_json = json.JSONEncoder(ensure_ascii=False, default=str).encode
_VERSION = 1


def write_atomic(path: Path, text: str, *, sync: bool = True) -> None:
    """Write ``text`` to ``path`` through a temporary file and an atomic rename.

    With ``sync``, the data reaches the disk before the rename, so that even a machine
    crash never leaves a renamed file without its contents.
    """
    tmp = path.with_name(f".{path.name}.tmp")
    with tmp.open("w", encoding="utf-8") as handle:
        handle.write(text)
        if sync:
            handle.flush()
            os.fsync(handle.fileno())
    os.replace(tmp, path)


class ShardStore:
    """Rows appended here land in JSONL shards of ``shard_rows`` rows each.

    Args:
        directory: where the shards and the manifest live (created if missing).
        shard_rows: rows per shard; the unit of work that an interrupted run redoes.
        fingerprint: JSON-serialisable settings of the run. A directory holding a
            manifest with another fingerprint or shard size raises ``ValueError``
            unless ``overwrite`` is true, which starts afresh.
    """

    def __init__(
        self,
        directory: str | Path,
        *,
        shard_rows: int = 8192,
        fingerprint: dict[str, Any] | None = None,
        overwrite: bool = False,
    ) -> None:
        if shard_rows < 1:
            raise ValueError(f"shard_rows must be at least 1, got {shard_rows}")
        self.directory = Path(directory)
        self.shard_rows = shard_rows
        self.fingerprint = json.loads(json.dumps(fingerprint or {}, sort_keys=True))
        self._buffer: list[str] = []
        self.directory.mkdir(parents=True, exist_ok=True)
        manifest = self._read_manifest()
        if manifest is not None and not overwrite:
            if (
                manifest.get("fingerprint") != self.fingerprint
                or manifest.get("shard_rows") != shard_rows
            ):
                raise ValueError(
                    f"{self.directory} holds a run with other settings "
                    f"({manifest.get('fingerprint')}, shard_rows={manifest.get('shard_rows')}); "
                    "use another directory or overwrite=True to start again"
                )
            self._shards: list[dict[str, Any]] = list(manifest["shards"])
            self.complete = bool(manifest.get("complete"))
        else:
            for stale in self.directory.glob("part-*.jsonl"):
                stale.unlink()
            self._shards = []
            self.complete = False
            self._write_manifest()

    @property
    def done_rows(self) -> int:
        """Rows safely on disk: the number of input rows a resumed run skips."""
        return sum(shard["rows"] for shard in self._shards)

    def append(self, row: dict[str, Any]) -> None:
        """Add one row; a shard is written each time ``shard_rows`` rows are buffered."""
        if self.complete:
            raise RuntimeError(f"{self.directory} is complete; open it with overwrite=True")
        self._buffer.append(encode_json(row))
        if len(self._buffer) >= self.shard_rows:
            self._flush()

    def extend(self, rows: list[dict[str, Any]]) -> None:
        for row in rows:
            self.append(row)

    def flush(self) -> None:
        """Save the buffered rows now as a (short) shard, e.g. when the run is stopped."""
        if self._buffer:
            self._flush()

    def finish(self) -> None:
        """Write the last partial shard and mark the run complete."""
        self.flush()
        self.complete = True
        self._write_manifest()

    def rows(self) -> Iterator[dict[str, Any]]:
        """Stream every row on disk, in order, one shard in memory at a time."""
        for shard in list(self._shards):  # not the shards appended meanwhile
            with (self.directory / shard["name"]).open(encoding="utf-8") as lines:
                for line in lines:
                    yield json.loads(line)

    def _flush(self) -> None:
        name = f"part-{len(self._shards):06d}.jsonl"
        write_atomic(self.directory / name, "\n".join(self._buffer) + "\n")
        self._shards.append({"name": name, "rows": len(self._buffer)})
        self._buffer = []
        self._write_manifest()

    def _read_manifest(self) -> dict[str, Any] | None:
        path = self.directory / MANIFEST
        if not path.exists():
            return None
        try:
            manifest = json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise ValueError(f"{path} is not a readable manifest ({exc.msg})") from None
        if manifest.get("version") != _VERSION:
            raise ValueError(f"{path}: unknown manifest version {manifest.get('version')!r}")
        return manifest

    def _write_manifest(self) -> None:
        manifest = {
            "version": _VERSION,
            "fingerprint": self.fingerprint,
            "shard_rows": self.shard_rows,
            "shards": self._shards,
            "complete": self.complete,
        }
        # Not synced: after a machine crash an older manifest may come back, which lists
        # fewer shards (redone on resume), never a shard whose data is not on disk.
        write_atomic(self.directory / MANIFEST, json.dumps(manifest, indent=1), sync=False)
