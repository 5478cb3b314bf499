"""Completions to filter: read ones that exist, or sample N per prompt with a model.

Every function here yields *completion rows*, dicts with ``prompt_id``, ``prompt``,
``completion`` (plain text, or chat messages when the prompt is chat), ``sample`` (its
number within the prompt) and the input's other columns (the gold answer among them).
Rows of one prompt come out next to each other, which the per-prompt filters rely on.

>>> rows = list(read_completions([{"prompt": "1+1?", "completions": ["2", "3"], "answer": "2"}],
...                              completion_fields=["completions"]))
>>> [(r["prompt_id"], r["sample"], r["completion"], r["answer"]) for r in rows]
[(0, 0, '2', '2'), (0, 1, '3', '2')]
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from itertools import islice
from pathlib import Path
from typing import Any

from tqdm import tqdm

from rewardkit.filters.pipeline import EXECUTORS
from rewardkit.filters.seen import SeenKeys
from rewardkit.filters.shards import ShardStore, record_digest

__all__ = ["generate_completions", "iter_records", "read_completions"]

_COMPLETION_KEYS = ("completion", "solution", "response", "text", "output")


def iter_records(source: Any) -> Iterator[dict[str, Any]]:
    """Stream the records of a JSONL (optionally ``.gz``) or Parquet file, a
    ``datasets.Dataset`` / ``IterableDataset``, a Ray Dataset, or any iterable of dicts.

    >>> list(iter_records([{"a": 1}]))
    [{'a': 1}]
    """
    if isinstance(source, (str, Path)):
        path = Path(source)
        if not path.exists():
            raise FileNotFoundError(f"no such input: {path}")
        if path.suffix == ".parquet":
            yield from _parquet_records(path)
            return
        opener = gzip.open if path.suffix == ".gz" else open
        with opener(path, "rt", encoding="utf-8") as lines:
            for number, line in enumerate(lines, start=1):
                if line.strip():
                    yield json_record(line, f"{path}:{number}")
        return
    if type(source).__module__.startswith("ray.data"):  # a Ray Dataset, read by Ray's readers
        for batch in source.iter_batches(batch_format="pyarrow"):
            yield from batch.to_pylist()
        return
    for record in source:
        if not isinstance(record, dict):
            raise TypeError(f"expected dict records, got {type(record).__name__}")
        yield record


def json_record(line: str, where: str) -> dict[str, Any]:
    """One JSONL line as a record; errors name ``where`` (``path:line``).

    >>> json_record('{"prompt": "p"}', "in.jsonl:1")
    {'prompt': 'p'}
    """
    try:
        record = json.loads(line)
    except json.JSONDecodeError as exc:
        raise ValueError(f"{where}: not JSON ({exc.msg})") from None
    if not isinstance(record, dict):
        raise TypeError(f"{where}: expected a JSON object")
    return record


def _parquet_records(path: Path) -> Iterator[dict[str, Any]]:
    import pyarrow.parquet as pq  # comes with datasets

    for batch in pq.ParquetFile(path).iter_batches(batch_size=1024):
        yield from batch.to_pylist()


def read_completions(
    source: Any,
    *,
    prompt_field: str = "prompt",
    completion_fields: Sequence[str] = ("completion",),
    id_field: str | None = None,
    grouped: bool = True,
) -> Iterator[dict[str, Any]]:
    """Completion rows from existing completions, streamed (the one reader of
    ``rewardkit filter`` and ``rewardkit score``).

    Two layouts are read. *Wide*: one record per prompt, whose completion fields hold
    one completion, a list of completions, or an object such as ``{"solution": ...,
    "is_correct": ...}`` (its text is the first of ``completion``, ``solution``,
    ``response``, ``text``, ``output``; its other keys become columns). *Long*: one
    completion per record; consecutive records with the same ``id_field`` value (or,
    without one, the same prompt) are one prompt. Without an ``id_field``, a prompt that
    comes back after others raises ``ValueError`` (with one, the grouping checks ids).

    ``prompt_id`` is the ``id_field`` value, else the number of the prompt in the input.
    With several completion fields, each row's ``source`` names the one it came from.

    With ``grouped=False`` the records are independent rows (``rewardkit score``): a
    record may lack the prompt field (its prompt is ``None``), prompts may repeat
    anywhere, and ``prompt_id`` is the record's number.
    """
    if isinstance(completion_fields, str):
        completion_fields = (completion_fields,)
    if not completion_fields:
        raise ValueError("completion_fields must name at least one field")
    seen = None if id_field or not grouped else SeenKeys()  # ids: checked when grouped
    previous_key: Any = object()
    prompt_number = -1
    sample = 0
    for index, record in enumerate(iter_records(source)):
        if prompt_field not in record and grouped:
            raise ValueError(
                f"record {index} has no prompt field {prompt_field!r}{_fields_hint(record)}"
            )
        prompt = record.get(prompt_field)
        if not grouped:
            key = index
        elif id_field:
            key = record.get(id_field)
        else:
            key = _prompt_key(prompt)
        if key != previous_key:  # a new prompt starts
            if seen is not None and seen.add(key):
                raise ValueError(
                    f"record {index}: its prompt came before, with other prompts between; "
                    "put the rows of each prompt next to each other, or give an id_field"
                )
            previous_key, prompt_number, sample = key, prompt_number + 1, 0
        columns = {
            k: v for k, v in record.items() if k != prompt_field and k not in completion_fields
        }
        for field in completion_fields:
            if field not in record:
                raise ValueError(
                    f"record {index} has no completion field {field!r}{_fields_hint(record)}"
                )
            for completion, extra in _completions(record[field], field, index):
                row = {
                    "prompt_id": key if id_field or not grouped else prompt_number,
                    "prompt": prompt,
                    "completion": completion,
                    "sample": sample,
                    **columns,
                    **extra,
                }
                if len(completion_fields) > 1:
                    row["source"] = field
                sample += 1
                yield row


def _fields_hint(record: dict[str, Any]) -> str:
    names = list(record)
    shown = ", ".join(repr(n) for n in names[:12]) + (", ..." if len(names) > 12 else "")
    return f" (its fields: {shown})"


def _prompt_key(prompt: Any) -> str:
    return prompt if isinstance(prompt, str) else json.dumps(prompt, sort_keys=True)


def _completions(value: Any, field: str, index: int) -> list[tuple[Any, dict[str, Any]]]:
    if isinstance(value, str) or _is_messages(value):
        return [(value, {})]
    if isinstance(value, dict):
        for key in _COMPLETION_KEYS:
            if key in value:
                return [(value[key], {k: v for k, v in value.items() if k != key})]
        raise ValueError(
            f"record {index}: field {field!r} is an object without any of {_COMPLETION_KEYS}"
        )
    if isinstance(value, (list, tuple)):
        return [pair for item in value for pair in _completions(item, field, index)]
    raise ValueError(f"record {index}: field {field!r} holds {type(value).__name__}, not text")


def _is_messages(value: Any) -> bool:
    return (
        isinstance(value, (list, tuple))
        and bool(value)
        and all(isinstance(m, dict) and "role" in m for m in value)
    )


def generate_completions(
    prompts: Iterable[dict[str, Any]],
    model: Any,
    tokenizer: Any = None,
    *,
    n: int = 4,
    engine: str = "transformers",
    prompt_field: str = "prompt",
    batch_size: int = 8,
    max_new_tokens: int = 512,
    temperature: float = 1.0,
    top_p: float = 1.0,
    seed: int = 0,
    shards_dir: str | Path | None = None,
    prompts_per_shard: int = 64,
    overwrite: bool = False,
    progress: bool = True,
    executor: str = "local",
    ray_options: dict[str, Any] | None = None,
) -> Iterator[dict[str, Any]]:
    """Sample ``n`` completions for each prompt record, streamed as completion rows.

    ``model`` is a model path or name (or, for ``engine="transformers"``, a loaded
    model with its ``tokenizer``). With ``engine="vllm"`` vLLM's offline engine samples
    (install the ``vllm`` extra). Chat prompts (lists of messages) go through the
    tokenizer's chat template and give chat completions.

    Work is done ``prompts_per_shard`` prompts at a time, each chunk seeded with
    ``seed`` plus its number. With a ``shards_dir``, every chunk's rows are saved there
    as one shard of a :class:`ShardStore`; a rerun with the same settings yields the
    saved rows, skips their prompts and samples the rest, so an interrupted run resumes
    without sampling a finished chunk twice (other settings raise; ``overwrite`` starts
    afresh).

    ``executor="ray"`` samples the chunks on Ray actors that each hold an engine
    (``model`` must then be a path or name); ``ray_options`` go to
    :func:`rewardkit.ray.generate.sample_chunks_on_ray` (``concurrency``: engines at
    once, ``num_gpus``: per engine, ``runtime_env``, ``address``). The rows are the same
    and come in the same order; resuming works as locally.
    """
    if executor not in EXECUTORS:
        raise ValueError(f"unknown executor {executor!r}: use one of {EXECUTORS}")
    if n < 1 or batch_size < 1 or prompts_per_shard < 1:
        raise ValueError("n, batch_size and prompts_per_shard must be at least 1")
    if engine not in ("transformers", "vllm"):
        raise ValueError(f"unknown engine {engine!r}: use 'transformers' or 'vllm'")
    store = None
    if shards_dir is not None:
        settings = {
            "model": str(model) if isinstance(model, (str, Path)) else type(model).__name__,
            "engine": engine,
            "n": n,
            "max_new_tokens": max_new_tokens,
            "temperature": temperature,
            "top_p": top_p,
            "seed": seed,
            "prompt_field": prompt_field,
        }
        store = ShardStore(
            shards_dir, shard_rows=prompts_per_shard * n, fingerprint=settings, overwrite=overwrite
        )
    done_prompts = 0
    records = iter_records(prompts)
    if store is not None:
        store.check_input(records)  # the prompts of the saved chunks are these prompts
        yield from store.rows()
        if store.complete:
            return
        done_prompts = store.done_inputs
    params = SamplingParams(n, batch_size, max_new_tokens, temperature, top_p, seed)
    chunks = _chunks(records, prompts_per_shard, prompt_field, done_prompts)
    first = done_prompts // prompts_per_shard
    if executor == "ray":
        from rewardkit.ray.generate import sample_chunks_on_ray

        if not isinstance(model, (str, Path)):
            raise TypeError("executor='ray' takes a model path or name (each engine loads it)")
        sampled = sample_chunks_on_ray(
            chunks, str(model), engine, params, prompt_field, first, **(ray_options or {})
        )
    else:
        sampler = new_sampler(engine, model, tokenizer, seed)
        sampled = (
            (chunk, sample_chunk(sampler, chunk, prompt_field, params, number))
            for number, chunk in enumerate(chunks, start=first)
        )
    bar = tqdm(desc="generating", unit="prompt", initial=done_prompts, disable=not progress)
    for chunk, outputs in sampled:
        rows = []
        for offset, (record, samples) in enumerate(zip(chunk, outputs, strict=True)):
            prompt = record[prompt_field]
            columns = {k: v for k, v in record.items() if k != prompt_field}
            for j, text in enumerate(samples):
                completion = (
                    [{"role": "assistant", "content": text}] if _is_messages(prompt) else text
                )
                rows.append(
                    {
                        "prompt_id": record.get("prompt_id", done_prompts + offset),
                        "prompt": prompt,
                        "completion": completion,
                        "sample": j,
                        **{k: v for k, v in columns.items() if k != "prompt_id"},
                    }
                )
        if store is not None:
            for record in chunk:
                store.note_input(record_digest(record))
            store.extend(rows)
        yield from rows
        done_prompts += len(chunk)
        bar.update(len(chunk))
    bar.close()
    if store is not None:
        store.finish()


@dataclass(frozen=True)
class SamplingParams:
    """How many completions to sample per prompt, and how."""

    n: int
    batch_size: int
    max_new_tokens: int
    temperature: float
    top_p: float
    seed: int


def sample_chunk(
    sampler: Any,
    chunk: list[dict[str, Any]],
    prompt_field: str,
    params: SamplingParams,
    number: int,
) -> list[list[str]]:
    """``params.n`` texts for each record of chunk ``number`` (seeded with seed + number)."""
    texts = [sampler.render(record[prompt_field]) for record in chunk]
    p = params
    return sampler.sample(
        texts, p.n, p.batch_size, p.max_new_tokens, p.temperature, p.top_p, p.seed + number
    )


def new_sampler(engine: str, model: Any, tokenizer: Any = None, seed: int = 0) -> Any:
    """The engine that samples: vLLM's offline engine or transformers' ``generate``."""
    return _VllmSampler(model, seed) if engine == "vllm" else _HFSampler(model, tokenizer)


def _chunks(
    records: Iterator[dict[str, Any]], size: int, prompt_field: str, first_prompt: int
) -> Iterator[list[dict[str, Any]]]:
    """The prompt records ``size`` at a time, each checked for its prompt field."""
    done = first_prompt
    while chunk := list(islice(records, size)):
        for offset, record in enumerate(chunk):
            if prompt_field not in record:
                raise ValueError(f"prompt {done + offset} has no field {prompt_field!r}")
        done += len(chunk)
        yield chunk


class _HFSampler:
    """Batched sampling with ``transformers`` ``generate`` (left padding)."""

    def __init__(self, model: Any, tokenizer: Any) -> None:
        from transformers import AutoModelForCausalLM, AutoTokenizer

        if isinstance(model, (str, Path)):
            tokenizer = tokenizer or AutoTokenizer.from_pretrained(str(model))
            model = AutoModelForCausalLM.from_pretrained(str(model))
        if tokenizer is None:
            raise ValueError("a loaded model needs its tokenizer")
        self.model = model.eval()
        self.tokenizer = tokenizer
        self.tokenizer.padding_side = "left"
        if self.tokenizer.pad_token is None:
            self.tokenizer.pad_token = self.tokenizer.eos_token

    def render(self, prompt: Any) -> str:
        if _is_messages(prompt):
            return self.tokenizer.apply_chat_template(
                list(prompt), tokenize=False, add_generation_prompt=True
            )
        if not isinstance(prompt, str):
            raise TypeError(f"a prompt must be text or chat messages, got {type(prompt).__name__}")
        return prompt

    def sample(self, texts, n, batch_size, max_new_tokens, temperature, top_p, seed):
        import torch

        torch.manual_seed(seed)
        results: list[list[str]] = []
        for start in range(0, len(texts), batch_size):
            batch = texts[start : start + batch_size]
            inputs = self.tokenizer(
                batch, return_tensors="pt", padding=True, add_special_tokens=False
            )
            inputs = inputs.to(self.model.device)
            with torch.no_grad():
                output = self.model.generate(
                    **inputs,
                    do_sample=temperature > 0,
                    temperature=temperature if temperature > 0 else None,
                    top_p=top_p if temperature > 0 else None,
                    max_new_tokens=max_new_tokens,
                    num_return_sequences=n,
                    pad_token_id=self.tokenizer.pad_token_id,
                )
            new_tokens = output[:, inputs["input_ids"].shape[1] :]
            decoded = self.tokenizer.batch_decode(new_tokens, skip_special_tokens=True)
            results.extend(decoded[i * n : (i + 1) * n] for i in range(len(batch)))
        return results


class _VllmSampler:
    """Sampling with vLLM's offline engine (``LLM.generate``); imported only when used."""

    def __init__(self, model: Any, seed: int) -> None:
        try:
            from vllm import LLM
        except ImportError as exc:
            raise ImportError("engine='vllm' needs vLLM: pip install 'rewardkit[vllm]'") from exc
        if not isinstance(model, (str, Path)):
            raise TypeError("engine='vllm' takes a model path or name")
        self.llm = LLM(model=str(model), seed=seed)
        self.tokenizer = self.llm.get_tokenizer()

    def render(self, prompt: Any) -> str:
        if _is_messages(prompt):
            return self.tokenizer.apply_chat_template(
                list(prompt), tokenize=False, add_generation_prompt=True
            )
        return prompt

    def sample(self, texts, n, batch_size, max_new_tokens, temperature, top_p, seed):
        from vllm import SamplingParams

        params = SamplingParams(
            n=n, temperature=temperature, top_p=top_p, max_tokens=max_new_tokens, seed=seed
        )
        outputs = self.llm.generate(texts, params, use_tqdm=False)
        return [[choice.text for choice in output.outputs] for output in outputs]
