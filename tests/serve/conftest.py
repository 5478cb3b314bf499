"""A live reward server on loopback for each test that asks: uvicorn in a thread, a free port."""

from __future__ import annotations

import os
import socket
import threading
import time
from pathlib import Path

import pytest

pytest.importorskip("starlette")
import uvicorn  # noqa: E402

HERE = Path(__file__).resolve().parent


@pytest.fixture(autouse=True)
def importable_test_rewards(monkeypatch):
    """Worker processes import the test rewards by module name."""
    monkeypatch.syspath_prepend(str(HERE))
    paths = [str(HERE), os.environ.get("PYTHONPATH", "")]
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(p for p in paths if p))


class LiveServer:
    """``start(app)`` serves ``app`` on a free loopback port; ``stop()`` ends them all."""

    def __init__(self) -> None:
        self.servers = []

    def start(self, app) -> str:
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
        server = uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False))
        thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
        thread.start()
        deadline = time.monotonic() + 60
        while not server.started:
            if time.monotonic() > deadline or not thread.is_alive():
                raise RuntimeError("the test server did not start")
            time.sleep(0.02)
        self.servers.append((server, thread, sock))
        return f"http://127.0.0.1:{port}"

    def stop(self) -> None:
        for server, thread, sock in self.servers:
            server.should_exit = True
            thread.join(timeout=60)
            sock.close()


@pytest.fixture
def live():
    """``live(app)`` serves ``app`` and returns its base URL; stopped after the test."""
    servers = LiveServer()
    yield servers.start
    servers.stop()


@pytest.fixture(scope="module")
def live_module():
    """:func:`live` for servers shared by a module's tests."""
    servers = LiveServer()
    yield servers.start
    servers.stop()
