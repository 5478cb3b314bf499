"""A resumed filter run reuses scores only when they are the scores it would compute now:
same reward configuration, same input content, shards as the manifest recorded them."""

from __future__ import annotations

import json
import os

import pytest
from filter_data import synthetic_records, write_jsonl

from rewardkit.cli import main
from rewardkit.filters import Exporter, Scorer, ShardStore, read_completions, run_filter
from rewardkit.filters.shards import SettingsMismatch, ShardError


def _filter(data, out, *extra):
    return main(
        ["filter", "--input", str(data), "--completion-field", "completions",
         "--filter", "correct", "--out", str(out), "--no-progress", "--shard-rows", "8", *extra]
    )  # fmt: skip


@pytest.mark.parametrize(
    ("changed", "setting"),
    [
        ("boxed_accuracy@rel_tol=0.5", "rel_tol"),
        ("boxed_accuracy@percent=number", "percent"),
        ("boxed_accuracy@timeout=0.01", "timeout"),
    ],
)
def test_changed_nested_reward_options_are_refused_and_named(tmp_path, capsys, changed, setting):
    data = write_jsonl(tmp_path / "in.jsonl", synthetic_records(n_prompts=3))
    assert _filter(data, tmp_path / "out", "--reward", "boxed_accuracy") == 0
    capsys.readouterr()
    assert _filter(data, tmp_path / "out", "--reward", changed) == 2
    err = capsys.readouterr().err
    assert f"--reward (boxed_accuracy.settings.verify_options.settings.{setting})" in err
    assert "--overwrite" in err and "overwrite=True" not in err
    assert "--completion-field" not in err  # only what differs is named


def test_changed_options_inside_a_composite_are_refused(tmp_path):
    def run(reward):
        rows = read_completions(synthetic_records(2), completion_fields=["completions"])
        return run_filter(rows, Scorer(reward), [], Exporter("sft"), tmp_path, progress=False)

    run("math")
    run("math")  # the same configuration resumes
    with pytest.raises(ValueError, match="strict"):
        run("math@strict=true")


def test_an_edited_input_of_the_same_size_and_mtime_is_refused(tmp_path, capsys):
    records = synthetic_records(n_prompts=4)
    data = write_jsonl(tmp_path / "in.jsonl", records)
    assert _filter(data, tmp_path / "out", "--reward", "boxed_accuracy") == 0
    status = os.stat(data)
    text = data.read_text()
    edited = text.replace('"answer": "3"', '"answer": "4"', 1)  # same length, other gold
    assert edited != text and len(edited) == len(text)
    data.write_text(edited)
    os.utime(data, ns=(status.st_atime_ns, status.st_mtime_ns))
    capsys.readouterr()
    assert _filter(data, tmp_path / "out", "--reward", "boxed_accuracy") == 2
    err = capsys.readouterr().err
    assert "the input differs from the one" in err and "part-000000.jsonl" in err
    assert "--overwrite" in err
    assert _filter(data, tmp_path / "out", "--reward", "boxed_accuracy", "--overwrite") == 0


def test_an_input_that_grew_after_a_finished_run_is_refused(tmp_path, capsys):
    data = write_jsonl(tmp_path / "in.jsonl", synthetic_records(n_prompts=4))
    assert _filter(data, tmp_path / "out", "--reward", "boxed_accuracy") == 0
    write_jsonl(data, synthetic_records(n_prompts=5))
    assert _filter(data, tmp_path / "out", "--reward", "boxed_accuracy") == 2
    assert "more records than the finished run" in capsys.readouterr().err


def test_a_typo_in_a_field_leaves_no_manifest_and_the_fix_runs(tmp_path, capsys):
    data = write_jsonl(tmp_path / "in.jsonl", synthetic_records(n_prompts=3))
    out = tmp_path / "out"
    command = ["filter", "--input", str(data), "--reward", "boxed_accuracy", "--out", str(out),
               "--no-progress"]  # fmt: skip
    assert main([*command, "--completion-field", "complettions"]) == 2
    err = capsys.readouterr().err
    assert "no completion field 'complettions'" in err and "'completions'" in err
    assert not (out / "scored" / "manifest.json").exists()
    assert main([*command, "--completion-field", "completions"]) == 0


def test_other_settings_name_the_flag(tmp_path, capsys):
    data = write_jsonl(tmp_path / "in.jsonl", synthetic_records(n_prompts=3))
    assert _filter(data, tmp_path / "out", "--reward", "boxed_accuracy") == 0
    capsys.readouterr()
    assert _filter(data, tmp_path / "out", "--reward", "boxed_accuracy", "--weights", "2") == 2
    err = capsys.readouterr().err
    assert "--weights (0): was 1.0, now 2.0" in err
    assert "gold_columns" not in err  # not a dump of every setting


def _store_with_rows(tmp_path, n=10):
    store = ShardStore(tmp_path, shard_rows=4, fingerprint={"a": 1})
    for i in range(n):
        store.append({"i": i, "text": f"row {i} ü"})
    store.finish()
    return tmp_path / "manifest.json"


def _reopen(tmp_path):
    return list(ShardStore(tmp_path, shard_rows=4, fingerprint={"a": 1}).rows())


def test_a_shard_missing_lines_is_refused_by_name(tmp_path):
    _store_with_rows(tmp_path)
    shard = tmp_path / "part-000001.jsonl"
    lines = shard.read_text().splitlines(keepends=True)
    shard.write_text("".join(lines[:2]))
    with pytest.raises(ShardError, match="part-000001.jsonl"):
        _reopen(tmp_path)


def test_an_inflated_row_count_is_refused_by_name(tmp_path):
    manifest = _store_with_rows(tmp_path)
    data = json.loads(manifest.read_text())
    data["shards"][2]["rows"] += 3
    manifest.write_text(json.dumps(data))
    with pytest.raises(ShardError, match=r"part-000002.jsonl holds 2 rows, the manifest says 5"):
        _reopen(tmp_path)


def test_edited_values_of_the_same_size_are_refused_by_name(tmp_path):
    _store_with_rows(tmp_path)
    shard = tmp_path / "part-000000.jsonl"
    shard.write_text(shard.read_text().replace('"i": 1,', '"i": 7,'))
    with pytest.raises(ShardError, match=r"part-000000.jsonl was changed after it was written"):
        _reopen(tmp_path)
    shard.unlink()
    with pytest.raises(ShardError, match="part-000000.jsonl is listed in the manifest but missing"):
        ShardStore(tmp_path, shard_rows=4, fingerprint={"a": 1})


def test_a_damaged_scored_shard_stops_the_rerun_before_any_output(tmp_path):
    records = synthetic_records(n_prompts=4)

    def run():
        return run_filter(
            read_completions(records, completion_fields=["completions"]),
            Scorer("boxed_accuracy"),
            ["correct"],
            Exporter("sft"),
            tmp_path,
            shard_rows=4,
            progress=False,
        )

    first = run()
    dataset = first.dataset.read_text()
    shard = tmp_path / "scored" / "part-000001.jsonl"
    shard.write_text(shard.read_text().replace('"reward": 1.0', '"reward": 0.0'))
    with pytest.raises(ShardError, match="part-000001.jsonl"):
        run()
    assert first.dataset.read_text() == dataset  # the old output stands, nothing half-written


def test_settings_mismatch_lists_only_the_differences(tmp_path):
    ShardStore(tmp_path, shard_rows=2, fingerprint={"x": {"y": 1, "z": [1, 2]}}).finish()
    with pytest.raises(SettingsMismatch) as caught:
        ShardStore(tmp_path, shard_rows=3, fingerprint={"x": {"y": 1, "z": [1, 5]}})
    assert caught.value.differences == [("x.z.1", 2, 5), ("shard_rows", 2, 3)]
    assert "overwrite=True" in str(caught.value)


def test_run_time_state_and_paths_in_the_fingerprint():
    from rewardkit.rewards import get_reward
    from rewardkit.verify import model_verifier_from

    verifier = model_verifier_from("tinyv@http://127.0.0.1:9/v1")  # never called here
    reward = get_reward("boxed_accuracy", model_verifier=verifier)
    before = Scorer([reward]).fingerprint()
    reward.model_verifier.backend.usage.requests += 3  # what scoring does to its counters
    reward.model_verifier.backend.breaker.opened = 12.5
    assert Scorer([reward]).fingerprint() == before
    text = json.dumps(before)
    assert "127.0.0.1:9" in text and str(reward.model_verifier.cache.path) in text


def test_a_manifest_from_an_older_version_or_with_a_damaged_shard_list_is_refused(tmp_path):
    manifest = _store_with_rows(tmp_path)
    data = json.loads(manifest.read_text())
    del data["shards"][1]["checksum"]
    manifest.write_text(json.dumps(data))
    with pytest.raises(ShardError, match="manifest.json: its list of shards is damaged"):
        _reopen(tmp_path)
    manifest.write_text(json.dumps({**data, "version": 1}))
    with pytest.raises(ShardError, match="unknown manifest version 1"):
        _reopen(tmp_path)
    assert ShardStore(tmp_path, shard_rows=4, fingerprint={"a": 1}, overwrite=True).done_rows == 0
