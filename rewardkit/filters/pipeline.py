r"""The whole filtering run: score (resumably), filter per prompt, export, count.

:func:`run_filter` streams completion rows through a :class:`Scorer`, saving the scored
rows in a :class:`ShardStore` under ``out_dir/scored`` as it goes, and on through a
:class:`FilterChain` and an :class:`Exporter` prompt by prompt, in one pass. A rerun
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
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from itertools import islice
from pathlib import Path
from typing import Any, TextIO

from tqdm import tqdm

from rewardkit.filters.export import Exporter
from rewardkit.filters.filters import Filter, FilterChain, PromptGroup, iter_groups
from rewardkit.filters.score import Scorer
from rewardkit.filters.shards import ShardStore, encode_json, write_atomic
from rewardkit.filters.stats import FilterStats

__all__ = ["EXECUTORS", "FilterReport", "run_filter"]

EXECUTORS = ("local", "ray")
ScoreRows = Callable[[Iterable[dict[str, Any]]], Iterator[dict[str, Any]]]


@dataclass(frozen=True)
class FilterReport:
    """What a run produced: its statistics and the paths of its files."""

    stats: FilterStats
    dataset: Path
    dropped: Path
    pass_rates: Path
    histogram: Path
    summary: Path


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

    ``rows`` must be the same stream on a rerun (``input_fingerprint``, e.g. the input
    path and size, is checked with the scorer's settings); the rows already scored are
    skipped, not scored again. ``total`` (the number of rows, if known) sizes the
    progress bar.

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
        scored = _scored_rows(rows, _scoring(scorer, executor, address), store, bar)
        for group_rows in iter_groups(scored, check=check_groups):
            group = PromptGroup(group_rows[0].get("prompt_id"), group_rows)
            n_judged, n_correct = group.n_judged, group.n_correct
            stats.add_prompt(n_judged, n_correct)
            rates_file.write(
                {
                    "prompt_id": group.prompt_id,
                    "n": len(group_rows),
                    "judged": n_judged,
                    "correct": n_correct,
                    "pass_rate": n_correct / n_judged if n_judged else None,
                }
            )
            kept, drops = chain.apply(group_rows)
            records = exporter.records(kept)
            for record in records:
                dataset.write(record)
            for drop in drops:
                dropped_file.write(
                    {
                        "prompt_id": drop.row.get("prompt_id"),
                        "sample": drop.row.get("sample"),
                        "filter": drop.filter,
                        "reason": drop.reason,
                        "reward": drop.row.get("reward"),
                    }
                )
            stats.add_rows(len(group_rows), len(kept), (d.reason for d in drops), len(records))
        bar.close()

    summary = out / "stats.json"
    write_atomic(summary, json.dumps(stats.summary(), indent=1))
    histogram = stats.save_histogram(out / "pass_rates.png")
    return FilterReport(stats, histogram=histogram, summary=summary, **paths)


def _scoring(scorer: Scorer, executor: str, address: str | None) -> ScoreRows:
    """The function that scores a stream of rows, in order, on ``executor``."""
    if executor == "local":
        return scorer.score_rows
    from rewardkit.ray.data import score_rows_on_ray

    return partial(score_rows_on_ray, scorer, address=address)


def _scored_rows(
    rows: Iterable[dict[str, Any]], score_rows: ScoreRows, store: ShardStore, bar: tqdm
) -> Iterator[dict[str, Any]]:
    """The rows scored before (read back from the store), then the rest, scored now and
    saved as they go. A run stopped by an exception saves what it scored first."""
    for row in store.rows():
        bar.update()
        yield row
    if store.complete:
        return
    try:
        for row in score_rows(islice(iter(rows), store.done_rows, None)):
            store.append(row)
            bar.update()
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
