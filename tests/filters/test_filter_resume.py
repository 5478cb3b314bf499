"""An interrupted filtering run resumes where it stopped: same output, nothing scored twice."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from filter_data import synthetic_records, write_jsonl

from rewardkit.filters import Exporter, Scorer, ShardStore, read_completions, run_filter
from rewardkit.rewards import BoxedAccuracy

OUTPUTS = ("sft.jsonl", "dropped.jsonl", "pass_rates.jsonl", "stats.json")


class CountingAccuracy(BoxedAccuracy):
    """BoxedAccuracy that counts the rows it scores and can stop the run after K batches
    (KeyboardInterrupt, as Ctrl-C would; the reward protocol swallows ordinary errors)."""

    def __init__(self, log: Path, stop_after: int | None = None):
        super().__init__(name="boxed_accuracy")
        # Private attributes: not settings of the run, so resuming with others is allowed.
        self._log, self._stop_after, self._batches = log, stop_after, 0

    def score_samples(self, samples):
        if self._stop_after is not None and self._batches >= self._stop_after:
            raise KeyboardInterrupt
        self._batches += 1
        with self._log.open("a") as handle:
            handle.writelines(s.text + "\n" for s in samples)
        return super().score_samples(samples)


def _run(tmp_path, out, reward, records):
    return run_filter(
        read_completions(records, completion_fields=["completions"]),
        Scorer([reward], batch_size=8),
        ["pass_rate:lo=0.25,hi=0.75", "top_k_distinct:k=2,by=ngram,max_similarity=0.9"],
        Exporter("sft"),
        out,
        shard_rows=16,
        progress=False,
    )


def test_interrupted_run_resumes_to_the_same_output(tmp_path):
    records = synthetic_records(n_prompts=30, n=4)  # 120 rows: 15 batches, 7.5 shards
    whole_log, part_log = tmp_path / "whole.log", tmp_path / "part.log"
    _run(tmp_path, tmp_path / "whole", CountingAccuracy(whole_log), records)

    with pytest.raises(KeyboardInterrupt):
        _run(tmp_path, tmp_path / "part", CountingAccuracy(part_log, stop_after=7), records)
    manifest = json.loads((tmp_path / "part" / "scored" / "manifest.json").read_text())
    assert not manifest["complete"]
    # 7 batches of 8 rows were scored: 3 full shards, and the rest saved on the way out.
    assert [s["rows"] for s in manifest["shards"]] == [16, 16, 16, 8]
    assert not (tmp_path / "part" / "sft.jsonl").exists()  # no half-written output
    assert not list((tmp_path / "part").glob(".*.tmp"))

    _run(tmp_path, tmp_path / "part", CountingAccuracy(part_log), records)
    for name in OUTPUTS:
        assert (tmp_path / "part" / name).read_text() == (tmp_path / "whole" / name).read_text()
    assert (tmp_path / "whole" / "sft.jsonl").read_text().count("\n") > 0
    # Nothing was scored twice, nothing was lost.
    whole, part = whole_log.read_text().splitlines(), part_log.read_text().splitlines()
    assert len(whole) == len(part) == 120
    assert sorted(part) == sorted(whole)


def test_a_finished_run_is_not_scored_again(tmp_path):
    records = synthetic_records(n_prompts=4)
    log = tmp_path / "log"
    first = _run(tmp_path, tmp_path / "out", CountingAccuracy(log), records)
    n_scored = len(log.read_text().splitlines())
    second = _run(tmp_path, tmp_path / "out", CountingAccuracy(log), records)
    assert len(log.read_text().splitlines()) == n_scored
    assert first.stats.summary() == second.stats.summary()


def test_resuming_with_other_settings_is_refused(tmp_path):
    rows = list(read_completions(synthetic_records(2), completion_fields=["completions"]))
    run_filter(rows, Scorer("boxed_accuracy"), [], Exporter("sft"), tmp_path, progress=False)
    with pytest.raises(ValueError, match="other settings"):
        run_filter(
            rows,
            Scorer([BoxedAccuracy(boxed_only=False)]),
            [],
            Exporter("sft"),
            tmp_path,
            progress=False,
        )
    with pytest.raises(ValueError, match="other settings"):
        ShardStore(tmp_path / "scored", shard_rows=7, fingerprint={})


def test_killed_cli_run_resumes_to_the_same_output(tmp_path):
    """SIGKILL a real `rewardkit filter` process part way, rerun it, compare."""
    data = write_jsonl(tmp_path / "in.jsonl", synthetic_records(n_prompts=200, n=4))
    slow = tmp_path / "slow_reward.py"
    slow.write_text(
        "import time\n"
        "from rewardkit.rewards import BoxedAccuracy\n"
        "class SlowAccuracy(BoxedAccuracy):\n"
        "    def score_samples(self, samples):\n"
        "        time.sleep(0.05)\n"
        "        return super().score_samples(samples)\n"
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), os.getcwd()])}

    def command(out):
        return [
            sys.executable, "-m", "rewardkit.cli", "filter", "--input", str(data),
            "--completion-field", "completions", "--reward", "slow_reward:SlowAccuracy",
            "--filter", "pass_rate", "--format", "kto", "--batch-size", "16",
            "--shard-rows", "64", "--out", str(out), "--no-progress",
        ]  # fmt: skip

    whole = subprocess.run(
        command(tmp_path / "whole"), env=env, capture_output=True, text=True, check=False
    )
    assert whole.returncode == 0, whole.stderr
    process = subprocess.Popen(command(tmp_path / "part"), env=env, stdout=subprocess.DEVNULL)
    manifest = tmp_path / "part" / "scored" / "manifest.json"
    deadline = time.time() + 60
    while time.time() < deadline:  # kill once a few shards, but not all, are on disk
        if manifest.exists() and len(json.loads(manifest.read_text())["shards"]) >= 3:
            break
        time.sleep(0.02)
    process.send_signal(signal.SIGKILL)
    process.wait()
    done = json.loads(manifest.read_text())
    assert not done["complete"] and 3 <= len(done["shards"]) < 13
    resumed = subprocess.run(
        command(tmp_path / "part"), env=env, capture_output=True, text=True, check=False
    )
    assert resumed.returncode == 0, resumed.stderr
    for name in ("kto.jsonl", "dropped.jsonl", "pass_rates.jsonl", "stats.json"):
        assert (tmp_path / "part" / name).read_text() == (tmp_path / "whole" / name).read_text()
    assert resumed.stdout.splitlines()[:6] == whole.stdout.splitlines()[:6]  # summary table


def test_rows_with_non_json_values_resume_to_the_same_output(tmp_path):
    import datetime

    records = synthetic_records(n_prompts=8)
    for i, record in enumerate(records):
        record["created"] = datetime.date(2024, 1, 1 + i)  # e.g. a Parquet date column

    def run(out, reward):
        return run_filter(
            read_completions(records, completion_fields=["completions"]),
            Scorer([reward], batch_size=8),
            ["correct"],
            Exporter("sft", columns=["created"]),
            out,
            shard_rows=8,
            progress=False,
        )

    run(tmp_path / "whole", CountingAccuracy(tmp_path / "a.log"))
    with pytest.raises(KeyboardInterrupt):
        run(tmp_path / "part", CountingAccuracy(tmp_path / "b.log", stop_after=2))
    run(tmp_path / "part", CountingAccuracy(tmp_path / "b.log"))
    whole = (tmp_path / "whole" / "sft.jsonl").read_text()
    assert whole == (tmp_path / "part" / "sft.jsonl").read_text()
    assert '"created": "2024-01-02"' in whole


def test_changing_filters_or_format_reuses_the_scores(tmp_path):
    records = synthetic_records(n_prompts=10)
    log = tmp_path / "log"

    def run(filters, fmt):
        return run_filter(
            read_completions(records, completion_fields=["completions"]),
            Scorer([CountingAccuracy(log)]),
            filters,
            Exporter(fmt),
            tmp_path / "out",
            progress=False,
        )

    first = run(["correct"], "sft")
    second = run(["pass_rate"], "dpo")
    assert len(log.read_text().splitlines()) == 40  # scored once for both runs
    assert first.stats.dropped == {"incorrect": 20}
    assert second.stats.dropped == {"never_solved": 8, "always_solved": 8}
    assert second.stats.records == 6 and (tmp_path / "out" / "dpo.jsonl").exists()
