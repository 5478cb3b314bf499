"""Rejection sampling on Ray Data gives the local pipeline's files, row for row."""

from __future__ import annotations

import gzip
import json
import os
import sys

import pytest

from rewardkit.filters import Exporter, Scorer, read_completions, run_filter

pytest.importorskip("ray")


def _records(n_prompts: int = 12, n: int = 4) -> list[dict]:
    """Prompt i has i % (n + 1) right answers among n, chat and plain prompts mixed, so
    every pass rate occurs and rows differ in shape."""
    records = []
    for i in range(n_prompts):
        gold = i + 2
        answers = [gold if j < i % (n + 1) else gold + j + 1 for j in range(n)]
        completions = [f"<think>{i} + 2 = ?</think> It is \\boxed{{{a}}}." for a in answers]
        prompt = f"What is {i} + 2?"
        if i % 3 == 0:
            prompt = [{"role": "user", "content": prompt}]
            completions = [[{"role": "assistant", "content": c}] for c in completions]
        records.append({"prompt": prompt, "completions": completions, "answer": str(gold)})
    return records


def _run(tmp_path, name, rows, scorer, fmt, **kwargs):
    out = tmp_path / name
    run_filter(rows, scorer, ["pass_rate"], Exporter(fmt), out, progress=False, **kwargs)
    return {p.name: p.read_bytes() for p in out.iterdir() if p.suffix in (".jsonl", ".json")}


@pytest.mark.parametrize("fmt", ["sft", "dpo", "kto"])
def test_ray_executor_writes_the_local_files(ray_local, tmp_path, fmt):
    rows = list(read_completions(_records(), completion_fields=["completions"]))
    scorer = Scorer(["boxed_accuracy", "think_format"], [1.0, 0.1], batch_size=5)
    local = _run(tmp_path, "local", rows, scorer, fmt)
    on_ray = _run(tmp_path, "ray", rows, scorer, fmt, executor="ray")
    assert set(on_ray) == {f"{fmt}.jsonl", "dropped.jsonl", "pass_rates.jsonl", "stats.json"}
    assert on_ray == local
    assert local[f"{fmt}.jsonl"].strip(), "the export must not be empty"


class DiesOnce:
    """A reward whose first call kills its own worker process (as the OOM killer would)."""

    __name__ = "dies_once"

    def __init__(self, marker: str) -> None:
        self.marker = marker

    def __call__(self, prompts, completions, **columns):
        if not os.path.exists(self.marker):
            open(self.marker, "w").close()
            os._exit(1)
        return [float(len(str(c)) % 3) for c in completions]


def test_a_killed_task_is_retried_and_nothing_is_lost_or_doubled(ray_local, tmp_path):
    import ray

    ray.cloudpickle.register_pickle_by_value(sys.modules[__name__])
    rows = list(read_completions(_records(), completion_fields=["completions"]))
    marker = tmp_path / "died"
    scorer = Scorer([DiesOnce(str(marker)), "boxed_accuracy"], correct=1, batch_size=8)
    on_ray = _run(tmp_path, "ray", rows, scorer, "sft", executor="ray")
    assert marker.exists(), "the first task must have died"
    local = _run(tmp_path, "local", rows, scorer, "sft")
    assert on_ray == local
    scored = [json.loads(line) for line in (tmp_path / "ray" / "pass_rates.jsonl").open()]
    assert sum(r["n"] for r in scored) == len(rows)


def test_rows_keep_their_order_and_reasons_across_windows(ray_local):
    from rewardkit.ray import score_rows_on_ray

    rows = [
        {"prompt": "p", "completion": c, "answer": "7", "i": i}
        for i, c in enumerate([r"\boxed{7}", "no box", r"\boxed{7", r"\boxed{8}"] * 25)
    ]
    scorer = Scorer("boxed_accuracy", batch_size=7)
    scored = list(score_rows_on_ray(scorer, rows, window_rows=30))
    assert [r["i"] for r in scored] == list(range(100))
    assert scored == list(scorer.score_rows(rows))
    assert {r["reasons"]["boxed_accuracy"] for r in scored} >= {"ok", "no_answer", "wrong_answer"}


def test_ray_readers_read_jsonl_gz_parquet_and_directories(ray_local, tmp_path):
    from datasets import Dataset

    from rewardkit.ray.data import read_records_on_ray

    records = _records(5)
    shards = tmp_path / "shards"
    shards.mkdir()
    for k in range(2):  # a directory of gzipped JSONL shards
        with gzip.open(shards / f"part-{k}.jsonl.gz", "wt", encoding="utf-8") as handle:
            handle.write("".join(json.dumps(r) + "\n" for r in records[k * 3 : k * 3 + 3]))
    plain = [r for r in records if isinstance(r["prompt"], str)]  # Parquet wants one type
    parquet = tmp_path / "in.parquet"
    Dataset.from_list(plain).to_parquet(parquet)
    assert list(read_records_on_ray(shards)) == records
    assert list(read_records_on_ray(parquet)) == plain
    dataset = ray_local.data.read_parquet(str(parquet))
    rows = list(read_completions(dataset, completion_fields=["completions"]))
    assert rows == list(read_completions(plain, completion_fields=["completions"]))


def test_bad_lines_and_unknown_executor_are_clear_errors(ray_local, tmp_path):
    from rewardkit.ray.data import read_records_on_ray

    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"prompt": "p"}\n[1, 2]\n', encoding="utf-8")
    with pytest.raises(TypeError, match="record 2: expected a JSON object"):
        list(read_records_on_ray(bad))
    with pytest.raises(ValueError, match="unknown executor 'dask'"):
        run_filter([], Scorer("boxed_accuracy"), [], Exporter("sft"), tmp_path, executor="dask")


def test_cli_executor_ray_reads_a_directory_of_shards_like_the_local_file(ray_local, tmp_path):
    from rewardkit.cli import main

    records = _records()
    whole = tmp_path / "all.jsonl"
    whole.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    shards = tmp_path / "shards"
    shards.mkdir()
    for k in range(3):
        part = records[k * 4 : k * 4 + 4]
        (shards / f"part-{k:02d}.jsonl").write_text(
            "".join(json.dumps(r) + "\n" for r in part), encoding="utf-8"
        )
    common = ["--completion-field", "completions", "--reward", "boxed_accuracy",
              "--filter", "pass_rate", "--format", "dpo", "--no-progress"]  # fmt: skip
    assert main(["filter", "--input", str(whole), "--out", str(tmp_path / "a"), *common]) == 0
    assert main(["filter", "--input", str(shards), "--out", str(tmp_path / "b"),
                 "--executor", "ray", *common]) == 0  # fmt: skip
    for name in ("dpo.jsonl", "dropped.jsonl", "pass_rates.jsonl", "stats.json"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()
    assert main(["filter", "--input", str(shards), "--out", str(tmp_path / "c"), *common]) == 2
