import Lean
/-
The verifier's trusted prelude, written at the top of every batch file with a fresh per-run nonce in place of
__NONCE__ (a snippet cannot know it, so it can neither call nor forge this command's output).

`#audit___NONCE__ k Name` prints one line, as an information message at the command's own position:
  AUDIT <nonce> <k> <resolved name> OK <axiom>:<kind>:<origin> ...    or    AUDIT <nonce> <k> <name> MISSING
where the list is what `Lean.collectAxioms` finds for the declaration. In files elaborated as modules, imported
theorems appear in that list as axioms (their proofs are not loaded); `origin` says whether a name comes from the
imported library or from this file, and the Python side decides what is allowed.

Only explicit structural recursion and non-inlined library functions are used: this WebAssembly build has no
IR for private library helpers, so code that specializes `foldl`/`map`/`logInfo` fails to compile.
-/
__META__def audit__NONCE__Kind (env : Lean.Environment) (n : Lean.Name) : String :=
  let origin := match env.getModuleIdxFor? n with
    | some _ => "imported"
    | none => "local"
  let kind := match env.find? n with
    | some (.axiomInfo _) => "axiom"
    | some (.thmInfo _) => "theorem"
    | some (.opaqueInfo _) => "opaque"
    | some (.defnInfo _) => "def"
    | some _ => "other"
    | none => "missing"
  n.toString ++ ":" ++ kind ++ ":" ++ origin

__META__def audit__NONCE__Join (env : Lean.Environment) (axs : Array Lean.Name) : Nat → Nat → String
  | 0, _ => ""
  | fuel + 1, i => if _ : i < axs.size then
      " " ++ audit__NONCE__Kind env axs[i] ++ audit__NONCE__Join env axs fuel (i + 1) else ""

elab "#audit___NONCE__ " k:num ns:ident : command => do
  let env ← Lean.getEnv
  let n := if (env.find? ns.getId).isSome then ns.getId else Lean.mkPrivateName env ns.getId
  let tag := "AUDIT __NONCE__ " ++ toString k.getNat ++ " " ++ n.toString
  match env.find? n with
  | none => IO.println (tag ++ " MISSING")
  | some _ =>
    let axs ← Lean.collectAxioms n
    IO.println (tag ++ " OK" ++ audit__NONCE__Join env axs axs.size 0)

/- Marks the end of the prelude: from here on the watchdog gives each snippet its own wall-clock budget. -/
elab "#ready___NONCE__" : command => IO.println "READY __NONCE__"
#ready___NONCE__
