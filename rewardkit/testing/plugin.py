"""pytest fixtures for testing reward functions.

Enable them in your top-level ``conftest.py`` (opt-in, so nothing changes for test
suites that do not ask for them)::

    pytest_plugins = ["rewardkit.testing.plugin"]

and use them in tests::

    def test_my_reward_keeps_the_contract(reward_contract):
        reward_contract(my_reward)                     # fails with every broken check

    def test_my_reward_is_not_hackable(reward_audit):
        reward_audit(my_reward, threshold=0.1)         # fails naming each paid probe

    CASES = reward_cases([(r"\\boxed{4}", 1.0)], columns={"solution": "4"})

    @pytest.mark.parametrize("case", CASES)
    def test_cases(case, reward_case):
        reward_case(my_reward, case)

>>> callable(reward_contract)
True
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from rewardkit.testing.audit import AuditReport, audit_reward
from rewardkit.testing.cases import RewardCase, check_case
from rewardkit.testing.contract import ContractReport, assert_reward_contract


@pytest.fixture
def reward_contract() -> Callable[..., ContractReport]:
    """``reward_contract(reward, **options)``: assert the reward contract, return the report."""
    return assert_reward_contract


@pytest.fixture
def reward_case() -> Callable[[Callable[..., Any], RewardCase], Any]:
    """``reward_case(reward, case)``: assert a :class:`RewardCase`, return the value given."""
    return check_case


@pytest.fixture
def reward_audit() -> Callable[..., AuditReport]:
    """``reward_audit(reward, **options)``: run the hacking audit and fail with its table
    when the reward pays a probe or does not tell right from wrong."""

    def run(reward: Callable[..., Any], **options: Any) -> AuditReport:
        report = audit_reward(reward, **options)
        if not report.passed:
            pytest.fail(report.table(), pytrace=False)
        return report

    return run
