"""One language table (`sandboxes.languages`): every name the code verifier accepts, in a reference or as a fence
tag, is the sandbox language of the same name."""

from __future__ import annotations

import pytest

import verifiers.code as code_module
from sandboxes import SandboxUnavailable, UnknownLanguageError
from sandboxes.languages import LANGUAGES, fence_tags, get_language, language_names
from verifiers import Sample, Status, verify, verify_batch
from verifiers.code import CodeVerifier, extract_code

ALIASES = sorted(LANGUAGES)
"""Every name and alias in the table."""

PRINT_ONE = {
    "python": "print(1)",
    "c": '#include <stdio.h>\nint main(void) { printf("1\\n"); return 0; }',
    "cpp": '#include <cstdio>\nint main() { std::printf("1\\n"); }',
    "javascript": "console.log(1)",
}


def test_the_table_knows_the_usual_names():
    assert {"py", "python3", "py3", "c++", "cxx", "cc", "js", "node", "nodejs"} <= set(LANGUAGES)
    assert language_names() == ["c", "cpp", "javascript", "python"]


@pytest.mark.parametrize("alias", ALIASES)
def test_every_alias_resolves_to_its_sandbox_language(alias: str):
    language = get_language(alias)
    assert get_language(alias.upper()) is language
    assert fence_tags(language.name) == language.tags
    assert alias in language.tags
    plan = code_module._plan({"tests": [{"input": "", "output": "1\n"}], "language": alias}, None)
    assert plan.language == language.name


@pytest.mark.parametrize("alias", ALIASES)
def test_a_block_fenced_with_any_alias_is_found_for_its_language(alias: str):
    name = get_language(alias).name
    other = next(n for n in language_names() if n != name)
    text = f"```{other}\nwrong\n```\n```{alias}\nright\n```\n```{other}\nwrong again\n```\n"
    assert extract_code(text, name) == ("right\n", f"fenced:{alias}")
    assert extract_code(text, alias) == ("right\n", f"fenced:{alias}")


def test_an_unknown_language_is_refused_with_the_known_ones():
    with pytest.raises(UnknownLanguageError, match="known: c, cpp, javascript, python"):
        get_language("cobol")
    assert fence_tags("cobol") == ("cobol",)
    verdict = verify("```cobol\nDISPLAY 1\n```", {"tests": [{"input": "", "output": "1\n"}], "language": "cobol"},
                     verifier="code")
    assert verdict.status is Status.ERROR and "known: c, cpp, javascript, python" in verdict.reason


@pytest.fixture(scope="module")
def sandbox():
    from sandboxes.bwrap import BwrapSandbox

    try:
        return BwrapSandbox()
    except SandboxUnavailable as exc:  # no bubblewrap here
        pytest.skip(f"bwrap sandbox unavailable: {exc}")


@pytest.mark.parametrize("alias", ALIASES)
def test_a_program_under_any_alias_runs_as_its_language(sandbox, alias: str):
    name = get_language(alias).name
    response = f"```{alias}\n{PRINT_ONE[name]}\n```"
    reference = {"tests": [{"input": "", "output": "1\n"}], "language": alias}
    verdict = verify_batch([Sample(response=response, reference=reference)], verifier=CodeVerifier(sandbox=sandbox))[0]
    assert verdict.status is Status.CORRECT, verdict.reason
    assert verdict.evidence["language"] == name and verdict.evidence["extraction"] == f"fenced:{alias}"
