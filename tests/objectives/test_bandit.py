"""A toy bandit: maximising r - beta * KL(pi || pi_ref) converges to pi* ~ pi_ref exp(r / beta).

The exact-expectation runs enumerate the arms (no sampling noise), so they show which fixed point
each KL placement reaches; one sampled run shows it with sampled arms, group baselines and Adam.
"""

from __future__ import annotations

import pytest
import torch

from rewardkit.objectives import aggregate_loss, compute_advantages, kl_penalty, policy_loss

REWARD = torch.tensor([1.0, 0.5, 0.0, 0.8, 0.2], dtype=torch.float64)
REF_LOGP = torch.log_softmax(torch.tensor([0.0, -1.0, 0.5, -0.5, 0.2], dtype=torch.float64), -1)
BETA = 0.5
OPTIMUM = torch.softmax(REF_LOGP + REWARD / BETA, -1)  # pi* = pi_ref exp(r / beta) / Z


def _optimise(surrogate, steps=3000, lr=0.5):
    theta = REF_LOGP.clone().requires_grad_()
    optimizer = torch.optim.SGD([theta], lr=lr)
    for _ in range(steps):
        logp = torch.log_softmax(theta, -1)
        loss = (logp.exp().detach() * surrogate(logp)).sum()  # exact E_{x ~ pi}[per-sample loss]
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return torch.softmax(theta.detach(), -1)


def _advantage(logp):
    """Exact REINFORCE advantage r - E_pi[r] (detached)."""
    return (REWARD - (logp.exp() * REWARD).sum()).detach()


def test_k1_in_the_reward_with_reinforce_converges_to_the_regularised_optimum():
    def reinforce(logp):
        shaped = REWARD - BETA * kl_penalty(logp, REF_LOGP, "k1")  # r - beta * k1
        return -(shaped - (logp.exp() * shaped).sum()).detach() * logp  # baseline: E[shaped]

    torch.testing.assert_close(_optimise(reinforce), OPTIMUM, atol=1e-4, rtol=0)


@pytest.mark.parametrize("estimator", ["k2", "k3+"])
def test_reverse_kl_gradient_in_the_loss_converges_to_the_same_optimum(estimator):
    def loss(logp):
        return -_advantage(logp) * logp + BETA * kl_penalty(logp, REF_LOGP, estimator)

    torch.testing.assert_close(_optimise(loss), OPTIMUM, atol=1e-4, rtol=0)


def test_k3_in_the_loss_converges_elsewhere_unless_weighted_by_the_ratio():
    def k3_loss(logp):
        return -_advantage(logp) * logp + BETA * kl_penalty(logp, REF_LOGP, "k3")

    def k3_ratio_loss(logp):  # TRL's use_bias_correction_kl
        ratio = torch.exp(logp - logp.detach())
        return -_advantage(logp) * logp + BETA * kl_penalty(logp, REF_LOGP, "k3") * ratio

    plain = _optimise(k3_loss)
    assert (plain - OPTIMUM).abs().max() > 0.02  # the forward-KL-regularised optimum instead
    # pi (r - E r) = beta (pi - pi_ref) there: the stationary point of E r - beta KL(ref || pi)
    stationarity = plain * (REWARD - (plain * REWARD).sum()) - BETA * (plain - REF_LOGP.exp())
    torch.testing.assert_close(stationarity, torch.zeros_like(stationarity), atol=1e-6, rtol=0)
    torch.testing.assert_close(_optimise(k3_ratio_loss), OPTIMUM, atol=1e-4, rtol=0)


def test_sampled_group_training_with_kl_in_the_reward_reaches_the_optimum():
    generator = torch.Generator().manual_seed(0)
    theta = REF_LOGP.float().clone().requires_grad_()
    optimizer = torch.optim.Adam([theta], lr=0.02)
    prompts, group = 64, 8
    reward, ref_logp = REWARD.float(), REF_LOGP.float()
    for _ in range(600):
        probs = torch.softmax(theta.detach(), -1)
        arms = torch.multinomial(
            probs.expand(prompts * group, -1), 1, generator=generator
        )  # (B, 1)
        logp = torch.log_softmax(theta, -1)[arms]  # one-token completions (B, T=1)
        kl = kl_penalty(logp.detach(), ref_logp[arms], "k1")
        scores = (reward[arms] - BETA * kl).squeeze(1)  # KL summed into the sequence reward
        advantages = compute_advantages("rloo", scores, torch.ones_like(logp), group)
        out = policy_loss("ppo_clip", logp, logp.detach(), advantages, torch.ones_like(logp))
        loss = aggregate_loss(out.loss, torch.ones_like(logp), "token-mean")
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    total_variation = 0.5 * (torch.softmax(theta.detach(), -1).double() - OPTIMUM).abs().sum()
    assert total_variation < 0.03
