"""TRL integration: trainer helpers and the tiny local model used by tests and demos."""

from rewardkit.trl.tiny import build_tiny_model
from rewardkit.trl.trainer import ObjectiveGRPOConfig, ObjectiveGRPOTrainer

__all__ = ["ObjectiveGRPOConfig", "ObjectiveGRPOTrainer", "build_tiny_model"]
