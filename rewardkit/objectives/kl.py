r"""Estimators of KL(pi_theta || pi_ref) from the log-probabilities of sampled tokens.

Notation (Schulman, "Approximating KL Divergence", 2020, http://joschu.net/blog/kl-approx.html):
tokens are sampled from the policy, ``x ~ pi_theta``; ``log r = ref_logp - logp`` with
``r = pi_ref(x) / pi_theta(x)``. Each estimator is a per-token value whose mean estimates
KL(pi_theta || pi_ref):

- ``k1 = -log r``: unbiased, high variance, can be negative.
- ``k2 = (log r)^2 / 2``: biased, low variance; its gradient in the loss follows the reverse KL.
- ``k3 = (r - 1) - log r``: unbiased, low variance, always >= 0 (TRL's GRPO uses it in the loss);
  its gradient in the loss follows the *forward* KL(pi_ref || pi_theta).
- ``abs = |log r|``.
- ``full``: the exact KL over the whole vocabulary, from logits (or log-probs) ``(..., V)``.
- ``k1+`` / ``k3+``: straight-through: the value of k1 / k3 with the gradient of k2
  (so the reverse-KL gradient with the value of an unbiased estimator).

The placement matters as much as the estimator: in the loss (added to the per-token policy loss) or
in the reward (subtracted from the reward before the advantages, see :func:`kl_in_reward`).

>>> import torch
>>> logp, ref_logp = torch.tensor([-1.0, -2.0]), torch.tensor([-1.5, -1.0])
>>> kl_penalty(logp, ref_logp, "k1")
tensor([ 0.5000, -1.0000])
>>> kl_penalty(logp, ref_logp, "k3").round(decimals=4)
tensor([0.1065, 0.7183])
"""

from __future__ import annotations

import torch

from rewardkit.objectives.registry import KL_ESTIMATORS, register_kl_estimator


@register_kl_estimator("k1", "kl")
def k1(logp: torch.Tensor, ref_logp: torch.Tensor) -> torch.Tensor:
    """``k1 = log pi_theta - log pi_ref`` per token, shape of the inputs ``(B, T)``."""
    return logp - ref_logp  # k1 = -log r (Schulman 2020)


@register_kl_estimator("k2", "mse")
def k2(logp: torch.Tensor, ref_logp: torch.Tensor) -> torch.Tensor:
    """``k2 = (log r)^2 / 2`` per token, shape ``(B, T)``."""
    return 0.5 * (ref_logp - logp).square()  # k2 = (log r)^2 / 2 (Schulman 2020)


@register_kl_estimator("k3", "low_var_kl")
def k3(logp: torch.Tensor, ref_logp: torch.Tensor) -> torch.Tensor:
    """``k3 = (r - 1) - log r`` per token, shape ``(B, T)``; the form TRL's GRPO loss uses."""
    log_r = ref_logp - logp
    return torch.exp(log_r) - log_r - 1  # k3 = (r - 1) - log r (Schulman 2020)


@register_kl_estimator("abs")
def abs_kl(logp: torch.Tensor, ref_logp: torch.Tensor) -> torch.Tensor:
    """``|log r|`` per token, shape ``(B, T)``."""
    return (logp - ref_logp).abs()


@register_kl_estimator("full")
def full_kl(logits: torch.Tensor, ref_logits: torch.Tensor) -> torch.Tensor:
    """Exact ``sum_v pi(v) (log pi(v) - log pi_ref(v))`` from logits ``(..., V)`` -> ``(...)``.

    Log-probabilities work too (log_softmax is idempotent on them).
    """
    dtype = torch.promote_types(logits.dtype, torch.float32)  # half precision is computed in fp32
    logp = torch.log_softmax(logits.to(dtype), dim=-1)
    ref_logp = torch.log_softmax(ref_logits.to(dtype), dim=-1)
    return (logp.exp() * (logp - ref_logp)).sum(-1)  # KL(p||q) = sum p (log p - log q)


def _straight_through(
    value: torch.Tensor, logp: torch.Tensor, ref_logp: torch.Tensor
) -> torch.Tensor:
    grad_carrier = k2(logp, ref_logp)
    return grad_carrier + (value - grad_carrier).detach()  # value of `value`, gradient of k2


@register_kl_estimator("k1+")
def k1_straight_through(logp: torch.Tensor, ref_logp: torch.Tensor) -> torch.Tensor:
    """Value of k1, gradient of k2 (unbiased value, reverse-KL gradient), shape ``(B, T)``."""
    return _straight_through(k1(logp, ref_logp), logp, ref_logp)


@register_kl_estimator("k3+")
def k3_straight_through(logp: torch.Tensor, ref_logp: torch.Tensor) -> torch.Tensor:
    """Value of k3, gradient of k2 (unbiased low-variance value, reverse-KL gradient), (B, T)."""
    return _straight_through(k3(logp, ref_logp), logp, ref_logp)


def kl_penalty(
    logp: torch.Tensor,
    ref_logp: torch.Tensor,
    estimator: str = "k3",
    clamp: float | None = None,
) -> torch.Tensor:
    """Per-token estimate of KL(pi_theta || pi_ref) with the named estimator.

    Args:
        logp: log pi_theta of the sampled tokens, ``(B, T)`` (any shape; for ``"full"``,
            logits or log-probs ``(B, T, V)``).
        ref_logp: log pi_ref of the same tokens, same shape as ``logp``.
        estimator: one of :func:`kl_estimator_names`.
        clamp: if set, the estimate is clamped to ``[-clamp, clamp]`` (verl clamps k3 at 10).

    Returns the per-token estimate, shape ``(B, T)``.

    >>> import torch
    >>> kl_penalty(torch.tensor([0.0]), torch.tensor([-30.0]), "k1", clamp=10.0)
    tensor([10.])
    """
    if logp.shape != ref_logp.shape:
        raise ValueError(f"logp {tuple(logp.shape)} and ref_logp {tuple(ref_logp.shape)} differ")
    value = KL_ESTIMATORS.get(estimator)(logp, ref_logp)
    if clamp is not None:
        value = value.clamp(-clamp, clamp)
    return value


def kl_in_reward(
    token_rewards: torch.Tensor,
    kl: torch.Tensor,
    mask: torch.Tensor,
    beta: float,
    level: str = "token",
) -> torch.Tensor:
    """Subtract ``beta * KL`` from token-level rewards (the KL in the reward, as RLOO/PPO-RLHF).

    ``level="token"``: ``r_t - beta * kl_t`` on every valid token (Ziegler et al. 2019; Ouyang
    et al. 2022). ``level="sequence"``: ``beta * sum_t kl_t`` taken from the last valid token, so
    returns-to-go see the whole sequence's KL at every position. Shapes ``(B, T)`` -> ``(B, T)``.

    >>> import torch
    >>> mask = torch.tensor([[1.0, 1.0, 0.0]])
    >>> kl_in_reward(torch.tensor([[0.0, 1.0, 0.0]]), torch.tensor([[0.5, 0.5, 9.0]]), mask, 0.1)
    tensor([[-0.0500,  0.9500,  0.0000]])
    >>> kl_in_reward(torch.zeros(1, 3), torch.tensor([[0.5, 0.5, 9.0]]), mask, 0.1, "sequence")
    tensor([[ 0.0000, -0.1000,  0.0000]])
    """
    kl = kl * mask
    if level == "token":
        return token_rewards - beta * kl  # r_t <- r_t - beta * KL_t
    if level == "sequence":
        last = last_token_onehot(mask)
        return token_rewards - beta * kl.sum(-1, keepdim=True) * last  # R <- R - beta * sum_t KL_t
    raise ValueError(f"unknown KL-in-reward level {level!r}; known: sequence, token")


def last_token_onehot(mask: torch.Tensor) -> torch.Tensor:
    """One-hot ``(B, T)`` marking each row's last valid token (all zero for an empty row).

    >>> import torch
    >>> last_token_onehot(torch.tensor([[1, 1, 0], [0, 0, 0]]))
    tensor([[0., 1., 0.],
            [0., 0., 0.]])
    """
    mask = mask.float()
    positions = torch.arange(mask.size(-1), device=mask.device).expand_as(mask)
    last = (positions * mask).argmax(-1, keepdim=True)
    return torch.zeros_like(mask).scatter_(-1, last, 1.0) * (mask.sum(-1, keepdim=True) > 0)


def kl_estimator_names() -> list[str]:
    """Names accepted by :func:`kl_penalty`."""
    return KL_ESTIMATORS.names()
