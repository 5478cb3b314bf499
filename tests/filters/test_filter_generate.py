"""Reading existing completions in every layout and sampling new ones, resumably."""

from __future__ import annotations

import gzip
import json

import pytest
from datasets import Dataset

import rewardkit.filters.generate as generate_module
from rewardkit.filters import generate_completions, iter_records, read_completions


def test_wide_records_with_lists_objects_and_several_fields():
    record = {
        "question": "q1",
        "gold": "4",
        "model_a": {"solution": "A: 4", "is_correct": True},
        "model_b": ["x", [{"role": "assistant", "content": "y"}]],
    }
    rows = list(
        read_completions(
            [record], prompt_field="question", completion_fields=["model_a", "model_b"]
        )
    )
    assert [(r["sample"], r["source"], r["completion"]) for r in rows] == [
        (0, "model_a", "A: 4"),
        (1, "model_b", "x"),
        (2, "model_b", [{"role": "assistant", "content": "y"}]),
    ]
    assert rows[0]["is_correct"] is True and "is_correct" not in rows[1]
    assert all(r["gold"] == "4" and r["prompt"] == "q1" and r["prompt_id"] == 0 for r in rows)


def test_long_records_group_consecutive_prompts_or_ids():
    records = [
        {"prompt": "p", "completion": "a"},
        {"prompt": "p", "completion": "b"},
        {"prompt": [{"role": "user", "content": "chat"}], "completion": "c"},
    ]
    assert [(r["prompt_id"], r["sample"]) for r in read_completions(records)] == [
        (0, 0),
        (0, 1),
        (1, 0),
    ]
    with_ids = [{**r, "uid": "abc"[i]} for i, r in enumerate(records)]
    assert [r["prompt_id"] for r in read_completions(with_ids, id_field="uid")] == ["a", "b", "c"]


def test_jsonl_gzip_parquet_and_datasets_sources_agree(tmp_path):
    records = [{"prompt": f"p{i}", "completion": f"c{i}", "answer": str(i)} for i in range(5)]
    plain = tmp_path / "in.jsonl"
    plain.write_text("\n".join(json.dumps(r) for r in records) + "\n\n", encoding="utf-8")
    zipped = tmp_path / "in.jsonl.gz"
    with gzip.open(zipped, "wt", encoding="utf-8") as handle:
        handle.write(plain.read_text())
    dataset = Dataset.from_list(records)
    parquet = tmp_path / "in.parquet"
    dataset.to_parquet(str(parquet))
    expected = list(read_completions(records))
    for source in (plain, zipped, parquet, dataset, str(plain)):
        assert list(read_completions(source)) == expected
    assert list(iter_records(dataset.to_iterable_dataset())) == records


@pytest.mark.parametrize(
    ("content", "error"),
    [
        ('{"prompt": "p", "completion": "c"}\n{"prompt": \n', "in.jsonl:2: not JSON"),
        ('["a list"]\n', "in.jsonl:1: expected a JSON object"),
        ('{"completion": "c"}\n', "no prompt field 'prompt'"),
        ('{"prompt": "p"}\n', "no completion field 'completion'"),
        ('{"prompt": "p", "completion": 3}\n', "holds int, not text"),
        ('{"prompt": "p", "completion": {"score": 1}}\n', "object without any of"),
    ],
)
def test_malformed_input_gives_clear_errors(tmp_path, content, error):
    path = tmp_path / "in.jsonl"
    path.write_text(content, encoding="utf-8")
    with pytest.raises((ValueError, TypeError), match=error):
        list(read_completions(path))


def test_missing_file_and_no_fields():
    with pytest.raises(FileNotFoundError):
        list(read_completions("/no/such/file.jsonl"))
    with pytest.raises(ValueError, match="at least one field"):
        list(read_completions([], completion_fields=[]))


PROMPTS = [
    {"prompt": "What is 2 + 3?", "answer": "5"},
    {"prompt": [{"role": "user", "content": "What is 7 - 4?"}], "answer": "3"},
    {"prompt": "What is 6 * 2?", "answer": "12"},
]


def _generate(model_path, shards_dir=None, **kwargs):
    return generate_completions(
        PROMPTS, model_path, n=2, batch_size=2, max_new_tokens=4, prompts_per_shard=2,
        shards_dir=shards_dir, progress=False, **kwargs,
    )  # fmt: skip


def test_transformers_generation_and_resume(tiny_model_path, tmp_path, monkeypatch):
    whole = list(_generate(tiny_model_path))
    assert [(r["prompt_id"], r["sample"]) for r in whole] == [
        (0, 0), (0, 1), (1, 0), (1, 1), (2, 0), (2, 1),
    ]  # fmt: skip
    assert all(isinstance(r["completion"], str) for r in whole if isinstance(r["prompt"], str))
    chat = [r for r in whole if r["prompt_id"] == 1]
    assert all(r["completion"][0]["role"] == "assistant" for r in chat)
    assert all(r["answer"] == PROMPTS[r["prompt_id"]]["answer"] for r in whole)

    partial = _generate(tiny_model_path, tmp_path / "gen")
    first = [next(partial) for _ in range(4)]  # the first chunk of two prompts, then stop
    partial.close()
    assert first == whole[:4]
    manifest = json.loads((tmp_path / "gen" / "manifest.json").read_text())
    assert [s["rows"] for s in manifest["shards"]] == [4] and not manifest["complete"]

    resumed = list(_generate(tiny_model_path, tmp_path / "gen"))
    assert resumed == whole  # same seeds per chunk: the same completions
    with pytest.raises(ValueError, match="other settings"):
        next(_generate(tiny_model_path, tmp_path / "gen", temperature=0.5))

    # A finished run is read back without loading any model.
    def no_model(*args, **kwargs):
        raise AssertionError("the model was loaded again")

    monkeypatch.setattr(generate_module, "_HFSampler", no_model)
    assert list(_generate(tiny_model_path, tmp_path / "gen")) == whole

    # Other prompts under the same settings are not answered with the saved completions.
    edited = [{**PROMPTS[0], "answer": "6"}, *PROMPTS[1:]]
    saved = generate_completions(
        edited, tiny_model_path, n=2, batch_size=2, max_new_tokens=4, prompts_per_shard=2,
        shards_dir=tmp_path / "gen", progress=False,
    )  # fmt: skip
    with pytest.raises(ValueError, match="part-000000.jsonl was made from"):
        next(saved)


def test_generation_settings_are_checked(monkeypatch):
    with pytest.raises(ValueError, match="unknown engine"):
        next(_generate("m", engine="tgi"))
    with pytest.raises(ValueError, match="at least 1"):
        next(generate_completions(PROMPTS, "m", n=0))
    monkeypatch.setattr(generate_module, "_HFSampler", lambda model, tokenizer: None)
    with pytest.raises(ValueError, match="prompt 0 has no field 'question'"):
        next(_generate("m", prompt_field="question"))


def test_vllm_engine_without_vllm_says_how_to_install():
    try:
        import vllm  # noqa: F401
    except ImportError:
        with pytest.raises(ImportError, match="rewardkit\\[vllm\\]"):
            next(_generate("some/model", engine="vllm"))
    else:
        pytest.skip("vllm is installed")


def test_a_prompt_that_comes_back_later_is_refused_without_ids():
    records = [{"prompt": p, "completion": "c"} for p in ("a", "b", "a")]
    with pytest.raises(ValueError, match="record 2: its prompt came before"):
        list(read_completions(records))
    ids = [{**r, "uid": i} for i, r in enumerate(records)]  # distinct ids: distinct prompts
    assert [r["prompt_id"] for r in read_completions(ids, id_field="uid")] == [0, 1, 2]


def test_vllm_engine_calls_the_offline_api(monkeypatch, tmp_path):
    """vLLM is not installed here: a stand-in module with the same API checks our calls."""
    import sys
    import types

    calls = {}

    class SamplingParams:
        def __init__(self, **kwargs):
            calls.setdefault("params", []).append(kwargs)

    class Tokenizer:
        def apply_chat_template(self, messages, tokenize, add_generation_prompt):
            assert not tokenize and add_generation_prompt
            return "<chat>" + messages[-1]["content"]

    class LLM:
        def __init__(self, model, seed):
            calls["model"], calls["seed"] = model, seed

        def get_tokenizer(self):
            return Tokenizer()

        def generate(self, texts, params, use_tqdm):
            calls.setdefault("texts", []).append(texts)
            n = calls["params"][-1]["n"]
            choice = types.SimpleNamespace
            return [choice(outputs=[choice(text=f"{t} #{j}") for j in range(n)]) for t in texts]

    fake = types.ModuleType("vllm")
    fake.LLM, fake.SamplingParams = LLM, SamplingParams
    monkeypatch.setitem(sys.modules, "vllm", fake)
    rows = list(
        generate_completions(
            PROMPTS, "org/model", n=2, engine="vllm", temperature=0.7, top_p=0.9,
            max_new_tokens=16, seed=3, prompts_per_shard=2, progress=False,
        )
    )  # fmt: skip
    assert calls["model"] == "org/model"
    assert calls["texts"] == [["What is 2 + 3?", "<chat>What is 7 - 4?"], ["What is 6 * 2?"]]
    assert calls["params"] == [
        {"n": 2, "temperature": 0.7, "top_p": 0.9, "max_tokens": 16, "seed": 3},
        {"n": 2, "temperature": 0.7, "top_p": 0.9, "max_tokens": 16, "seed": 4},
    ]
    assert [r["completion"] for r in rows[:2]] == ["What is 2 + 3? #0", "What is 2 + 3? #1"]
    assert rows[2]["completion"] == [{"role": "assistant", "content": "<chat>What is 7 - 4? #0"}]
