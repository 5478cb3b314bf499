r"""Policy losses (PPO clip, dual-clip, DAPO clip-higher, GSPO, CISPO) and rollout IS corrections.

Shapes: ``logp``, ``old_logp``, ``mask``: ``(B, T)`` (log-probs of the sampled tokens under the
policy being trained and under the policy that sampled them); ``advantages``: ``(B, T)`` or
``(B, 1)`` (broadcast). Every registered loss returns a :class:`PolicyLossOutput` with a per-token
loss ``(B, T)`` to be aggregated (see :mod:`rewardkit.objectives.aggregation`).

>>> import torch
>>> logp = torch.log(torch.tensor([[0.5, 0.5]]))
>>> out = policy_loss("ppo_clip", logp, logp - 0.5, torch.tensor([[1.0, -1.0]]), torch.ones(1, 2))
>>> out.ratio.round(decimals=3), out.loss
(tensor([[1.6490, 1.6490]]), tensor([[-1.2000,  1.6487]]))
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from rewardkit.objectives.registry import POLICY_LOSSES, register_policy_loss


@dataclass(frozen=True)
class ClipConfig:
    """Clipping parameters shared by the losses.

    ``clip_low``/``clip_high``: the ratio is clipped to ``[1 - clip_low, 1 + clip_high]``
    (``clip_high=None``: same as ``clip_low``, except DAPO's default 0.28). ``dual_clip``: the
    dual-clip constant ``c > 1`` bounding the loss of negative-advantage tokens (None: off).
    ``ratio_max``/``ratio_min``: CISPO's bounds on the (detached) IS weight itself.
    """

    clip_low: float = 0.2
    clip_high: float | None = None
    dual_clip: float | None = None
    ratio_max: float = 5.0
    ratio_min: float | None = None


@dataclass
class PolicyLossOutput:
    """Per-token loss, importance ratio and where clipping acted (bool), all ``(B, T)``.

    ``ratio`` keeps its gradient: a trainer multiplies other per-token terms by it (the
    importance-weighted KL of DeepSeek-V3.2).
    """

    loss: torch.Tensor
    ratio: torch.Tensor
    clipped_low: torch.Tensor
    clipped_high: torch.Tensor


def _clipped_surrogate(ratio, advantages, low, high, dual_clip):
    clipped = torch.clamp(ratio, 1 - low, 1 + high)
    # PPO (Schulman et al. 2017): L = -min(r A, clip(r, 1-eps_l, 1+eps_h) A)
    loss = torch.maximum(-ratio * advantages, -clipped * advantages)
    if dual_clip is not None:
        if dual_clip <= 1.0:
            raise ValueError(f"dual_clip must be > 1, got {dual_clip}")
        # Dual-clip PPO (Ye et al. 2020): for A < 0, L = min(L, -c A) bounds huge ratios
        loss = torch.where(advantages < 0, torch.minimum(loss, -dual_clip * advantages), loss)
    clipped_low = (ratio < 1 - low) & (advantages < 0)
    clipped_high = (ratio > 1 + high) & (advantages > 0)
    return loss, clipped_low, clipped_high


@register_policy_loss("ppo_clip", "grpo")
def ppo_clip_loss(logp, old_logp, advantages, mask, config: ClipConfig = ClipConfig()):
    """PPO clipped surrogate with token ratios ``r_t = exp(logp_t - old_logp_t)`` (TRL's GRPO loss).

    With ``config.dual_clip`` set this is dual-clip PPO; with ``clip_high > clip_low``, DAPO's
    clip-higher.
    """
    ratio = torch.exp(logp - old_logp)
    high = config.clip_low if config.clip_high is None else config.clip_high
    loss, low_mask, high_mask = _clipped_surrogate(
        ratio, advantages, config.clip_low, high, config.dual_clip
    )
    return PolicyLossOutput(loss.expand_as(logp), ratio, low_mask, high_mask)


@register_policy_loss("dual_clip")
def dual_clip_loss(
    logp, old_logp, advantages, mask, config: ClipConfig = ClipConfig(dual_clip=3.0)
):
    """Dual-clip PPO (Ye et al. 2020, c = 3 by default): PPO clip, then min(L, -c A) if A < 0."""
    if config.dual_clip is None:
        config = ClipConfig(
            config.clip_low, config.clip_high, 3.0, config.ratio_max, config.ratio_min
        )
    return ppo_clip_loss(logp, old_logp, advantages, mask, config)


@register_policy_loss("dapo", "clip_higher")
def dapo_loss(logp, old_logp, advantages, mask, config: ClipConfig = ClipConfig()):
    """DAPO clip-higher (Yu et al. 2025): asymmetric clip ``[1 - 0.2, 1 + 0.28]`` unless set."""
    if config.clip_high is None:
        config = ClipConfig(
            config.clip_low, 0.28, config.dual_clip, config.ratio_max, config.ratio_min
        )
    return ppo_clip_loss(logp, old_logp, advantages, mask, config)


@register_policy_loss("gspo")
def gspo_loss(logp, old_logp, advantages, mask, config: ClipConfig = ClipConfig()):
    """GSPO (Zheng et al. 2025): one ratio per sequence, ``s_i = exp(mean_t (logp - old_logp))``.

    With token-level advantages ``(B, T)`` it takes the GSPO-token form
    ``s_{i,t} = sg[s_i] * exp(logp_t - sg[logp_t])``: value ``s_i`` on every token, and the same
    gradient as GSPO when the advantages are constant along the sequence.
    """
    mask = mask.to(logp.dtype)
    seq_log_ratio = ((logp - old_logp) * mask).sum(-1, keepdim=True) / mask.sum(
        -1, keepdim=True
    ).clamp(min=1)
    ratio = torch.exp(seq_log_ratio)  # s_i = (pi_theta(y|x) / pi_old(y|x))^(1/|y|), (B, 1)
    high = config.clip_low if config.clip_high is None else config.clip_high
    if (
        advantages.size(-1) == 1
    ):  # sequence-level advantages: GSPO's own form, one loss per sequence
        surrogate = ratio
    else:  # token-level advantages: GSPO-token, s_{i,t} = sg[s_i] * pi(y_t) / sg[pi(y_t)]
        surrogate = torch.exp(seq_log_ratio.detach() + logp - logp.detach())
    loss, low_mask, high_mask = _clipped_surrogate(
        surrogate, advantages, config.clip_low, high, config.dual_clip
    )
    # `ratio` keeps the sequence-level gradient, for IS-weighting other terms
    return PolicyLossOutput(
        loss.expand_as(logp),
        ratio.expand_as(logp),
        low_mask.expand_as(logp),
        high_mask.expand_as(logp),
    )


@register_policy_loss("cispo")
def cispo_loss(logp, old_logp, advantages, mask, config: ClipConfig = ClipConfig()):
    """CISPO (MiniMax-M1, 2025): clip the detached IS weight, keep every token's gradient.

    ``L_t = -sg[clip(r_t, ratio_min, ratio_max)] * A_t * logp_t`` (``ratio_max`` is ScaleRL's
    epsilon_max, 5 by default; TRL passes its ``epsilon_high``).
    """
    ratio = torch.exp(logp - old_logp)
    weight = torch.clamp(ratio, min=config.ratio_min, max=config.ratio_max).detach()
    loss = -weight * advantages * logp
    clipped_high = (ratio > config.ratio_max) & (advantages > 0)
    clipped_low = (
        (ratio < config.ratio_min) & (advantages < 0)
        if config.ratio_min is not None
        else torch.zeros_like(clipped_high)
    )
    return PolicyLossOutput(loss.expand_as(logp), ratio, clipped_low, clipped_high)


def policy_loss(
    name: str,
    logp: torch.Tensor,
    old_logp: torch.Tensor,
    advantages: torch.Tensor,
    mask: torch.Tensor,
    config: ClipConfig | None = None,
) -> PolicyLossOutput:
    """Per-token policy loss with the named loss (see :func:`policy_loss_names`).

    ``advantages`` ``(B,)`` is treated as ``(B, 1)``.
    """
    if advantages.dim() == 1:
        advantages = advantages.unsqueeze(1)
    fn = POLICY_LOSSES.get(name)
    return (
        fn(logp, old_logp, advantages, mask)
        if config is None
        else fn(logp, old_logp, advantages, mask, config)
    )


def policy_loss_names() -> list[str]:
    """Names accepted by :func:`policy_loss`."""
    return POLICY_LOSSES.names()


IS_LEVELS = ("token", "sequence")
IS_MODES = ("truncate", "mask")


def rollout_importance_weights(
    logp: torch.Tensor,
    rollout_logp: torch.Tensor,
    mask: torch.Tensor,
    level: str = "token",
    mode: str = "truncate",
    clip_min: float | None = None,
    clip_max: float | None = 3.0,
) -> torch.Tensor:
    """Importance weights ``pi_trainer / pi_rollout`` for rollout/trainer mismatch (detached).

    The inference engine (vLLM) and the trainer compute slightly different probabilities for the
    same tokens; weighting the loss by ``rho = pi_trainer / pi_rollout`` corrects it. ``level``:
    ``"token"`` -> ``(B, T)`` ratios; ``"sequence"`` -> ``(B, 1)``, the product over the valid
    tokens. ``mode``: ``"truncate"`` clamps rho to ``[clip_min, clip_max]`` (TIS, Yao et al. 2025);
    ``"mask"`` sets weights outside it to 0 (MIS / IcePop). NaN rollout log-probs (tokens the
    engine could not score) get weight 1. ``logp``, ``rollout_logp``, ``mask``: ``(B, T)``.

    >>> import torch
    >>> lp, rlp = torch.zeros(1, 2), torch.tensor([[-2.0, 0.5]])
    >>> rollout_importance_weights(lp, rlp, torch.ones(1, 2)).round(decimals=3)
    tensor([[3.0000, 0.6070]])
    >>> rollout_importance_weights(lp, rlp, torch.ones(1, 2), mode="mask").round(decimals=3)
    tensor([[0.0000, 0.6070]])
    """
    if level not in IS_LEVELS or mode not in IS_MODES:
        raise ValueError(
            f"level must be one of {IS_LEVELS} and mode one of {IS_MODES}, got {level!r}, {mode!r}"
        )
    log_ratio = torch.nan_to_num((logp.detach() - rollout_logp) * mask, nan=0.0)
    if level == "sequence":
        log_ratio = log_ratio.sum(-1, keepdim=True)  # log prod_t rho_t
    ratio = torch.exp(log_ratio)
    if mode == "truncate":
        return torch.clamp(ratio, min=clip_min, max=clip_max)
    low = -torch.inf if clip_min is None else clip_min
    high = torch.inf if clip_max is None else clip_max
    return ratio.masked_fill((ratio < low) | (ratio > high), 0.0)
