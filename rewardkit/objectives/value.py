r"""A small critic for actor-critic training: a value head on hidden states, and its clipped loss.

>>> import torch
>>> head = ValueHead(hidden_size=8)
>>> head(torch.zeros(2, 5, 8)).shape
torch.Size([2, 5])
"""

from __future__ import annotations

import torch
from torch import nn


class ValueHead(nn.Module):
    """``V(s_t)`` from the policy's last hidden states ``(B, T, H)`` -> ``(B, T)``.

    A linear layer, or a one-hidden-layer MLP when ``inner_size > 0``. The output layer starts at
    zero so the first advantages are the plain returns.
    """

    def __init__(self, hidden_size: int, inner_size: int = 0) -> None:
        super().__init__()
        if inner_size > 0:
            self.body: nn.Module = nn.Sequential(nn.Linear(hidden_size, inner_size), nn.Tanh())
            out_features = inner_size
        else:
            self.body, out_features = nn.Identity(), hidden_size
        self.out = nn.Linear(out_features, 1)
        nn.init.zeros_(self.out.weight)
        nn.init.zeros_(self.out.bias)

    def forward(self, hidden_states: torch.Tensor) -> torch.Tensor:
        return self.out(self.body(hidden_states.to(self.out.weight.dtype))).squeeze(-1)


def clipped_value_loss(
    values: torch.Tensor,
    old_values: torch.Tensor,
    returns: torch.Tensor,
    mask: torch.Tensor,
    clip: float | None = 0.2,
) -> torch.Tensor:
    """PPO's clipped value loss, a token mean of
    ``0.5 max((V - R)^2, (V_old + clip(V - V_old, -c, c) - R)^2)``.

    All inputs ``(B, T)``; returns a scalar. ``clip=None`` gives the plain squared error.
    (Schulman et al. 2017, PPO; the clipped form follows OpenAI baselines.)

    >>> import torch
    >>> m = torch.ones(1, 1)
    >>> values, returns = torch.tensor([[2.0]]), torch.tensor([[2.0]])
    >>> clipped_value_loss(values, torch.zeros(1, 1), returns, m, clip=0.5)
    tensor(1.1250)
    """
    mask = mask.to(values.dtype)
    unclipped = (values - returns) ** 2
    if clip is None:
        per_token = unclipped
    else:
        clipped_values = old_values + torch.clamp(values - old_values, -clip, clip)
        per_token = torch.maximum(unclipped, (clipped_values - returns) ** 2)
    return 0.5 * (per_token * mask).sum() / mask.sum().clamp(min=1.0)
