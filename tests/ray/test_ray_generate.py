"""Sampling on Ray engine actors gives the rows the local run gives, in the same order."""

from __future__ import annotations

import os
import sys
import textwrap

import pytest

pytest.importorskip("ray")

from rewardkit.filters import generate_completions  # noqa: E402

PROMPTS = [
    {"prompt": "What is 2 + 3?", "answer": "5"},
    {"prompt": [{"role": "user", "content": "What is 7 - 4?"}], "answer": "3"},
    {"prompt": "What is 6 * 2?", "answer": "12"},
    {"prompt": "What is 9 / 3?", "answer": "3"},
    {"prompt": "What is 1 + 1?", "answer": "2"},
]

# The stand-in for vLLM's offline API (vLLM does not install here): deterministic texts
# that show the rendered prompt, the sample number and the chunk's seed.
FAKE_VLLM = """
import types

class SamplingParams:
    def __init__(self, **kwargs):
        self.kwargs = kwargs

class _Tokenizer:
    def apply_chat_template(self, messages, tokenize, add_generation_prompt):
        return "<chat>" + messages[-1]["content"]

class LLM:
    def __init__(self, model, seed):
        self.model = model

    def get_tokenizer(self):
        return _Tokenizer()

    def generate(self, texts, params, use_tqdm):
        k = params.kwargs
        out = types.SimpleNamespace
        return [out(outputs=[out(text=f"{t} #{j} seed={k['seed']}") for j in range(k["n"])])
                for t in texts]
"""


@pytest.fixture
def fake_vllm(tmp_path, monkeypatch):
    (tmp_path / "fakevllm" / "vllm").mkdir(parents=True)
    (tmp_path / "fakevllm" / "vllm" / "__init__.py").write_text(textwrap.dedent(FAKE_VLLM))
    path = str(tmp_path / "fakevllm")
    monkeypatch.syspath_prepend(path)
    sys.modules.pop("vllm", None)
    yield {"PYTHONPATH": os.pathsep.join([path, *sys.path])}
    sys.modules.pop("vllm", None)


def test_vllm_engines_on_ray_give_the_local_rows_and_resume(ray_local, fake_vllm, tmp_path):
    settings = dict(n=2, engine="vllm", seed=7, prompts_per_shard=2, progress=False)
    local = list(generate_completions(PROMPTS, "org/model", **settings))
    ray_options = {"concurrency": 2, "runtime_env": {"env_vars": fake_vllm}}
    shards = tmp_path / "generated"
    on_ray = list(
        generate_completions(
            PROMPTS, "org/model", executor="ray", ray_options=ray_options,
            shards_dir=shards, **settings,
        )
    )  # fmt: skip
    assert on_ray == local
    assert local[2]["completion"] == [
        {"role": "assistant", "content": "<chat>What is 7 - 4? #0 seed=7"}
    ]
    assert local[-1]["completion"] == "What is 1 + 1? #1 seed=9"  # the third chunk's seed
    again = generate_completions(
        PROMPTS, "org/model", executor="ray", ray_options={"concurrency": 0},
        shards_dir=shards, **settings,
    )  # fmt: skip
    assert list(again) == local  # all saved: no engine is started (concurrency 0 would fail)


def test_ray_generation_wants_a_model_path_and_a_known_executor(ray_local):
    with pytest.raises(TypeError, match="takes a model path or name"):
        list(generate_completions(PROMPTS, object(), executor="ray", progress=False))
    with pytest.raises(ValueError, match="unknown executor 'spark'"):
        list(generate_completions(PROMPTS, "m", executor="spark", progress=False))
