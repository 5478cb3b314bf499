"""Which device a trainer config can use: TRL's configs default to ``bf16=True``, which
fails on a machine without a GPU (``Your setup doesn't support bf16/gpu``).

>>> on_cpu = not has_accelerator()
>>> device_settings() == ({"use_cpu": True, "bf16": False} if on_cpu else {})
True
"""

from __future__ import annotations

import logging

__all__ = ["device_settings", "has_accelerator"]

logger = logging.getLogger(__name__)

CPU_SETTINGS = {"use_cpu": True, "bf16": False}


def has_accelerator() -> bool:
    """Whether torch sees a GPU (CUDA or ROCm), an XPU or Apple's MPS."""
    import torch

    xpu = getattr(torch, "xpu", None)
    return bool(
        torch.cuda.is_available()
        or (xpu is not None and xpu.is_available())
        or torch.backends.mps.is_available()
    )


def device_settings() -> dict[str, bool]:
    """The config fields a machine without a GPU needs (``use_cpu=True, bf16=False``), or
    nothing where there is one: ``GRPOConfig(..., **device_settings())``."""
    return {} if has_accelerator() else dict(CPU_SETTINGS)
