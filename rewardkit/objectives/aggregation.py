r"""How per-token losses become one scalar: the four aggregation modes (verl's names).

``loss`` and ``mask``: ``(B, T)``. The choice decides how long and short completions weigh:

- ``token-mean``: ``sum L / sum mask`` - every token weighs the same (DAPO, Yu et al. 2025;
  TRL's default ``loss_type="dapo"``).
- ``seq-mean-token-mean``: mean over sequences of each sequence's token mean (the original GRPO,
  Shao et al. 2024; TRL ``loss_type="grpo"``) - long completions' tokens weigh less.
- ``seq-mean-token-sum``: mean over sequences of each sequence's token sum.
- ``seq-mean-token-sum-norm``: ``sum L / (B * max_len)`` with a constant ``max_len`` (Dr. GRPO,
  Liu et al. 2025; TRL ``loss_type="dr_grpo"``) - no length bias.

``normalizer`` replaces the denominator of ``token-mean`` (a trainer passes the token count of the
whole accumulated batch there, as TRL does).

>>> import torch
>>> loss = torch.tensor([[1.0, 1.0, 1.0], [4.0, 0.0, 0.0]])
>>> mask = torch.tensor([[1, 1, 1], [1, 0, 0]])
>>> [round(aggregate_loss(loss, mask, m).item(), 4) for m in loss_aggregation_names()]
[2.5, 3.5, 1.1667, 1.75]
>>> loss_aggregation_names()
['seq-mean-token-mean', 'seq-mean-token-sum', 'seq-mean-token-sum-norm', 'token-mean']
"""

from __future__ import annotations

import torch

from rewardkit.objectives.registry import LOSS_AGGREGATIONS, register_loss_agg


@register_loss_agg("token-mean")
def token_mean(
    loss: torch.Tensor, mask: torch.Tensor, normalizer=None, max_len=None
) -> torch.Tensor:
    """``sum_{i,t} L m / N`` with ``N = sum m`` unless ``normalizer`` is given."""
    denominator = mask.sum().clamp(min=1.0) if normalizer is None else normalizer
    return (loss * mask).sum() / denominator


@register_loss_agg("seq-mean-token-mean")
def seq_mean_token_mean(
    loss: torch.Tensor, mask: torch.Tensor, normalizer=None, max_len=None
) -> torch.Tensor:
    """``mean_i (sum_t L m / sum_t m)``."""
    return ((loss * mask).sum(-1) / mask.sum(-1).clamp(min=1.0)).mean()


@register_loss_agg("seq-mean-token-sum")
def seq_mean_token_sum(
    loss: torch.Tensor, mask: torch.Tensor, normalizer=None, max_len=None
) -> torch.Tensor:
    """``mean_i sum_t L m``."""
    return (loss * mask).sum(-1).mean()


@register_loss_agg("seq-mean-token-sum-norm")
def seq_mean_token_sum_norm(
    loss: torch.Tensor, mask: torch.Tensor, normalizer=None, max_len=None
) -> torch.Tensor:
    """``sum_{i,t} L m / (B * max_len)``, ``max_len`` defaulting to ``T``."""
    return (loss * mask).sum() / (loss.size(0) * (loss.size(-1) if max_len is None else max_len))


def aggregate_loss(
    loss: torch.Tensor,
    mask: torch.Tensor,
    mode: str = "token-mean",
    normalizer: torch.Tensor | float | None = None,
    max_len: int | None = None,
) -> torch.Tensor:
    """Scalar loss from a per-token ``loss`` ``(B, T)`` (``(B, 1)`` broadcasts) and ``mask``."""
    fn = LOSS_AGGREGATIONS.get(mode)
    mask = mask.to(loss.dtype)
    return fn(loss.expand_as(mask) if loss.shape != mask.shape else loss, mask, normalizer, max_len)


def loss_aggregation_names() -> list[str]:
    """Names accepted by :func:`aggregate_loss`."""
    return LOSS_AGGREGATIONS.names()
