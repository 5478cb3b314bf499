"""The critic pieces: value head and PPO's clipped value loss."""

from __future__ import annotations

import pytest
import torch

from rewardkit.objectives import ValueHead, clipped_value_loss


def test_value_head_starts_at_zero_and_fits_returns():
    torch.manual_seed(0)
    head = ValueHead(hidden_size=8, inner_size=16)
    hidden = torch.randn(4, 5, 8)
    assert torch.equal(head(hidden), torch.zeros(4, 5))
    target = hidden[..., 0] * 2 - 1
    optimizer = torch.optim.Adam(head.parameters(), lr=1e-2)
    mask = torch.ones(4, 5)
    first = None
    for _ in range(300):
        loss = clipped_value_loss(head(hidden), torch.zeros(4, 5), target, mask, clip=None)
        first = first if first is not None else loss.item()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    assert loss.item() < 0.05 * first
    assert head(hidden.to(torch.bfloat16)).dtype == torch.float32


def test_clipped_value_loss_stops_the_gradient_of_values_moved_too_far():
    old = torch.zeros(1, 3)
    returns = torch.tensor([[2.0, 2.0, -2.0]])
    values = torch.tensor([[1.0, 0.1, 3.0]], requires_grad=True)
    mask = torch.tensor([[1.0, 1.0, 0.0]])  # the third token is padding
    loss = clipped_value_loss(values, old, returns, mask, clip=0.5)
    # token 0: unclipped (1-2)^2 = 1, clipped (0.5-2)^2 = 2.25 -> the clipped branch, no gradient
    # token 1: inside the clip range: both branches equal (0.1-2)^2 = 3.61
    assert loss.item() == pytest.approx(0.5 * (2.25 + 3.61) / 2)
    loss.backward()
    assert values.grad[0, 0] == 0 and values.grad[0, 1] < 0 and values.grad[0, 2] == 0
    plain = clipped_value_loss(values.detach(), old, returns, mask, clip=None)
    assert plain.item() == pytest.approx(0.5 * (1.0 + 3.61) / 2)
    assert clipped_value_loss(values, old, returns, torch.zeros(1, 3)).item() == 0.0
