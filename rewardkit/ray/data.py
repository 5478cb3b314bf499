r"""Scoring completion rows on Ray Data, streamed back in input order.

The rows travel as JSON text (one string column), so whatever a row holds (chat
messages, nested gold objects, columns that differ from row to row) comes back exactly
as the local scorer would give it, without Arrow guessing a schema. They go out a window
at a time, so the driver holds one window, never the whole input: its memory stays flat
however many rows there are. Each window is one Ray Data job whose tasks score
``scorer.batch_size`` rows each with :meth:`Scorer.score_batch` (the local scorer's own
code), retried by Ray when a worker dies; the results come back in input order.

>>> from rewardkit.filters import Scorer
>>> ray = ensure_ray(num_cpus=1, include_dashboard=False)
>>> rows = [{"prompt": "2+2?", "completion": c, "answer": "4"} for c in (r"\boxed{4}", "5")]
>>> [r["reasons"] for r in score_rows_on_ray(Scorer("boxed_accuracy"), rows)]
[{'boxed_accuracy': 'ok'}, {'boxed_accuracy': 'no_answer'}]
>>> ray.shutdown()
"""

from __future__ import annotations

import json
import math
import warnings
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from itertools import islice
from pathlib import Path
from typing import Any

from rewardkit.filters.generate import json_record
from rewardkit.filters.score import Scorer
from rewardkit.filters.shards import encode_json
from rewardkit.ray import require_ray

__all__ = ["ensure_ray", "read_records_on_ray", "score_rows_on_ray"]

# How often Ray runs a scoring task again after its worker died (a killed process, a
# lost node); an exception raised by the scorer itself is not retried.
TASK_RETRIES = 3


def ensure_ray(address: str | None = None, **init_kwargs: Any):
    """Connect to Ray: the running instance, the cluster at ``address`` (``"auto"``
    finds a local cluster's head), or a new local instance. Returns the ``ray`` module."""
    ray = require_ray()
    if not ray.is_initialized():
        init_kwargs.setdefault("log_to_driver", False)
        ray.init(address=address, **init_kwargs)
    return ray


def score_rows_on_ray(
    scorer: Scorer,
    rows: Iterable[dict[str, Any]],
    *,
    window_rows: int = 16_384,
    concurrency: int | None = None,
    address: str | None = None,
) -> Iterator[dict[str, Any]]:
    """Score completion rows with ``scorer`` on Ray Data; yields them in input order.

    Args:
        scorer: the :class:`~rewardkit.filters.Scorer` (rewards must be picklable, as
            rewardkit's are); ``scorer.batch_size`` rows go to each task.
        rows: completion rows, streamed (e.g. :func:`~rewardkit.filters.read_completions`).
        window_rows: rows handed to Ray at a time; bounds the driver's memory.
        concurrency: scoring tasks at once (default: as many as the cluster's CPUs allow).
        address: the cluster to join when Ray is not initialised yet.
    """
    if window_rows < 1:
        raise ValueError("window_rows must be at least 1")
    ray = ensure_ray(address)
    rows = iter(rows)
    while window := list(islice(rows, window_rows)):
        yield from _score_window(ray, scorer, window, concurrency)


def _score_window(ray, scorer: Scorer, window: list[dict[str, Any]], concurrency):
    blocks = math.ceil(len(window) / scorer.batch_size)
    with _ordered(ray), warnings.catch_warnings():
        # Ray 2.5x deprecates task options such as max_retries without a named
        # replacement; without it a row that kills every worker would be retried forever.
        warnings.filterwarnings("ignore", message=".*ray_remote_args.*deprecated")
        dataset = ray.data.from_items(
            [{"row": encode_json(row)} for row in window], override_num_blocks=blocks
        ).map_batches(
            _score_batch,
            fn_args=(scorer,),
            batch_size=scorer.batch_size,
            concurrency=concurrency,
            num_cpus=1,
            max_retries=TASK_RETRIES,
        )
    del window
    for batch in dataset.iter_batches(batch_size=None, batch_format="numpy"):
        for text in batch["row"]:
            yield json.loads(text)


def _score_batch(batch: dict[str, Any], scorer: Scorer) -> dict[str, Any]:
    import numpy as np

    scored = scorer.score_batch([json.loads(text) for text in batch["row"]])
    return {"row": np.array([encode_json(row) for row in scored], dtype=object)}


def read_records_on_ray(
    paths: str | Path | Sequence[str | Path],
    *,
    format: str | None = None,
    address: str | None = None,
) -> Iterator[dict[str, Any]]:
    """Stream records read by Ray Data's readers: JSONL (``.gz`` too) or Parquet files,
    directories of shards, object stores (``s3://``, ``gs://``, ...), in order.

    ``format`` is ``"jsonl"`` or ``"parquet"`` (default: from the first path's suffix,
    else JSONL). Feed the result to :func:`~rewardkit.filters.read_completions`.
    """
    ray = ensure_ray(address)
    names = [str(paths)] if isinstance(paths, (str, Path)) else [str(p) for p in paths]
    if not names:
        raise ValueError("give at least one path")
    format = format or ("parquet" if names[0].rstrip("/").endswith(".parquet") else "jsonl")
    with _ordered(ray):
        if format == "parquet":
            dataset = ray.data.read_parquet(names)
        elif format == "jsonl":
            dataset = ray.data.read_text(names, drop_empty_lines=True)
        else:
            raise ValueError(f"unknown format {format!r}: use 'jsonl' or 'parquet'")
    number = 0
    for batch in dataset.iter_batches(batch_format="pyarrow"):
        if format == "parquet":
            yield from batch.to_pylist()
            continue
        for line in batch.column("text").to_pylist():
            number += 1
            yield json_record(line, f"{names[0]}: record {number}")


@contextmanager
def _ordered(ray) -> Iterator[None]:
    """Datasets created inside keep their rows in input order and log only warnings (a
    job per window would fill the log); the caller's own settings are restored after.
    The context is captured when a dataset is created."""
    context = ray.data.DataContext.get_current()
    options = context.execution_options
    before = options.preserve_order, context.enable_progress_bars
    options.preserve_order, context.enable_progress_bars = True, False
    try:
        yield
    finally:
        options.preserve_order, context.enable_progress_bars = before
