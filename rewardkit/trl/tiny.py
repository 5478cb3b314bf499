r"""A tiny tokenizer and Qwen2-style model built locally, for tests, demos and CPU recipes.

Nothing is downloaded: a byte-level BPE is trained with ``tokenizers`` on a small math
corpus, a :class:`~transformers.Qwen2Config` model with random weights is created, and both
are saved with ``save_pretrained`` so TRL can load them by path (it needs a path for the
reference model when ``beta > 0``).

>>> import tempfile
>>> path = build_tiny_model(tempfile.mkdtemp())
>>> from transformers import AutoTokenizer
>>> tokenizer = AutoTokenizer.from_pretrained(path)
>>> ids = tokenizer("<think>3*4</think> \\boxed{12}<|im_end|>")["input_ids"]
>>> tokenizer.decode(ids, skip_special_tokens=True)  # the think span survives, EOS does not
'<think>3*4</think> \\boxed{12}'
>>> tokenizer.convert_tokens_to_ids("<think>") in ids
True
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterable
from pathlib import Path

SPECIAL_TOKENS = ("<|endoftext|>", "<|im_start|>", "<|im_end|>", "<think>", "</think>")
# Single tokens that stay in decoded text: TRL decodes completions with
# skip_special_tokens=True, and rewards must still see the think span (as with Qwen3).
REASONING_TAGS = ("<think>", "</think>")

CHAT_TEMPLATE = (
    "{% for message in messages %}"
    "<|im_start|>{{ message['role'] }}\n{{ message['content'] }}<|im_end|>\n"
    "{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)


def default_corpus(n_lines: int = 2000, seed: int = 0) -> list[str]:
    """Short arithmetic sentences in the reasoning format, enough to train a small BPE."""
    rng = random.Random(seed)
    words = "What is the total cost so each has left then answer sum of apples boxes".split()
    lines = []
    for _ in range(n_lines):
        a, b = rng.randint(0, 999), rng.randint(1, 99)
        op = rng.choice("+-*/")
        value = {"+": a + b, "-": a - b, "*": a * b, "/": round(a / b, 2)}[op]
        filler = " ".join(rng.choices(words, k=4))
        lines.append(
            f"<think>{filler}: {a} {op} {b} = {value}.</think> The answer is \\boxed{{{value}}}."
        )
    lines.append("0123456789 +-*/=()[]{}^_.,:;!?$%#<>|\\ \\frac \\sqrt \\pi \\times \\cdot")
    return lines


def build_tiny_model(
    output_dir: str | Path,
    *,
    corpus: Iterable[str] | None = None,
    vocab_size: int = 512,
    hidden_size: int = 64,
    num_layers: int = 2,
    num_heads: int = 4,
    max_positions: int = 1024,
    seed: int = 0,
) -> Path:
    """Train a byte-level BPE and save it with a random Qwen2 model under ``output_dir``.

    Returns the directory, which ``AutoTokenizer`` and ``AutoModelForCausalLM`` (and TRL's
    trainers, given the path as a string) load. A directory that already holds a
    built model is reused as it is.
    """
    import torch
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast, Qwen2Config, Qwen2ForCausalLM

    path = Path(output_dir)
    if (path / "config.json").exists() and (path / "tokenizer.json").exists():
        return path
    path.mkdir(parents=True, exist_ok=True)

    bpe = Tokenizer(models.BPE())
    bpe.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    bpe.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=list(SPECIAL_TOKENS),
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    bpe.train_from_iterator(list(corpus) if corpus is not None else default_corpus(), trainer)
    spec = json.loads(bpe.to_str())
    for added in spec["added_tokens"]:
        added["special"] = added["content"] not in REASONING_TAGS
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=Tokenizer.from_str(json.dumps(spec)),
        eos_token="<|im_end|>",
        pad_token="<|endoftext|>",
        additional_special_tokens=["<|im_start|>"],
    )
    tokenizer.chat_template = CHAT_TEMPLATE
    tokenizer.save_pretrained(path)

    torch.manual_seed(seed)
    config = Qwen2Config(
        vocab_size=len(tokenizer),
        hidden_size=hidden_size,
        intermediate_size=hidden_size * 2,
        num_hidden_layers=num_layers,
        num_attention_heads=num_heads,
        num_key_value_heads=max(1, num_heads // 2),
        max_position_embeddings=max_positions,
        tie_word_embeddings=True,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
        bos_token_id=None,
    )
    model = Qwen2ForCausalLM(config)
    model.generation_config.eos_token_id = tokenizer.eos_token_id
    model.generation_config.pad_token_id = tokenizer.pad_token_id
    model.save_pretrained(path)
    return path
