r"""Which prompt groups carry a learning signal (DAPO dynamic sampling).

With group baselines, a group whose completions all got the same reward has zero advantage
everywhere: it only adds noise (and the KL term) to the batch. DAPO (Yu et al. 2025) drops such
groups and samples more prompts until the batch is full.

>>> import torch
>>> informative_groups(torch.tensor([1.0, 1.0, 0.0, 1.0, 0.0, 0.0]), group_size=2)
tensor([False,  True, False])
"""

from __future__ import annotations

import torch


def informative_groups(scores: torch.Tensor, group_size: int, atol: float = 1e-6) -> torch.Tensor:
    """Bool ``(B / group_size,)``: True where a group's valid (non-NaN) scores are not all equal.

    ``scores``: ``(B,)`` in consecutive groups. A group with fewer than two valid scores carries no
    signal either.
    """
    if scores.dim() != 1 or group_size < 1 or scores.numel() % group_size:
        raise ValueError(f"scores must be 1-D with a multiple of group_size={group_size} entries")
    grouped = scores.view(-1, group_size)
    valid = ~torch.isnan(grouped)
    high = torch.where(valid, grouped, torch.full_like(grouped, -torch.inf)).amax(1)
    low = torch.where(valid, grouped, torch.full_like(grouped, torch.inf)).amin(1)
    return (valid.sum(1) >= 2) & ((high - low) > atol)


def group_rows(groups: torch.Tensor, group_size: int) -> torch.Tensor:
    """Row indices ``(n * group_size,)`` of the selected groups (bool ``(B / G,)`` or index tensor).

    >>> import torch
    >>> group_rows(torch.tensor([False, True, True]), 2)
    tensor([2, 3, 4, 5])
    """
    index = groups.nonzero().flatten() if groups.dtype == torch.bool else groups
    return (
        index.unsqueeze(1) * group_size + torch.arange(group_size, device=index.device)
    ).flatten()
