"""Name -> factory tables filled by the `register_*` hooks: one class serves verifiers, sandboxes and judges."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from .errors import PluginError, UnknownNameError

__all__ = ["Registry", "Entry"]

T = TypeVar("T")


@dataclass(frozen=True)
class Entry(Generic[T]):
    """One registered factory and the plugin that registered it."""

    name: str
    factory: Callable[..., T]
    plugin: str

    def attribute(self, attr: str, default: Any = None) -> Any:
        """A class-level attribute of the factory (`domains`, `cost`) without constructing anything."""
        return getattr(self.factory, attr, default)


class Registry(Generic[T]):
    """Factories by name. Registering a name twice is an error that names both plugins."""

    def __init__(self, kind: str, missing: type[UnknownNameError]) -> None:
        self.kind = kind
        self._missing = missing
        self._entries: dict[str, Entry[T]] = {}

    def add(self, factory: Callable[..., T], name: str | None = None, *, plugin: str = "?") -> None:
        name = name or getattr(factory, "name", None)
        if not name or not isinstance(name, str):
            raise PluginError(
                f"plugin {plugin!r} registered a {self.kind} without a name: give the factory a `name` "
                f"attribute or call register(factory, name=...)"
            )
        if not callable(factory):
            raise PluginError(f"plugin {plugin!r} registered {self.kind} {name!r} with a non-callable factory")
        if name in self._entries:
            other = self._entries[name].plugin
            raise PluginError(f"{self.kind} {name!r} is registered twice: by {other!r} and by {plugin!r}")
        self._entries[name] = Entry(name, factory, plugin)

    def entry(self, name: str) -> Entry[T]:
        try:
            return self._entries[name]
        except KeyError:
            raise self._missing(name, self._entries) from None

    def create(self, name: str, **options: Any) -> T:
        return self.entry(name).factory(**options)

    def names(self) -> list[str]:
        return sorted(self._entries)

    def __contains__(self, name: object) -> bool:
        return name in self._entries

    def __iter__(self) -> Iterator[Entry[T]]:
        return iter(sorted(self._entries.values(), key=lambda e: e.name))

    def __len__(self) -> int:
        return len(self._entries)
