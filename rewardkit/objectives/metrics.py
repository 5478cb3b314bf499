r"""Evaluation and training metrics: unbiased pass@k, entropy from logits.

>>> round(pass_at_k(10, 3, 5), 4)
0.9167
"""

from __future__ import annotations

import math

import torch


def pass_at_k(n: int, c: int, k: int) -> float:
    """Unbiased pass@k from ``n`` samples of which ``c`` are correct (Chen et al. 2021, Codex).

    ``pass@k = 1 - C(n - c, k) / C(n, k)``, computed as a product to stay stable for large n.

    >>> round(pass_at_k(10, 3, 1), 4)
    0.3
    """
    if not 0 <= c <= n or not 1 <= k <= n:
        raise ValueError(f"need 0 <= c <= n and 1 <= k <= n, got n={n}, c={c}, k={k}")
    if n - c < k:
        return 1.0
    # C(n-c, k) / C(n, k) = prod_{i=n-c+1}^{n} (1 - k / i)
    return 1.0 - math.prod(1.0 - k / i for i in range(n - c + 1, n + 1))


def pass_at_k_batch(n: torch.Tensor, c: torch.Tensor, k: int) -> torch.Tensor:
    """Vectorised :func:`pass_at_k` over problems: ``n``, ``c`` ``(P,)`` integers -> ``(P,)``.

    >>> import torch
    >>> pass_at_k_batch(torch.tensor([10, 10, 4]), torch.tensor([3, 0, 4]), 1)
    tensor([0.3000, 0.0000, 1.0000], dtype=torch.float64)
    """
    n, c = n.to(torch.float64), c.to(torch.float64)
    if (c > n).any() or (c < 0).any() or (n < k).any():
        raise ValueError("need 0 <= c <= n and n >= k for every problem")
    # log C(n-c, k) - log C(n, k) with lgamma; rows with n - c < k pass for sure
    log_ratio = (
        torch.lgamma(n - c + 1)
        - torch.lgamma(n - c - k + 1).nan_to_num(posinf=0.0)
        - torch.lgamma(n + 1)
        + torch.lgamma(n - k + 1)
    )
    estimate = torch.where(n - c < k, torch.ones_like(n), 1.0 - torch.exp(log_ratio))
    return torch.where(c == 0, torch.zeros_like(n), estimate)


def entropy_from_logits(logits: torch.Tensor) -> torch.Tensor:
    """Entropy ``H = logsumexp(z) - sum softmax(z) z`` of distributions, ``(..., V)`` -> ``(...)``.

    >>> import torch
    >>> round(entropy_from_logits(torch.zeros(4)).item(), 4) == round(math.log(4), 4)
    True
    """
    logits = logits.to(torch.promote_types(logits.dtype, torch.float32))
    return torch.logsumexp(logits, dim=-1) - (torch.softmax(logits, dim=-1) * logits).sum(-1)
