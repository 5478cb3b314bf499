"""KL-regularised policy objectives in plain torch: KL estimators, advantages, losses, metrics.

Each family is a registry by name (``KL_ESTIMATORS``, ``ADVANTAGE_ESTIMATORS``, ``POLICY_LOSSES``,
``LOSS_AGGREGATIONS``), so a trainer config can choose them with strings;
:class:`rewardkit.trl.ObjectiveGRPOTrainer` does.

>>> import torch
>>> from rewardkit.objectives import compute_advantages, kl_penalty, pass_at_k
>>> kl_penalty(torch.tensor([-1.0]), torch.tensor([-1.0]), "k3")
tensor([0.])
>>> round(pass_at_k(10, 3, 1), 4)
0.3
"""

from rewardkit.objectives.advantages import (
    advantage_estimator_names,
    compute_advantages,
    gae,
    group_advantages,
    pad_token_rewards,
    prime_advantages,
    returns_to_go,
    rloo_advantages,
    step_end_rewards,
    whiten,
)
from rewardkit.objectives.aggregation import aggregate_loss, loss_aggregation_names
from rewardkit.objectives.groups import informative_groups
from rewardkit.objectives.kl import kl_estimator_names, kl_in_reward, kl_penalty
from rewardkit.objectives.losses import (
    ClipConfig,
    PolicyLossOutput,
    policy_loss,
    policy_loss_names,
    rollout_importance_weights,
)
from rewardkit.objectives.metrics import entropy_from_logits, pass_at_k, pass_at_k_batch
from rewardkit.objectives.registry import (
    ADVANTAGE_ESTIMATORS,
    KL_ESTIMATORS,
    LOSS_AGGREGATIONS,
    POLICY_LOSSES,
    Registry,
    register_adv_est,
    register_kl_estimator,
    register_loss_agg,
    register_policy_loss,
)
from rewardkit.objectives.value import ValueHead, clipped_value_loss

__all__ = [
    "ADVANTAGE_ESTIMATORS",
    "KL_ESTIMATORS",
    "LOSS_AGGREGATIONS",
    "POLICY_LOSSES",
    "ClipConfig",
    "PolicyLossOutput",
    "Registry",
    "ValueHead",
    "advantage_estimator_names",
    "aggregate_loss",
    "clipped_value_loss",
    "compute_advantages",
    "entropy_from_logits",
    "gae",
    "group_advantages",
    "informative_groups",
    "kl_estimator_names",
    "kl_in_reward",
    "kl_penalty",
    "loss_aggregation_names",
    "pad_token_rewards",
    "pass_at_k",
    "pass_at_k_batch",
    "policy_loss",
    "policy_loss_names",
    "prime_advantages",
    "register_adv_est",
    "register_kl_estimator",
    "register_loss_agg",
    "register_policy_loss",
    "returns_to_go",
    "rloo_advantages",
    "rollout_importance_weights",
    "step_end_rewards",
    "whiten",
]
