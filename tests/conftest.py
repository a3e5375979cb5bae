"""Shared fixtures: register a throwaway plugin for one test and remove it afterwards."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator

import pytest

from verifiers.plugins import load_plugins, pm

_counter = itertools.count()


@pytest.fixture
def register_plugin() -> Iterator[Callable[[object], str]]:
    """`register_plugin(obj)` registers `obj` as a plugin until the test ends; returns its name."""
    load_plugins()
    names: list[str] = []

    def register(plugin: object, name: str | None = None) -> str:
        name = name or f"test-plugin-{next(_counter)}"
        pm.register(plugin, name=name)
        names.append(name)
        return name

    try:
        yield register
    finally:
        for name in names:
            plugin = pm.get_plugin(name)
            if plugin is not None:
                pm.unregister(plugin)
