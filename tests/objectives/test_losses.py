"""Policy losses, rollout importance-sampling corrections and loss aggregation."""

from __future__ import annotations

import pytest
import torch

from rewardkit.objectives import (
    ClipConfig,
    aggregate_loss,
    loss_aggregation_names,
    policy_loss,
    policy_loss_names,
    rollout_importance_weights,
)


def _batch(seed=0, b=4, t=6):
    generator = torch.Generator().manual_seed(seed)
    old = -torch.rand(b, t, generator=generator) * 3
    logp = (old + 0.6 * torch.randn(b, t, generator=generator)).requires_grad_()
    advantages = torch.randn(b, 1, generator=generator)
    mask = torch.ones(b, t)
    mask[0, 4:] = 0
    return logp, old, advantages, mask


def test_ppo_clip_value_and_zero_gradient_outside_the_trust_region():
    logp, old, advantages, mask = _batch()
    out = policy_loss("ppo_clip", logp, old, advantages, mask)
    ratio = torch.exp(logp - old)
    expected = -torch.min(ratio * advantages, ratio.clamp(0.8, 1.2) * advantages)
    torch.testing.assert_close(out.loss, expected)
    out.loss.sum().backward()
    clipped = out.clipped_low | out.clipped_high
    assert clipped.any() and (logp.grad[clipped] == 0).all() and (logp.grad[~clipped] != 0).all()


def test_clip_higher_lets_positive_advantages_grow_further():
    logp = torch.log(torch.full((1, 1), 1.25))
    old, mask = torch.zeros(1, 1), torch.ones(1, 1)
    positive = torch.ones(1, 1)
    symmetric = policy_loss("ppo_clip", logp, old, positive, mask)
    dapo = policy_loss("dapo", logp, old, positive, mask)  # 1 + 0.28 by default
    assert symmetric.clipped_high.item() and not dapo.clipped_high.item()
    assert dapo.loss.item() == pytest.approx(-1.25) and symmetric.loss.item() == pytest.approx(-1.2)
    custom = policy_loss(
        "ppo_clip", logp, old, positive, mask, ClipConfig(clip_low=0.2, clip_high=0.3)
    )
    assert custom.loss.item() == pytest.approx(-1.25)


def test_dual_clip_bounds_the_loss_of_negative_advantages():
    logp = torch.log(torch.tensor([[10.0, 10.0]])).requires_grad_()
    old, mask = torch.zeros(1, 2), torch.ones(1, 2)
    advantages = torch.tensor([[-1.0, 1.0]])
    plain = policy_loss("ppo_clip", logp, old, advantages, mask)
    dual = policy_loss("dual_clip", logp, old, advantages, mask)  # c = 3
    assert plain.loss[0, 0].item() == pytest.approx(10.0) and dual.loss[
        0, 0
    ].item() == pytest.approx(3.0)
    assert dual.loss[0, 1] == plain.loss[0, 1]
    dual.loss.sum().backward()
    assert (logp.grad == 0).all()
    with pytest.raises(ValueError, match="dual_clip must be > 1"):
        policy_loss("ppo_clip", logp, old, advantages, mask, ClipConfig(dual_clip=0.5))


def test_gspo_uses_one_ratio_per_sequence_and_matches_the_sequence_level_gradient():
    logp, old, advantages, mask = _batch(seed=1)
    out = policy_loss(
        "gspo", logp, old, advantages, mask, ClipConfig(clip_low=10.0, clip_high=10.0)
    )
    seq_ratio = torch.exp(((logp - old) * mask).sum(-1, keepdim=True) / mask.sum(-1, keepdim=True))
    torch.testing.assert_close(out.ratio, seq_ratio.expand_as(logp))
    (grad_token_form,) = torch.autograd.grad(
        aggregate_loss(out.loss, mask, "seq-mean-token-mean"), logp
    )
    (grad_sequence,) = torch.autograd.grad((-seq_ratio * advantages).mean(), logp)
    torch.testing.assert_close(grad_token_form, grad_sequence)
    # token-level advantages constant along each sequence: the GSPO-token form, same gradient
    token_adv = advantages.expand_as(logp).contiguous()
    out = policy_loss("gspo", logp, old, token_adv, mask, ClipConfig(clip_low=10.0, clip_high=10.0))
    (grad_token_adv,) = torch.autograd.grad(
        aggregate_loss(out.loss, mask, "seq-mean-token-mean"), logp
    )
    torch.testing.assert_close(grad_token_adv, grad_sequence)


def test_cispo_keeps_the_gradient_of_clipped_tokens():
    logp = torch.log(torch.tensor([[8.0, 0.5]])).requires_grad_()
    old, mask, advantages = torch.zeros(1, 2), torch.ones(1, 2), torch.ones(1, 2)
    out = policy_loss("cispo", logp, old, advantages, mask, ClipConfig(ratio_max=5.0))
    torch.testing.assert_close(out.loss, -torch.tensor([[5.0, 0.5]]) * logp.detach())
    out.loss.sum().backward()
    torch.testing.assert_close(logp.grad, -torch.tensor([[5.0, 0.5]]))
    assert out.clipped_high.tolist() == [[True, False]]
    ppo = policy_loss("ppo_clip", logp.detach().requires_grad_(), old, advantages, mask)
    assert ppo.clipped_high[0, 0]  # PPO would drop that token's gradient


def test_on_policy_every_loss_has_the_reinforce_gradient():
    """At ratio 1 no clipping acts: the gradient is -A grad log pi for each loss (token form)."""
    logp, _, advantages, mask = _batch(seed=2)
    expected = -(advantages * mask) / mask.sum()
    for name in policy_loss_names():
        x = logp.detach().clone().requires_grad_()
        out = policy_loss(name, x, x.detach(), advantages, mask)
        (grad,) = torch.autograd.grad(aggregate_loss(out.loss, mask, "token-mean"), x)
        torch.testing.assert_close(grad, expected, msg=name)


def test_unknown_policy_loss_lists_known_names():
    with pytest.raises(
        KeyError, match="known: cispo, clip_higher, dapo, dual_clip, grpo, gspo, ppo_clip"
    ):
        policy_loss("sapo", *_batch()[:4])


def _trl_is_ratio(old, sampling, mask, mode, clip_min, clip_max):
    """TRL 1.16's vLLM importance-sampling ratio, restated for comparison."""
    diff = torch.nan_to_num((old - sampling) * mask, nan=0.0)
    if mode.startswith("sequence"):
        diff = diff.sum(-1, keepdim=True)
    ratio = torch.exp(diff)
    if mode.endswith("truncate"):
        return ratio.clamp(min=clip_min, max=clip_max)
    low = clip_min if clip_min is not None else -float("inf")
    high = clip_max if clip_max is not None else float("inf")
    return ratio.masked_fill((ratio < low) | (ratio > high), 0.0)


@pytest.mark.parametrize("level", ["token", "sequence"])
@pytest.mark.parametrize("mode", ["truncate", "mask"])
def test_rollout_importance_weights_match_trls_vllm_correction(level, mode):
    generator = torch.Generator().manual_seed(4)
    logp = -torch.rand(3, 5, generator=generator)
    rollout = logp + 0.8 * torch.randn(3, 5, generator=generator)
    rollout[1, 2] = float("nan")  # a token the engine could not score
    mask = torch.ones(3, 5)
    mask[2, 3:] = 0
    got = rollout_importance_weights(logp, rollout, mask, level, mode, clip_min=0.5, clip_max=2.0)
    torch.testing.assert_close(got, _trl_is_ratio(logp, rollout, mask, f"{level}_{mode}", 0.5, 2.0))
    assert got.shape == ((3, 5) if level == "token" else (3, 1))
    assert torch.isfinite(got).all()
    if mode == "mask":
        assert (got == 0).any()
    else:
        assert got.min() >= 0.5 and got.max() <= 2.0
    with pytest.raises(ValueError, match="level must be one of"):
        rollout_importance_weights(logp, rollout, mask, "batch")


def test_aggregation_modes_weigh_long_and_short_completions_differently():
    loss = torch.tensor([[1.0] * 8, [1.0, 0, 0, 0, 0, 0, 0, 0]])
    mask = torch.tensor([[1.0] * 8, [1.0] + [0.0] * 7])
    assert aggregate_loss(loss, mask, "token-mean").item() == pytest.approx(1.0)
    assert aggregate_loss(loss, mask, "seq-mean-token-mean").item() == pytest.approx(1.0)
    assert aggregate_loss(loss, mask, "seq-mean-token-sum").item() == pytest.approx(4.5)
    assert aggregate_loss(
        loss, mask, "seq-mean-token-sum-norm", max_len=16
    ).item() == pytest.approx(9 / 32)
    # the gradient weight of one token of the short completion relative to the long one
    x = torch.ones(2, 8, requires_grad=True)
    (grad,) = torch.autograd.grad(aggregate_loss(x, mask, "seq-mean-token-mean"), x)
    assert grad[1, 0] / grad[0, 0] == pytest.approx(8.0)
    (grad,) = torch.autograd.grad(aggregate_loss(x, mask, "token-mean"), x)
    assert grad[1, 0] / grad[0, 0] == pytest.approx(1.0)
    assert aggregate_loss(loss, mask, "token-mean", normalizer=18.0).item() == pytest.approx(0.5)
    assert aggregate_loss(torch.tensor([[2.0], [4.0]]), mask, "seq-mean-token-mean").item() == 3.0
    assert aggregate_loss(loss, torch.zeros(2, 8), "token-mean").item() == 0.0
    with pytest.raises(KeyError, match="known: seq-mean-token-mean"):
        aggregate_loss(loss, mask, "sum")
    assert len(loss_aggregation_names()) == 4
