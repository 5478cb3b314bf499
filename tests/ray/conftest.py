"""A local Ray instance for the Ray tests (2 CPUs, loopback only), shut down after each
module; the tests skip where Ray is not installed."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="module")
def ray_local():
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
