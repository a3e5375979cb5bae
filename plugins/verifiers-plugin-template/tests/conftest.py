"""Run the tests against the source tree, installed or not, with the `verifiers.testing` pytest plugin loaded."""

from __future__ import annotations

import importlib.util
import sys
from importlib.metadata import entry_points
from pathlib import Path

if importlib.util.find_spec("verifiers_plugin_template") is None:  # not pip-installed: import from source
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

# verifier-suite registers `verifiers.testing` as a pytest11 plugin (the `register_plugin` fixture); an install
# made before that entry point existed lacks it, so take the fixture directly. (Not `pytest_plugins`: pytest
# refuses that outside the top-level conftest, e.g. when running `pytest plugins/`.)
if not any(ep.value.split(":")[0] == "verifiers.testing" for ep in entry_points(group="pytest11")):
    from verifiers.testing import register_plugin  # noqa: F401
