"""The plugin manager: built-in plugins and third-party ones, loaded through the same pluggy manager.

Third-party plugins are found through the entry-point group `verifiers`. Two environment variables control
loading (both comma-separated, read when plugins are first loaded):

  VERIFIERS_LOAD_PLUGINS     allow-list of entry-point plugin names; when set, only those load ("" = none)
  VERIFIERS_DISABLE_PLUGINS  block-list of plugin names, built-in (`verifiers.rule` or `rule`) or third-party
"""

from __future__ import annotations

import importlib
import inspect
import json
import os
import threading
import warnings
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from importlib import metadata
from typing import Any

import pluggy

from . import hookspecs
from .errors import (
    UnknownDomainError,
    UnknownJudgeBackendError,
    UnknownSandboxError,
    UnknownVerifierError,
)
from .options import describe_options
from .registry import Registry
from .verdict import Sample
from .verifier import VerifierLike

__all__ = [
    "DEFAULT_PLUGINS",
    "ENTRY_POINT_GROUP",
    "pm",
    "load_plugins",
    "verifier_registry",
    "sandbox_registry",
    "judge_backend_registry",
    "get_verifier",
    "get_sandbox",
    "get_judge_backend",
    "list_verifiers",
    "list_domains",
    "route",
    "plugin_info",
]

ENTRY_POINT_GROUP = "verifiers"
DEFAULT_PLUGINS: tuple[str, ...] = (
    "verifiers.default_routing",
    "verifiers.rule",
    "verifiers.aggregate",
    "verifiers.math",
    "verifiers.code",
    "verifiers.formal",
    "verifiers.judge",
    "sandboxes.plugin",
    "sandboxes.docker",
)


class _PluginManager(pluggy.PluginManager):
    """A pluggy manager that counts (un)registrations, so registries rebuild exactly when plugins change."""

    generation = 0

    def register(self, plugin: object, name: str | None = None) -> str | None:
        result = super().register(plugin, name)
        self.generation += 1
        return result

    def unregister(self, plugin: object | None = None, name: str | None = None) -> Any:
        result = super().unregister(plugin, name)
        self.generation += 1
        return result


pm = _PluginManager("verifiers")
pm.add_hookspecs(hookspecs)

_lock = threading.RLock()
_loaded = False
_snapshot: tuple[int, dict[str, Registry[Any]]] | None = None
_instances: dict[tuple[str, str], VerifierLike] = {}
_dists: dict[str, metadata.EntryPoint] = {}
_failed: dict[str, str] = {}


class PluginLoadWarning(UserWarning):
    """A third-party plugin could not be imported or registered; it is skipped."""


def _env_list(name: str) -> set[str] | None:
    raw = os.environ.get(name)
    if raw is None:
        return None
    return {part.strip() for part in raw.split(",") if part.strip()}


def _blocked(name: str, blocked: set[str]) -> bool:
    short = name.rsplit(".", 1)[-1]
    return name in blocked or short in blocked


def load_plugins() -> None:
    """Register the built-in plugins and the entry-point plugins, once per process."""
    global _loaded
    with _lock:
        if _loaded:
            return
        _loaded = True
        blocked = _env_list("VERIFIERS_DISABLE_PLUGINS") or set()
        for module_name in DEFAULT_PLUGINS:
            if _blocked(module_name, blocked) or pm.has_plugin(module_name):
                continue
            pm.register(importlib.import_module(module_name), name=module_name)
        allowed = _env_list("VERIFIERS_LOAD_PLUGINS")
        for ep in _entry_points():
            if allowed is not None and ep.name not in allowed:
                continue
            if _blocked(ep.name, blocked) or pm.has_plugin(ep.name):
                continue
            try:
                plugin = ep.load()
                pm.register(plugin, name=ep.name)
            except Exception as exc:  # one broken plugin must not take the library down with it
                _failed[ep.name] = f"{type(exc).__name__}: {exc}"
                warnings.warn(
                    f"verifiers plugin {ep.name!r} ({ep.value}) failed to load and is skipped: {_failed[ep.name]}; "
                    f"fix or uninstall it, or block it with VERIFIERS_DISABLE_PLUGINS={ep.name}",
                    PluginLoadWarning,
                    stacklevel=2,
                )
                continue
            _dists[ep.name] = ep


def _entry_points() -> Iterable[metadata.EntryPoint]:
    return metadata.entry_points(group=ENTRY_POINT_GROUP)


def _plugin_name(plugin: object) -> str:
    return pm.get_name(plugin) or repr(plugin)


def _registries() -> dict[str, Registry[Any]]:
    """The registries as filled by the plugins registered right now (rebuilt when the plugin set changes)."""
    global _snapshot
    load_plugins()
    with _lock:
        key = pm.generation
        if _snapshot is not None and _snapshot[0] == key:
            return _snapshot[1]
        registries: dict[str, Registry[Any]] = {
            "verifiers": Registry("verifier", UnknownVerifierError),
            "sandboxes": Registry("sandbox", UnknownSandboxError),
            "judge_backends": Registry("judge backend", UnknownJudgeBackendError),
        }
        for kind, registry in registries.items():
            hook = getattr(pm.hook, f"register_{kind}")
            for impl in hook.get_hookimpls():  # registration order: built-ins first
                plugin = _plugin_name(impl.plugin)

                def register(factory: Any, name: str | None = None, *, _r=registry, _p=plugin) -> None:
                    _r.add(factory, name, plugin=_p)

                impl.function(register=register)
        _snapshot = (key, registries)
        _instances.clear()
        return registries


def verifier_registry() -> Registry[VerifierLike]:
    """Verifier factories by name, as the `register_verifiers` hooks registered them."""
    return _registries()["verifiers"]


def sandbox_registry() -> Registry[Any]:
    return _registries()["sandboxes"]


def judge_backend_registry() -> Registry[Any]:
    return _registries()["judge_backends"]


def get_verifier(name: str, **options: Any) -> VerifierLike:
    """The verifier registered as `name`, configured with `options`.

    Instances are reused for equal JSON options, so a verifier's warm resources (a model, a pool) start once.
    Raises `UnknownVerifierError` listing the registered names, or `OptionError` for options it does not take.
    """
    registry = verifier_registry()
    entry = registry.entry(name)
    try:
        key = (name, json.dumps(options, sort_keys=True))
    except (TypeError, ValueError):
        return entry.factory(**options)
    with _lock:
        instance = _instances.get(key)
        if instance is None:
            instance = entry.factory(**options)
            _instances[key] = instance
        return instance


def get_sandbox(name: str, **options: Any) -> Any:
    """A new sandbox backend registered as `name` (see `sandboxes.Sandbox`)."""
    return sandbox_registry().create(name, **options)


def get_judge_backend(name: str, **options: Any) -> Any:
    """A new model-judge backend registered as `name`."""
    return judge_backend_registry().create(name, **options)


def list_verifiers() -> list[dict[str, Any]]:
    """One row per registered verifier (what `verifiers list` prints): name, domains, cost, plugin, description (the
    docstring's first paragraph, whole) and options (name, default, doc, what it accepts, per-sample or not)."""
    rows = []
    for entry in verifier_registry():
        options = entry.attribute("options", None)
        rows.append(
            {
                "name": entry.name,
                "domains": list(entry.attribute("domains", ()) or ()),
                "cost": entry.attribute("cost", 1.0),
                "plugin": entry.plugin,
                "description": _summary(entry.factory.__doc__),
                "options": describe_options(options) if isinstance(options, Mapping) else [],
            }
        )
    return rows


def _summary(doc: str | None) -> str:
    """A docstring's first paragraph on one line: a summary never cut mid-sentence by the docstring's line breaks."""
    paragraph = inspect.cleandoc(doc or "").split("\n\n", 1)[0]
    return " ".join(paragraph.split())


def list_domains() -> list[str]:
    """Every domain some registered verifier declares."""
    domains: set[str] = set()
    for entry in verifier_registry():
        domains.update(entry.attribute("domains", ()) or ())
    return sorted(domains)


def domain_stages(domain: str) -> list[str]:
    """The verifier names of `domain`'s default cascade, cheapest first (ties by name)."""
    entries = [e for e in verifier_registry() if domain in (e.attribute("domains", ()) or ())]
    if not entries:
        raise UnknownDomainError(domain, list_domains())
    entries.sort(key=lambda e: (float(e.attribute("cost", 1.0)), e.name))
    return [e.name for e in entries]


def route(sample: Sample) -> str | None:
    """The domain for a sample without one, asked of the `route_sample` hooks."""
    load_plugins()
    return pm.hook.route_sample(sample=sample)


@dataclass(frozen=True)
class PluginInfo:
    name: str
    version: str | None
    hooks: list[str]
    builtin: bool
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        data = {"name": self.name, "version": self.version, "hooks": self.hooks, "builtin": self.builtin}
        if self.error:
            data["error"] = self.error
        return data


def plugin_info() -> list[PluginInfo]:
    """Name, version and implemented hooks of every registered plugin (what `verifiers plugins` prints)."""
    load_plugins()
    from . import __version__

    infos = []
    for plugin in pm.get_plugins():
        name = _plugin_name(plugin)
        hooks = sorted(h.name for h in pm.get_hookcallers(plugin) or ())
        builtin = name in DEFAULT_PLUGINS
        version: str | None = __version__ if builtin else None
        dist = getattr(_dists.get(name), "dist", None)
        if dist is not None:
            version = dist.version
        infos.append(PluginInfo(name, version, hooks, builtin))
    for name, error in _failed.items():
        infos.append(PluginInfo(name, None, [], False, error=error))
    return sorted(infos, key=lambda i: (not i.builtin, i.name))
