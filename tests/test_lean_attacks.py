"""The Lean attack battery: every class of exploit that once made `1 = 2` (or another false theorem) CORRECT.

Each attack is checked twice: end to end through `verify_batch` (the Python pre-filter first, then Lean), and
straight through Lean with the pre-filter bypassed (`_check_chunk` on prepared snippets), because the decision
must hold on Lean's own parse even where the Python lexer is fooled. One Lean process per fixture where it can
(slow under WebAssembly: ~15 s of start-up each): the end-to-end samples, step proofs included, are one batch.
"""

from __future__ import annotations

import json
import random

import pytest
from support.sampling import trials

import verifiers
from verifiers import Sample, Status
from verifiers.formal import LeanChecker, Outcome, Snippet
from verifiers.formal.checker import MAX_CHARS, Mode, _Prepared

pytestmark = pytest.mark.slow

# Meta code that adds `evil : False` with the kernel switched off, then closes the goal with it.
_EVIL = (
    "run_tac do\n"
    "    Lean.withOptions (fun o => o.setBool `debug.skipKernelTC true) <| Lean.addDecl <| .thmDecl\n"
    "      { name := `evil, levelParams := [], type := Lean.mkConst ``False, value := Lean.mkConst ``True.intro }\n"
    "  exact (evil : False).elim"
)

# Proofs of the false statement `(1 : Nat) = 2`, each hiding its payload from a lexer that is not Lean's.
PROOFS = {
    "a char literal glued to a parenthesis desyncs the string lexer": f"by\n  have _c : Char := ('\"')  -- \"\n  {_EVIL}",
    "an interpolated string hides a term": 's!"{show Nat from by\n  ' + _EVIL + '\n  }".length.succ_ne_zero.elim',
    "a Unicode letter glued to run_tac": "by\n  run_tacλ _ => pure ()\n  exact (evil : False).elim",
    "run_tac switching the kernel off": f"by\n  {_EVIL}",
    "set_option inside a proof": "by\n  set_option debug.skipKernelTC true in exact (sorry : False).elim",
    "by_elab": "by_elab pure (Lean.mkApp (Lean.mkConst ``sorryAx [Lean.levelZero]) (Lean.mkConst ``False))",
    "sorryAx by name": "(sorryAx False false).elim",
    "decide +native runs compiled code": "by decide +native",
    "ofReduceBool runs compiled code": "(Lean.ofReduceBool (fun _ => true) true rfl).elim",
}
# Refused by the pre-filter: Lean's own parser overflows the WebAssembly stack on it (then the batch is split and
# the snippet alone gets ERROR), so it is not part of the Lean-only run.
NESTED = "by exact " + "(" * 3000 + "sorry" + ")" * 3000

# Complete snippets (no reference) that claim something false or smuggle a premise or a shadowed name.
SNIPPETS = {
    "a hidden variable premise": "variable [inst : Inhabited False]\ntheorem t : (1 : Nat) = 2 := (default : False).elim",
    "a root definition of False": "def False : Prop := True\ntheorem t : False := trivial",
    "a shadowing False in a namespace": "def Foo.False : Prop := True\ntheorem Foo.t : False := trivial",
    "a shadowing Nat.add": "def Foo.Nat.add (_ _ : Nat) : Nat := 5\ntheorem Foo.t : Nat.add 2 2 = 5 := rfl",
    "an axiom": "axiom cheat : False\ntheorem t : (1 : Nat) = 2 := cheat.elim",
    "unif_hint": "unif_hint (n : Nat) where n =?= 1 ⊢ n =?= 2\ntheorem t : (1 : Nat) = 1 := rfl",
    "with_weak_namespace": "with_weak_namespace Foo\ntheorem t : (1 : Nat) = 2 := by decide",
    "an instance": "instance (priority := high) : HAdd Nat Nat Nat := ⟨fun _ _ => 5⟩\ntheorem t : 2 + 2 = 5 := rfl",
    "a _root_ theorem behind a char-literal desync": (
        "theorem vis : True := trivial\ndef hideA : Char := ('\"')\ntheorem _root_.bad : (1 : Nat) = 2 := by apply?\n"
        "def hideB : Char := ('\"')"
    ),
    "an example behind a char-literal desync": (
        "theorem vis : True := trivial\ndef hideA : Char := ('\"')\nexample : (1 : Nat) = 2 := by apply?\n"
        "def hideB : Char := ('\"')"
    ),
    "an unused where lemma closed by apply?": "theorem ok : True := trivial\nwhere bad : (1 : Nat) = 2 := by apply?",
    "a definition closed by apply?": "def d : (1 : Nat) = 2 := by apply?\ntheorem ok : True := trivial",
    "grind's own sorry": "theorem t : (1 : Nat) = 2 := by grind => sorry",
    "meta code switching the kernel off": (
        "open Lean Elab Command in\nrun_cmd liftCoreM <| withOptions (fun o => o.setBool `debug.skipKernelTC true) <|\n"
        "  addDecl <| .thmDecl { name := `evil, levelParams := [], type := mkConst ``False, value := mkConst ``True.intro }\n"
        "theorem t : (1 : Nat) = 2 := evil.elim"
    ),
}

# A snippet that poisons `+` for whatever follows it in the same batch, hidden behind the char-literal desync.
POISON = (
    "theorem p : True := by\n  have _c : Char := ('\"')  -- \"\n  trivial\n"
    "instance (priority := high) : HAdd Nat Nat Nat := ⟨fun _ _ => 5⟩\ntheorem q : True := trivial"
)
AFTER_POISON = {
    "theorem w (a b : Nat) : a + b = 5 := rfl": False,
    "theorem h : 2 + 2 = 4 := rfl": True,
}

HONEST = {
    "theorem t (a b : Nat) : a + b = b + a := Nat.add_comm a b": True,
    "def double (n : Nat) : Nat := n + n\ntheorem double_two : double 2 = 4 := rfl": True,
    "open Nat\ntheorem s (n : Nat) : succ n ≠ 0 := succ_ne_zero n": True,
    "private theorem p (p q : Prop) (hp : p) (hq : q) : p ∧ q := ⟨hp, hq⟩": True,
    "theorem f (xs : List Nat) : (xs ++ []).length = xs.length := by simp": True,
    "theorem g : ∀ n : Nat, n + 0 = n := by\n  intro n\n  induction n with\n  | zero => rfl\n  | succ k ih => omega": True,
    'theorem c : "ab".length = 2 := by decide': True,
    "theorem i : (s!\"{1 + 1}\").length ≥ 0 := Nat.zero_le _": True,
    "def fib : Nat → Nat\n  | 0 => 0\n  | 1 => 1\n  | n + 2 => fib n + fib (n + 1)\ntheorem fib5 : fib 5 = 5 := by simp [fib]": True,
    "def half (n : Nat) : Nat := if n < 2 then 0 else 1 + half (n - 2)\ntheorem half4 : half 4 = 2 := by simp [half]": True,
    "theorem ok : 2 + 2 = 4 := aux\nwhere aux : 2 + 2 = 4 := rfl": True,
}

# Statements whose last line ends in a comment: the verifier's `:=` must not be swallowed (the proof would then
# continue the statement); honest proofs of such statements still check.
STATEMENTS = {
    "a trailing comment after the proposition": ("theorem t : (1 : Nat) = 2 -- hard", "∨ True := Or.inr trivial", False),
    "a comment after the binders": ("theorem t (a : Nat) -- a natural number\n    : a = a + 1", ": (0 : Nat) = 0 := rfl", False),
    "a comment before a trailing sorry": ("theorem t : ∀ n : Nat, n < 0  -- (Lean 4)\n:= by sorry", "∨ True := fun _ => Or.inr trivial", False),
    "an honest proof of a commented statement": ("theorem t (a : Nat) -- a number\n : a + 0 = a -- easy", "by simp", True),
}


def _grouped(results: list) -> dict:
    """Results for PROOFS, SNIPPETS, POISON, AFTER_POISON and HONEST (checked in that order), by group and case."""
    groups = {}
    for name, cases in (("proofs", PROOFS), ("snippets", SNIPPETS), ("poison", [POISON]),
                        ("after_poison", AFTER_POISON), ("honest", HONEST)):  # fmt: skip
        groups[name] = dict(zip(cases, results[: len(cases)]))
        results = results[len(cases) :]
    return groups


# Step proofs: one resting on a step that is not verified, an empty response, a right and a half-right answer.
_STEP_REFERENCE = {"steps": [{"statement": "theorem a : 2 + 2 = 4"}, {"statement": "theorem b : 3 + 3 = 6"}]}
STEP_PROOFS = [
    Sample(json.dumps({"steps": [
        {"statement": "theorem h : False", "verify": False},
        {"statement": "theorem t : (1 : Nat) = 2", "proof": "h.elim"},
    ]}), None, domain="lean"),
    Sample("", _STEP_REFERENCE),
    Sample(json.dumps(["by decide", "by decide"]), _STEP_REFERENCE),
    Sample(json.dumps(["by decide", "rfl"]),
           {"steps": [{"statement": "theorem a : 2 + 2 = 4"}, {"statement": "theorem b : 3 + 3 = 7"}]}),
]  # fmt: skip


def _padded_proof(statement: str, size: int) -> Sample:
    """A right proof of `statement` with a comment that makes statement and proof `size` characters together."""
    proof = "by\n  -- \n  rfl"
    pad = size - len(statement) - len(proof)
    return Sample(proof.replace("-- ", "-- " + "x" * pad), statement)


# A right proof at the size limit is checked; one character more is refused before Lean runs (the attack: megabytes
# of junk that cost Lean tens of seconds each).
SIZED = {
    "at the limit": _padded_proof("theorem t : (1 : Nat) = 1", MAX_CHARS),
    "one character over": _padded_proof("theorem t : (1 : Nat) = 1", MAX_CHARS + 1),
}


@pytest.fixture(scope="module")
def end_to_end(lean_toolchain):
    """Every end-to-end sample in one `verify_batch`: the theorems and the step proofs share one Lean run."""
    samples = [Sample(p, "theorem t : (1 : Nat) = 2") for p in PROOFS.values()]
    samples += [Sample(code, None, domain="lean") for code in [*SNIPPETS.values(), POISON, *AFTER_POISON, *HONEST]]
    statements = [Sample(proof, statement) for statement, proof, _ in STATEMENTS.values()]
    nested = Sample(NESTED, "theorem t : (1 : Nat) = 2")
    verdicts = verifiers.verify_batch([*samples, *statements, nested, *SIZED.values(), *STEP_PROOFS])
    after = len(samples) + len(statements)
    return {
        **_grouped(verdicts[: len(samples)]),
        "statements": dict(zip(STATEMENTS, verdicts[len(samples) : after])),
        "nested": verdicts[after],
        "sized": dict(zip(SIZED, verdicts[after + 1 : after + 1 + len(SIZED)])),
        "step_proofs": verdicts[after + 1 + len(SIZED) :],
    }


@pytest.mark.parametrize("case", STATEMENTS)
def test_a_statement_ends_where_the_verifier_ends_it(end_to_end, case):
    verdict = end_to_end["statements"][case]
    assert (verdict.status is Status.CORRECT) == STATEMENTS[case][2], verdict.reason


def test_deep_nesting_is_a_clear_refusal(end_to_end):
    verdict = end_to_end["nested"]
    assert verdict.status is Status.INCORRECT and "nested deeper than" in verdict.reason


def test_a_proof_over_the_size_limit_is_refused_and_one_at_it_is_checked(end_to_end):
    at_limit, over = end_to_end["sized"]["at the limit"], end_to_end["sized"]["one character over"]
    assert at_limit.status is Status.CORRECT, at_limit.reason
    assert over.status is Status.INCORRECT and f"the limit is {MAX_CHARS:,}" in over.reason


# Lean's side alone, as if the Python pre-filter had a hole: what the audit must refuse (proved?), checked in the
# same run as the attacks.
BYPASS = {
    "sorry": ("theorem thm : 1 = 2 := by sorry", False),
    "sorryAx by name": ("theorem thm : 1 = 2 := sorryAx _ false", False),
    "ofReduceBool by name": ("theorem thm : 1 = 2 := Lean.ofReduceBool _ _ (Eq.refl _) |> fun _ => sorryAx _ false", False),
    "sorry with warn.sorry off": ("set_option warn.sorry false in\ntheorem thm : 1 = 2 := by sorry", False),
    "sorry hidden in a macro": ('macro "done!" : tactic => `(tactic| sorry)\ntheorem thm : 1 = 2 := by done!', False),
    "an injected axiom": ("axiom cheat : 1 = 2\ntheorem thm : 1 = 2 := cheat", False),
    "an axiom behind a helper lemma": ("axiom cheat : False\ntheorem h : 1 = 2 := cheat.elim\ntheorem thm : 1 = 2 := h", False),
    "native_decide": ("theorem thm : 2 + 2 = 4 := by native_decide", False),
    "implemented_by and native_decide": (
        "def f (_ : Nat) : Bool := false\n@[implemented_by f] def g (_ : Nat) : Bool := true\n"
        "theorem thm : g 0 = false := by native_decide",
        False,
    ),
    "#exit stops the file": ("theorem thm : 1 = 1 := rfl\n#exit", False),
    "after the #exit": ("theorem thm : 2 = 2 := rfl", True),
    "a plain good proof": ("theorem thm (a b : Nat) : a + b = b + a := by omega", True),
}


@pytest.fixture(scope="module")
def lean_only(lean_toolchain):
    """The same attacks, and `BYPASS`, with the Python pre-filter bypassed: Lean's side decides alone, in one run."""
    header = "theorem thm : (1 : Nat) = 2\n"
    prepared = [_Prepared(i, f"{header}:=\n  {p}", Mode.THEOREM, len(header)) for i, p in enumerate(PROOFS.values())]
    for code in [*SNIPPETS.values(), POISON, *AFTER_POISON, *HONEST]:
        prepared.append(_Prepared(len(prepared), code, Mode.CODE))
    # The old header, on one line: the statement's comment swallows the verifier's `:=` (at byte `assign`).
    swallowed = "theorem thm : (1 : Nat) = 2 -- hard :=\n  ∨ True := Or.inr trivial"
    prepared.append(_Prepared(len(prepared), swallowed, Mode.THEOREM, len(swallowed.split(":=")[0].encode())))
    bypass = len(prepared)
    prepared += [_Prepared(bypass + i, source, Mode.CODE) for i, (source, _) in enumerate(BYPASS.values())]
    checker = LeanChecker(lean_toolchain, processes=1)
    results = checker._check_chunk(prepared)
    ordered = [results[i] for i in range(len(prepared))]
    return {
        **_grouped(ordered[: bypass - 1]),
        "swallowed": ordered[bypass - 1],
        "bypass": dict(zip(BYPASS, ordered[bypass:])),
        "runs": checker.runs,
    }


def test_lean_refuses_a_statement_that_swallows_the_verifiers_assignment(lean_only):
    result = lean_only["swallowed"]
    assert result.outcome is Outcome.REJECTED and "does not end where the verifier ended it" in result.reason


@pytest.mark.parametrize("case", BYPASS)
def test_the_audit_refuses_what_the_policy_would_miss(lean_only, case):
    result = lean_only["bypass"][case]
    assert (result.outcome is Outcome.PROVED) == BYPASS[case][1], (result.outcome, result.reason)


def test_lean_names_what_it_refuses(lean_only):
    results = lean_only["bypass"]
    assert "sorryAx" in results["sorryAx by name"].reason
    assert results["sorry"].outcome is Outcome.REJECTED and "tacticSorry" in results["sorry"].reason
    assert "Command.axiom" in results["an injected axiom"].reason
    assert "nativeDecide" in results["native_decide"].reason
    assert "attributes" in results["implemented_by and native_decide"].reason


def test_a_snippet_cannot_end_the_file_so_one_run_decides_all(lean_only):
    results = lean_only["bypass"]
    assert results["#exit stops the file"].outcome is Outcome.REJECTED
    assert results["after the #exit"].outcome is Outcome.PROVED
    assert lean_only["runs"] == 1


@pytest.mark.parametrize("attack", PROOFS)
def test_no_proof_of_a_false_statement_is_accepted(end_to_end, lean_only, attack):
    verdict = end_to_end["proofs"][attack]
    assert verdict.status is not Status.CORRECT and verdict.score == 0.0, verdict.reason
    result = lean_only["proofs"][attack]
    assert result.outcome is not Outcome.PROVED, result
    assert "without a verdict" not in result.reason  # refused or failed with a reason, never unchecked


@pytest.mark.parametrize("attack", SNIPPETS)
def test_no_snippet_with_a_hidden_premise_or_a_shadowed_name_is_accepted(end_to_end, lean_only, attack):
    verdict = end_to_end["snippets"][attack]
    assert verdict.status is not Status.CORRECT and verdict.score == 0.0, verdict.reason
    result = lean_only["snippets"][attack]
    assert result.outcome in (Outcome.REJECTED, Outcome.FAILED), result


def test_lean_refuses_the_payloads_by_their_syntax(lean_only):
    proofs, snippets = lean_only["proofs"], lean_only["snippets"]
    for attack in ("a char literal glued to a parenthesis desyncs the string lexer", "an interpolated string hides a term",
                   "a Unicode letter glued to run_tac", "run_tac switching the kernel off"):  # fmt: skip
        assert proofs[attack].outcome is Outcome.REJECTED and "runTac" in proofs[attack].reason
    assert "variable" in snippets["a hidden variable premise"].reason
    assert "shadows `False`" in snippets["a shadowing False in a namespace"].reason
    assert "shadows `Nat.add`" in snippets["a shadowing Nat.add"].reason
    assert "sorryAx" in proofs["sorryAx by name"].reason
    for attack in ("decide +native runs compiled code", "ofReduceBool runs compiled code"):  # nothing of it ever runs
        assert proofs[attack].outcome is Outcome.REJECTED and "compiled code" in proofs[attack].reason
    assert "example" in snippets["an example behind a char-literal desync"].reason
    assert "sorryAx" in snippets["a _root_ theorem behind a char-literal desync"].reason
    assert "sorryAx" in snippets["an unused where lemma closed by apply?"].reason
    assert "sorryAx" in snippets["a definition closed by apply?"].reason


def test_a_snippet_cannot_poison_its_neighbours(end_to_end, lean_only):
    for results, proved in ((end_to_end["after_poison"], Status.CORRECT), (lean_only["after_poison"], Outcome.PROVED)):
        outcomes = {code: getattr(r, "status", getattr(r, "outcome", None)) for code, r in results.items()}
        assert {code: o is proved for code, o in outcomes.items()} == AFTER_POISON


def test_honest_snippets_stay_correct(end_to_end, lean_only):
    assert {code: v.status is Status.CORRECT for code, v in end_to_end["honest"].items()} == HONEST
    assert {code: r.outcome is Outcome.PROVED for code, r in lean_only["honest"].items()} == HONEST
    assert lean_only["runs"] == 1  # every attack was decided inside the one Lean run


def test_verdicts_do_not_depend_on_batch_order_or_company(lean_toolchain, lean_only):
    """Property: the same snippets, shuffled and split differently, get the same outcomes (so the memo is sound)."""
    sources = [POISON, *AFTER_POISON, *HONEST, *SNIPPETS.values()]
    expected = {**lean_only["after_poison"], **lean_only["honest"]}
    rng = random.Random(16)
    for _ in range(trials(1, 2)):  # each shuffle costs 2-3 Lean runs: the seeded first one, both when full
        order = list(range(len(sources)))
        rng.shuffle(order)
        # the shuffled order in two chunks: every snippet in other company and at another position than in
        # `lean_only`'s single run (more, smaller chunks only add Lean start-ups)
        checker = LeanChecker(lean_toolchain, processes=2, batch_size=-(-len(sources) // 2))  # side by side
        results = checker.check([Snippet(code=sources[i]) for i in order])
        by_source = {sources[i]: r for i, r in zip(order, results)}
        assert {code: by_source[code].outcome for code in expected} == {c: r.outcome for c, r in expected.items()}


def test_a_step_proof_cannot_rest_on_an_unverified_step(end_to_end):
    verdicts = end_to_end["step_proofs"]
    assert verdicts[0].status is Status.PARTIAL and verdicts[0].evidence["unverified_assumptions"] == ["h"]
    assert verdicts[1].status is Status.INCORRECT and verdicts[1].score == 0.0
    assert verdicts[2].status is Status.CORRECT
    assert verdicts[3].status is Status.PARTIAL and verdicts[3].score == 0.5
