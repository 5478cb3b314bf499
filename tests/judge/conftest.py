"""Judge tests: a fake chat-completions server on loopback, and a private cache directory."""

from __future__ import annotations

import pytest

from rewardkit.judge.testing_server import FakeJudgeServer


@pytest.fixture(autouse=True)
def private_cache_dir(tmp_path, monkeypatch):
    """Keep every default-path cache inside the test's temporary directory."""
    monkeypatch.delenv("REWARDKIT_CACHE_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg-cache"))
    return tmp_path / "xdg-cache"


@pytest.fixture
def serve():
    """Start fake judge servers (``serve(**options)``); all are stopped after the test."""
    servers = []

    def start(*args, **kwargs) -> FakeJudgeServer:
        server = FakeJudgeServer(*args, **kwargs).start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()
