"""Meta-tests in the datasette style: every hook is documented with its exact signature and has a test."""

import inspect
import re
from pathlib import Path

import pytest

from verifiers import hookspecs

ROOT = Path(__file__).resolve().parent.parent
HOOKS = sorted(
    name
    for name, fn in vars(hookspecs).items()
    if inspect.isfunction(fn) and hasattr(fn, "verifiers_spec")
)


def test_there_are_hooks():
    assert {"register_verifiers", "register_sandboxes", "register_judge_backends", "route_sample"} <= set(HOOKS)


@pytest.mark.parametrize("hook", HOOKS)
def test_hook_is_documented_with_its_signature(hook):
    docs = (ROOT / "docs" / "hooks.md").read_text()
    params = ", ".join(inspect.signature(getattr(hookspecs, hook)).parameters)
    assert re.search(rf"^## {hook}$", docs, re.M), f"docs/hooks.md has no '## {hook}' section"
    assert f"{hook}({params})" in docs, f"docs/hooks.md does not show the signature {hook}({params})"


@pytest.mark.parametrize("hook", HOOKS)
def test_hook_has_a_test(hook):
    tests = "\n".join(p.read_text() for p in (ROOT / "tests").glob("test_*.py"))
    assert f"def test_hook_{hook}(" in tests, f"no test_hook_{hook} in tests/"


@pytest.mark.parametrize("hook", HOOKS)
def test_hook_spec_has_a_docstring(hook):
    assert (getattr(hookspecs, hook).__doc__ or "").strip()
