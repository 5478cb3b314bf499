"""Resumable sharded output: rows written to disk in fixed-size JSONL shards as they come.

A :class:`ShardStore` is a directory of ``part-NNNNNN.jsonl`` files and a
``manifest.json``. Each full shard is written to a temporary file and renamed into place
(atomic on POSIX), then the manifest is rewritten the same way, so a run killed at any
moment leaves only whole shards behind. A resumed run asks :attr:`ShardStore.done_rows`,
skips that many input rows and goes on: nothing done twice, nothing lost. A run that
stops on an exception (Ctrl-C included) saves its buffered rows first with
:meth:`ShardStore.flush`; a killed one loses at most the rows of one unfinished shard.

The manifest holds a fingerprint of the run's settings (resuming with other settings
raises :class:`SettingsMismatch`, naming each setting that differs) and, for every shard,
its row count, size and checksum (checked when it is read back) and a digest of the
input records it was made from (:meth:`ShardStore.check_input` compares them with the
input of the resumed run). Nothing is written before the first shard, so a run that fails
on its input leaves no manifest behind.

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

import hashlib
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

__all__ = ["SettingsMismatch", "ShardError", "ShardStore", "record_digest", "write_atomic"]

MANIFEST = "manifest.json"

# One encoder for all rows (json.dumps with options builds a new one per call); values
# JSON has no type for, such as dates, are written as text.
encode_json = json.JSONEncoder(ensure_ascii=False, default=str).encode
_VERSION = 2


def record_digest(record: Any) -> bytes:
    """A 16-byte digest of one input record (its JSON text), for :meth:`ShardStore.note_input`."""
    return hashlib.blake2b(encode_json(record).encode(), digest_size=16).digest()


def write_atomic(path: Path, text: str | bytes, *, sync: bool = True) -> None:
    """Write ``text`` to ``path`` through a temporary file and an atomic rename.

    With ``sync``, the data reaches the disk before the rename, so that even a machine
    crash never leaves a renamed file without its contents.
    """
    tmp = path.with_name(f".{path.name}.tmp")
    data = text.encode("utf-8") if isinstance(text, str) else text
    with tmp.open("wb") as handle:
        handle.write(data)
        if sync:
            handle.flush()
            os.fsync(handle.fileno())
    os.replace(tmp, path)


class ShardError(ValueError):
    """A store that cannot be resumed: ``problem`` says why (naming the file); the message
    adds the remedy, in the words of the library (``overwrite=True``)."""

    def __init__(self, problem: str) -> None:
        self.problem = problem
        super().__init__(f"{problem}; use another directory, or overwrite=True to start again")


class SettingsMismatch(ShardError):
    """The store holds a run with other settings; ``differences`` lists ``(path, was,
    now)`` for each setting that differs (paths such as ``scorer.weights``)."""

    def __init__(self, directory: Path, differences: list[tuple[str, Any, Any]]) -> None:
        self.directory = directory
        self.differences = differences
        super().__init__(self.describe())

    def describe(self, labels: dict[str, str] | None = None) -> str:
        """The problem, each setting named by the longest prefix of its path in ``labels``
        (e.g. ``{"scorer.weights": "--weights"}``) when there is one."""
        lines = []
        for path, was, now in self.differences:
            label = _label(path, labels or {})
            lines.append(f"  {label}: was {_short(was)}, now {_short(now)}")
        return f"{self.directory} holds a run with other settings:\n" + "\n".join(lines) + "\n"


def _label(path: str, labels: dict[str, str]) -> str:
    parts = path.split(".")
    for end in range(len(parts), 0, -1):
        prefix = ".".join(parts[:end])
        if prefix in labels:
            rest = ".".join(parts[end:])
            return f"{labels[prefix]} ({rest})" if rest else labels[prefix]
    return path


def _short(value: Any, limit: int = 120) -> str:
    text = json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _differences(was: Any, now: Any, path: str = "") -> list[tuple[str, Any, Any]]:
    """The leaves where two JSON values differ, with their dotted paths."""
    if isinstance(was, dict) and isinstance(now, dict):
        found = []
        for key in dict.fromkeys([*was, *now]):
            sub = f"{path}.{key}" if path else str(key)
            found += _differences(was.get(key), now.get(key), sub)
        return found
    if isinstance(was, list) and isinstance(now, list) and len(was) == len(now):
        found = []
        for i, (a, b) in enumerate(zip(was, now, strict=True)):
            found += _differences(a, b, f"{path}.{i}" if path else str(i))
        return found
    return [] if was == now else [(path or "(all)", was, now)]


class ShardStore:
    """Rows appended here land in JSONL shards of ``shard_rows`` rows each.

    Args:
        directory: where the shards and the manifest live (created if missing).
        shard_rows: rows per shard; the unit of work that an interrupted run redoes.
        fingerprint: JSON-serialisable settings of the run. A directory holding a
            manifest with another fingerprint or shard size raises
            :class:`SettingsMismatch` unless ``overwrite`` is true, which starts afresh.
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
        self._inputs = 0  # input records noted since the last shard
        self._input_hash = hashlib.blake2b(digest_size=16)
        self.directory.mkdir(parents=True, exist_ok=True)
        manifest = None if overwrite else self._read_manifest()
        if manifest is not None:
            settings = {"fingerprint": self.fingerprint, "shard_rows": shard_rows}
            was = {
                "fingerprint": manifest.get("fingerprint"),
                "shard_rows": manifest.get("shard_rows"),
            }
            differences = [
                (p.removeprefix("fingerprint."), a, b) for p, a, b in _differences(was, settings)
            ]
            if differences:
                raise SettingsMismatch(self.directory, differences)
            self._shards: list[dict[str, Any]] = list(manifest["shards"])
            self.complete = bool(manifest.get("complete"))
            for shard in self._shards:
                self._check_size(shard)
            self._checked = not self._shards
        else:
            if overwrite:
                self._clear()
            self._shards = []
            self.complete = False
            self._checked = True

    @property
    def done_rows(self) -> int:
        """Rows safely on disk: the number of input rows a resumed run skips."""
        return sum(shard["rows"] for shard in self._shards)

    @property
    def done_inputs(self) -> int:
        """Input records (see :meth:`note_input`) that the rows on disk were made from."""
        return sum(shard["inputs"] for shard in self._shards)

    def note_input(self, digest: bytes) -> None:
        """Record the :func:`record_digest` of an input record whose rows come next (on a
        resumed store, after :meth:`check_input`)."""
        if not self._checked:
            raise RuntimeError("call check_input on a resumed store before noting new input")
        self._input_hash.update(digest)
        self._inputs += 1

    def check_input(self, records: Iterator[Any]) -> None:
        """Read the :attr:`done_inputs` first records of a resumed run's input and check
        that they are the records the shards were made from; raises :class:`ShardError`
        naming the first shard whose input differs. A complete store also checks that the
        input has no records beyond them."""
        for shard in self._shards:
            for _ in range(shard["inputs"]):
                record = next(records, _END)
                if record is _END:
                    raise ShardError(
                        f"the input ends before the records {self._file(shard)} was made from"
                    )
                self._input_hash.update(record_digest(record))
            if self._input_hash.copy().hexdigest() != shard["input_digest"]:
                raise ShardError(
                    f"the input differs from the one {self._file(shard)} was made from "
                    "(an edited or another input)"
                )
        self._checked = True
        if self.complete and next(records, _END) is not _END:
            raise ShardError(
                f"the input has more records than the finished run in {self.directory}"
            )

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
        if not self._shards:
            self._clear()
        self.complete = True
        self._write_manifest()

    def rows(self) -> Iterator[dict[str, Any]]:
        """Stream every row on disk, in order, one shard in memory at a time; a shard that
        is not as the manifest records it (rows, size, checksum) raises :class:`ShardError`."""
        for shard in list(self._shards):  # not the shards appended meanwhile
            path = self.directory / shard["name"]
            try:
                data = path.read_bytes()
            except FileNotFoundError:
                raise ShardError(f"{path} is listed in the manifest but missing") from None
            lines = data.splitlines()
            if len(lines) != shard["rows"]:
                raise ShardError(
                    f"{path} holds {len(lines)} rows, the manifest says {shard['rows']}"
                )
            if hashlib.blake2b(data, digest_size=16).hexdigest() != shard["checksum"]:
                raise ShardError(f"{path} was changed after it was written (checksum differs)")
            for number, line in enumerate(lines, start=1):
                try:
                    yield json.loads(line)
                except json.JSONDecodeError as exc:  # pragma: no cover - the checksum guards
                    raise ShardError(f"{path}:{number}: not JSON ({exc.msg})") from None

    def _clear(self) -> None:
        """Remove what an older run left (before the first shard of a fresh one)."""
        (self.directory / MANIFEST).unlink(missing_ok=True)
        for stale in self.directory.glob("part-*.jsonl"):
            stale.unlink()

    def _file(self, shard: dict[str, Any]) -> Path:
        return self.directory / shard["name"]

    def _check_size(self, shard: dict[str, Any]) -> None:
        path = self._file(shard)
        if not path.is_file():
            raise ShardError(f"{path} is listed in the manifest but missing")
        if path.stat().st_size != shard["bytes"]:
            raise ShardError(
                f"{path} has {path.stat().st_size} bytes, the manifest says {shard['bytes']}"
            )

    def _flush(self) -> None:
        if not self._shards:
            self._clear()
        name = f"part-{len(self._shards):06d}.jsonl"
        data = ("\n".join(self._buffer) + "\n").encode("utf-8")
        write_atomic(self.directory / name, data)
        self._shards.append(
            {
                "name": name,
                "rows": len(self._buffer),
                "bytes": len(data),
                "checksum": hashlib.blake2b(data, digest_size=16).hexdigest(),
                "inputs": self._inputs,
                "input_digest": self._input_hash.copy().hexdigest(),
            }
        )
        self._buffer, self._inputs = [], 0
        self._write_manifest()

    def _read_manifest(self) -> dict[str, Any] | None:
        path = self.directory / MANIFEST
        if not path.exists():
            return None
        try:
            manifest = json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise ShardError(f"{path} is not a readable manifest ({exc.msg})") from None
        if not isinstance(manifest, dict) or manifest.get("version") != _VERSION:
            version = manifest.get("version") if isinstance(manifest, dict) else None
            raise ShardError(f"{path}: unknown manifest version {version!r}")
        shards = manifest.get("shards")
        keys = ("name", "rows", "bytes", "checksum", "inputs", "input_digest")
        if not isinstance(shards, list) or not all(
            isinstance(s, dict) and all(k in s for k in keys) for s in shards
        ):
            raise ShardError(f"{path}: its list of shards is damaged")
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


_END = object()
