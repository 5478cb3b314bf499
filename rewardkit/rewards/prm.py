r"""A step scorer backed by a Hugging Face process reward model (token classification).

Two input conventions are supported:

- ``style="trl"``: models trained with TRL's PRM format: the prompt, then each step followed
  by a step separator (default ``"\n"``); the label of a step sits on the last token of its
  separator. The score is the probability of label ``positive_label`` there.
- ``style="qwen"``: Qwen2.5-Math-PRM: a chat (system, user = problem, assistant = the steps
  each followed by ``<extra_0>``); the score of a step is the probability of the positive
  class at its ``<extra_0>`` token.

Inputs are batched (``batch_size``) and run on ``device`` (CPU by default, or ``"cuda"``).
Steps cut off by ``max_length`` score ``None``. transformers and torch are imported only
when the scorer is first used.

>>> scorer = PRMStepScorer("path/to/prm", style="qwen")  # nothing is loaded yet
>>> scorer.style
'qwen'
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

__all__ = ["PRMStepScorer"]

STYLES = ("trl", "qwen")
QWEN_SYSTEM_PROMPT = "Please reason step by step, and put your final answer within \\boxed{}."


class PRMStepScorer:
    """Step scorer (``score_steps(problem, steps) -> list[float | None]``) for token-
    classification PRMs.

    Args:
        model: a model path / hub id, or a loaded model whose output has ``logits`` of shape
            ``(batch, tokens, labels)``.
        tokenizer: a tokenizer or its path; default: the model path.
        style: ``"trl"`` or ``"qwen"`` (see the module docstring).
        step_separator: the separator of TRL-format models.
        step_token: the step marker of Qwen-style models.
        batch_size: sequences per forward pass.
        device: ``"cpu"`` (default), ``"cuda"``, ... .
        max_length: longest input in tokens; later steps score ``None``.
        positive_label: index of the "step is correct" class (a one-label model is read with
            a sigmoid).
        trust_remote_code: passed when loading by path (Qwen2.5-Math-PRM needs it).
    """

    def __init__(
        self,
        model: Any,
        tokenizer: Any = None,
        *,
        style: str = "trl",
        step_separator: str = "\n",
        step_token: str = "<extra_0>",
        batch_size: int = 8,
        device: str | None = None,
        max_length: int = 4096,
        positive_label: int = 1,
        system_prompt: str = QWEN_SYSTEM_PROMPT,
        trust_remote_code: bool = False,
    ) -> None:
        if style not in STYLES:
            raise ValueError(f"unknown PRM style {style!r}: use one of {', '.join(STYLES)}")
        if batch_size < 1 or max_length < 2:
            raise ValueError("batch_size must be >= 1 and max_length >= 2")
        if tokenizer is None and not isinstance(model, str):
            raise ValueError("give the tokenizer when the model is an object")
        self.model_ref, self.tokenizer_ref = model, tokenizer if tokenizer is not None else model
        self.style, self.step_separator, self.step_token = style, step_separator, step_token
        self.batch_size, self.device, self.max_length = batch_size, device or "cpu", max_length
        self.positive_label, self.system_prompt = positive_label, system_prompt
        self.trust_remote_code = trust_remote_code
        self._model: Any = None if isinstance(model, str) else model
        self._tokenizer: Any = None if isinstance(self.tokenizer_ref, str) else self.tokenizer_ref

    def __getstate__(self) -> dict:
        state = dict(self.__dict__)
        if isinstance(self.model_ref, str):
            state["_model"] = None  # reloaded from its path after unpickling
        if isinstance(self.tokenizer_ref, str):
            state["_tokenizer"] = None
        return state

    def __repr__(self) -> str:
        model = self.model_ref if isinstance(self.model_ref, str) else type(self.model_ref).__name__
        return f"PRMStepScorer({model!r}, style={self.style!r})"

    # ------------------------------------------------------------------ loading

    @property
    def tokenizer(self) -> Any:
        if self._tokenizer is None:
            from transformers import AutoTokenizer

            self._tokenizer = AutoTokenizer.from_pretrained(
                self.tokenizer_ref, trust_remote_code=self.trust_remote_code
            )
        return self._tokenizer

    @property
    def model(self) -> Any:
        if self._model is None:
            from transformers import AutoConfig, AutoModel, AutoModelForTokenClassification

            config = AutoConfig.from_pretrained(
                self.model_ref, trust_remote_code=self.trust_remote_code
            )
            # Qwen2.5-Math-PRM ships its own head, registered for AutoModel only; every
            # other PRM is a plain token classifier.
            custom = "AutoModel" in (getattr(config, "auto_map", None) or {})
            loader = AutoModel if custom else AutoModelForTokenClassification
            self._model = loader.from_pretrained(
                self.model_ref, trust_remote_code=self.trust_remote_code
            )
            self._model.to(self.device)
            self._model.eval()
        return self._model

    # ------------------------------------------------------------------ inputs

    def encode(self, problem: str, steps: Sequence[str]) -> tuple[list[int], list[int]]:
        """Token ids of one input and the index of each step's scoring token."""
        tok = self.tokenizer
        if self.style == "trl":
            ids = list(tok(problem, add_special_tokens=False)["input_ids"])
            if tok.bos_token_id is not None:
                ids = [tok.bos_token_id, *ids]
            separator = list(tok(self.step_separator, add_special_tokens=False)["input_ids"])
            positions = []
            for step in steps:
                ids += list(tok(step, add_special_tokens=False)["input_ids"]) + separator
                positions.append(len(ids) - 1)
            return ids, positions
        marker = tok.convert_tokens_to_ids(self.step_token)
        if marker is None or marker == tok.unk_token_id:
            raise ValueError(f"the tokenizer has no {self.step_token!r} token")
        body = "".join(f"{step}{self.step_token}" for step in steps)
        if getattr(tok, "chat_template", None):
            messages = [
                {"role": "system", "content": self.system_prompt},
                {"role": "user", "content": problem},
                {"role": "assistant", "content": body},
            ]
            text = tok.apply_chat_template(messages, tokenize=False, add_generation_prompt=False)
        else:
            text = f"{problem}\n{body}"
        ids = list(tok(text, add_special_tokens=False)["input_ids"])
        return ids, [i for i, t in enumerate(ids) if t == marker][-len(steps) :] if steps else []

    # ------------------------------------------------------------------ scoring

    def score_steps(self, problem: str, steps: Sequence[str]) -> list[float | None]:
        """Probability that each step is correct (``None`` for a step past ``max_length``)."""
        return self.score_steps_batch([problem], [steps])[0]

    def score_steps_batch(
        self, problems: Sequence[str], steps_lists: Sequence[Sequence[str]]
    ) -> list[list[float | None]]:
        """:meth:`score_steps` for many completions, ``batch_size`` sequences a pass."""
        import torch

        encoded = [self.encode(p or "", s) for p, s in zip(problems, steps_lists, strict=False)]
        out: list[list[float | None]] = [[None] * len(s) for s in steps_lists]
        order = [i for i, (_, positions) in enumerate(encoded) if positions]
        pad = self.tokenizer.pad_token_id
        pad = pad if pad is not None else 0
        model = self.model
        for start in range(0, len(order), self.batch_size):
            chunk = order[start : start + self.batch_size]
            rows = [encoded[i][0][: self.max_length] for i in chunk]
            width = max(len(r) for r in rows)
            input_ids = torch.full((len(rows), width), pad, dtype=torch.long)
            mask = torch.zeros((len(rows), width), dtype=torch.long)
            for j, row in enumerate(rows):
                input_ids[j, : len(row)] = torch.tensor(row, dtype=torch.long)
                mask[j, : len(row)] = 1
            with torch.no_grad():
                output = model(
                    input_ids=input_ids.to(self.device), attention_mask=mask.to(self.device)
                )
            logits = output.logits if hasattr(output, "logits") else output[0]
            if logits.dim() != 3 or logits.shape[-1] > 16:
                raise ValueError(
                    f"{self!r}: the model returned {tuple(logits.shape)}, not per-token class "
                    "logits; load a token-classification PRM"
                )
            logits = logits.float()
            if logits.shape[-1] == 1:
                probs = torch.sigmoid(logits[..., 0])
            else:
                probs = torch.softmax(logits, dim=-1)[..., self.positive_label]
            probs = probs.cpu()
            for j, i in enumerate(chunk):
                for k, position in enumerate(encoded[i][1]):
                    if position < len(rows[j]):
                        out[i][k] = float(probs[j, position])
        return out
