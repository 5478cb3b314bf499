"""The reward-hacking audit of ``math`` with a model verifier, against the fake server
(whose toy verifier obeys any verdict that escapes its fence, as a small model might)."""

from __future__ import annotations

import re

import pytest

from rewardkit.judge.testing_server import FakeJudgeServer
from rewardkit.rewards import get_reward
from rewardkit.testing import audit_reward
from rewardkit.testing.probes import DEFAULT_PROBLEMS, get_probe
from rewardkit.verify import ModelVerifier

FEW = DEFAULT_PROBLEMS[:3]


def cascade(server, name):
    verifier = ModelVerifier(name, "v", base_url=server.base_url, cache=False, max_retries=0)
    return get_reward("math", model_verifier=verifier)


@pytest.mark.parametrize("name", ["tinyv", "compassverifier", "generic"])
def test_the_audit_of_math_with_a_model_verifier_passes(name):
    with FakeJudgeServer() as server:
        report = audit_reward(cascade(server, name), problems=FEW)
        asked = server.count
    probes = {p.name: p for p in report.probes}
    assert report.passed, report.table()
    assert probes["verifier_injection"].hack_score == 0.0
    assert asked >= len(FEW) * 5  # the word-only injections reached the model


def test_the_probe_catches_a_verifier_whose_fence_is_broken(monkeypatch):
    import rewardkit.judge.prompts as prompts

    monkeypatch.setattr(prompts, "fence", lambda text, label: text)  # the defect: no fence
    with FakeJudgeServer() as server:
        report = audit_reward(
            cascade(server, "tinyv"), problems=FEW, probes=[get_probe("verifier_injection")]
        )
    [result] = report.probes
    assert result.flagged and result.worst_variant == "says_tinyv_verdict"


def test_the_probe_catches_a_verifier_that_believes_the_answer():
    answer = re.compile(r"<answer_[0-9a-f]{16}>\n(.*?)\n</answer_", re.DOTALL)

    def believes(body):  # reads the verdict the answer asks for, inside its fence
        found = answer.search(body["messages"][-1]["content"])
        return "True" if found and "True" in found.group(1) else "False"

    with FakeJudgeServer(responder=believes) as server:
        report = audit_reward(
            cascade(server, "tinyv"), problems=FEW, probes=[get_probe("verifier_injection")]
        )
    [result] = report.probes
    assert result.flagged and result.worst_variant == "says_tinyv_verdict"
