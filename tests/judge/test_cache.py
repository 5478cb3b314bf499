"""The verdict cache: a rerun costs no request, processes share it, a crash loses no
finished verdict, and a broken cache never breaks scoring."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from rewardkit.judge import JudgeCache, SyncRubricJudgeReward, default_cache_path

ROOT = Path(__file__).resolve().parents[2]
RUBRIC = [{"text": "Gives the final answer 12", "category": "essential"}]


def _reward(server, cache, **options):
    options = {"timeout": 2, "max_retries": 0, "mode": "implicit", **options}
    return SyncRubricJudgeReward(
        RUBRIC, model="fake-judge", base_url=server.base_url, cache=cache, **options
    )


def _completions(n, tag="c"):
    return [f"{tag} {i} " + "word " * (i % 7) for i in range(n)]


def _child(script: str) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    return subprocess.Popen([sys.executable, "-c", textwrap.dedent(script)], env=env, cwd=ROOT)


CHILD = """
    import sys
    from rewardkit.judge import SyncRubricJudgeReward
    url, cache, tag, n = sys.argv[1:] if len(sys.argv) > 1 else ({args})
    reward = SyncRubricJudgeReward(
        {rubric!r}, mode="implicit", model="fake-judge", base_url=url, cache=cache,
        timeout=60, max_retries=0, max_concurrency=64,
    )
    completions = [f"{{tag}} {{i}} " + "word " * (i % 7) for i in range(int(n))]
    values = reward(prompts=["q"] * len(completions), completions=completions)
    assert all(v is not None for v in values), values
"""


def _child_script(url, cache, tag, n):
    return CHILD.format(args=repr((url, str(cache), tag, str(n))), rubric=RUBRIC)


def test_a_rerun_costs_no_request(serve, tmp_path):
    server = serve()
    cache = tmp_path / "judge.sqlite"
    completions = _completions(20)
    first = _reward(server, cache)(prompts=["q"] * 20, completions=completions)
    assert server.count == 20
    metrics = {}
    again = _reward(server, cache)(
        prompts=["q"] * 20, completions=completions, log_metric=metrics.__setitem__
    )
    assert again == first
    assert server.count == 20
    assert metrics["rubric_judge/judge/cache_hits"] == 20
    assert metrics["rubric_judge/judge/requests"] == 0


def test_the_key_covers_model_and_sampling_parameters(serve, tmp_path):
    server = serve()
    cache = tmp_path / "judge.sqlite"
    _reward(server, cache)(prompts=["q"], completions=["a"])
    _reward(server, cache, temperature=0.7)(prompts=["q"], completions=["a"])
    _reward(server, cache, max_tokens=99)(prompts=["q"], completions=["a"])
    SyncRubricJudgeReward(
        RUBRIC, mode="implicit", model="other-judge", base_url=server.base_url, cache=cache
    )(prompts=["q"], completions=["a"])
    assert server.count == 4
    assert len(JudgeCache(cache)) == 4


def test_identical_requests_in_one_batch_are_sent_once(serve, tmp_path):
    server = serve()
    values = _reward(server, tmp_path / "c.sqlite")(prompts=["q"] * 5, completions=["same"] * 5)
    assert len(set(values)) == 1 and server.count == 1


def test_failures_are_not_cached(serve, tmp_path):
    cache = tmp_path / "judge.sqlite"
    broken = serve(faults=lambda i, body: "server_error")
    assert _reward(broken, cache)(prompts=["q"], completions=["a"]) == [None]
    assert len(JudgeCache(cache)) == 0
    healthy = serve()
    assert _reward(healthy, cache)(prompts=["q"], completions=["a"]) != [None]
    assert healthy.count == 1


def test_two_processes_share_the_cache(serve, tmp_path):
    server = serve()
    cache = tmp_path / "shared.sqlite"
    writers = [_child(_child_script(server.base_url, cache, tag, 60)) for tag in ("x", "y")]
    assert [w.wait(timeout=60) for w in writers] == [0, 0]  # concurrent writers: no lock errors
    assert server.count == 120
    assert len(JudgeCache(cache)) == 120
    # this process reads what the others wrote
    before = server.count
    values = _reward(server, cache)(prompts=["q"] * 60, completions=_completions(60, "y"))
    assert None not in values and server.count == before


def test_a_crash_loses_no_finished_verdict(serve, tmp_path):
    cache = tmp_path / "crash.sqlite"

    def faults(index, body):  # the "c 5".."c 9" completions never get an answer
        user = body["messages"][-1]["content"]
        return "slow" if any(f"\nc {i} " in user for i in range(5, 10)) else None

    server = serve(faults=faults, slow_seconds=60)
    child = _child(_child_script(server.base_url, cache, "c", 10))
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if server.count == 10 and cache.exists() and len(JudgeCache(cache)) == 5:
                break
            time.sleep(0.05)
        assert child.poll() is None, "the child finished although 5 replies never came"
    finally:
        child.send_signal(signal.SIGKILL)  # a hard crash: no cleanup, no atexit
        child.wait(timeout=10)
    assert len(JudgeCache(cache)) == 5
    port = int(server.base_url.rsplit(":", 1)[1].split("/")[0])
    server.stop()  # the same judge comes back at the same URL (the URL is in the key)
    healthy = serve(port=port)
    values = _reward(healthy, cache)(prompts=["q"] * 10, completions=_completions(10))
    assert None not in values
    assert healthy.count == 5  # only the verdicts the crash interrupted are asked again


def test_default_location_follows_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert default_cache_path() == tmp_path / "xdg" / "rewardkit" / "judge.sqlite"
    monkeypatch.setenv("REWARDKIT_CACHE_DIR", str(tmp_path / "mine"))
    assert default_cache_path() == tmp_path / "mine" / "judge.sqlite"
    assert JudgeCache().path == tmp_path / "mine" / "judge.sqlite"
    monkeypatch.delenv("REWARDKIT_CACHE_DIR")
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert default_cache_path() == tmp_path / "home" / ".cache" / "rewardkit" / "judge.sqlite"


def test_a_corrupt_cache_file_is_a_clear_error_at_construction(serve, tmp_path):
    path = tmp_path / "corrupt.sqlite"
    path.write_bytes(b"this is not a database" * 100)
    with pytest.raises(ValueError, match="corrupt.sqlite is unusable.*delete it"):
        _reward(serve(), path)


def test_a_cache_that_breaks_mid_run_costs_a_warning_not_the_scores(serve, tmp_path, caplog):
    server = serve()
    path = tmp_path / "judge.sqlite"
    reward = _reward(server, path)
    sqlite3.connect(path).execute("DROP TABLE replies")
    values = reward(prompts=["q"] * 3, completions=_completions(3))
    assert None not in values and server.count == 3
    warnings = [
        r for r in caplog.records if r.levelname == "WARNING" and "judge cache" in r.message
    ]
    assert len(warnings) == 1  # once, not once per verdict


def test_the_key_covers_the_server_extra_body_and_a_namespace(serve, tmp_path):
    cache = tmp_path / "judge.sqlite"
    server, other = serve(), serve()  # the same model name on two servers
    _reward(server, cache)(prompts=["q"], completions=["a"])
    _reward(server, cache, extra_body={"frequency_penalty": 2.0})(prompts=["q"], completions=["a"])
    assert server.count == 2  # the extra field changes the reply: not the old one
    _reward(server, cache, cache_namespace="step-2000")(prompts=["q"], completions=["a"])
    assert server.count == 3  # nor does a new checkpoint under the old name get it
    _reward(other, cache)(prompts=["q"], completions=["a"])
    assert other.count == 1
    _reward(server, cache, extra_body={"frequency_penalty": 2.0})(prompts=["q"], completions=["a"])
    _reward(server, cache, cache_namespace="step-2000")(prompts=["q"], completions=["a"])
    assert server.count == 3  # and each of them is found again
    assert len(JudgeCache(cache)) == 4
