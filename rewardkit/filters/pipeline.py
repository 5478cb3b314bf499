r"""The whole filtering run: score (resumably), filter per prompt, export, count.

:func:`run_filter` streams completion rows through a :class:`Scorer`, saving the scored
rows in a :class:`ShardStore` under ``out_dir/scored`` as it goes, and on through a
:class:`FilterChain` and an :class:`Exporter` prompt by prompt, in one pass. Its stages
are plain functions another executor can reuse: :func:`score_rows` (resumable scoring),
:func:`~rewardkit.filters.filters.iter_groups` (rows to prompts) and :func:`filter_group`
(one prompt's filters and records). A rerun
after an interruption reads the saved rows back instead of scoring them again and
scores the rest. It writes, each through a temporary file renamed at the end:

- ``<format>.jsonl``: the dataset (``datasets.load_dataset("json", data_files=...)``),
- ``dropped.jsonl``: one line per dropped completion with its filter and reason,
- ``pass_rates.jsonl``: each prompt's judged, correct and pass-rate numbers,
- ``stats.json`` and ``pass_rates.png`` (the pass-rate histogram).

>>> import tempfile
>>> rows = [{"prompt": "2+2?", "completion": c, "answer": "4"}
...         for c in (r"\boxed{4}", r"\boxed{5}")]
>>> report = run_filter(rows, Scorer("boxed_accuracy"), ["correct"], Exporter("sft"),
...                     tempfile.mkdtemp(), progress=False)
>>> report.stats.kept_rows, dict(report.stats.dropped)
(1, {'incorrect': 1})
"""

from __future__ import annotations

import json
import os
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from tqdm import tqdm

from rewardkit.filters.export import Exporter
from rewardkit.filters.filters import Dropped, Filter, FilterChain, PromptGroup, iter_groups
from rewardkit.filters.score import Scorer
from rewardkit.filters.shards import ShardStore, encode_json, record_digest, write_atomic
from rewardkit.filters.stats import FilterStats

__all__ = ["EXECUTORS", "FilterReport", "GroupResult", "filter_group", "run_filter", "score_rows"]

EXECUTORS = ("local", "ray")


@dataclass(frozen=True)
class FilterReport:
    """What a run produced: its statistics and the paths of its files."""

    stats: FilterStats
    dataset: Path
    dropped: Path
    pass_rates: Path
    histogram: Path
    summary: Path


@dataclass(frozen=True)
class GroupResult:
    """What the filters and the exporter made of one prompt's scored rows."""

    group: PromptGroup
    kept: list[dict[str, Any]]
    drops: list[Dropped]
    records: list[dict[str, Any]]

    def pass_rate_record(self) -> dict[str, Any]:
        """The prompt's line of ``pass_rates.jsonl``."""
        judged, correct = self.group.n_judged, self.group.n_correct
        return {
            "prompt_id": self.group.prompt_id,
            "n": len(self.group.rows),
            "judged": judged,
            "correct": correct,
            "pass_rate": correct / judged if judged else None,
        }

    def drop_records(self) -> Iterator[dict[str, Any]]:
        """The prompt's lines of ``dropped.jsonl``."""
        for drop in self.drops:
            yield {
                "prompt_id": drop.row.get("prompt_id"),
                "sample": drop.row.get("sample"),
                "filter": drop.filter,
                "reason": drop.reason,
                "reward": drop.row.get("reward"),
                "reasons": drop.row.get("reasons"),
            }


def filter_group(
    rows: Sequence[dict[str, Any]], chain: FilterChain, exporter: Exporter
) -> GroupResult:
    """Filter and export the scored rows of one prompt (a pure function of its rows, so
    that any executor can map it over groups).

    >>> rows = [{"prompt_id": 0, "prompt": "1+1?", "completion": c, "reward": r, "correct": r > 0}
    ...         for c, r in [("2", 1.0), ("3", 0.0)]]
    >>> result = filter_group(rows, FilterChain(["correct"]), Exporter("sft"))
    >>> [r["completion"] for r in result.records], [d.reason for d in result.drops]
    (['2'], ['incorrect'])
    """
    kept, drops = chain.apply(rows)
    group = PromptGroup(rows[0].get("prompt_id") if rows else None, rows)
    return GroupResult(group, kept, drops, exporter.records(kept))


def run_filter(
    rows: Iterable[dict[str, Any]],
    scorer: Scorer,
    filters: Sequence[Filter | str],
    exporter: Exporter,
    out_dir: str | Path,
    *,
    shard_rows: int = 8192,
    ks: Sequence[int] = (1,),
    input_fingerprint: Any = None,
    check_groups: bool = True,
    overwrite: bool = False,
    progress: bool = True,
    total: int | None = None,
    executor: str = "local",
    address: str | None = None,
) -> FilterReport:
    """Score, filter and export completion rows; resumes an interrupted run in ``out_dir``.

    A rerun must read the same rows: the rows already scored are skipped, not scored
    again, after checking that the input's first rows are the ones they were scored from
    (a digest of each row is kept per shard). ``input_fingerprint`` holds other settings
    of the input (e.g. the fields it is read with), checked with the scorer's whole
    configuration; any difference raises :class:`~rewardkit.filters.shards.SettingsMismatch`
    naming it. ``total`` (the number of rows, if known) sizes the progress bar.

    ``executor="ray"`` scores on Ray Data (the cluster at ``address``, or the Ray
    instance already running, or a new local one; see :mod:`rewardkit.ray`); the rows
    come back in input order and everything else runs here as with ``"local"``, so both
    give the same files.
    """
    if executor not in EXECUTORS:
        raise ValueError(f"unknown executor {executor!r}: use one of {EXECUTORS}")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    store = ShardStore(
        out / "scored",
        shard_rows=shard_rows,
        fingerprint={"scorer": scorer.fingerprint(), "input": input_fingerprint},
        overwrite=overwrite,
    )
    chain = FilterChain(filters)
    stats = FilterStats(ks)
    paths = {
        "dataset": out / f"{exporter.format}.jsonl",
        "dropped": out / "dropped.jsonl",
        "pass_rates": out / "pass_rates.jsonl",
    }
    with (
        _atomic_lines(paths["dataset"]) as dataset,
        _atomic_lines(paths["dropped"]) as dropped_file,
        _atomic_lines(paths["pass_rates"]) as rates_file,
    ):
        bar = tqdm(desc="scoring and filtering", unit="row", total=total, disable=not progress)
        scored = score_rows(
            rows, scorer, store, on_row=bar.update, executor=executor, address=address
        )
        for group_rows in iter_groups(scored, check=check_groups):
            result = filter_group(group_rows, chain, exporter)
            rates_file.write(result.pass_rate_record())
            for record in result.records:
                dataset.write(record)
            for line in result.drop_records():
                dropped_file.write(line)
            stats.add_group(result.group, result.kept, result.drops, result.records)
        bar.close()

    summary = out / "stats.json"
    write_atomic(summary, json.dumps(stats.summary(), indent=1))
    histogram = stats.save_histogram(out / "pass_rates.png")
    return FilterReport(stats, histogram=histogram, summary=summary, **paths)


def score_rows(
    rows: Iterable[dict[str, Any]],
    scorer: Scorer,
    store: ShardStore,
    on_row: Callable[[], Any] = lambda: None,
    executor: str = "local",
    address: str | None = None,
) -> Iterator[dict[str, Any]]:
    """The scoring stage, resumable: checks that the input starts with the rows the store
    was scored from, streams the stored rows back, then scores the rest (here, or on Ray
    Data with ``executor="ray"``), saving them as they go. A run stopped by an exception
    saves what it scored first."""
    source = iter(rows)
    store.check_input(source)
    for row in store.rows():
        on_row()
        yield row
    if store.complete:
        return
    digests: deque[bytes] = deque()  # of rows read but not yet scored (the scorer reads ahead)

    def noted(records: Iterator[dict[str, Any]]) -> Iterator[dict[str, Any]]:
        for record in records:
            digests.append(record_digest(record))
            yield record

    if executor == "ray":
        from rewardkit.ray.data import score_rows_on_ray

        scored = score_rows_on_ray(scorer, noted(source), address=address)
    else:
        scored = scorer.score_rows(noted(source))
    try:
        for row in scored:
            store.note_input(digests.popleft())
            store.append(row)
            on_row()
            yield row
    except BaseException:  # Ctrl-C, a failing reward, a failing filter: keep what is scored
        store.flush()
        raise
    store.finish()


class _Lines:
    """A JSONL writer."""

    def __init__(self, handle: TextIO) -> None:
        self.handle = handle

    def write(self, record: dict[str, Any]) -> None:
        self.handle.write(encode_json(record) + "\n")


@contextmanager
def _atomic_lines(path: Path) -> Iterator[_Lines]:
    """A JSONL file written under a temporary name and renamed into place on success."""
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        with tmp.open("w", encoding="utf-8") as handle:
            yield _Lines(handle)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    os.replace(tmp, path)
