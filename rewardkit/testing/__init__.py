r"""Tools for testing reward functions: the contract check, table-driven cases, the
reward-hacking probes and the audit that runs them.

>>> from rewardkit.rewards import BoxedAccuracy
>>> assert_reward_contract(BoxedAccuracy()).passed
True
>>> audit_reward(BoxedAccuracy(), problems=DEFAULT_PROBLEMS[:1]).passed
True

For pytest fixtures, add ``pytest_plugins = ["rewardkit.testing.plugin"]`` to your
top-level ``conftest.py``.
"""

from rewardkit.testing.audit import AuditReport, ProbeResult, audit_reward, comparison_table
from rewardkit.testing.cases import RewardCase, check_case, reward_cases, run_case
from rewardkit.testing.contract import (
    CHECKS,
    CheckResult,
    ContractReport,
    assert_reward_contract,
    check_reward_contract,
)
from rewardkit.testing.probes import (
    DEFAULT_PROBLEMS,
    PROBES,
    MathProblem,
    Probe,
    get_probe,
    honest_correct,
    honest_wrong,
    probe_names,
)

__all__ = [
    "CHECKS",
    "DEFAULT_PROBLEMS",
    "PROBES",
    "AuditReport",
    "CheckResult",
    "ContractReport",
    "MathProblem",
    "Probe",
    "ProbeResult",
    "RewardCase",
    "assert_reward_contract",
    "audit_reward",
    "check_case",
    "check_reward_contract",
    "comparison_table",
    "get_probe",
    "honest_correct",
    "honest_wrong",
    "probe_names",
    "reward_cases",
    "run_case",
]
