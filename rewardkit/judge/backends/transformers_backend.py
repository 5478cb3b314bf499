"""A judge model run in process with Hugging Face transformers, in batches.

The model loads on first use (so the backend pickles as its path), generation runs in a
worker thread so the event loop stays free, and requests with the same sampling
parameters are padded on the left and generated ``batch_size`` at a time.

>>> backend = TransformersBackend("path/to/judge-model", batch_size=4)
>>> backend.identity()
{'backend': 'transformers', 'model': 'path/to/judge-model'}
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable, Sequence
from typing import Any

from rewardkit.judge.backends.base import (
    JUDGE_UNAVAILABLE,
    JudgeBackend,
    JudgeFailure,
    JudgeReply,
    JudgeRequest,
    Outcome,
)
from rewardkit.judge.parse import TokenLogprob

logger = logging.getLogger(__name__)


class TransformersBackend(JudgeBackend):
    """A causal LM with a chat template, by path or hub name, or already loaded.

    Args:
        model: a path or hub name, or a loaded ``PreTrainedModel`` (then pass ``tokenizer``
            and ``model_name``, which keys the cache).
        tokenizer: the tokenizer, when ``model`` is a loaded model.
        batch_size: prompts generated together.
        device: where to load the model (``"cpu"``, ``"cuda"``); default: where it loads.
        model_name: the name used in the cache key for a loaded model.
    """

    kind = "transformers"

    def __init__(
        self,
        model: Any,
        tokenizer: Any = None,
        *,
        batch_size: int = 8,
        device: str | None = None,
        model_name: str | None = None,
    ) -> None:
        if isinstance(model, str):
            super().__init__(model_name or model)
            self._path: str | None = model
            self._model = None
        else:
            if tokenizer is None:
                raise ValueError("a loaded judge model needs its tokenizer")
            name = model_name or getattr(getattr(model, "config", None), "_name_or_path", None)
            super().__init__(name or type(model).__name__)
            self._path = None
            self._model = model
        if not isinstance(batch_size, int) or batch_size < 1:
            raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}")
        self._tokenizer = tokenizer
        self.batch_size = batch_size
        self.device = device
        self._lock = threading.Lock()  # one generate() at a time

    def __getstate__(self) -> dict[str, Any]:
        if self._path is None:
            raise TypeError(
                "a TransformersBackend built from a loaded model cannot be pickled; pass a path"
            )
        state = self.__dict__.copy()
        state.update(_model=None, _tokenizer=None, _lock=None)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._lock = threading.Lock()

    def _load(self) -> tuple[Any, Any]:
        if self._model is None:
            from transformers import AutoModelForCausalLM, AutoTokenizer

            self._tokenizer = self._tokenizer or AutoTokenizer.from_pretrained(self._path)
            model = AutoModelForCausalLM.from_pretrained(self._path)
            if self.device is not None:
                model = model.to(self.device)
            self._model = model.eval()
        if self._tokenizer.pad_token_id is None:
            self._tokenizer.pad_token = self._tokenizer.eos_token
        return self._model, self._tokenizer

    async def complete(self, request: JudgeRequest) -> Outcome:
        return (await self.complete_many([request]))[0]

    async def complete_many(
        self,
        requests: Sequence[JudgeRequest],
        on_result: Callable[[int, Outcome], None] | None = None,
    ) -> list[Outcome]:
        outcomes: list[Outcome | None] = [None] * len(requests)
        groups: dict[tuple, list[int]] = {}
        for i, request in enumerate(requests):
            key = (request.temperature, request.max_tokens, request.top_logprobs, request.seed)
            groups.setdefault(key, []).append(i)
        for indices in groups.values():
            for start in range(0, len(indices), self.batch_size):
                batch = indices[start : start + self.batch_size]
                try:
                    replies: list[Outcome] = await asyncio.to_thread(
                        self._generate, [requests[i] for i in batch]
                    )
                except Exception as exc:  # out of memory, a broken chat template...
                    logger.exception("local judge generation failed")
                    self.usage.add(failures=len(batch))
                    replies = [
                        JudgeFailure(JUDGE_UNAVAILABLE, f"{type(exc).__name__}: {exc}")
                    ] * len(batch)
                for i, outcome in zip(batch, replies, strict=True):
                    outcomes[i] = outcome
                    if on_result is not None:
                        on_result(i, outcome)
        return [o for o in outcomes if o is not None]

    def _generate(self, batch: list[JudgeRequest]) -> list[Outcome]:
        import torch

        with self._lock:
            model, tokenizer = self._load()
            first = batch[0]
            texts = [
                tokenizer.apply_chat_template(
                    list(r.messages), tokenize=False, add_generation_prompt=True
                )
                for r in batch
            ]
            inputs = tokenizer(
                texts,
                return_tensors="pt",
                padding=True,
                padding_side="left",
                add_special_tokens=False,
            ).to(model.device)
            options: dict[str, Any] = {
                "max_new_tokens": first.max_tokens,
                "pad_token_id": tokenizer.pad_token_id,
                "return_dict_in_generate": True,
                "output_logits": bool(first.top_logprobs),
            }
            if first.temperature > 0:
                options.update(do_sample=True, temperature=first.temperature)
                if first.seed is not None:
                    torch.manual_seed(first.seed)
            else:
                options.update(do_sample=False, temperature=None, top_p=None, top_k=None)
            with torch.inference_mode():
                output = model.generate(**inputs, **options)
            self.usage.add(requests=len(batch))
            prompt_length = inputs["input_ids"].shape[1]
            new_tokens = output.sequences[:, prompt_length:]
            stops = {tokenizer.eos_token_id, tokenizer.pad_token_id} - {None}
            replies: list[Outcome] = []
            for row in range(len(batch)):
                ids = new_tokens[row].tolist()
                length = next((k for k, t in enumerate(ids) if t in stops), len(ids))
                # no stop token within max_new_tokens: cut off, as a server's "length"
                finish = "length" if length == len(ids) == first.max_tokens else "stop"
                ids = ids[:length]
                logprobs = None
                if first.top_logprobs:
                    logprobs = self._token_logprobs(output.logits, row, ids, first.top_logprobs)
                prompt_tokens = int(inputs["attention_mask"][row].sum())
                self.usage.add(prompt_tokens=prompt_tokens, completion_tokens=len(ids))
                replies.append(
                    JudgeReply(
                        text=tokenizer.decode(ids, skip_special_tokens=False),
                        logprobs=logprobs,
                        prompt_tokens=prompt_tokens,
                        completion_tokens=len(ids),
                        finish_reason=finish,
                    )
                )
            return replies

    def _token_logprobs(
        self, logits: Sequence[Any], row: int, ids: list[int], k: int
    ) -> tuple[TokenLogprob, ...]:
        tokenizer = self._tokenizer
        tokens = []
        for step, token_id in enumerate(ids):
            logprobs = logits[step][row].float().log_softmax(-1)
            top = logprobs.topk(min(k, logprobs.shape[-1]))
            tokens.append(
                TokenLogprob(
                    tokenizer.decode([token_id]),
                    float(logprobs[token_id]),
                    tuple(
                        (tokenizer.decode([int(i)]), float(v))
                        for v, i in zip(top.values.tolist(), top.indices.tolist(), strict=True)
                    ),
                )
            )
        return tuple(tokens)
