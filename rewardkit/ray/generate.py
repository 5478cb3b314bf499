r"""Sampling N completions per prompt with engines held by Ray actors.

Each actor loads the model once (vLLM's offline engine, or transformers on a CPU) and
samples whole chunks of prompts; chunks go out round-robin, a few per engine at a time,
and come back in input order, so :func:`~rewardkit.filters.generate_completions` with
``executor="ray"`` saves, resumes and yields exactly as it does locally. An engine whose
process dies is restarted once and its chunk sampled again.

>>> from rewardkit.filters import generate_completions
>>> from rewardkit.trl import build_tiny_model
>>> import tempfile
>>> from rewardkit.ray.data import ensure_ray
>>> ray = ensure_ray(num_cpus=1, include_dashboard=False)
>>> model = str(build_tiny_model(tempfile.mkdtemp()))
>>> rows = list(generate_completions([{"prompt": "1+1=", "answer": "2"}], model, n=2,
...                                  max_new_tokens=4, executor="ray", progress=False))
>>> [(r["prompt_id"], r["sample"], r["answer"]) for r in rows]
[(0, 0, '2'), (0, 1, '2')]
>>> ray.shutdown()
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Iterator
from typing import Any

from rewardkit.filters.generate import SamplingParams, new_sampler, sample_chunk
from rewardkit.ray.data import ensure_ray

__all__ = ["sample_chunks_on_ray"]


class _Engine:
    """One sampling engine in a Ray actor."""

    def __init__(self, engine: str, model: str, seed: int) -> None:
        self.sampler = new_sampler(engine, model, seed=seed)

    def sample(self, chunk, prompt_field: str, params: SamplingParams, number: int):
        return sample_chunk(self.sampler, chunk, prompt_field, params, number)


def sample_chunks_on_ray(
    chunks: Iterable[list[dict[str, Any]]],
    model: str,
    engine: str,
    params: SamplingParams,
    prompt_field: str,
    first: int = 0,
    *,
    concurrency: int = 1,
    num_gpus: float = 0,
    num_cpus: float = 1,
    runtime_env: dict[str, Any] | None = None,
    address: str | None = None,
) -> Iterator[tuple[list[dict[str, Any]], list[list[str]]]]:
    """Yield ``(chunk, texts)`` in order: ``params.n`` sampled texts per prompt record,
    chunk ``first + i`` seeded as the local run seeds it.

    ``concurrency`` engines (actors) run at once, each with ``num_gpus`` GPUs (vLLM on a
    GPU node: ``num_gpus=1``) and ``num_cpus`` CPUs; ``runtime_env`` is Ray's.
    """
    if concurrency < 1:
        raise ValueError("concurrency must be at least 1")
    ray = ensure_ray(address)
    options: dict[str, Any] = {
        "num_cpus": num_cpus,
        "num_gpus": num_gpus,
        "max_restarts": 1,
        "max_task_retries": 1,
    }
    if runtime_env is not None:
        options["runtime_env"] = runtime_env
    remote = ray.remote(**options)(_Engine)
    engines = [remote.remote(engine, model, params.seed) for _ in range(concurrency)]
    pending: deque = deque()
    try:
        for i, chunk in enumerate(chunks):
            call = engines[i % concurrency].sample.remote(chunk, prompt_field, params, first + i)
            pending.append((chunk, call))
            if len(pending) >= 2 * concurrency:  # a few chunks ahead per engine, no more
                chunk, call = pending.popleft()
                yield chunk, ray.get(call)
        while pending:
            chunk, call = pending.popleft()
            yield chunk, ray.get(call)
    finally:
        for actor in engines:
            ray.kill(actor)
