"""KL estimators: Schulman's bias/variance table, and which KL's gradient each one follows."""

from __future__ import annotations

import math

import pytest
import torch

from rewardkit.objectives import kl_estimator_names, kl_in_reward, kl_penalty

# Schulman (2020), "Approximating KL Divergence": q = N(0, 1) samples, p = N(mu, 1).
# (bias / KL, std / KL) for k1, k2, k3.
TABLE = {
    0.1: {"k1": (0.0, 20.0), "k2": (0.002, 1.42), "k3": (0.0, 1.42)},
    1.0: {"k1": (0.0, 2.0), "k2": (0.25, 1.73), "k3": (0.0, 1.7)},
}


@pytest.mark.parametrize("mu", [0.1, 1.0])
def test_monte_carlo_reproduces_schulmans_table(mu):
    generator = torch.Generator().manual_seed(0)
    x = torch.randn(2_000_000, generator=generator, dtype=torch.float64)  # x ~ q = pi_theta

    def normal_logpdf(x, m):
        return -0.5 * (x - m) ** 2 - 0.5 * math.log(2 * math.pi)

    logp, ref_logp = normal_logpdf(x, 0.0), normal_logpdf(x, mu)  # log q, log p
    true_kl = mu**2 / 2  # KL(q || p) for unit-variance normals
    for name, (bias, std) in TABLE[mu].items():
        estimate = kl_penalty(logp, ref_logp, name)
        measured_bias = (estimate.mean().item() - true_kl) / true_kl
        measured_std = estimate.std().item() / true_kl
        # the Monte Carlo error of the bias is std / sqrt(n) <= 0.015 here
        assert measured_bias == pytest.approx(bias, abs=max(0.02, 0.1 * bias)), name
        assert measured_std == pytest.approx(std, rel=0.03), name
    # the k2 bias has a closed form: E[(mu x - mu^2/2)^2 / 2] / KL - 1 = mu^2 / 4
    k2_bias = kl_penalty(logp, ref_logp, "k2").mean().item() / true_kl - 1
    assert k2_bias == pytest.approx(mu**2 / 4, abs=0.003 if mu < 1 else 0.02)


def _categorical(seed: int, k: int = 6):
    generator = torch.Generator().manual_seed(seed)
    theta = torch.randn(k, generator=generator, dtype=torch.float64, requires_grad=True)
    ref_logp = torch.log_softmax(torch.randn(k, generator=generator, dtype=torch.float64), -1)
    return theta, ref_logp


def _expected_gradient(theta, ref_logp, per_sample_loss):
    """Exact E_{x ~ pi_theta}[grad loss(x)], enumerating the support (no score-function term)."""
    logp = torch.log_softmax(theta, -1)
    (grad,) = torch.autograd.grad(
        (logp.exp().detach() * per_sample_loss(logp, ref_logp)).sum(), theta
    )
    return grad


def _reverse_kl_gradient(theta, ref_logp):
    logp = torch.log_softmax(theta, -1)
    (grad,) = torch.autograd.grad((logp.exp() * (logp - ref_logp)).sum(), theta)
    return grad


def _forward_kl_gradient(theta, ref_logp):
    logp = torch.log_softmax(theta, -1)
    (grad,) = torch.autograd.grad((ref_logp.exp() * (ref_logp - logp)).sum(), theta)
    return grad


@pytest.mark.parametrize("seed", range(3))
def test_gradient_of_k3_in_the_loss_is_the_forward_kl_gradient(seed):
    theta, ref_logp = _categorical(seed)
    grad = _expected_gradient(
        theta, ref_logp, lambda lp, ref: kl_penalty(lp, ref.expand_as(lp), "k3")
    )
    torch.testing.assert_close(grad, _forward_kl_gradient(theta, ref_logp))
    assert not torch.allclose(grad, _reverse_kl_gradient(theta, ref_logp), atol=1e-3)


@pytest.mark.parametrize("estimator", ["k2", "k1+", "k3+"])
@pytest.mark.parametrize("seed", range(3))
def test_gradient_of_k2_in_the_loss_is_the_reverse_kl_gradient(seed, estimator):
    theta, ref_logp = _categorical(seed)
    grad = _expected_gradient(
        theta, ref_logp, lambda lp, ref: kl_penalty(lp, ref.expand_as(lp), estimator)
    )
    torch.testing.assert_close(grad, _reverse_kl_gradient(theta, ref_logp))


@pytest.mark.parametrize("seed", range(3))
def test_k1_in_the_reward_with_reinforce_is_unbiased_for_the_reverse_kl_gradient(seed):
    theta, ref_logp = _categorical(seed)
    # REINFORCE with reward -k1: loss = sg[k1] * log pi (minimising it descends the KL)
    grad = _expected_gradient(
        theta, ref_logp, lambda lp, ref: kl_penalty(lp, ref, "k1").detach() * lp
    )
    torch.testing.assert_close(grad, _reverse_kl_gradient(theta, ref_logp))
    # ...whereas k1 put in the loss has zero expected gradient: E[grad log pi] = 0
    in_loss = _expected_gradient(theta, ref_logp, lambda lp, ref: kl_penalty(lp, ref, "k1"))
    torch.testing.assert_close(in_loss, torch.zeros_like(in_loss))


@pytest.mark.parametrize("seed", range(3))
def test_k3_times_the_is_ratio_follows_the_reverse_kl(seed):
    """TRL's use_bias_correction_kl: k3 * pi/sg[pi] has the reverse-KL gradient (DeepSeek-V3.2)."""
    theta, ref_logp = _categorical(seed)

    def corrected_k3(logp, ref):
        return kl_penalty(logp, ref, "k3") * torch.exp(logp - logp.detach())

    grad = _expected_gradient(theta, ref_logp, corrected_k3)
    torch.testing.assert_close(grad, _reverse_kl_gradient(theta, ref_logp))


def test_unbiased_estimators_average_to_the_exact_kl_on_the_support():
    theta, ref_logp = _categorical(7)
    logp = torch.log_softmax(theta, -1).detach()
    exact = kl_penalty(theta.detach(), ref_logp, "full")
    for name in ("k1", "k3", "k1+", "k3+"):
        expectation = (logp.exp() * kl_penalty(logp, ref_logp, name)).sum()
        torch.testing.assert_close(expectation, exact)
    assert (logp.exp() * kl_penalty(logp, ref_logp, "k2")).sum() > exact  # k2 is biased upward here


def test_full_kl_from_logits_of_a_batch_of_token_positions():
    logits = torch.randn(2, 3, 10, generator=torch.Generator().manual_seed(6))
    ref_logits = logits.clone()
    torch.testing.assert_close(kl_penalty(logits, ref_logits, "full"), torch.zeros(2, 3))
    ref_logits[0, 1] += torch.linspace(0, 3, 10)
    full = kl_penalty(logits, ref_logits, "full")
    assert full.shape == (2, 3) and full[0, 1] > 0 and full[1].abs().max() < 1e-6


def test_straight_through_values_are_k1_and_k3():
    logp, ref_logp = torch.tensor([-0.5, -3.0]), torch.tensor([-1.5, -1.0])
    torch.testing.assert_close(kl_penalty(logp, ref_logp, "k1+"), kl_penalty(logp, ref_logp, "k1"))
    torch.testing.assert_close(kl_penalty(logp, ref_logp, "k3+"), kl_penalty(logp, ref_logp, "k3"))


def test_k3_is_nonnegative_and_abs_is_the_absolute_log_ratio():
    generator = torch.Generator().manual_seed(5)
    logp, ref_logp = torch.randn(1000, generator=generator), torch.randn(1000, generator=generator)
    # (r - 1) - log r >= 0 exactly; float32 rounding can leave -1e-8 for log r near 0
    assert (kl_penalty(logp, ref_logp, "k3") >= -1e-6).all()
    assert (kl_penalty(logp.double(), ref_logp.double(), "k3") >= -1e-12).all()
    torch.testing.assert_close(kl_penalty(logp, ref_logp, "abs"), (logp - ref_logp).abs())


def test_clamp_bounds_extreme_log_ratios_without_overflow():
    logp, ref_logp = torch.tensor([-200.0, 0.0]), torch.tensor([0.0, -200.0])
    clamped = kl_penalty(logp, ref_logp, "k3", clamp=10.0)
    assert torch.isfinite(clamped).all() and clamped.max() == 10.0


def test_unknown_estimator_lists_the_known_names():
    with pytest.raises(KeyError, match="unknown KL estimator 'k4'; known: .*k1.*k3"):
        kl_penalty(torch.zeros(1), torch.zeros(1), "k4")
    assert {"k1", "k2", "k3", "abs", "full", "k1+", "k3+"} <= set(kl_estimator_names())


def test_mismatched_shapes_raise():
    with pytest.raises(ValueError, match="differ"):
        kl_penalty(torch.zeros(2, 3), torch.zeros(2, 4), "k1")


def test_kl_in_reward_per_token_and_per_sequence_give_the_same_total():
    generator = torch.Generator().manual_seed(0)
    kl = torch.rand(3, 5, generator=generator)
    mask = torch.tensor([[1, 1, 1, 1, 1], [1, 1, 0, 0, 0], [0, 0, 0, 0, 0]]).float()
    per_token = kl_in_reward(torch.zeros(3, 5), kl, mask, beta=0.1, level="token")
    per_sequence = kl_in_reward(torch.zeros(3, 5), kl, mask, beta=0.1, level="sequence")
    torch.testing.assert_close(per_token.sum(-1), per_sequence.sum(-1))
    assert (per_token * (1 - mask)).abs().sum() == 0 and (
        per_sequence * (1 - mask)
    ).abs().sum() == 0
    assert per_sequence[1, 1] != 0 and per_sequence[1, 0] == 0  # all on the last valid token
    with pytest.raises(ValueError, match="known: sequence, token"):
        kl_in_reward(torch.zeros(3, 5), kl, mask, 0.1, level="episode")
