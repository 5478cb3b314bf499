"""Advantage estimators: known identities, TRL parity, NaN handling, token-level process rewards."""

from __future__ import annotations

import pytest
import torch
from trl.trainer.utils import nanstd as trl_nanstd

from rewardkit.objectives import (
    advantage_estimator_names,
    compute_advantages,
    gae,
    group_advantages,
    pad_token_rewards,
    prime_advantages,
    returns_to_go,
    rloo_advantages,
    step_end_rewards,
)


def _scores(groups=5, size=4, seed=0):
    return torch.randint(
        0, 3, (groups * size,), generator=torch.Generator().manual_seed(seed)
    ).float()


@pytest.mark.parametrize("size", [2, 4, 8])
def test_rloo_equals_g_over_g_minus_one_times_centred_reward(size):
    scores = torch.randn(6 * size, generator=torch.Generator().manual_seed(size))
    grouped = scores.view(-1, size)
    expected = size / (size - 1) * (grouped - grouped.mean(1, keepdim=True))
    torch.testing.assert_close(rloo_advantages(scores, size), expected.flatten())


def test_grpo_matches_trls_formula():
    scores = _scores()
    scores[3] = float("nan")  # an unscorable completion
    grouped = scores.view(-1, 4)
    mean = torch.nanmean(grouped, 1, keepdim=True)
    expected = torch.nan_to_num(
        (grouped - mean) / (trl_nanstd(grouped, dim=1, keepdim=True) + 1e-4), nan=0.0
    )
    torch.testing.assert_close(group_advantages(scores, 4), expected.flatten())
    batch = torch.nan_to_num((grouped - mean) / (trl_nanstd(scores) + 1e-4), nan=0.0)
    torch.testing.assert_close(group_advantages(scores, 4, scale="batch"), batch.flatten())
    torch.testing.assert_close(
        group_advantages(scores, 4, scale="none"), torch.nan_to_num(grouped - mean).flatten()
    )


def test_unscorable_completions_get_zero_advantage_and_do_not_move_the_baseline():
    scores = torch.tensor([1.0, float("nan"), 0.0, 0.0])
    mask = torch.ones(4, 3)
    for name in advantage_estimator_names():
        advantages = compute_advantages(name, scores, mask, group_size=4)
        assert torch.isfinite(advantages).all(), name
        assert (advantages[1] == 0).all(), name
    # the baseline of RLOO excludes the NaN: 1 - mean(0, 0) = 1
    assert rloo_advantages(scores, 4)[0] == 1.0


def test_a_group_of_identical_rewards_has_zero_advantage():
    scores = torch.tensor([1.0, 1.0, 1.0, 0.0, 1.0, 0.0])
    for name in ("grpo", "dr_grpo", "rloo"):
        advantages = compute_advantages(name, scores, torch.ones(6, 2), group_size=3)
        assert (advantages[:3] == 0).all() and advantages[3:].abs().sum() > 0, name


def test_sequence_estimators_broadcast_over_valid_tokens_only():
    scores = torch.tensor([1.0, 0.0])
    mask = torch.tensor([[1, 1, 0], [1, 0, 0]]).float()
    advantages = compute_advantages("grpo", scores, mask, group_size=2)
    assert advantages[0, 0] == advantages[0, 1] > 0 and advantages[0, 2] == 0
    assert advantages[1, 0] < 0 and (advantages[1, 1:] == 0).all()


def test_returns_to_go_with_discount_matches_a_loop():
    rewards = torch.randn(3, 6, generator=torch.Generator().manual_seed(1))
    mask = torch.tensor([[1] * 6, [1] * 4 + [0] * 2, [1] + [0] * 5]).float()
    got = returns_to_go(rewards, mask, gamma=0.9)
    for i in range(3):
        n = int(mask[i].sum())
        for t in range(n):
            expected = sum(0.9 ** (s - t) * rewards[i, s] for s in range(t, n))
            assert got[i, t].item() == pytest.approx(expected.item(), abs=1e-5)
        assert (got[i, n:] == 0).all()


def test_reinforce_pp_whitens_returns_over_the_batch_tokens():
    scores = _scores(groups=3, size=2)
    mask = torch.ones(6, 4)
    mask[0, 2:] = 0
    advantages = compute_advantages("reinforce_pp", scores, mask, group_size=2)
    valid = advantages[mask.bool()]
    assert valid.mean().abs() < 1e-5 and valid.std().item() == pytest.approx(1.0, abs=1e-3)
    # without token rewards, every token of a completion sees its outcome reward
    assert torch.allclose(advantages[1], advantages[1, :1].expand(4))


def test_reinforce_pp_baseline_removes_the_group_mean_before_whitening():
    scores = torch.tensor([5.0, 5.0, 1.0, 3.0])  # group 0 agrees: no signal
    advantages = compute_advantages("reinforce_pp_baseline", scores, torch.ones(4, 2), group_size=2)
    centred = torch.tensor([0.0, 0.0, -1.0, 1.0])
    expected = (centred - centred.mean()) / (centred.repeat_interleave(2).std() + 1e-4)
    torch.testing.assert_close(advantages[:, 0], expected, atol=1e-4, rtol=1e-4)


def test_gae_with_lambda_one_is_returns_minus_values_and_lambda_zero_is_td():
    generator = torch.Generator().manual_seed(2)
    rewards, values = torch.randn(2, 5, generator=generator), torch.randn(2, 5, generator=generator)
    mask = torch.tensor([[1] * 5, [1] * 3 + [0] * 2]).float()
    advantages, returns = gae(rewards, values, mask, gamma=0.9, lam=1.0)
    torch.testing.assert_close(advantages, (returns_to_go(rewards, mask, 0.9) - values) * mask)
    torch.testing.assert_close(returns, returns_to_go(rewards, mask, 0.9))
    td, _ = gae(rewards, values, mask, gamma=0.9, lam=0.0)
    next_values = torch.cat([values[:, 1:] * mask[:, 1:], torch.zeros(2, 1)], 1)
    torch.testing.assert_close(td, (rewards + 0.9 * next_values - values) * mask)


def test_step_scores_land_on_step_end_tokens():
    rewards = step_end_rewards([[1.0, 0.0], [None]], [[2, 5], [0]], 6)
    assert rewards.tolist() == [[0, 0, 1.0, 0, 0, 0], [0] * 6]
    with pytest.raises(ValueError, match="outside"):
        step_end_rewards([[1.0]], [[6]], 6)
    with pytest.raises(ValueError, match="2 step scores for 1 step ends"):
        step_end_rewards([[1.0, 0.5]], [[1]], 6)
    assert pad_token_rewards([[None, 0.5]], 3).tolist() == [[0.0, 0.5, 0.0]]  # None: neutral
    with pytest.raises(ValueError, match="3 entries > 2 tokens"):
        pad_token_rewards([[0.0, 0.0, 1.0]], 2)


def test_prime_process_advantages_credit_the_tokens_before_a_good_step():
    # two completions of one prompt, same outcome; the first has a good step at token 1,
    # the second a bad step at token 2
    scores = torch.tensor([1.0, 1.0])
    token_rewards = torch.tensor([[0.0, 1.0, 0.0, 0.0], [0.0, 0.0, -1.0, 0.0]])
    mask = torch.ones(2, 4)
    advantages = prime_advantages(scores, token_rewards, mask, group_size=2)
    # returns-to-go: [1, 1, 0, 0] and [-1, -1, -1, 0]; leave-one-out baselines: -1 and 1
    assert advantages.tolist() == [[2.0, 2.0, 1.0, 1.0], [-2.0, -2.0, -2.0, -1.0]]
    assert torch.equal(compute_advantages("prime", scores, mask, 2, token_rewards), advantages)


def test_prime_baseline_adds_no_bias():
    """The leave-one-out baseline of completion i does not depend on completion i."""
    token_rewards = torch.randn(4, 3, generator=torch.Generator().manual_seed(3))
    mask = torch.ones(4, 3)
    base = prime_advantages(torch.zeros(4), token_rewards, mask, 4)
    changed = token_rewards.clone()
    changed[0] += 5.0
    moved = prime_advantages(torch.zeros(4), changed, mask, 4)
    # completion 0's advantage minus its own returns is its baseline: unchanged by its own rewards
    own = returns_to_go(token_rewards, mask)[0]
    own_changed = returns_to_go(changed, mask)[0]
    torch.testing.assert_close(base[0] - own, moved[0] - own_changed)


def test_token_rewards_are_summed_into_the_sequence_score_for_group_estimators():
    scores = torch.tensor([0.0, 0.0])
    token_rewards = torch.tensor([[0.0, 1.0], [0.0, 0.0]])
    advantages = compute_advantages("dr_grpo", scores, torch.ones(2, 2), 2, token_rewards)
    assert advantages.tolist() == [[0.5, 0.5], [-0.5, -0.5]]


def test_bad_group_shapes_and_unknown_names_raise_clearly():
    with pytest.raises(ValueError, match="multiple of group_size=4"):
        group_advantages(torch.zeros(6), 4)
    with pytest.raises(KeyError, match="unknown advantage estimator 'ppo'; known: .*grpo.*rloo"):
        compute_advantages("ppo", torch.zeros(4), torch.ones(4, 1), 2)
