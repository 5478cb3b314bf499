"""Shared fixtures: a tiny local model (no hub) and the path of the shared data, if any."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

# Tests run on 2 CPU cores beside other work: keep torch to one thread, and never reach a hub.
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


def pytest_ignore_collect(collection_path, config):
    """conftest.py files hold fixtures, not doctests: collecting them as doctest modules
    (``--doctest-modules``) imports two of them under one name and fails collection when
    their folders run in one invocation (``pytest tests/judge tests/serve``)."""
    return True if collection_path.name == "conftest.py" else None


@pytest.fixture(scope="session")
def tiny_model_path(tmp_path_factory) -> str:
    """Path of a tiny Qwen2-style model and tokenizer built locally once per test session."""
    from rewardkit.trl import build_tiny_model

    return str(build_tiny_model(tmp_path_factory.mktemp("tiny-model")))


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The real data beside the project; tests that need it skip when it is absent."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"shared data not found at {SHARED_DATA}")
    return SHARED_DATA


@pytest.fixture
def tiny_grpo_config(tmp_path):
    """Build a GRPOConfig (or a subclass given first) for a 2-step CPU run on the tiny model
    (a few seconds); any field can be overridden."""

    def build(config_class=None, **overrides):
        from trl import GRPOConfig

        settings = {
            "output_dir": str(tmp_path),
            "per_device_train_batch_size": 4,
            "num_generations": 4,
            "max_completion_length": 8,
            "max_steps": 2,
            "learning_rate": 1e-3,
            "logging_steps": 1,
            "report_to": "none",
            "use_cpu": True,
            "save_strategy": "no",
            "beta": 0.04,
        }
        return (config_class or GRPOConfig)(**{**settings, **overrides})

    return build


@pytest.fixture(scope="session")
def real_judge_server(tiny_model_path):
    """A real OpenAI-compatible server (``transformers serve``) on the tiny model, started
    once per session on a free loopback port and stopped by its process id. Skips with the
    reason when it cannot run, unless ``REWARDKIT_REQUIRE_REAL_SERVER=1``."""
    from real_server import RealServer, ServerUnavailable

    server = RealServer(tiny_model_path)
    try:
        server.start()
    except ServerUnavailable as exc:
        server.close()
        if os.environ.get("REWARDKIT_REQUIRE_REAL_SERVER") == "1":
            pytest.fail(str(exc))
        pytest.skip(str(exc))
    yield server
    server.close()


@pytest.fixture(scope="module")
def ray_local():
    """A local Ray instance (2 CPUs, loopback only) for one test module, shut down after
    it; skips where the ray extra is not installed."""
    ray = pytest.importorskip("ray", reason="the Ray tests need the ray extra")
    if ray.is_initialized():
        ray.shutdown()
    ray.init(
        num_cpus=2,
        include_dashboard=False,
        log_to_driver=False,
        object_store_memory=256 * 1024**2,
        _node_ip_address="127.0.0.1",
    )
    yield ray
    ray.shutdown()
