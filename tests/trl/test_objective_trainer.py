"""ObjectiveGRPOTrainer: TRL's loss by default; every objective trains; token rewards; critic."""

from __future__ import annotations

import logging

import pytest
import torch
from datasets import Dataset

from rewardkit.objectives import group_advantages, kl_penalty, prime_advantages
from rewardkit.rewards import BoxedAccuracy
from rewardkit.trl import ObjectiveGRPOConfig, ObjectiveGRPOTrainer

PROBLEMS = [("What is 2 + 3?", "5"), ("What is 7 - 4?", "3"), ("What is 6 * 2?", "12")] * 4
G = 4  # completions per prompt


class LengthParity:
    """A reward that varies within groups (completion length mod 3), so advantages are non-zero."""

    __name__ = "length_parity"

    def __call__(self, prompts=None, completions=None, **kwargs):
        return [float(len(c) % 3) for c in completions]


class ConstantForFive:
    """Reward 1.0 for every completion of the prompt whose answer is 5 (no signal), else varies."""

    __name__ = "constant_for_five"

    def __call__(self, prompts=None, completions=None, solution=None, **kwargs):
        return [
            1.0 if s == "5" else float(len(c) % 2)
            for c, s in zip(completions, solution, strict=True)
        ]


class DigitSteps:
    """Token rewards: +1 on every token id divisible by 7 ("a good step ends here"), 0 elsewhere."""

    __name__ = "digit_steps"

    def __call__(self, prompts=None, completions=None, completion_ids=None, **kwargs):
        return [0.0] * len(completions)

    def token_rewards(self, prompts=None, completions=None, completion_ids=None, **columns):
        assert "solution" in columns
        return [[1.0 if t % 7 == 0 else 0.0 for t in ids] for ids in completion_ids]


class WrongLength(DigitSteps):
    __name__ = "wrong_length"

    def token_rewards(self, prompts=None, completions=None, completion_ids=None, **columns):
        return [[0.0] * (len(ids) + 1) for ids in completion_ids]


def _dataset():
    return Dataset.from_dict(
        {"prompt": [q for q, _ in PROBLEMS], "solution": [a for _, a in PROBLEMS]}
    )


def _trainer(
    model_path, build_config, reward_funcs=None, trainer_class=ObjectiveGRPOTrainer, **overrides
):
    return trainer_class(
        model=model_path,
        reward_funcs=reward_funcs or [LengthParity()],
        args=build_config(ObjectiveGRPOConfig, **overrides),
        train_dataset=_dataset(),
    )


def _rollout(trainer, seed=0, prompts=("What is 2 + 3?", "What is 7 - 4?", "What is 6 * 2?")):
    """One scored generation batch, as _prepare_inputs would make it (train mode)."""
    trainer.model.train()
    trainer.current_gradient_accumulation_steps = 1
    torch.manual_seed(seed)
    answers = {"What is 2 + 3?": "5", "What is 7 - 4?": "3", "What is 6 * 2?": "12"}
    inputs = [{"prompt": p, "solution": answers[p]} for p in prompts for _ in range(G)]
    return trainer._generate_and_score_completions(inputs)


TRL_SETTINGS = {
    "dapo_default": {},
    "grpo": {"loss_type": "grpo"},
    "dr_grpo": {"loss_type": "dr_grpo"},
    "cispo": {"loss_type": "cispo", "epsilon_high": 1.1},
    "gspo_sequence_ratio": {"loss_type": "grpo", "importance_sampling_level": "sequence"},
    "two_sided_delta": {"delta": 1.5},
    "clip_higher_no_kl_correction": {"epsilon_high": 0.28, "use_bias_correction_kl": False},
    "batch_scaled_rewards": {"scale_rewards": "batch"},
    "dapo_grad_accum_2": {"gradient_accumulation_steps": 2},
    "grpo_grad_accum_2": {"loss_type": "grpo", "gradient_accumulation_steps": 2},
}


@pytest.mark.parametrize("setting", list(TRL_SETTINGS), ids=list(TRL_SETTINGS))
def test_default_objective_matches_trls_compute_loss_and_gradient(
    tiny_model_path, tiny_grpo_config, setting
):
    from trl import GRPOTrainer

    ours = _trainer(tiny_model_path, tiny_grpo_config, **TRL_SETTINGS[setting])
    theirs = _trainer(
        tiny_model_path, tiny_grpo_config, trainer_class=GRPOTrainer, **TRL_SETTINGS[setting]
    )
    for trainer in (
        ours,
        theirs,
    ):  # the same step away from the reference model, so that the KL acts
        generator = torch.Generator().manual_seed(2)
        with torch.no_grad():
            for parameter in trainer.model.parameters():
                parameter.add_(0.05 * torch.randn(parameter.shape, generator=generator))
    batch = _rollout(ours)
    # completions of different lengths, off-policy old log-probs and varied advantages, so that
    # every aggregation differs and every clipping branch acts
    generator = torch.Generator().manual_seed(1)
    mask = batch["completion_mask"].clone()
    lengths = torch.randint(1, mask.size(1) + 1, (mask.size(0),), generator=generator)
    mask[torch.arange(mask.size(1)).unsqueeze(0) >= lengths.unsqueeze(1)] = 0
    batch["completion_mask"], batch["num_items_in_batch"] = mask, mask.sum()
    batch["old_per_token_logps"] = ours._get_per_token_logps_and_entropies(
        ours.model,
        torch.cat([batch["prompt_ids"], batch["completion_ids"]], 1),
        torch.cat([batch["prompt_mask"], mask], 1),
        mask.size(1),
    )[0].detach() + 0.8 * torch.randn(mask.shape, generator=generator)
    batch["advantages"] = torch.randn(mask.size(0), generator=generator)
    theirs.model.train()
    for trainer in (ours, theirs):
        trainer.current_gradient_accumulation_steps = trainer.args.gradient_accumulation_steps

    losses, grads = [], []
    for trainer in (ours, theirs):
        trainer.model.zero_grad()
        loss = trainer._compute_loss(trainer.model, dict(batch))
        loss.backward()
        losses.append(loss.detach())
        grads.append(
            torch.cat([p.grad.flatten() for p in trainer.model.parameters() if p.grad is not None])
        )
    torch.testing.assert_close(losses[0], losses[1], atol=1e-6, rtol=0)
    torch.testing.assert_close(grads[0], grads[1], atol=1e-6, rtol=1e-5)
    assert losses[0].abs() > 1e-4  # a real loss, not a trivially equal zero


def test_default_advantages_equal_trls(tiny_model_path, tiny_grpo_config):
    from trl import GRPOTrainer

    trainer = _trainer(tiny_model_path, tiny_grpo_config)
    trainer.model.train()
    torch.manual_seed(0)
    inputs = [{"prompt": q, "solution": a} for q, a in PROBLEMS[:3] for _ in range(G)]
    theirs = GRPOTrainer._generate_and_score_completions(trainer, [dict(x) for x in inputs])
    torch.manual_seed(0)
    ours = trainer._generate_and_score_completions([dict(x) for x in inputs])
    assert torch.equal(theirs["completion_ids"], ours["completion_ids"])
    assert (
        ours["advantages"].shape == theirs["advantages"].shape
    )  # (B,): constant along completions
    torch.testing.assert_close(ours["advantages"], theirs["advantages"], atol=1e-6, rtol=0)
    assert ours["advantages"].abs().sum() > 0


LOSSES = ["ppo_clip", "dual_clip", "dapo", "gspo", "cispo"]
RUNS = {f"loss={name}": {"policy_loss": name} for name in LOSSES}
RUNS.update(
    {
        "kl=reward_per_token": {"kl_placement": "reward", "kl_estimator": "k1"},
        "kl=reward_per_sequence": {
            "kl_placement": "reward",
            "kl_estimator": "k1",
            "kl_reward_level": "sequence",
        },
        "kl=loss_k2": {"kl_estimator": "k2"},
        "adv=rloo_seq_mean": {
            "advantage_estimator": "rloo",
            "loss_aggregation": "seq-mean-token-mean",
        },
        "adv=reinforce_pp_kl_reward": {
            "advantage_estimator": "reinforce_pp",
            "kl_placement": "reward",
            "kl_estimator": "k1",
            "loss_aggregation": "seq-mean-token-sum",
        },
        "adv=reinforce_pp_baseline": {"advantage_estimator": "reinforce_pp_baseline"},
        "adv=dr_grpo_sum_norm": {
            "advantage_estimator": "dr_grpo",
            "loss_aggregation": "seq-mean-token-sum-norm",
        },
    }
)


@pytest.mark.parametrize("overrides", list(RUNS.values()), ids=list(RUNS))
def test_two_step_training_run_for_each_loss_and_kl_placement(
    tiny_model_path, tiny_grpo_config, overrides
):
    trainer = _trainer(tiny_model_path, tiny_grpo_config, **overrides)
    before = [p.detach().clone() for p in trainer.model.parameters()]
    trainer.train()
    assert trainer.state.global_step == 2
    logged = trainer.state.log_history[1]
    assert torch.isfinite(torch.tensor(logged["loss"]))
    assert "kl" in logged
    if overrides.get("kl_estimator", "k3") in ("k2", "k3"):
        assert logged["kl"] >= 0
    changed = any(
        not torch.equal(a, b.detach())
        for a, b in zip(before, trainer.model.parameters(), strict=True)
    )
    assert changed, "the policy did not move"


def test_kl_in_the_reward_shifts_the_advantages_by_beta_times_k1(tiny_model_path, tiny_grpo_config):
    trainer = _trainer(
        tiny_model_path,
        tiny_grpo_config,
        kl_placement="reward",
        kl_estimator="k1",
        kl_reward_level="sequence",
        beta=0.5,
    )
    with torch.no_grad():  # move the policy away from the reference so that the KL is not zero
        for parameter in trainer.model.parameters():
            parameter.add_(0.05 * torch.randn_like(parameter))
    batch = _rollout(trainer)
    mask = batch["completion_mask"].float()
    policy_logps, _ = trainer._rollout_forward(batch, with_values=False)
    kl = (kl_penalty(policy_logps, batch["ref_per_token_logps"], "k1") * mask).sum(-1)
    assert kl.abs().max() > 1e-3
    scores = trainer._rewards_per_func[:, 0]
    expected = group_advantages(scores - 0.5 * kl, G)  # R - beta * sum_t k1_t
    torch.testing.assert_close(batch["advantages"], expected, atol=1e-5, rtol=1e-5)
    assert not torch.allclose(expected, group_advantages(scores, G), atol=1e-3)
    # ...and the loss then carries no KL term
    assert not trainer._kl_in_loss


def test_token_rewards_become_token_level_prime_advantages(tiny_model_path, tiny_grpo_config):
    trainer = _trainer(
        tiny_model_path, tiny_grpo_config, reward_funcs=[LengthParity(), DigitSteps()]
    )
    assert trainer.advantage_estimator == "prime"
    batch = _rollout(trainer)
    mask = batch["completion_mask"].float()
    ids = batch["completion_ids"]
    token_rewards = ((ids % 7 == 0).float()) * mask
    assert token_rewards.sum() > 0, "the tiny model produced no rewarded token; change the seed"
    expected = prime_advantages(trainer._rewards_per_func[:, 0], token_rewards, mask, G)
    torch.testing.assert_close(batch["advantages"], expected)
    varies_along_tokens = (
        (batch["advantages"][:, :1] != batch["advantages"]).logical_and(mask.bool()).any()
    )
    assert varies_along_tokens
    trainer.train()
    assert trainer.state.global_step == 2


def test_token_rewards_can_be_switched_off(tiny_model_path, tiny_grpo_config):
    trainer = _trainer(
        tiny_model_path,
        tiny_grpo_config,
        reward_funcs=[LengthParity(), DigitSteps()],
        use_token_rewards=False,
    )
    assert trainer.advantage_estimator == "grpo"
    batch = _rollout(trainer)
    scores = trainer._rewards_per_func.sum(1)  # both scalars, as TRL sums them
    torch.testing.assert_close(batch["advantages"], group_advantages(scores, G))


def test_token_rewards_of_the_wrong_length_raise_a_clear_error(tiny_model_path, tiny_grpo_config):
    trainer = _trainer(
        tiny_model_path, tiny_grpo_config, reward_funcs=[LengthParity(), WrongLength()]
    )
    with pytest.raises(
        ValueError, match=r"wrong_length.token_rewards gave \d+ values for completion 0 of \d+"
    ):
        _rollout(trainer)


def test_dynamic_sampling_replaces_groups_without_signal(tiny_model_path, tiny_grpo_config):
    trainer = _trainer(
        tiny_model_path,
        tiny_grpo_config,
        reward_funcs=[ConstantForFive()],
        dynamic_sampling=True,
        max_steps=1,
    )
    batch = _rollout(
        trainer, prompts=("What is 2 + 3?", "What is 7 - 4?", "What is 2 + 3?", "What is 6 * 2?")
    )
    assert batch["completion_ids"].size(0) == 4 * G
    signal = batch["advantages"].view(-1, G).abs().sum(1) > 0
    assert signal.all(), "a group without signal was kept although the batch could be filled"
    mask = batch["completion_mask"]
    assert batch["num_items_in_batch"] == mask.sum()
    assert trainer._metrics["train"]["dynamic_sampling/rounds"][-1] >= 1
    assert trainer._metrics["train"]["dynamic_sampling/informative_fraction"][-1] == 0.5
    trainer.train()
    assert trainer.state.global_step == 1


def test_dynamic_sampling_is_bounded_and_fills_with_signal_free_groups(
    tiny_model_path, tiny_grpo_config, caplog
):
    class Constant:
        __name__ = "constant"

        def __call__(self, prompts=None, completions=None, **kwargs):
            return [1.0] * len(completions)

    trainer = _trainer(
        tiny_model_path,
        tiny_grpo_config,
        reward_funcs=[Constant()],
        dynamic_sampling=True,
        dynamic_sampling_max_rounds=2,
    )
    with caplog.at_level(logging.INFO, logger="rewardkit.trl.trainer"):
        batch = _rollout(trainer)
    assert batch["completion_ids"].size(0) == 3 * G
    assert (batch["advantages"] == 0).all()
    assert trainer._metrics["train"]["dynamic_sampling/rounds"][-1] == 2
    assert trainer._metrics["train"]["dynamic_sampling/filled_fraction"][-1] == 0.0
    # the extra generation rounds (the step's extra time) are said, not only counted
    assert trainer._metrics["train"]["dynamic_sampling/generated_completions"][-1] == 9 * G
    (line,) = [r.getMessage() for r in caplog.records if "dynamic sampling" in r.getMessage()]
    assert "0 of 3 groups" in line and "2 extra generation rounds" in line and "3x" in line


def test_actor_critic_trains_a_value_head_with_gae(tiny_model_path, tmp_path, tiny_grpo_config):
    trainer = _trainer(
        tiny_model_path, tiny_grpo_config, advantage_estimator="gae", value_learning_rate=1e-2
    )
    assert trainer.value_head is not None
    batch = _rollout(trainer)
    mask = batch["completion_mask"]
    assert batch["old_values"].shape == mask.shape == batch["value_returns"].shape
    assert batch["advantages"].shape == mask.shape and batch["advantages"].abs().sum() > 0
    before = [p.detach().clone() for p in trainer.value_head.parameters()]
    trainer.train()
    assert trainer.state.global_step == 2
    assert "value/loss" in trainer.state.log_history[0]
    assert any(
        not torch.equal(a, b) for a, b in zip(before, trainer.value_head.parameters(), strict=True)
    )
    trainer.save_model(str(tmp_path / "saved"))
    state = torch.load(tmp_path / "saved" / "value_head.pt")
    assert set(state) == {"out.weight", "out.bias"}
    # a checkpoint keeps the critic's optimizer too, and resuming restores both
    trainer.save_model(str(tmp_path / "checkpoint"), _internal_call=True)
    resumed = _trainer(tiny_model_path, tiny_grpo_config, advantage_estimator="gae")
    resumed._load_from_checkpoint(str(tmp_path / "checkpoint"))
    for a, b in zip(trainer.value_head.parameters(), resumed.value_head.parameters(), strict=True):
        assert torch.equal(a, b)
    assert resumed.value_optimizer.state_dict()["state"][0]["step"] == 2


def test_the_critic_learns_the_returns_of_a_fixed_batch(tiny_model_path, tiny_grpo_config):
    trainer = _trainer(
        tiny_model_path,
        tiny_grpo_config,
        advantage_estimator="gae",
        value_learning_rate=3e-2,
        value_clip=None,
    )
    batch = _rollout(trainer)
    input_ids = torch.cat([batch["prompt_ids"], batch["completion_ids"]], 1)
    attention_mask = torch.cat([batch["prompt_mask"], batch["completion_mask"]], 1)
    length = batch["completion_ids"].size(1)
    losses = []
    for _ in range(40):
        with trainer._capturing(True), torch.no_grad():
            trainer._get_per_token_logps_and_entropies(
                trainer.model, input_ids, attention_mask, length
            )
            hidden = torch.cat(trainer._hidden_states)
        values = trainer.value_head(hidden[:, -length - 1 : -1])
        loss = ((values - batch["value_returns"]) ** 2 * batch["value_mask"]).sum() / batch[
            "value_mask"
        ].sum()
        trainer.value_optimizer.zero_grad()
        loss.backward()
        trainer.value_optimizer.step()
        losses.append(loss.item())
    assert losses[-1] < 0.5 * losses[0]


def test_config_loads_with_trl_parser_and_rejects_bad_names(tmp_path):
    from trl import TrlParser

    config_file = tmp_path / "objective.yaml"
    config_file.write_text(
        f"output_dir: {tmp_path}\nuse_cpu: true\nkl_estimator: k1\nkl_placement: reward\n"
        "advantage_estimator: rloo\npolicy_loss: gspo\nloss_aggregation: seq-mean-token-mean\n"
        "dynamic_sampling: true\n"
    )
    (config,) = TrlParser((ObjectiveGRPOConfig,)).parse_args_and_config(
        args=["--config", str(config_file), "--dynamic_sampling_max_rounds", "5"]
    )
    assert (config.kl_estimator, config.kl_placement, config.advantage_estimator) == (
        "k1",
        "reward",
        "rloo",
    )
    assert (config.policy_loss, config.loss_aggregation) == ("gspo", "seq-mean-token-mean")
    assert config.dynamic_sampling and config.dynamic_sampling_max_rounds == 5

    base = {"output_dir": str(tmp_path), "use_cpu": True}
    with pytest.raises(
        ValueError, match="advantage_estimator: unknown advantage estimator 'ppo'; known: dr_grpo"
    ):
        ObjectiveGRPOConfig(**base, advantage_estimator="ppo")
    with pytest.raises(ValueError, match="policy_loss: unknown policy loss 'sapo'"):
        ObjectiveGRPOConfig(**base, policy_loss="sapo")
    with pytest.raises(ValueError, match="loss_aggregation: unknown loss aggregation"):
        ObjectiveGRPOConfig(**base, loss_aggregation="sum")
    with pytest.raises(ValueError, match="kl_placement must be 'loss' or 'reward'"):
        ObjectiveGRPOConfig(**base, kl_placement="advantage")
    with pytest.raises(ValueError, match="full-vocabulary logits"):
        ObjectiveGRPOConfig(**base, kl_estimator="full")
    with pytest.raises(ValueError, match="loss_type='sapo' has no rewardkit equivalent"):
        ObjectiveGRPOConfig(**base, loss_type="sapo")
    assert ObjectiveGRPOConfig(
        **base, loss_type="sapo", policy_loss="ppo_clip", loss_aggregation="token-mean"
    )
    assert ObjectiveGRPOConfig(**base, importance_sampling_level="sequence").policy_loss == "gspo"


def test_dapo_by_name_clips_higher_unless_epsilon_high_is_set(tiny_model_path, tiny_grpo_config):
    logp, old = torch.log(torch.full((1, 1), 1.25)), torch.zeros(1, 1)
    positive, mask = torch.ones(1, 1), torch.ones(1, 1)
    for epsilon_high, clipped in ((None, False), (0.2, True)):
        trainer = _trainer(
            tiny_model_path, tiny_grpo_config, policy_loss="dapo", epsilon_high=epsilon_high
        )
        out = trainer._policy_loss_fn(logp, old, positive, mask, trainer._clip_config)
        assert out.clipped_high.item() is clipped


def test_the_trainer_needs_an_objective_config(tiny_model_path, tmp_path):
    from trl import GRPOConfig

    with pytest.raises(TypeError, match="ObjectiveGRPOConfig"):
        ObjectiveGRPOTrainer(
            model=tiny_model_path,
            reward_funcs=[BoxedAccuracy()],
            args=GRPOConfig(output_dir=str(tmp_path), use_cpu=True, report_to="none"),
            train_dataset=_dataset(),
        )


def test_concat_rollouts_repads_prompts_left_and_completions_right():
    from rewardkit.trl.trainer import _concat_rollouts, _select_rows

    short = {
        "prompt_ids": torch.tensor([[5, 6]]),
        "prompt_mask": torch.tensor([[1, 1]]),
        "completion_ids": torch.tensor([[7]]),
        "completion_mask": torch.tensor([[1]]),
        "advantages": torch.tensor([0.5]),
        "importance_sampling_ratio": torch.tensor([[1.5]]),
        "num_items_in_batch": torch.tensor(1),
    }
    long = {
        "prompt_ids": torch.tensor([[1, 2, 3]]),
        "prompt_mask": torch.tensor([[1, 1, 1]]),
        "completion_ids": torch.tensor([[4, 4, 4]]),
        "completion_mask": torch.tensor([[1, 1, 1]]),
        "advantages": torch.tensor([-0.5]),
        "importance_sampling_ratio": torch.tensor([[0.5]]),
        "num_items_in_batch": torch.tensor(3),
    }
    merged = _concat_rollouts([short, long], pad_token_id=0)
    assert merged["prompt_ids"].tolist() == [[0, 5, 6], [1, 2, 3]]
    assert merged["prompt_mask"].tolist() == [[0, 1, 1], [1, 1, 1]]
    assert merged["completion_ids"].tolist() == [[7, 0, 0], [4, 4, 4]]
    assert merged["completion_mask"].tolist() == [[1, 0, 0], [1, 1, 1]]
    assert merged["advantages"].tolist() == [0.5, -0.5]
    assert merged["importance_sampling_ratio"].tolist() == [
        [1.5],
        [0.5],
    ]  # sequence-level stays (B, 1)
    assert _select_rows(merged, torch.tensor([1]))["completion_ids"].tolist() == [[4, 4, 4]]
    with pytest.raises(ValueError, match="multimodal"):
        _concat_rollouts([{**short, "pixel_values": torch.zeros(1, 3)}] * 2, pad_token_id=0)


def test_default_training_run_reproduces_trls_weights(tiny_model_path, tiny_grpo_config):
    """Two optimizer steps (generation, rewards, advantages, loss, update) end where TRL's end."""
    from trl import GRPOTrainer

    trained = []
    for trainer_class in (ObjectiveGRPOTrainer, GRPOTrainer):
        trainer = _trainer(tiny_model_path, tiny_grpo_config, trainer_class=trainer_class)
        if not trained:
            start = torch.cat([p.detach().flatten().clone() for p in trainer.model.parameters()])
        trainer.train()
        trained.append(torch.cat([p.detach().flatten() for p in trainer.model.parameters()]))
    assert (trained[0] - start).abs().max() > 1e-4  # it trained
    torch.testing.assert_close(trained[0], trained[1], atol=1e-6, rtol=0)
