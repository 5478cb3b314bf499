"""A real OpenAI-compatible server for tests: ``transformers serve`` on a local model.

Tests that need a server nobody here wrote (its status codes, its ``finish_reason``, the
fields it drops) use the session fixture ``real_judge_server`` from ``tests/conftest.py``,
which starts one :class:`RealServer` on a free loopback port and stops it by its process id.
``transformers serve`` comes with ``transformers[serving]`` (in the ``dev`` extra); where
it is missing or does not start, those tests skip with the reason, unless
``REWARDKIT_REQUIRE_REAL_SERVER=1`` turns that into a failure.

The tiny test model generates random tokens: assert on the protocol (status, truncation,
missing log-probabilities, timing), never on what it says.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

STARTUP_TIMEOUT_S = 180.0  # measured ~9 s idle, more on a loaded 2-core machine


class ServerUnavailable(RuntimeError):
    """``transformers serve`` is not installed or did not become healthy."""


def serve_command() -> list[str]:
    """The ``transformers`` command line tool beside this interpreter, or why there is none."""
    missing = [m for m in ("fastapi", "uvicorn") if importlib.util.find_spec(m) is None]
    if missing:
        raise ServerUnavailable(
            f"transformers serve needs {', '.join(missing)}: pip install 'transformers[serving]'"
        )
    beside = Path(sys.executable).with_name("transformers")
    tool = str(beside) if beside.exists() else shutil.which("transformers")
    if tool is None:
        raise ServerUnavailable("no `transformers` command found beside the Python interpreter")
    return [tool, "serve"]


def _die_with_parent() -> None:
    """In the server's process before exec: SIGTERM when the test process dies, however it
    dies (a killed pytest runs no fixture teardown), on Linux."""
    if sys.platform.startswith("linux"):
        import ctypes

        PR_SET_PDEATHSIG = 1
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class RealServer:
    """``transformers serve MODEL`` on ``127.0.0.1`` (a free port), CPU, model preloaded.

    ``base_url`` ends in ``/v1``; ``model`` is the name the server answers to (the path);
    ``startup_s`` is how long it took to become healthy. A context manager.
    """

    def __init__(self, model_path: str, *, timeout: float = STARTUP_TIMEOUT_S) -> None:
        self.model = str(model_path)
        self.timeout = timeout
        self.port = 0
        self.process: subprocess.Popen | None = None
        self.startup_s = 0.0
        self._log = tempfile.NamedTemporaryFile(  # noqa: SIM115 (lives as long as the server)
            "w+b", prefix="transformers-serve-", suffix=".log", delete=False
        )

    @property
    def root_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def base_url(self) -> str:
        return f"{self.root_url}/v1"

    def start(self) -> RealServer:
        command = serve_command()
        env = {
            **os.environ,
            "HF_HUB_OFFLINE": "1",
            "OMP_NUM_THREADS": "1",
            "TOKENIZERS_PARALLELISM": "false",
        }
        for _ in range(3):  # another process may take the free port before the server binds it
            self.port = free_port()
            begin = time.monotonic()
            self.process = subprocess.Popen(
                [*command, self.model, "--host", "127.0.0.1", "--port", str(self.port)]
                + ["--device", "cpu", "--log-level", "warning"],
                stdout=self._log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env=env,
                start_new_session=True,  # a Ctrl-C of the test run does not reach it twice
                preexec_fn=_die_with_parent,
            )
            if self._wait_healthy():
                self.startup_s = time.monotonic() - begin
                return self
            if "address already in use" not in self.log_tail().lower():
                break
        self.stop()
        raise ServerUnavailable(f"transformers serve did not start: {self.log_tail()}")

    def _wait_healthy(self) -> bool:
        deadline = time.monotonic() + self.timeout
        while time.monotonic() < deadline:
            if self.process is None or self.process.poll() is not None:
                return False
            try:
                with urllib.request.urlopen(f"{self.root_url}/health", timeout=2) as response:
                    if response.status == 200:
                        return True
            except (urllib.error.URLError, OSError):
                pass
            time.sleep(0.25)
        return False

    def log_tail(self, chars: int = 1500) -> str:
        self._log.flush()
        text = Path(self._log.name).read_bytes().decode("utf-8", "replace")
        return text[-chars:]

    def stop(self) -> None:
        """SIGTERM by process id, SIGKILL after 10 s; removes the log."""
        process, self.process = self.process, None
        if process is not None and process.poll() is None:
            os.kill(process.pid, signal.SIGTERM)
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                os.kill(process.pid, signal.SIGKILL)
                process.wait(10)

    def close(self) -> None:
        self.stop()
        self._log.close()
        Path(self._log.name).unlink(missing_ok=True)

    def __enter__(self) -> RealServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()
