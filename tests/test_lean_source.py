"""Lean source handling without Lean: the lexer, the cheating policy, statements, step-proof parsing, the audit
record parser and the verifier's handling of input it cannot check."""

from __future__ import annotations

import json

import pytest
from support.properties import given, settings, st

import verifiers
from verifiers import Sample, Status
from verifiers.default_routing import guess_domain
from verifiers.formal import FormalProof, PolicyViolation
from verifiers.formal.proof import StepOutcome, StepResult
from verifiers.formal.verifier import _BadResponse, _step_job
from verifiers.formal.checker import (
    Mode,
    Outcome,
    Snippet,
    SnippetResult,
    _evaluate,
    _judge_axioms,
    _prepare,
    _Prepared,
    _raw_string,
    _Span,
    allowed_syntax,
)
from verifiers.formal.source import (
    LeanSyntaxError,
    parse_statement,
    proof_body,
    split_declarations,
    tokenize,
)

# -- the lexer -------------------------------------------------------------------------------------------------


def test_comments_strings_and_chars_hide_words():
    tokens = tokenize('theorem t : "sorry" = "x" := /- sorry /- nested -/ -/ rfl -- sorry\n')
    assert [t.text for t in tokens] == ["theorem", "t", ":", '"sorry"', "=", '"x"', ":=", "rfl"]


def test_names_keep_primes_dots_and_guillemets():
    texts = [t.text for t in tokenize("h' h₁ Nat.succ_le x.«sorry» 'a' #eval @[simp] r#\"q\"#")]
    assert texts == ["h'", "h₁", "Nat.succ_le", "x.«sorry»", "'a'", "#eval", "@[", "simp", "]", 'r#"q"#']


@pytest.mark.parametrize("text", ["/- open", "/- a /- b -/", '"open', "«open", 'r#"open"'])
def test_unterminated_things_are_syntax_errors(text):
    with pytest.raises(LeanSyntaxError):
        tokenize(text)


@settings(deadline=None, max_examples=300)
@given(st.text(alphabet=st.sampled_from(list("ab -/\"'«»#@[]().:=\n\\r_sorry∀₁")), max_size=40))
def test_tokenize_either_tokenizes_or_raises_syntax_error(text):
    try:
        tokens = tokenize(text)
    except LeanSyntaxError:
        return
    assert all(0 <= t.start < t.end <= len(text) and text[t.start : t.end] == t.text for t in tokens)


# -- the policy: every cheating class is refused before Lean runs ------------------------------------------------

CHEATS = {
    "sorry": "by sorry",
    "admit": "by admit",
    "sorryAx": "sorryAx _ false",
    "qualified sorryAx": "Lean.sorryAx _",
    "guillemet sorry": "by exact «sorry»",
    "macro hiding sorry": 'by\n  macro "done!" : tactic => `(tactic| sorry)\n  done!',
    "warn.sorry off": "by\n  set_option warn.sorry false in sorry",
    "axiom": "by\n  axiom cheat : False\n  exact cheat.elim",
    "native_decide": "by native_decide",
    "implemented_by": "by\n  @[implemented_by foo] def bar := 1\n  rfl",
    "extern": '@[extern "f"] 0',
    "unsafe": "unsafe rfl",
    "opaque": "by\n  opaque x : Nat\n  rfl",
    "partial": "by\n  partial def f : Nat → Nat := f\n  rfl",
    "set_option": "by set_option maxHeartbeats 0 in decide",
    "notation": 'by\n  notation "X" => sorry\n  exact X',
    "syntax": 'by\n  syntax "x" : tactic\n  rfl',
    "elab": 'by\n  elab "x" : tactic => pure ()\n  x',
    "#eval": "by\n  #eval 1\n  rfl",
    "#exit": "rfl\n#exit",
    "#print": "rfl\n#print axioms thm",
    "import": "rfl\nimport Lean",
    "open in": "by open Lean in exact rfl",
    "new theorem in proof": "rfl\ntheorem other : False := by omega",
    "end the namespace": "rfl\nend S\ntheorem x : True := trivial",
    "instance": "by\n  instance : Inhabited Nat := ⟨0⟩\n  rfl",
    "attribute": "by\n  attribute [simp] Nat.add_comm\n  simp",
    "attribute syntax": "@[simp] rfl",
    "run_tac": "by run_tac pure ()",
    "root escape": "_root_.cheat",
    "reduceBool": "Lean.ofReduceBool _ _ rfl",
}


@pytest.mark.parametrize("proof", CHEATS.values(), ids=CHEATS.keys())
def test_cheating_proofs_are_rejected_before_lean(proof):
    with pytest.raises(PolicyViolation):
        proof_body(proof)
    prepared = _prepare(0, Snippet("theorem t : 1 = 1", proof))
    assert not isinstance(prepared, _Prepared) and prepared.outcome is Outcome.REJECTED


@pytest.mark.parametrize(
    "statement",
    ["theorem t : True := by sorry := x", "theorem t (h : sorry) : True", "example : True := trivial\naxiom a : False"],
)
def test_cheating_statements_are_rejected(statement):
    with pytest.raises(PolicyViolation):
        parse_statement(statement)


def test_names_that_merely_contain_a_banned_word_pass():
    assert proof_body("by exact h_sorry") == "by exact h_sorry"
    assert proof_body("fun hadmit => hadmit") == "fun hadmit => hadmit"
    assert proof_body('by simp -- sorry, no admit here\n  /- axiom -/ ') == 'by simp -- sorry, no admit here\n  /- axiom -/'


def test_conv_in_is_not_open_in():
    assert proof_body("by\n  conv in b * c =>\n    rw [Nat.mul_comm]")


# -- statements and proofs -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("statement", "name", "binders", "prop"),
    [
        ("theorem t (a b : Nat) : a + b = b + a", "t", "(a b : Nat)", "a + b = b + a"),
        ("lemma t : True := by sorry", "t", "", "True"),
        ("example {x : Int} (_ : 0 ≤ x) : x ≥ 0", None, "{x : Int} (_ : 0 ≤ x)", "x ≥ 0"),
        ("∀ n : Nat, n + 0 = n", None, "", "∀ n : Nat, n + 0 = n"),
        ("(f : Nat → Nat) [Inhabited Nat] : f 0 = f 0 :=", None, "(f : Nat → Nat) [Inhabited Nat]", "f 0 = f 0"),
    ],
)
def test_parse_statement(statement, name, binders, prop):
    parsed = parse_statement(statement)
    assert (parsed.name, parsed.binders, parsed.proposition) == (name, binders, prop)


def test_statement_as_a_hypothesis_is_universally_closed():
    assert parse_statement("theorem h (x : Nat) : x = x").as_proposition() == "∀ (x : Nat)\n, x = x"
    assert parse_statement("theorem h : 1 = 1").as_proposition() == "1 = 1"


def test_a_restated_header_is_replaced_by_the_verifiers_own():
    prepared = _prepare(3, Snippet("theorem t : 1 + 1 = 2", "```lean\ntheorem t : True := by decide\n```"))
    assert isinstance(prepared, _Prepared) and prepared.mode is Mode.THEOREM
    assert prepared.source.startswith("theorem thm : 1 + 1 = 2\n:=") and "True" not in prepared.source
    assert prepared.source.encode()[prepared.assign :].startswith(b":=")


def test_every_part_of_a_verifier_written_header_ends_its_line():
    """A trailing `--` comment in the statement or a hypothesis ends with its line, before the verifier's `:=`."""
    snippet = Snippet("theorem t (a : Nat) -- a number\n : a = a -- obvious", "rfl", hypotheses=(("h", "True -- yes"),))
    prepared = _prepare(0, snippet)
    assert isinstance(prepared, _Prepared)
    assert prepared.source == "theorem thm (h : True -- yes\n) (a : Nat) -- a number\n: a = a -- obvious\n:=\n  rfl"
    assert prepared.source.encode()[prepared.assign :].startswith(b":=\n")


def test_a_proof_at_column_zero_is_indented_under_its_theorem():
    prepared = _prepare(0, Snippet("theorem t : True", "by\nexact trivial"))
    assert isinstance(prepared, _Prepared)
    assert prepared.source.endswith(":=\n  by\n  exact trivial")


def test_complete_snippets_split_into_declarations():
    decls = split_declarations("lemma a : True := trivial\nexample : 1 = 1 := rfl\nopen Nat\ndef two := 2\nexample : two = 2 := rfl")
    assert [(d.keyword, d.name) for d in decls] == [
        ("theorem", "a"), ("theorem", "example_1"), ("open", None), ("def", "two"), ("theorem", "example_2"),
    ]  # fmt: skip
    assert decls[1].text == "theorem example_1 : 1 = 1 := rfl"


@pytest.mark.parametrize(
    "code",
    [
        "instance : Inhabited Nat := ⟨0⟩", "theorem a : True := trivial\nstructure S where x : Nat", "rfl",
        "open Nat in theorem a : True := trivial", "variable [inst : Inhabited False]\ntheorem t : 1 = 2 := default",
    ],
)
def test_complete_snippets_allow_only_declarations(code):
    with pytest.raises(PolicyViolation):
        split_declarations(code)


def test_lone_surrogates_and_nul_are_rejected_not_raised():
    for bad in ("by \ud800", "by\x00rfl"):
        result = _prepare(0, Snippet("theorem t : True", bad))
        assert not isinstance(result, _Prepared) and result.outcome is Outcome.REJECTED


# -- step proofs -------------------------------------------------------------------------------------------------


def test_formal_proof_parses_mappings_lists_and_json():
    steps = [{"statement": "theorem a : True", "proof": "trivial"}, {"text": "so on", "verify": False}]
    for data in ({"steps": steps}, steps, json.dumps({"steps": steps})):
        proof = FormalProof.parse(data)
        assert [s.verify for s in proof.steps] == [True, False]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ([], "non-empty"),
        ([{"statement": "theorem a : True"}], "needs a `statement` and a `proof`"),
        ([{"statement": "theorem a : True", "proof": "trivial", "extra": 1}], "unknown field"),
        ([{"statement": 3, "proof": "x"}], "must be a string"),
        ("{not json", "must be JSON"),
    ],
)
def test_formal_proof_errors_say_what_is_wrong(data, message):
    with pytest.raises(ValueError, match=message):
        FormalProof.parse(data)


# -- the record: only the verifier's own, tagged output counts ---------------------------------------------------


def _span(mode: Mode = Mode.THEOREM) -> _Span:
    return _Span(_Prepared(7, "theorem thm : True :=\n  trivial", mode), first_line=10)


def _info(line: int, data: str) -> dict:
    return {"severity": "information", "pos": {"line": line, "column": 0}, "data": data}


def _record(status: str = "ok", *, theorems=(("thm", ["propext:axiom:imported"]),), messages=(), reason="") -> str:
    entries = [[t[0], t[1], t[2] if len(t) > 2 else True] for t in theorems]  # (name, axioms[, declared])
    body = {"status": status, "reason": reason, "messages": list(messages), "theorems": entries}
    return "SNIPPET n0nce 7 " + json.dumps(body)


def test_a_genuine_record_proves():
    result = _evaluate(_span(), [_info(10, _record())], "n0nce")
    assert result is not None and result.outcome is Outcome.PROVED and result.axioms == {"thm": ("propext",)}


@pytest.mark.parametrize(
    "message",
    [
        _info(11, _record()),  # not at the command's own line
        _info(10, _record().replace("n0nce", "guess")),  # wrong nonce
        _info(10, _record().replace(" 7 ", " 8 ")),  # another snippet's index
        {"severity": "warning", "pos": {"line": 10, "column": 0}, "data": _record()},
        _info(10, _record()[:-1]),  # not JSON
        _info(10, _record("proved")),  # not a status the prelude prints
    ],
)
def test_forged_or_misplaced_records_leave_the_snippet_unchecked(message):
    assert _evaluate(_span(), [message], "n0nce") is None  # unchecked, never proved


def test_two_records_for_one_snippet_leave_it_unchecked():
    assert _evaluate(_span(), [_info(10, _record()), _info(10, _record())], "n0nce") is None


def test_crlf_is_read_as_lf_so_the_verifiers_assignment_stays_where_it_is():
    prepared = _prepare(0, Snippet("theorem t (a : Nat)\r\n : a = a", "by\r\n  rfl"))
    assert isinstance(prepared, _Prepared) and "\r" not in prepared.source
    assert prepared.source.encode()[prepared.assign :].startswith(b":=\n")


def test_no_messages_at_all_is_unchecked_not_proved():
    assert _evaluate(_span(), [], "n0nce") is None


def test_an_error_fails_the_snippet_even_in_a_record_that_says_ok():
    record = _record(messages=[["error", 2, 2, "unsolved goals"]])
    result = _evaluate(_span(), [_info(10, record)], "n0nce")
    assert result is not None and result.outcome is Outcome.FAILED and result.reason == "unsolved goals"
    assert result.messages[0].line == 2  # in the snippet as checked


@pytest.mark.parametrize(
    ("record", "outcome", "reason"),
    [
        (_record("rejected", theorems=(), reason="the syntax `Lean.Parser.Tactic.runTac` is not allowed"), Outcome.REJECTED, "runTac"),
        (_record("failed", theorems=(), reason="`Foo.False` shadows `False`"), Outcome.FAILED, "shadows"),
        (_record(theorems=()), Outcome.FAILED, "no theorem"),
        (_record(theorems=(("other", []),)), Outcome.FAILED, "no theorem"),  # the verifier's `thm` is missing
        (_record(theorems=(("thm", ["sorryAx:axiom:imported"]),)), Outcome.FAILED, "sorry"),
        (_record(theorems=(("thm", []), ("helper", ["cheat:axiom:local"]))), Outcome.FAILED, "cheat"),
        (_record(theorems=(("thm", []), ("ok.bad", ["sorryAx:axiom:imported"], False))), Outcome.FAILED, "sorry"),
        (_record(theorems=(("thm", [], False),)), Outcome.FAILED, "no theorem"),  # an auxiliary `thm` is not it
    ],
)
def test_records_that_do_not_prove(record, outcome, reason):
    result = _evaluate(_span(), [_info(10, record)], "n0nce")
    assert result is not None and result.outcome is outcome and reason in result.reason


def test_a_placeholder_may_depend_on_the_verifiers_own_sorry():
    record = _record(theorems=(("thm", ["sorryAx:axiom:imported"]),))
    result = _evaluate(_span(Mode.PLACEHOLDER), [_info(10, record)], "n0nce")
    assert result is not None and result.outcome is Outcome.PROVED


def test_a_snippet_travels_as_a_raw_string_it_cannot_end():
    for text in ['"#', 'x "## y', "plain", 'a "# "### b']:
        literal = _raw_string(text)
        hashes = literal[1 : literal.index('"')]
        assert literal == f'r{hashes}"{text}"{hashes}' and f'"{hashes}' not in text


@pytest.mark.parametrize("depth", [201, 3000])
def test_deep_nesting_is_refused_before_lean(depth):
    result = _prepare(0, Snippet("theorem t : True", "by exact " + "(" * depth + "trivial" + ")" * depth))
    assert isinstance(result, SnippetResult) and result.outcome is Outcome.REJECTED and "nested" in result.reason


def test_nesting_within_the_limit_is_left_to_lean():
    assert isinstance(_prepare(0, Snippet("theorem t : True", "by exact " + "(" * 200 + "trivial" + ")" * 200)), _Prepared)


def test_the_allowlist_refuses_what_can_run_code_or_change_checking():
    kinds = set(allowed_syntax())
    assert {"Lean.Parser.Term.app", "Lean.Parser.Tactic.omega", "Lean.Parser.Command.theorem"} <= kinds
    refused = {
        "Lean.Parser.Tactic.runTac", "Lean.Parser.Tactic.nativeDecide", "Lean.Parser.Tactic.set_option",
        "Lean.Parser.Term.set_option", "Lean.Parser.Term.sorry", "Lean.Parser.Tactic.tacticSorry", "Lean.byElab",
        "Lean.Parser.Command.instance", "Lean.Parser.Command.variable", "Lean.Parser.Command.in",
        "Lean.Parser.Term.attributes", "Lean.Parser.Command.unsafe", "Lean.Parser.Command.partial",
        "Lean.Parser.Term.quot", "Lean.includeStr", "Lean.Parser.Command.axiom", "Lean.Parser.Command.opaque",
    }  # fmt: skip
    assert not kinds & refused


@pytest.mark.parametrize(
    ("entries", "verdict"),
    [
        (("propext:axiom:imported", "Classical.choice:axiom:imported", "Quot.sound:axiom:imported"), None),
        (("Nat.add_comm:axiom:imported",), None),  # an imported library theorem seen as an axiom in module mode
        (("sorryAx:axiom:imported",), "sorry"),
        (("Lean.ofReduceBool:axiom:imported",), "compiler"),
        (("Lean.trustCompiler:axiom:imported",), "compiler"),
        (("_private.Batch.0.S.cheat:axiom:local",), "outside the trusted library"),
        (("S.secret:opaque:local",), "outside the trusted library"),
    ],
)
def test_axiom_policy(entries, verdict):
    reason = _judge_axioms(entries)
    assert (reason is None) if verdict is None else (verdict in reason)


# -- the verifier without Lean -----------------------------------------------------------------------------------


def test_lean_statements_route_to_lean():
    assert guess_domain("theorem t (a b : Nat) : a + b = b + a") == "lean"
    assert guess_domain("example : True") == "lean"
    assert guess_domain({"steps": []}) == "lean"
    assert guess_domain("the theorem of Pythagoras") == "text"


def test_a_missing_toolchain_is_an_error_verdict_not_a_zero(monkeypatch):
    monkeypatch.setenv("VERIFIERS_LEAN", "/nonexistent/lean")
    verifier = verifiers.get_verifier("lean", timeout=5.0)  # fresh settings: a fresh instance
    verdict = verifier.verify(Sample("by omega", "theorem t (a : Nat) : a = a"))
    assert verdict.status is Status.ERROR and verdict.reward is None
    assert "VERIFIERS_LEAN" in verdict.reason


def test_without_lean_nothing_is_scored(monkeypatch):
    monkeypatch.setenv("VERIFIERS_LEAN", "/nonexistent/lean")
    verdicts = verifiers.get_verifier("lean", timeout=6.0).verify_batch(
        [Sample("by sorry", "theorem t : False"), Sample('["trivial"]', {"steps": [{"statement": "theorem a : True"}]})]
    )
    assert [v.status for v in verdicts] == [Status.ERROR, Status.ERROR]


def test_bad_samples_and_options_are_error_verdicts():
    lean = verifiers.get_verifier("lean")
    assert lean.verify(Sample("x", reference={"nothing": 1})).status is Status.ERROR
    assert lean.verify(Sample("x", reference=3.5)).status is Status.ERROR
    assert lean.verify(Sample("x", reference="theorem t : True", metadata={"timeout": -1})).status is Status.ERROR
    with pytest.raises(verifiers.OptionError):
        verifiers.get_verifier("lean", processes=0)


def test_lean_doctor_reports_a_missing_toolchain(monkeypatch, capsys):
    from verifiers.cli import main

    monkeypatch.setenv("VERIFIERS_LEAN", "/nonexistent/lean")
    assert main(["lean", "doctor", "--no-check"]) == 1
    report = json.loads(capsys.readouterr().out)
    assert report["available"] is False and report["selected_by"] == "VERIFIERS_LEAN"
    assert "not an executable" in report["reason"]


def test_lean_doctor_describes_a_native_lean(monkeypatch, capsys, tmp_path):
    fake = tmp_path / "lean"
    fake.write_text("#!/bin/sh\necho 'Lean (version 4.99.0, x86_64-unknown-linux-gnu, Release)'\n")
    fake.chmod(0o755)
    monkeypatch.setenv("VERIFIERS_LEAN", str(fake))
    assert main_ok(["lean", "doctor", "--no-check"], capsys)["version"].startswith("Lean (version 4.99.0")


def main_ok(argv, capsys):
    from verifiers.cli import main

    assert main(argv) == 0
    return json.loads(capsys.readouterr().out)


@pytest.mark.parametrize("command", ["simproc", "dsimproc", "grind_pattern", "unseal", "register_simp_attr", "add_decl_doc"])
def test_commands_that_register_meta_code_or_global_state_are_rejected(command):
    with pytest.raises(PolicyViolation):
        proof_body(f"rfl\n{command} foo")
    with pytest.raises(PolicyViolation):
        split_declarations(f"theorem a : True := trivial\n{command} foo")


@pytest.mark.parametrize(
    "hypotheses", [(("h x", "True"),), (("h", "by sorry"),), (("h", "True) (x : False"),), (("h", "#exit"),)]
)
def test_hypotheses_of_a_snippet_are_policy_checked(hypotheses):
    result = _prepare(0, Snippet("theorem t : True", "trivial", hypotheses=hypotheses))
    assert not isinstance(result, _Prepared) and result.outcome is Outcome.REJECTED


@pytest.mark.parametrize("statement", ["theorem t : True) (x : False", "theorem t (a : Nat : a = a", "theorem t : ⟨1, 2) = x"])
def test_statements_with_unbalanced_brackets_are_rejected(statement):
    with pytest.raises(PolicyViolation, match="unbalanced|unclosed"):
        parse_statement(statement)


def test_an_unusable_reference_statement_is_an_error_not_the_models_fault():
    lean = verifiers.get_verifier("lean")
    for reference in ("open Nat in theorem t : True", "theorem t (x : sorry) : True", "theorem t : (1 = 1"):
        verdict = lean.verify(Sample("trivial", reference))
        assert verdict.status is Status.ERROR and "reference statement" in verdict.reason


def test_install_prune_removes_only_other_installations(monkeypatch, tmp_path, capsys):
    from verifiers.formal import toolchain

    monkeypatch.setenv("VERIFIERS_LEAN_HOME", str(tmp_path))
    current = toolchain.wasm_home()
    for name in (current.name, "wasm-0ld", "wasm-01der"):
        (tmp_path / name).mkdir()
    (tmp_path / "wasm-0ld" / "lib").mkdir()
    (tmp_path / "unrelated").mkdir()
    assert [p.name for p in toolchain.stale_installs()] == ["wasm-01der", "wasm-0ld"]
    assert [p.name for p in toolchain.prune_stale_installs()] == ["wasm-01der", "wasm-0ld"]
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([current.name, "unrelated"])


# -- step proofs: the response is what is checked, an unchecked step never makes the whole correct ---------------

STEP_REFERENCE = {
    "steps": [
        {"statement": "theorem h1 : 2 + 2 = 4", "proof": "by decide"},  # the reference's proof is never used
        {"statement": "theorem h2 : 2 + 2 + 1 = 5"},
    ]
}


def test_a_step_reference_takes_its_proofs_from_the_response():
    proof = _step_job(STEP_REFERENCE, json.dumps({"steps": [{"proof": "rfl"}, {"statement": "theorem h2 : 2 + 2 + 1 = 5", "proof": "by omega"}]}))
    assert [(s.statement, s.proof) for s in proof.steps] == [
        ("theorem h1 : 2 + 2 = 4", "rfl"), ("theorem h2 : 2 + 2 + 1 = 5", "by omega"),
    ]  # fmt: skip
    assert [s.proof for s in _step_job(STEP_REFERENCE, '["rfl", "by omega"]').steps] == ["rfl", "by omega"]


@pytest.mark.parametrize(
    ("response", "message"),
    [
        ("", "not a JSON step proof"),
        ("by decide", "not a JSON step proof"),
        ('{"answer": 1}', "not a JSON step proof"),
        ('["rfl"]', "has 1 steps, the reference 2"),
        ('["rfl", ""]', "step 2 has no proof"),
        ('[{"proof": "rfl"}, {"statement": "theorem h2 : True", "proof": "trivial"}]', "different statement"),
    ],
)
def test_a_step_response_that_does_not_answer_the_reference_is_the_models_fault(response, message):
    with pytest.raises(_BadResponse, match=message):
        _step_job(STEP_REFERENCE, response)
    (verdict,) = verifiers.get_verifier("lean").verify_batch([Sample(response, STEP_REFERENCE)])
    assert verdict.status is Status.INCORRECT and verdict.score == 0.0


def _proof_verdict(steps: list[dict], outcomes: list[StepOutcome]) -> verifiers.Verdict:
    proof = FormalProof.parse(steps)
    results = [StepResult(f"s{i}", o) for i, o in enumerate(outcomes)]
    return verifiers.get_verifier("lean")._proof_verdict(proof, results, "test")


def test_an_unverified_statement_that_later_steps_assume_keeps_the_whole_from_being_correct():
    steps = [{"statement": "theorem h : False", "verify": False}, {"statement": "theorem t : 1 = 2", "proof": "h.elim"}]
    verdict = _proof_verdict(steps, [StepOutcome.SKIPPED, StepOutcome.PROVED])
    assert verdict.status is Status.PARTIAL and verdict.score == 0.5
    assert verdict.evidence["unverified_assumptions"] == ["s0"]


def test_unverified_prose_steps_do_not_count():
    steps = [{"text": "by the above", "verify": False}, {"statement": "theorem t : 1 = 1", "proof": "rfl"},
             {"statement": "theorem u : True", "verify": False}]  # fmt: skip
    verdict = _proof_verdict(steps, [StepOutcome.SKIPPED, StepOutcome.PROVED, StepOutcome.SKIPPED])
    assert verdict.status is Status.CORRECT and verdict.score == 1.0
