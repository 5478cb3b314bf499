"""TRL integration: trainer helpers and the tiny local model used by tests and demos."""

from rewardkit.trl.tiny import build_tiny_model

__all__ = ["build_tiny_model"]
