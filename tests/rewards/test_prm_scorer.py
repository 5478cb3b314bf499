"""The PRM step scorer on a tiny token-classification model built locally, in TRL's step
separator format and in Qwen2.5-Math-PRM's <extra_0> format."""

from __future__ import annotations

import pickle

import pytest

from rewardkit.rewards import PRMStepScorer, ProcessReward

STEPS = ["3 * 4 = 12", "12 + 1 = 13", "so the answer is 13"]


@pytest.fixture(scope="module")
def prm_paths(tiny_model_path, tmp_path_factory):
    """A tiny Qwen2 token classifier with 2 labels, saved once for each style."""
    import torch
    from transformers import AutoConfig, AutoTokenizer, Qwen2ForTokenClassification

    torch.manual_seed(0)
    config = AutoConfig.from_pretrained(tiny_model_path, num_labels=2)
    trl_dir = tmp_path_factory.mktemp("prm-trl")
    tok = AutoTokenizer.from_pretrained(tiny_model_path)
    model = Qwen2ForTokenClassification(config)
    model.save_pretrained(trl_dir)
    tok.save_pretrained(trl_dir)

    qwen_dir = tmp_path_factory.mktemp("prm-qwen")
    tok.add_special_tokens({"additional_special_tokens": ["<extra_0>"]})
    model.resize_token_embeddings(len(tok))
    model.save_pretrained(qwen_dir)
    tok.save_pretrained(qwen_dir)
    return str(trl_dir), str(qwen_dir)


def reference_scores(path, ids, positions):
    """The positive-class probability at each position, from one unbatched forward pass."""
    import torch
    from transformers import AutoModelForTokenClassification

    model = AutoModelForTokenClassification.from_pretrained(path).eval()
    with torch.no_grad():
        logits = model(input_ids=torch.tensor([ids])).logits[0]
    return [float(torch.softmax(logits[p], -1)[1]) for p in positions]


def test_trl_style_scores_each_step_on_its_separator(prm_paths):
    trl_dir, _ = prm_paths
    scorer = PRMStepScorer(trl_dir, style="trl", batch_size=2)
    ids, positions = scorer.encode("What is 3 * 4 + 1?", STEPS)
    separator = scorer.tokenizer("\n", add_special_tokens=False)["input_ids"]
    assert len(positions) == 3 and all(ids[p] == separator[-1] for p in positions)
    scores = scorer.score_steps("What is 3 * 4 + 1?", STEPS)
    assert scores == pytest.approx(reference_scores(trl_dir, ids, positions), abs=1e-5)
    assert all(0.0 <= s <= 1.0 for s in scores)


def test_qwen_style_scores_each_step_on_extra_0(prm_paths):
    _, qwen_dir = prm_paths
    scorer = PRMStepScorer(qwen_dir, style="qwen")
    ids, positions = scorer.encode("What is 3 * 4 + 1?", STEPS)
    marker = scorer.tokenizer.convert_tokens_to_ids("<extra_0>")
    assert [ids[p] for p in positions] == [marker] * 3
    text = scorer.tokenizer.decode(ids)
    assert "<|im_start|>system" in text and "What is 3 * 4 + 1?" in text  # the chat template
    scores = scorer.score_steps("What is 3 * 4 + 1?", STEPS)
    assert scores == pytest.approx(reference_scores(qwen_dir, ids, positions), abs=1e-5)


def test_batches_match_single_inputs_and_truncation_gives_none(prm_paths):
    trl_dir, _ = prm_paths
    problems = ["What is 3 * 4 + 1?", "Add 2 and 2.", "x"]
    steps = [STEPS, ["2 + 2 = 4"], []]
    batched = PRMStepScorer(trl_dir, batch_size=3).score_steps_batch(problems, steps)
    single = PRMStepScorer(trl_dir, batch_size=1)
    for p, s, b in zip(problems, steps, batched, strict=True):
        assert b == pytest.approx(single.score_steps(p, s), abs=1e-5)
    assert batched[2] == []
    _, positions = single.encode("What is 3 * 4 + 1?", STEPS)
    short = PRMStepScorer(trl_dir, max_length=positions[0] + 1)
    cut = short.score_steps("What is 3 * 4 + 1?", STEPS)
    assert cut[0] is not None and cut[-1] is None


def test_prm_scorer_in_a_process_reward_and_pickled(prm_paths):
    trl_dir, _ = prm_paths
    reward = ProcessReward(PRMStepScorer(trl_dir), aggregation="min")
    completion = "<think>3 * 4 = 12\n12 + 1 = 13</think> \\boxed{13}"
    (value,) = reward(prompts=["What is 3 * 4 + 1?"], completions=[completion])
    assert 0.0 <= value <= 1.0
    clone = pickle.loads(pickle.dumps(reward))
    assert clone.scorer._model is None  # loaded by path: the weights are not pickled
    assert clone(prompts=["What is 3 * 4 + 1?"], completions=[completion]) == pytest.approx([value])


def test_prm_scorer_configuration_errors(prm_paths):
    trl_dir, _ = prm_paths
    with pytest.raises(ValueError):
        PRMStepScorer(trl_dir, style="math-shepherd")
    with pytest.raises(ValueError):
        PRMStepScorer(object())  # a model object needs its tokenizer
    with pytest.raises(ValueError, match="extra_0"):
        PRMStepScorer(trl_dir, style="qwen").encode("q", ["a"])


def test_a_model_without_class_logits_is_refused(prm_paths, tiny_model_path):
    from transformers import AutoModel, AutoTokenizer

    base = AutoModel.from_pretrained(tiny_model_path)  # hidden states, not class logits
    scorer = PRMStepScorer(base, AutoTokenizer.from_pretrained(tiny_model_path))
    with pytest.raises(ValueError, match="token-classification"):
        scorer.score_steps("q", ["a step"])
    # inside a process reward the failure is a reason, not a crash
    reward = ProcessReward(scorer)
    result = reward.score(completions=["<think>a step here</think> \\boxed{1}"])[0]
    assert (result.value, result.reason) == (None, "scorer_error")
    assert "token-classification" in result.details["error"]
