"""The opt-in pytest plugin: its fixtures pass good rewards and fail broken ones."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

REPO = Path(__file__).parents[2]


def test_plugin_fixtures_in_a_user_test_suite(tmp_path):
    (tmp_path / "conftest.py").write_text('pytest_plugins = ["rewardkit.testing.plugin"]\n')
    (tmp_path / "test_user.py").write_text(
        textwrap.dedent(
            r"""
            import pytest
            from rewardkit.rewards import BoxedAccuracy
            from rewardkit.testing import reward_cases

            def chat_only(completions, solution, **kwargs):
                return [float(c[0]["content"] == "x") for c in completions]

            def test_contract_ok(reward_contract):
                assert reward_contract(BoxedAccuracy()).passed

            def test_contract_broken(reward_contract):
                reward_contract(chat_only)

            def test_audit_ok(reward_audit):
                reward_audit(BoxedAccuracy(), problems=[])  # ValueError: no problems

            def test_audit_clean(reward_audit):
                assert reward_audit(BoxedAccuracy()).passed

            def last_box(completions, solution, **kwargs):
                return [float(c.rstrip(".").endswith("{%s}" % g))
                        for c, g in zip(completions, solution)]

            def test_audit_hackable(reward_audit):
                reward_audit(last_box)

            CASES = reward_cases([(r"\boxed{4}", 1.0), (r"\boxed{5}", 1.0)],
                                 columns={"solution": "4"})

            @pytest.mark.parametrize("case", CASES)
            def test_cases(case, reward_case):
                reward_case(BoxedAccuracy(), case)
            """
        )
    )
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(tmp_path)],
        check=False,
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
        timeout=300,
    )
    out = done.stdout
    assert "4 failed, 3 passed" in out, out
    assert "FAIL plain_strings" in out  # the contract's report is the failure message
    assert "FAILED: paid for several_boxed" in out  # the audit's table is the failure message
    assert "test_cases[boxed_5-1.0]" in out  # the failing case, by its id
    assert "test_audit_ok - ValueError" in out


def test_the_plugin_is_opt_in():
    pyproject = (REPO / "pyproject.toml").read_text()
    assert "pytest11" not in pyproject  # never loaded into other test runs uninvited
