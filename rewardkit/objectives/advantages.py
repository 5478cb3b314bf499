r"""Advantage estimators: group baselines (GRPO, Dr. GRPO, RLOO), REINFORCE++, GAE, process rewards.

Shapes: ``B`` completions in consecutive groups of ``group_size`` completions of the same prompt
(TRL's order), ``T`` completion tokens. ``scores`` ``(B,)`` are outcome rewards (NaN = unscorable:
its advantage is 0, as in TRL); ``token_rewards`` ``(B, T)`` are dense per-token rewards (process
step scores on step-end tokens, ``-beta * KL`` when the KL is in the reward), 0 elsewhere;
``mask`` ``(B, T)`` marks valid completion tokens.

Every registered estimator has the signature
``fn(scores, token_rewards, mask, group_size, *, gamma=1.0, eps=1e-4) -> (B, T)``; get one with
:func:`compute_advantages` or ``ADVANTAGE_ESTIMATORS.get(name)``.

>>> import torch
>>> scores = torch.tensor([1.0, 0.0, 0.0, 0.0])
>>> rloo_advantages(scores, group_size=4)
tensor([ 1.0000, -0.3333, -0.3333, -0.3333])
"""

from __future__ import annotations

import torch

from rewardkit.objectives.kl import last_token_onehot
from rewardkit.objectives.registry import ADVANTAGE_ESTIMATORS, register_adv_est


def nanstd(x: torch.Tensor, dim: int | None = None, keepdim: bool = False) -> torch.Tensor:
    """Unbiased standard deviation ignoring NaNs (0 where fewer than two values), like TRL's."""
    if dim is None:
        x, dim = x.reshape(-1), 0
    mean = torch.nanmean(x, dim=dim, keepdim=True)
    count = (~torch.isnan(x)).sum(dim=dim, keepdim=True)
    var = torch.nanmean((x - mean) ** 2, dim=dim, keepdim=True) * count / (count - 1).clamp(min=1)
    std = torch.nan_to_num(var.sqrt(), nan=0.0)
    return std if keepdim else std.squeeze(dim)


def _grouped(scores: torch.Tensor, group_size: int) -> torch.Tensor:
    if scores.dim() != 1 or group_size < 1 or scores.numel() % group_size:
        raise ValueError(
            f"scores must be 1-D with a multiple of group_size={group_size} entries, "
            f"got shape {tuple(scores.shape)}"
        )
    return scores.view(-1, group_size)


def group_advantages(
    scores: torch.Tensor, group_size: int, scale: str = "group", eps: float = 1e-4
) -> torch.Tensor:
    """GRPO advantages ``(R - mean_group) / (std + eps)``, ``(B,)`` -> ``(B,)``.

    ``scale``: ``"group"`` (GRPO, Shao et al. 2024), ``"batch"`` (std over the batch, as in
    PPO-Lite / TRL ``scale_rewards="batch"``) or ``"none"`` (Dr. GRPO, Liu et al. 2025: no std,
    which removes the question-difficulty bias).

    >>> import torch
    >>> group_advantages(torch.tensor([1.0, 0.0, 1.0, 1.0]), 4, scale="none")
    tensor([ 0.2500, -0.7500,  0.2500,  0.2500])
    """
    grouped = _grouped(scores, group_size)
    advantages = grouped - torch.nanmean(grouped, dim=1, keepdim=True)  # A = R - mean_g R
    if scale == "group":
        advantages = advantages / (nanstd(grouped, dim=1, keepdim=True) + eps)  # / (std_g + eps)
    elif scale == "batch":
        advantages = advantages / (nanstd(scores) + eps)
    elif scale != "none":
        raise ValueError(f"unknown scale {scale!r}; known: batch, group, none")
    return torch.nan_to_num(advantages.reshape(-1), nan=0.0)


def rloo_advantages(scores: torch.Tensor, group_size: int) -> torch.Tensor:
    """RLOO: ``A_i = R_i - mean_{j != i} R_j`` (= G/(G-1) (R_i - mean)), ``(B,)`` -> ``(B,)``.

    Kool et al. 2019, "Buy 4 REINFORCE samples, get a baseline for free"; Ahmadian et al. 2024.
    NaN scores are left out of the others' baselines.
    """
    grouped = _grouped(scores, group_size)
    valid = ~torch.isnan(grouped)
    n = valid.sum(dim=1, keepdim=True)
    total = torch.nansum(grouped, dim=1, keepdim=True)
    baseline = (total - torch.nan_to_num(grouped, nan=0.0)) / (n - 1).clamp(min=1)
    advantages = torch.where(valid & (n > 1), grouped - baseline, torch.zeros_like(grouped))
    return advantages.reshape(-1)


def returns_to_go(
    token_rewards: torch.Tensor, mask: torch.Tensor, gamma: float = 1.0
) -> torch.Tensor:
    """``G_t = sum_{s >= t} gamma^(s-t) r_s`` over valid tokens, ``(B, T)`` -> ``(B, T)``.

    >>> import torch
    >>> returns_to_go(torch.tensor([[0.0, 1.0, 0.0, 2.0]]), torch.ones(1, 4))
    tensor([[3., 3., 2., 2.]])
    """
    rewards = token_rewards * mask
    if gamma == 1.0:
        return rewards.flip(-1).cumsum(-1).flip(-1) * mask
    returns = torch.zeros_like(rewards)
    running = torch.zeros_like(rewards[:, 0])
    for t in range(rewards.size(1) - 1, -1, -1):
        running = rewards[:, t] + gamma * running
        returns[:, t] = running
    return returns * mask


def whiten(x: torch.Tensor, mask: torch.Tensor, eps: float = 1e-8) -> torch.Tensor:
    """``(x - mean) / (std + eps)`` over the valid tokens of the whole batch, 0 on padding."""
    valid = mask.bool()
    values = x[valid]
    if values.numel() < 2:
        return torch.zeros_like(x)
    return torch.where(valid, (x - values.mean()) / (values.std() + eps), torch.zeros_like(x))


def gae(
    token_rewards: torch.Tensor,
    values: torch.Tensor,
    mask: torch.Tensor,
    gamma: float = 1.0,
    lam: float = 0.95,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Generalised advantage estimation (Schulman et al. 2016), for actor-critic training.

    ``delta_t = r_t + gamma V_{t+1} - V_t``, ``A_t = delta_t + gamma lam A_{t+1}``; the value after
    the last valid token is 0 (the episode ends). ``token_rewards``, ``values``, ``mask``:
    ``(B, T)`` (right-padded). Returns ``(advantages, returns = advantages + values)``, both
    ``(B, T)``, 0 on padding.

    >>> import torch
    >>> rewards, values = torch.tensor([[0.0, 1.0]]), torch.tensor([[0.5, 0.5]])
    >>> adv, ret = gae(rewards, values, torch.ones(1, 2), gamma=1.0, lam=1.0)
    >>> adv, ret
    (tensor([[0.5000, 0.5000]]), tensor([[1., 1.]]))
    """
    mask = mask.to(values.dtype)
    values = values * mask
    advantages = torch.zeros_like(values)
    running = torch.zeros_like(values[:, 0])
    for t in range(values.size(1) - 1, -1, -1):
        if t + 1 < values.size(1):
            next_value, next_valid = values[:, t + 1], mask[:, t + 1]
        else:
            next_value, next_valid = torch.zeros_like(running), torch.zeros_like(running)
        delta = token_rewards[:, t] + gamma * next_value * next_valid - values[:, t]  # TD error
        running = delta + gamma * lam * running * next_valid  # A_t = delta_t + gamma lam A_{t+1}
        advantages[:, t] = running
    advantages = advantages * mask
    return advantages, (advantages + values) * mask


def pad_token_rewards(rows: list[list[float]], length: int, device=None) -> torch.Tensor:
    """Right-pad per-completion token rewards to a ``(B, length)`` float tensor (None counts as 0).

    >>> pad_token_rewards([[0.0, 1.0], [0.5]], 3)
    tensor([[0.0000, 1.0000, 0.0000],
            [0.5000, 0.0000, 0.0000]])
    """
    out = torch.zeros(len(rows), length, device=device)
    for i, row in enumerate(rows):
        if len(row) > length:
            raise ValueError(
                f"token rewards of completion {i} have {len(row)} entries > {length} tokens"
            )
        if row:
            out[i, : len(row)] = torch.tensor(
                [0.0 if v is None else float(v) for v in row], device=device
            )
    return out


def step_end_rewards(
    step_scores: list[list[float | None]], step_ends: list[list[int]], length: int
) -> torch.Tensor:
    """Token rewards ``(B, length)`` with each step's score on the step's last token, 0 elsewhere.

    ``step_ends[i][k]`` is the index of the last token of step ``k`` of completion ``i``; a ``None``
    score (the scorer could not tell) is neutral (0).

    >>> step_end_rewards([[1.0, None, 0.5]], [[1, 3, 4]], 6)
    tensor([[0.0000, 1.0000, 0.0000, 0.0000, 0.5000, 0.0000]])
    """
    out = torch.zeros(len(step_scores), length)
    for i, (scores, ends) in enumerate(zip(step_scores, step_ends, strict=True)):
        if len(scores) != len(ends):
            raise ValueError(f"completion {i}: {len(scores)} step scores for {len(ends)} step ends")
        for score, end in zip(scores, ends, strict=True):
            if not 0 <= end < length:
                raise ValueError(f"completion {i}: step end {end} outside [0, {length})")
            out[i, end] += 0.0 if score is None else float(score)
    return out


def prime_advantages(
    scores: torch.Tensor,
    token_rewards: torch.Tensor,
    mask: torch.Tensor,
    group_size: int,
    gamma: float = 1.0,
    process_coef: float = 1.0,
) -> torch.Tensor:
    """PRIME-style token advantages: outcome RLOO plus leave-one-out-baselined process returns.

    ``A_t = (R_i - mean_{j!=i} R_j) + process_coef * (G^p_{i,t} - mean_{j!=i} G^p_{j,0})`` where
    ``G^p`` are returns-to-go of the process rewards (Cui et al. 2025, "Process Reinforcement
    through Implicit Rewards": RLOO for both reward kinds, summed). The baseline uses only the
    other completions of the group, so it adds no bias. ``(B,)``, ``(B, T)`` -> ``(B, T)``.
    """
    outcome = rloo_advantages(scores, group_size).unsqueeze(1)
    process_returns = returns_to_go(token_rewards, mask, gamma)
    process = process_returns - rloo_baseline(process_returns[:, 0], group_size).unsqueeze(1)
    advantages = (outcome + process_coef * process) * mask
    return torch.where(torch.isnan(scores).unsqueeze(1), torch.zeros_like(advantages), advantages)


def rloo_baseline(values: torch.Tensor, group_size: int) -> torch.Tensor:
    """``mean_{j != i} v_j`` within each group, ``(B,)`` -> ``(B,)`` (0 for a group of one)."""
    grouped = _grouped(values, group_size)
    if group_size < 2:
        return torch.zeros_like(values)
    return ((grouped.sum(1, keepdim=True) - grouped) / (group_size - 1)).reshape(-1)


def _sequence_scores(scores: torch.Tensor, token_rewards: torch.Tensor | None, mask: torch.Tensor):
    if token_rewards is None:
        return scores
    return scores + (token_rewards * mask).sum(-1)  # token rewards summed per sequence


def _broadcast(advantages: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    return advantages.unsqueeze(1) * mask


@register_adv_est("grpo")
def _grpo(scores, token_rewards, mask, group_size, *, gamma=1.0, eps=1e-4):
    """GRPO: group mean/std of the sequence score (token rewards summed), broadcast to tokens."""
    return _broadcast(
        group_advantages(_sequence_scores(scores, token_rewards, mask), group_size, "group", eps),
        mask,
    )


@register_adv_est("grpo_batch_std")
def _grpo_batch(scores, token_rewards, mask, group_size, *, gamma=1.0, eps=1e-4):
    """Group mean, batch std (TRL ``scale_rewards="batch"``)."""
    return _broadcast(
        group_advantages(_sequence_scores(scores, token_rewards, mask), group_size, "batch", eps),
        mask,
    )


@register_adv_est("dr_grpo")
def _dr_grpo(scores, token_rewards, mask, group_size, *, gamma=1.0, eps=1e-4):
    """Dr. GRPO: group mean baseline, no std scaling (pair it with the length-unbiased
    ``seq-mean-token-sum-norm`` aggregation, as TRL's ``loss_type="dr_grpo"`` does)."""
    return _broadcast(
        group_advantages(_sequence_scores(scores, token_rewards, mask), group_size, "none", eps),
        mask,
    )


@register_adv_est("rloo")
def _rloo(scores, token_rewards, mask, group_size, *, gamma=1.0, eps=1e-4):
    """RLOO leave-one-out baseline of the sequence score, broadcast to tokens."""
    return _broadcast(
        rloo_advantages(_sequence_scores(scores, token_rewards, mask), group_size), mask
    )


@register_adv_est("reinforce_pp", "reinforce++")
def _reinforce_pp(scores, token_rewards, mask, group_size, *, gamma=1.0, eps=1e-4):
    """REINFORCE++ (Hu 2025): returns-to-go of token rewards (outcome on the last token), whitened
    over the batch's tokens; no critic, no group baseline."""
    unscorable = torch.isnan(scores).unsqueeze(1)
    rewards = torch.nan_to_num(scores, nan=0.0).unsqueeze(1) * last_token_onehot(mask)
    if token_rewards is not None:
        rewards = rewards + token_rewards
    advantages = whiten(returns_to_go(rewards, mask * ~unscorable, gamma), mask * ~unscorable, eps)
    return advantages


@register_adv_est("reinforce_pp_baseline", "reinforce++_baseline")
def _reinforce_pp_baseline(scores, token_rewards, mask, group_size, *, gamma=1.0, eps=1e-4):
    """REINFORCE++-baseline: sequence score minus its group mean, then whitened over the batch."""
    centred = group_advantages(
        _sequence_scores(scores, token_rewards, mask), group_size, "none", eps
    )
    valid = mask * ~torch.isnan(scores).unsqueeze(1)
    return whiten(_broadcast(centred, mask), valid, eps)


@register_adv_est("prime")
def _prime(scores, token_rewards, mask, group_size, *, gamma=1.0, eps=1e-4):
    """PRIME-style combination of outcome and process rewards (see :func:`prime_advantages`)."""
    if token_rewards is None:
        token_rewards = torch.zeros_like(mask, dtype=torch.float32)
    return prime_advantages(scores, token_rewards, mask, group_size, gamma)


def compute_advantages(
    estimator: str,
    scores: torch.Tensor,
    mask: torch.Tensor,
    group_size: int,
    token_rewards: torch.Tensor | None = None,
    gamma: float = 1.0,
    eps: float = 1e-4,
) -> torch.Tensor:
    """Token-level advantages ``(B, T)`` with the named estimator.

    ``estimator``: one of :func:`advantage_estimator_names`.

    >>> import torch
    >>> compute_advantages("dr_grpo", torch.tensor([1.0, 0.0]), torch.ones(2, 2), group_size=2)
    tensor([[ 0.5000,  0.5000],
            [-0.5000, -0.5000]])
    """
    fn = ADVANTAGE_ESTIMATORS.get(estimator)
    mask = mask.to(scores.dtype if scores.is_floating_point() else torch.float32)
    return fn(scores, token_rewards, mask, group_size, gamma=gamma, eps=eps)


def advantage_estimator_names() -> list[str]:
    """Names accepted by :func:`compute_advantages` (``"gae"`` needs a critic: see :func:`gae`)."""
    return ADVANTAGE_ESTIMATORS.names()
