"""TRL integration: the objective-choosing GRPO trainer, and the tiny local model for tests.

The trainer classes load on first use (they import TRL), so ``build_tiny_model`` stays light.
"""

from rewardkit.trl.device import device_settings, has_accelerator
from rewardkit.trl.tiny import build_tiny_model

__all__ = [
    "ObjectiveGRPOConfig",
    "ObjectiveGRPOTrainer",
    "build_tiny_model",
    "device_settings",
    "has_accelerator",
]


def __getattr__(name: str):
    if name in ("ObjectiveGRPOConfig", "ObjectiveGRPOTrainer"):
        from rewardkit.trl import trainer

        return getattr(trainer, name)
    raise AttributeError(f"module 'rewardkit.trl' has no attribute {name!r}")
