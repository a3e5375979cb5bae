"""Shared fixtures. `register_plugin` comes from `verifiers.testing`, the pytest plugin shipped for plugin authors.

Importing the fixture (rather than `pytest_plugins = ["verifiers.testing"]`) works whether or not pytest has
already loaded `verifiers.testing` through its `pytest11` entry point: a conftest fixture of the same name simply
takes precedence, where registering the plugin module a second time would be an error.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest
from support.system import missing, requirements

from verifiers.testing import register_plugin  # noqa: F401  (a fixture, found by pytest by name)

pytest_plugins = ["pytester"]


def pytest_configure(config: pytest.Config) -> None:
    requirements()  # a misspelt VERIFIERS_REQUIRE stops the run before any test, instead of demanding nothing


@pytest.fixture
def loopback_listener() -> Iterator[socket.socket]:
    """A TCP listener on 127.0.0.1 (port: `getsockname()[1]`, accept timeout 0.5 s), for network-isolation tests.

    Tests only ever connect to this machine's loopback, never to any other address.
    """
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    listener.settimeout(0.5)
    try:
        yield listener
    finally:
        listener.close()


@pytest.fixture(scope="session")
def lean_toolchain():
    """The Lean the suite checks with (installing the WebAssembly one on first use); skips when none can be had,
    unless the run demands Lean (`VERIFIERS_REQUIRE=lean` or `VERIFIERS_REQUIRE_LEAN=1`, as CI does): then a
    missing toolchain is a failure."""
    from verifiers.formal import LeanUnavailable, find_toolchain

    try:
        return find_toolchain()
    except LeanUnavailable as exc:
        missing("lean", f"no Lean toolchain: {exc}")
