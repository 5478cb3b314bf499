"""The cascade: the rules decide, only ``wrong_answer`` goes to the model, faults keep the
rules' verdict with a reason; end to end against the fake server in every format."""

from __future__ import annotations

import asyncio
import logging
import pickle
import time

import pytest

from rewardkit.judge.testing_server import FakeJudgeServer
from rewardkit.rewards import BoxedAccuracy, get_reward
from rewardkit.verify import ModelVerifier, verify, verify_batch
from rewardkit.verify.verifier_formats import FORMATS


@pytest.fixture
def server():
    with FakeJudgeServer() as running:
        yield running


def verifier(server, name="tinyv", **options) -> ModelVerifier:
    settings = {"cache": False, "max_retries": 0, "timeout": 5}
    return ModelVerifier(name, "verifier", base_url=server.base_url, **{**settings, **options})


# one completion per rules' outcome, and whether the model may see it
ROUTES = [
    (r"\boxed{12}", "12", "ok", False),
    (r"\boxed{12 apples}", "12", "wrong_answer", True),
    ("no box at all", "12", "no_answer", False),
    (r"\boxed{}", "12", "no_answer", False),
    (r"\boxed{12} or \boxed{13}", "12", "multiple_answers", False),
    ("<think>12", "12", "unclosed_think", False),
    (r"\boxed{(}", "12", "parse_error", False),
    (r"\boxed{" + "1+" * 3000 + "1}", "12", "too_long", False),
    ("", "12", "empty_completion", False),
]


def test_only_a_wrong_answer_goes_to_the_model(server):
    pairs = [(c, g) for c, g, _, _ in ROUTES]
    rules = verify_batch(pairs, units="match", boxed_only=True)
    assert [v.reason for v in rules] == [r for _, _, r, _ in ROUTES]
    cascade = verify_batch(pairs, units="match", boxed_only=True, model_verifier=verifier(server))
    asked = [r for (_, _, r, sent) in ROUTES if sent]
    assert server.count == len(asked) == 1
    assert cascade[1].reason == "ok_by_model" and cascade[1].correct
    for before, after, (_, _, _, sent) in zip(rules, cascade, ROUTES, strict=True):
        if not sent:
            assert after == before  # untouched, reason and all


def test_a_timeout_never_goes_to_the_model(server, monkeypatch):
    from rewardkit.verify import api

    monkeypatch.setattr(api, "_check", lambda *a, **k: api.Outcome(False, "timeout"))
    verdict = verify(r"\boxed{x}", "y", model_verifier=verifier(server))
    assert verdict.reason == "timeout" and server.count == 0


@pytest.mark.parametrize("name", sorted(FORMATS))
def test_every_format_end_to_end_with_the_question(server, name):
    mv = verifier(server, name)
    pairs = [(r"\boxed{12 apples}", "12"), (r"\boxed{13 apples}", "12")]
    questions = ["How many apples?", "How many pears?"]
    if name == "compassverifier":
        pairs.append((r"\boxed{\text{I cannot answer}}", "12"))
        questions.append("Why?")
    verdicts = verify_batch(pairs, units="match", questions=questions, model_verifier=mv)
    expected = ["ok_by_model", "wrong_by_model", "invalid_by_model"][: len(pairs)]
    assert [v.reason for v in verdicts] == expected
    assert [v.correct for v in verdicts] == [True, False, False][: len(pairs)]
    sent = [m["content"] for body in server.requests for m in body["messages"]]
    assert any("How many apples?" in text for text in sent)
    assert all(body["max_tokens"] == FORMATS[name].max_tokens for body in server.requests)
    spent = mv.spent()
    assert spent["forwarded"] == len(pairs) and spent["overturned"] == 1
    assert spent["prompt_tokens"] > 0 and spent["latency_s"] > 0


@pytest.mark.parametrize("fault", ["server_error", "malformed", "drop", "rate_limit"])
def test_a_failing_backend_keeps_the_rules_verdict_and_says_so(fault, caplog):
    with FakeJudgeServer(faults=lambda i, body: fault, retry_after=0) as server:
        mv = verifier(server)
        with caplog.at_level(logging.WARNING):
            verdict = verify(r"\boxed{12 apples}", "12", units="match", model_verifier=mv)
    assert verdict.reason == "model_unavailable" and verdict.correct is False
    assert verdict.answer == "12 apples"
    assert "rules' verdict stands" in caplog.text
    assert mv.spent()["unavailable"] == 1


def test_a_slow_backend_times_out_into_model_unavailable():
    with FakeJudgeServer(faults=["slow"], slow_seconds=3) as server:
        mv = verifier(server, timeout=0.3)
        start = time.monotonic()
        verdict = verify(r"\boxed{12 apples}", "12", units="match", model_verifier=mv)
    assert verdict.reason == "model_unavailable"
    assert time.monotonic() - start < 2.5


def test_no_server_at_all_is_model_unavailable():
    mv = ModelVerifier("tinyv", "m", base_url="http://127.0.0.1:9/v1", cache=False, max_retries=0)
    assert verify(r"\boxed{5 cm}", "5", units="match", model_verifier=mv).reason == (
        "model_unavailable"
    )


@pytest.mark.parametrize(
    "reply", ["", "I am not sure.", "<think>let me think about True", "Tru", "x" * 100_000]
)
def test_an_unreadable_reply_is_a_reason_never_a_crash_or_a_silent_verdict(reply):
    with FakeJudgeServer(responder=lambda body: reply) as server:
        verdict = verify(r"\boxed{12 apples}", "12", units="match", model_verifier=verifier(server))
    assert verdict.reason == "model_unparseable" and verdict.correct is False


def test_verdicts_are_cached_in_the_judge_sqlite_cache(server, tmp_path):
    cache = tmp_path / "judge.sqlite"
    pairs = [(rf"\boxed{{{n} apples}}", str(n)) for n in range(5)]
    first = verify_batch(pairs, units="match", model_verifier=verifier(server, cache=cache))
    assert server.count == 5
    again = verifier(server, cache=cache)  # a new process would build a new one
    second = verify_batch(pairs, units="match", model_verifier=again)
    assert server.count == 5 and second == first
    assert again.spent()["cache_hits"] == 5


def test_one_batch_runs_concurrently_under_the_backend_limit():
    with FakeJudgeServer(latency=0.2) as server:
        mv = verifier(server, max_concurrency=8)
        pairs = [(rf"\boxed{{{n} cm}}", str(n)) for n in range(32)]
        start = time.monotonic()
        verdicts = verify_batch(pairs, units="match", model_verifier=mv)
        elapsed = time.monotonic() - start
    assert all(v.reason == "ok_by_model" for v in verdicts)
    assert server.max_in_flight == 8
    assert elapsed < 32 * 0.2 / 2  # 4 waves of 0.2 s, far from 32 one after another


def test_boxed_accuracy_with_a_model_verifier_is_awaited_and_logs_its_work(server):
    reward = BoxedAccuracy(model_verifier=verifier(server), units="match")
    assert isinstance(reward, BoxedAccuracy)
    assert asyncio.iscoroutinefunction(type(reward).__call__)
    logged: dict[str, float] = {}
    values = asyncio.run(
        reward(
            prompts=["Count them.", "Count them.", "Count them.", "Count them."],
            completions=[r"\boxed{4}", r"\boxed{4 pears}", r"\boxed{5 pears}", "none"],
            answer=["4"] * 4,
            question=["How many pears?"] * 4,
            log_metric=lambda key, value: logged.__setitem__(key, value),
        )
    )
    assert values == [1.0, 1.0, 0.0, 0.0]
    assert logged["boxed_accuracy/model_verifier/forwarded"] == 0.5
    assert logged["boxed_accuracy/model_verifier/overturned"] == 0.25
    assert logged["boxed_accuracy/reason/ok_by_model"] == 0.25
    assert logged["boxed_accuracy/reason/wrong_by_model"] == 0.25
    assert logged["boxed_accuracy/model_verifier/completion_tokens"] > 0
    assert "boxed_accuracy/model_verifier/latency_s" in logged
    assert all("How many pears?" in b["messages"][-1]["content"] for b in server.requests)


def test_the_question_falls_back_to_the_prompt(server):
    reward = BoxedAccuracy(model_verifier=verifier(server), units="match")
    chat = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Pears?"}]
    reward.score(prompts=[chat], completions=[r"\boxed{4 pears}"], answer=["4"])
    assert "Pears?" in server.requests[0]["messages"][-1]["content"]
    assert "Be brief." not in server.requests[0]["messages"][-1]["content"]


def test_the_math_reward_with_a_model_verifier(server):
    reward = get_reward("math", model_verifier=verifier(server))
    assert asyncio.iscoroutinefunction(type(reward).__call__)
    completions = [
        r"<think>4</think> \boxed{4}",
        r"<think>4</think> \boxed{4.0}",
        r"<think>5</think> \boxed{5}",
        r"<think>4</think> \boxed{4} \boxed{5}",  # a hedge is never forwarded
        r"\boxed{4}",  # no think span: the format fails, nothing forwarded
    ]
    values = asyncio.run(reward(completions=completions, answer=["4"] * 5))
    assert values == [1.0, 1.0, 0.1, 0.0, 0.0]
    assert server.count == 1  # only "5" was a wrong answer in format
    clone = pickle.loads(pickle.dumps(reward))
    assert asyncio.iscoroutinefunction(type(clone).__call__)
    assert clone.__name__ == "math"


def test_a_model_verifier_from_a_spec_string(server):
    reward = get_reward(
        "boxed_accuracy", model_verifier=f"xverify:xv@{server.base_url},cache=false"
    )
    assert reward.model_verifier.format.name == "xverify"
    assert reward.model_verifier.backend.model == "xv"
    with pytest.raises(ValueError, match="FORMAT"):
        get_reward("boxed_accuracy", model_verifier="tinyv")
    with pytest.raises(ValueError, match="use one of compassverifier"):
        get_reward("boxed_accuracy", model_verifier=f"tiny@{server.base_url}")


def test_the_verify_layer_does_not_import_the_judge_at_import_time():
    import ast
    import importlib
    from pathlib import Path

    package = Path(importlib.import_module("rewardkit.verify").__file__).parent
    assert (package / "model_verifier.py").exists()
    for path in package.glob("*.py"):
        tree = ast.parse(path.read_text())
        for node in tree.body:  # module level only: imports inside functions are lazy
            if isinstance(node, ast.ImportFrom):
                assert not (node.module or "").startswith("rewardkit.judge"), path.name
            if isinstance(node, ast.Import):
                assert not any(a.name.startswith("rewardkit.judge") for a in node.names)


class ScriptedBackend:
    """A backend that is not the judge's: only the protocol a ModelVerifier needs."""

    def __init__(self, outcomes):
        from rewardkit.judge.backends.base import Usage

        self.outcomes, self.usage, self.seen = outcomes, Usage(), []

    def identity(self):
        return {"backend": "scripted", "model": "m"}

    async def complete_many(self, requests, on_result=None):
        self.seen.extend(requests)
        if isinstance(self.outcomes, Exception):
            raise self.outcomes
        outcomes = [self.outcomes[i % len(self.outcomes)] for i in range(len(requests))]
        for i, outcome in enumerate(outcomes):
            if on_result is not None:
                on_result(i, outcome)
        return outcomes


def test_any_backend_with_the_protocol_and_every_failure_reason():
    from rewardkit.judge.backends.base import FAILURE_REASONS, JudgeFailure, JudgeReply

    failures = [JudgeFailure(reason, "scripted") for reason in FAILURE_REASONS]
    backend = ScriptedBackend([JudgeReply("True"), *failures])
    mv = ModelVerifier("tinyv", backend=backend, cache=False)
    pairs = [(rf"\boxed{{{n} cm}}", str(n)) for n in range(len(failures) + 1)]
    verdicts = verify_batch(pairs, units="match", model_verifier=mv)
    assert [v.reason for v in verdicts] == ["ok_by_model"] + ["model_unavailable"] * len(failures)
    assert len(backend.seen) == len(pairs)


def test_a_backend_that_raises_keeps_the_rules_verdicts():
    mv = ModelVerifier("tinyv", backend=ScriptedBackend(RuntimeError("boom")), cache=False)
    verdicts = verify_batch([(r"\boxed{4 cm}", "4"), (r"\boxed{4}", "4")], units="match",
                            model_verifier=mv)  # fmt: skip
    assert [v.reason for v in verdicts] == ["model_unavailable", "ok"]


def test_a_ready_backend_and_a_model_name_are_not_both_given():
    with pytest.raises(ValueError, match="not both"):
        ModelVerifier("tinyv", "m", backend=ScriptedBackend([]))
    with pytest.raises(TypeError, match="needs identity"):
        ModelVerifier("tinyv", backend=object())
