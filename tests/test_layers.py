"""The package's layering: no import cycles, and each layer imports only the layers below it.

Every `import` counts, also the ones inside functions (a lazy import is still a dependency); the built-in plugins
are loaded by name (`plugins.DEFAULT_PLUGINS`), which is how the plugin layer stays below the verifiers.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("verifiers", "sandboxes")


def _modules() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts = parts[:-1]
            found[".".join(parts)] = path
    return found


def _imports(name: str, path: Path, modules: dict[str, Path]) -> set[str]:
    """The project modules `name` imports (its own package and parents excluded: importing a submodule runs them)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    targets: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            candidates = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            candidates = [module] + [f"{module}.{alias.name}" for alias in node.names]
        else:
            continue
        for target in candidates:
            while target and target not in modules:
                target = target.rpartition(".")[0]
            if target and target != name and not name.startswith(target + "."):
                targets.add(target)
    return targets


def graph() -> dict[str, set[str]]:
    modules = _modules()
    return {name: _imports(name, path, modules) for name, path in modules.items()}


def _cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for other in edges[node]:
            if other not in index:
                visit(other)
                low[node] = min(low[node], low[other])
            elif other in on_stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in edges:
        if node not in index:
            visit(node)
    return found


def _reach(edges: dict[str, set[str]], start: str) -> set[str]:
    seen: set[str] = set()
    todo = [start]
    while todo:
        for other in edges[todo.pop()]:
            if other not in seen:
                seen.add(other)
                todo.append(other)
    return seen


def test_no_import_cycles():
    assert _cycles(graph()) == []


def test_the_cycle_finder_finds_a_cycle():
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_routing_reads_only_the_plugin_layer():
    edges = graph()
    allowed = {"verifiers.plugins", "verifiers.cascade", "verifiers.errors", "verifiers.verdict", "verifiers.verifier"}
    assert edges["verifiers.routing"] <= allowed
    reached = _reach(edges, "verifiers.routing")
    for module in ("verifiers.executor", "verifiers.api", "verifiers.jobs", "verifiers.cli", "verifiers.integrations"):
        assert module not in reached


def test_the_guarded_calls_and_the_pool_sit_below_the_runner():
    edges = graph()
    assert _reach(edges, "verifiers.calls") <= {"verifiers.verdict", "verifiers.errors"}
    assert "verifiers.runner" not in _reach(edges, "verifiers.pool")


def test_the_core_is_one_way():
    """api -> executor -> (routing, runner) -> (pool -> calls); nothing below reaches back up."""
    edges = graph()
    order = ["verifiers.api", "verifiers.executor", "verifiers.runner", "verifiers.pool", "verifiers.calls"]
    for i, upper in enumerate(order):
        for lower in order[i + 1 :]:
            assert upper not in _reach(edges, lower), f"{lower} reaches back up to {upper}"
