"""One in-process local Ray for a test module (`ray.init(num_cpus=2)`, ~5 s to start), torn down after it."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

RAY_ENV = {"RAY_AUTH_MODE": "disabled", "RAY_USAGE_STATS_ENABLED": "0"}
"""No token auth and no usage reporting: a local test cluster needs neither, and nothing outside is reachable."""


@contextmanager
def local_ray() -> Iterator[Any]:
    """A local 2-CPU Ray with `RAY_ENV` set while it runs; the environment is restored after."""
    import ray

    saved = {k: os.environ.get(k) for k in RAY_ENV}
    os.environ.update(RAY_ENV)
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, configure_logging=False)
    try:
        yield ray
    finally:
        ray.shutdown()
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
