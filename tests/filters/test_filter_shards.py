"""The shard store: atomic shards, a manifest, resume, and refusal of damaged state."""

from __future__ import annotations

import pytest

from rewardkit.filters import ShardStore


def test_rows_survive_reopening_and_unlisted_shards_are_redone(tmp_path):
    store = ShardStore(tmp_path, shard_rows=3, fingerprint={"a": 1})
    for i in range(7):
        store.append({"i": i, "text": "ünïcode ∑"})
    assert store.done_rows == 6 and not store.complete
    # A crash after a shard's rename but before the manifest: the stray shard is ignored.
    (tmp_path / "part-000002.jsonl").write_text('{"i": 99}\n')
    again = ShardStore(tmp_path, shard_rows=3, fingerprint={"a": 1})
    assert [r["i"] for r in again.rows()] == [0, 1, 2, 3, 4, 5]
    again.append({"i": 6})
    again.finish()
    assert [
        r["i"] for r in ShardStore(tmp_path, shard_rows=3, fingerprint={"a": 1}).rows()
    ] == list(range(7))
    with pytest.raises(RuntimeError, match="complete"):
        again.append({"i": 7})


def test_overwrite_starts_afresh_and_bad_manifests_are_refused(tmp_path):
    store = ShardStore(tmp_path, shard_rows=2)
    store.extend([{"i": 0}, {"i": 1}])
    fresh = ShardStore(tmp_path, shard_rows=5, overwrite=True)
    assert fresh.done_rows == 0 and not list(tmp_path.glob("part-*"))
    (tmp_path / "manifest.json").write_text("{not json")
    with pytest.raises(ValueError, match="not a readable manifest"):
        ShardStore(tmp_path, shard_rows=5)
    (tmp_path / "manifest.json").write_text('{"version": 99}')
    with pytest.raises(ValueError, match="unknown manifest version"):
        ShardStore(tmp_path, shard_rows=5)
    with pytest.raises(ValueError, match="at least 1"):
        ShardStore(tmp_path / "x", shard_rows=0)
