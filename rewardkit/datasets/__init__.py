"""Datasets for recipes and tests: seeded synthetic math problems with worked solutions."""

from rewardkit.datasets.synthetic import LEVELS, generate_problems, train_eval_split

__all__ = ["LEVELS", "generate_problems", "train_eval_split"]
