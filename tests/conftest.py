"""Shared fixtures. `register_plugin` comes from `verifiers.testing`, the pytest plugin shipped for plugin authors.

Importing the fixture (rather than `pytest_plugins = ["verifiers.testing"]`) works whether or not pytest has
already loaded `verifiers.testing` through its `pytest11` entry point: a conftest fixture of the same name simply
takes precedence, where registering the plugin module a second time would be an error.
"""

from __future__ import annotations

from verifiers.testing import register_plugin  # noqa: F401  (a fixture, found by pytest by name)

pytest_plugins = ["pytester"]
