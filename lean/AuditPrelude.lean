import Lean
/-
The verifier's trusted prelude, written at the top of every batch file with a fresh per-run nonce in place of
__NONCE__ (a snippet cannot know it, so it can neither call nor forge this command's output), the syntax allowlist
(`AllowedSyntax.txt`) in place of __KINDS__, and `meta ` or nothing in place of __META__.

`#snippet___NONCE__ k mode heartbeats assign r#"<snippet>"#` checks one snippet and prints one line, as an
information message at the command's own position:
  SNIPPET <nonce> <k> <json>
The snippet is never pasted into the file: it is a string that this command
  1. parses with Lean's own parser, in the header's environment (so a snippet cannot change how it is parsed);
  2. refuses (status "rejected") unless every command is allowed for the mode, every syntax node of every command
     has a kind in the allowlist and no identifier names evaluation by compiled code (`compiled`): what is not
     known to be safe is refused before anything is elaborated, and no code of the snippet ever runs;
     in modes 0 and 1 the theorem's `:=` must be the verifier's own, at byte `assign` of the snippet (so nothing in
     the statement, such as a trailing `--` comment, can hand the rest of the statement to the proof);
  3. elaborates the commands with the verifier's options only (`maxHeartbeats`, no async elaboration);
  4. collects every declaration the snippet added (auxiliary ones included), refuses axioms, opaque or unsafe ones
     and names that shadow a declaration of the header's environment (`Foo.False` would be `False` inside
     `Foo.t`), and re-checks each with the kernel in the header's environment (so no elaborator trick, `addDecl`
     from meta code or `debug.skipKernelTC` can produce an unchecked proof);
  5. lists the axioms of the snippet's theorems, and of any other new declaration that has one, in that re-checked
     environment (imported library theorems, whose proofs a module does not load, are left out: the library is
     trusted);
  6. restores the whole command state, so nothing the snippet declared (instances, attributes, notations,
     namespaces, options) is visible to the next snippet: every snippet starts from the same environment.
Modes: 0 = one `theorem thm` written by the verifier (statement + proof); 1 = the same with the verifier's own
`sorry` (does the statement elaborate?); 2 = a complete snippet of theorems, definitions and plain `open`s
(`assign` unused).
The JSON: {"status": "ok" | "failed" | "rejected", "reason": str, "messages": [[severity, line, column, text]],
"theorems": [[name, [axiom entries], declared]]} where `declared` says whether the snippet declared it as a
theorem (false: an auxiliary declaration or a definition listed for its axioms); an axiom entry is
`name:kind:origin`.

Only explicit recursion and non-inlined library functions are used: this WebAssembly build has no IR for private
library helpers, so code that specializes `foldl`/`map`/`HashMap.insert`/`List.length` does not compile.
-/
namespace VerifierPrelude
open Lean Elab Command
-- one declaration at a time: the language server (the persistent worker) would otherwise elaborate these in
-- parallel tasks and run out of its 2 GB WebAssembly heap
set_option Elab.async false

-- Every recursive helper below is `partial`: they are only run, never reasoned about, and `partial` skips their
-- termination proofs, which cost ~3 s of every Lean start-up under WebAssembly.

/-- The lines of a string (`String.splitOn` is not accessible from `meta` code). -/
__META__partial def lines : List Char → String → List String → List String
  | [], cur, acc => cur :: acc
  | c :: cs, cur, acc => if c == '\n' then lines cs "" (cur :: acc) else lines cs (cur.push c) acc

/-- One string, one kind per line, split at run time: a list literal of ~900 strings, or a string the compiler
folds into a list of characters, costs the language server more memory than it has. -/
@[noinline] __META__def allowedText : String := "__KINDS__"

__META__partial def toSet : List String → NameSet → NameSet
  | [], acc => acc
  | k :: ks, acc => toSet ks (acc.insert (Name.mkSimple k))

/-- The allowed kinds as a set of one-component names (a string set with a compiled lookup). -/
__META__def allowed : NameSet := toSet (lines allowedText.toList "" []) {}

__META__partial def mem (s : String) : List String → Bool
  | [] => false
  | x :: xs => x == s || mem s xs

/-- The imported axioms the verifier judges: those it allows and those that mean "not proved". -/
@[noinline] __META__def notableText : String := "__AXIOMS__"

__META__def notable : List String := lines notableText.toList "" []

__META__partial def len {α : Type} : List α → Nat
  | [] => 0
  | _ :: xs => len xs + 1

/-- Names that make Lean run compiled code while it checks (`decide +native`, `Lean.ofReduceBool …`): refused as
identifiers anywhere, config options included, so no snippet code ever runs inside the verifier. -/
__META__def compiled : List String := ["native", "reduceBool", "reduceNat", "ofReduceBool", "ofReduceNat", "trustCompiler"]

mutual
/-- The first node of `stx` whose kind is neither allowed nor `extra`, an identifier naming compiled evaluation,
or a nesting too deep to walk. -/
__META__partial def refused (extra : String) (depth : Nat) (stx : Syntax) : Option String :=
  match stx with
  | .node _ kind args =>
    let k := kind.toString
    if depth > 512 then some "nesting deeper than 512 syntax levels"
    else if allowed.contains (Name.mkSimple k) || k == extra then refusedIn extra (depth + 1) args 0
    else some ("the syntax `" ++ k ++ "` is not allowed")
  | .ident _ _ n _ => match n with
    | .str _ last => if mem last compiled then some ("`" ++ last ++ "` (evaluation by compiled code) is not allowed") else none
    | _ => none
  | _ => none

__META__partial def refusedIn (extra : String) (depth : Nat) (args : Array Syntax) (i : Nat) : Option String :=
  if h : i < args.size then
    match refused extra depth args[i] with
    | some r => some r
    | none => refusedIn extra depth args (i + 1)
  else none
end

__META__partial def parseAll (ictx : Parser.InputContext) (pmctx : Parser.ParserModuleContext)
    (ps : Parser.ModuleParserState) (msgs : MessageLog) (acc : Array Syntax) : Array Syntax × MessageLog :=
  let (cmd, ps', msgs') := Parser.parseCommand ictx pmctx ps msgs
  -- `#exit` is terminal too: it is kept, so that the allowlist refuses it instead of the rest going unread
  if cmd.getKind == ``Lean.Parser.Command.eoi || acc.size > 256 then (acc, msgs')
  else if Parser.isTerminalCommand cmd then (acc.push cmd, msgs')
  else parseAll ictx pmctx ps' msgs' (acc.push cmd)

/-- `(declaration kind, declared name)` of a declaration command; the name is anonymous for `example`. -/
__META__def declOf (cmd : Syntax) : String × Name :=
  if cmd.getKind == ``Lean.Parser.Command.declaration then
    let inner := cmd[1]
    let k := inner.getKind.toString
    if inner.getKind == ``Lean.Parser.Command.example then (k, .anonymous) else (k, inner[1][0].getId)
  else (cmd.getKind.toString, .anonymous)

__META__partial def argsEmpty (args : Array Syntax) (i : Nat) : Bool :=
  if h : i < args.size then args[i].getNumArgs == 0 && argsEmpty args (i + 1) else true

__META__def modifiersEmpty (cmd : Syntax) : Bool :=
  let mods := cmd[0]
  argsEmpty mods.getArgs 0

/-- Whether the `:=` of a verifier-written theorem is the one the verifier wrote, at byte `assign`: a statement
whose end swallows it (a trailing `--` comment, an unclosed bracket) would let the proof continue the statement. -/
__META__def assignAt (cmd : Syntax) (assign : Nat) : Bool :=
  let value := cmd[1][3]
  value.getKind == ``Lean.Parser.Command.declValSimple &&
    (match value[0].getPos? with
      | some p => p.byteIdx == assign
      | none => false)

/-- Why the commands are refused for this mode, or none. -/
__META__partial def refusedCommands (mode assign : Nat) (cmds : Array Syntax) (i : Nat) : Option String :=
  if h : i < cmds.size then
    let cmd := cmds[i]
    let (kind, name) := declOf cmd
    let shape : Option String :=
      if mode != 2 then
        if cmds.size != 1 then some "the proof must not contain other commands"
        else if kind != "Lean.Parser.Command.theorem" || name != `thm || !modifiersEmpty cmd then
          some "the proof must not contain other commands"
        else if !assignAt cmd assign then
          some "the statement does not end where the verifier ended it (a comment or bracket swallows its `:=`)"
        else none
      else if cmd.getKind == ``Lean.Parser.Command.open then none
      else if mem kind ["Lean.Parser.Command.theorem", "Lean.Parser.Command.definition",
          "Lean.Parser.Command.abbrev"] then none
      else if kind == "Lean.Parser.Command.example" then some "an `example` is never audited: name it as a theorem"
      else some ("the command `" ++ kind ++ "` is not allowed in a snippet")
    match shape with
    | some r => some r
    | none => match refused (if mode == 1 then "Lean.Parser.Term.sorry" else "") 0 cmd with
      | some r => some r
      | none => refusedCommands mode assign cmds (i + 1)
  else none

__META__partial def elabAll (cmds : Array Syntax) (i : Nat) : CommandElabM Unit := do
  if h : i < cmds.size then
    elabCommandTopLevel cmds[i]
    elabAll cmds (i + 1)

__META__def clip (s : String) : String :=
  if s.length > 1000 then (s.take 1000).toString ++ " …" else s

__META__partial def messagesJson (msgs : Array Message) (i : Nat) (acc : Array Json) : IO (Array Json × Bool) := do
  if h : i < msgs.size then
    let m := msgs[i]
    let sev := match m.severity with
      | .error => "error"
      | .warning => "warning"
      | .information => "information"
    let text ← m.data.toString
    let entry := Json.arr #[Json.str sev, Json.num m.pos.line, Json.num m.pos.column, Json.str (clip text)]
    let (rest, err) ← messagesJson msgs (i + 1) (if acc.size < 20 then acc.push entry else acc)
    return (rest, err || m.severity == .error)
  else return (acc, false)

/-- `n` without a leading `_root_` (which only says "declared at the root"). -/
__META__partial def unroot : Name → Name
  | .str .anonymous "_root_" => .anonymous
  | .str p s => Name.str (unroot p) s
  | .num p i => Name.num (unroot p) i
  | .anonymous => .anonymous

/-- The theorems the snippet declares, as their names in `env`; an error names one that cannot be found. -/
__META__partial def theorems (env : Environment) (cmds : Array Syntax) (i : Nat) (acc : List Name) :
    Except String (List Name) :=
  if h : i < cmds.size then
    let (kind, written) := declOf cmds[i]
    if kind == "Lean.Parser.Command.theorem" then
      let n := unroot written
      if env.contains n then theorems env cmds (i + 1) (n :: acc)
      else if env.contains (mkPrivateName env n) then theorems env cmds (i + 1) (mkPrivateName env n :: acc)
      else Except.error ("the theorem `" ++ written.toString ++ "` cannot be found after elaboration")
    else theorems env cmds (i + 1) acc
  else Except.ok acc

__META__def userName (n : Name) : Name :=
  match privateToUserName? n with
  | some u => u
  | none => n

__META__partial def under (s : Name → Name) : List Name → List Name
  | [] => []
  | q :: qs => s q :: under s qs

/-- Every suffix of a name, the anonymous one first: `A.B` → anonymous, `B`, `A.B`. -/
__META__partial def suffixes : Name → List Name
  | .anonymous => [.anonymous]
  | .str p s => .anonymous :: under (fun q => Name.str q s) (suffixes p)
  | .num p i => .anonymous :: under (fun q => Name.num q i) (suffixes p)

/-- The first suffix of the snippet's declaration `n` that `base` declares (`Foo.False` → `False`). -/
__META__partial def shadowed (base : Environment) : List Name → Option Name
  | [] => none
  | q :: qs => if q != .anonymous && base.contains q then some q else shadowed base qs

__META__partial def memName (n : Name) : List Name → Bool
  | [] => false
  | m :: ms => m == n || memName n ms

__META__partial def known (n : Name) : List (Name × ConstantInfo) → Bool
  | [] => false
  | (m, _) :: rest => m == n || known n rest

/-- A declared theorem that is not among the declarations to re-check (none should be). -/
__META__partial def unchecked (thms : List Name) (mine : List (Name × ConstantInfo)) : Option Name :=
  match thms with
  | [] => none
  | n :: rest => if known n mine then unchecked rest mine else some n

__META__partial def names (l : Array Name) (i : Nat) (acc : List Name) : List Name :=
  if h : i < l.size then names l (i + 1) (l[i] :: acc) else acc

/-- The constants a declaration's type and value mention. -/
__META__def uses (c : ConstantInfo) : List Name :=
  let fromType := names c.type.getUsedConstants 0 []
  match c.value? (allowOpaque := true) with
  | some v => names v.getUsedConstants 0 fromType
  | none => fromType

mutual
/-- Every constant of a node of the environment's local constant map that `base` lacks: all the snippet added,
auxiliary declarations (`where` lemmas, equation lemmas, `_proof_i`) included. -/
__META__partial def added (base : Environment) : PersistentHashMap.Node Name ConstantInfo → List (Name × ConstantInfo) →
    List (Name × ConstantInfo)
  | .entries es, acc => addedIn base es 0 acc
  | .collision ks vs _, acc => addedPairs base ks vs 0 acc

__META__partial def addedIn (base : Environment) (es : Array (PersistentHashMap.Entry Name ConstantInfo
    (PersistentHashMap.Node Name ConstantInfo))) (i : Nat) (acc : List (Name × ConstantInfo)) : List (Name × ConstantInfo) :=
  if h : i < es.size then
    let acc' := match es[i] with
      | .entry n c => if base.contains n || known n acc then acc else (n, c) :: acc
      | .ref node => added base node acc
      | .null => acc
    addedIn base es (i + 1) acc'
  else acc

__META__partial def addedPairs (base : Environment) (ks : Array Name) (vs : Array ConstantInfo) (i : Nat)
    (acc : List (Name × ConstantInfo)) : List (Name × ConstantInfo) :=
  if h : i < ks.size then
    if h' : i < vs.size then
      let n := ks[i]
      addedPairs base ks vs (i + 1) (if base.contains n || known n acc then acc else (n, vs[i]) :: acc)
    else acc
  else acc
end

/-- Without unsafe or partial definitions: only the compiler's own can be here (`f._unsafe_rec`; the syntax that
declares others is refused), and the kernel lets no safe declaration use one, so a replayed theorem that mentions
one fails for want of it. -/
__META__partial def withoutUnsafe : List (Name × ConstantInfo) → List (Name × ConstantInfo)
  | [] => []
  | (n, c) :: rest => match c with
    | .defnInfo v => if v.safety != .safe then withoutUnsafe rest else (n, c) :: withoutUnsafe rest
    | _ => (n, c) :: withoutUnsafe rest

__META__def declaration? : ConstantInfo → Option Declaration
  | .thmInfo v => some (.thmDecl v)
  | .defnInfo v => some (.defnDecl v)
  | _ => none

__META__def kindName : ConstantInfo → String
  | .axiomInfo _ => "an axiom"
  | .opaqueInfo _ => "an opaque constant"
  | .defnInfo _ => "a definition"
  | .inductInfo _ => "an inductive type"
  | .ctorInfo _ => "a constructor"
  | .recInfo _ => "a recursor"
  | .quotInfo _ => "a quotient primitive"
  | .thmInfo _ => "a theorem"

__META__partial def ready (env : Environment) (self : Name) : List Name → Bool
  | [] => true
  | d :: ds => (env.contains d || d == self) && ready env self ds

/-- One pass of the kernel replay: adds each constant whose dependencies are present; returns the rest. -/
__META__partial def replayPass (env : Environment) : List (Name × ConstantInfo) → Except String (Environment × List (Name × ConstantInfo))
  | [] => Except.ok (env, [])
  | (n, c) :: rest =>
    if ready env n (uses c) then
      match declaration? c with
      | none => Except.error ("depends on `" ++ (userName n).toString ++ "`, " ++ kindName c ++ " declared by the snippet")
      | some d => match env.addDeclCore 0 d none with
        | Except.ok env' => replayPass env' rest
        | Except.error _ => Except.error ("the kernel rejects `" ++ (userName n).toString ++ "` when it is re-checked")
    else match replayPass env rest with
      | Except.ok (env', left) => Except.ok (env', (n, c) :: left)
      | Except.error e => Except.error e

__META__partial def replay (env : Environment) (todo : List (Name × ConstantInfo)) : Nat → Except String Environment
  | 0 => Except.error "the snippet's declarations could not be re-checked (circular dependencies)"
  | fuel + 1 => match todo with
    | [] => Except.ok env
    | _ => match replayPass env todo with
      | Except.ok (env', left) =>
        if len left == len todo then Except.error "the snippet's declarations could not be re-checked (missing dependencies)"
        else replay env' left fuel
      | Except.error e => Except.error e

__META__partial def shadowing (base : Environment) : List (Name × ConstantInfo) → Option String
  | [] => none
  | (n, _) :: rest => match shadowed base (suffixes (userName n)) with
    | some s => some ("`" ++ (userName n).toString ++ "` shadows `" ++ s.toString ++ "`, a declaration of the library")
    | none => shadowing base rest

__META__def axiomEntry (env : Environment) (n : Name) : Option String :=
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
  -- A module does not load imported proofs, so every library theorem used shows up here as an axiom: of the
  -- imported names only the `notable` ones are listed, the rest is the trusted library.
  if origin == "imported" && !(mem n.toString notable) then none else some (n.toString ++ ":" ++ kind ++ ":" ++ origin)

__META__partial def axiomEntries (env : Environment) (axs : Array Name) (i : Nat) (acc : Array Json) : Array Json :=
  if h : i < axs.size then
    axiomEntries env axs (i + 1) (match axiomEntry env axs[i] with
      | some e => acc.push (Json.str e)
      | none => acc)
  else acc

/-- The axioms `n` depends on in `env` (what `Lean.collectAxioms` computes, without its monad). -/
__META__def axiomsOf (env : Environment) (n : Name) : Array Name :=
  (((CollectAxioms.collect n).run env).run {}).2.axioms

/-- Axiom entries of every new declaration: the snippet's theorems always, the others (definitions, auxiliary
lemmas) when they have any, so a `sorry` in a `where` lemma or a definition fails the snippet too. -/
__META__partial def audit (env : Environment) (thms : List Name) : List (Name × ConstantInfo) → Array Json → Array Json
  | [], acc => acc
  | (n, _) :: rest, acc =>
    let entries := axiomEntries env (axiomsOf env n) 0 #[]
    let declared := memName n thms
    if declared || entries.size > 0 then
      audit env thms rest (acc.push (Json.arr #[Json.str (userName n).toString, Json.arr entries, Json.bool declared]))
    else audit env thms rest acc

__META__def record (k : Nat) (status reason : String) (messages theorems : Array Json) : String :=
  "SNIPPET __NONCE__ " ++ toString k ++ " " ++ (Json.mkObj [("status", Json.str status), ("reason", Json.str reason),
    ("messages", Json.arr messages), ("theorems", Json.arr theorems)]).compress

__META__def check (k mode heartbeats assign : Nat) (text : String) : CommandElabM String := do
  let saved ← get
  let base := saved.env
  let opts := ((match saved.scopes with
    | sc :: _ => sc.opts
    | [] => {}).setNat `maxHeartbeats heartbeats).setBool `Elab.async false
  let ictx : Parser.InputContext := { inputString := text, fileName := "<snippet>", fileMap := FileMap.ofString text }
  let (cmds, parseLog) := parseAll ictx { env := base, options := opts } {} {} #[]
  let (parseMsgs, parseError) ← messagesJson parseLog.toArray 0 #[]
  if parseError then return record k "failed" "the snippet does not parse" parseMsgs #[]
  if cmds.size == 0 then return record k "rejected" "the snippet is empty" #[] #[]
  if cmds.size > 256 then return record k "rejected" "the snippet has more than 256 commands" #[] #[]
  match refusedCommands mode assign cmds 0 with
  | some r => return record k "rejected" r #[] #[]
  | none => pure ()
  let scope : Scope := match saved.scopes with
    | sc :: _ => { sc with opts := opts }
    | [] => { header := "", opts := opts }
  modify fun s => { s with messages := {}, scopes := [scope] }
  withReader (fun ctx => { ctx with fileMap := ictx.fileMap, fileName := "<snippet>" }) (elabAll cmds 0)
  let after ← get
  set saved
  let (msgs, failed) ← messagesJson after.messages.toArray 0 #[]
  if failed || after.messages.hasErrors then return record k "failed" "" msgs #[]
  let thms ← match theorems after.env cmds 0 [] with
    | Except.ok thms => pure thms
    | Except.error r => return record k "failed" r msgs #[]
  let mine := withoutUnsafe (added base after.env.constants.map₂.root [])
  match unchecked thms mine with
  | some n => return record k "failed" ("the theorem `" ++ (userName n).toString ++ "` is missing from the re-check") msgs #[]
  | none => pure ()
  match shadowing base mine with
  | some r => return record k "failed" r msgs #[]
  | none => pure ()
  match replay base mine (len mine + 1) with
  | Except.error r => return record k "failed" r msgs #[]
  | Except.ok checked => return record k "ok" "" msgs (audit checked thms mine #[])

elab "#snippet___NONCE__ " k:num mode:num heartbeats:num assign:num src:str : command => do
  IO.println (← check k.getNat mode.getNat heartbeats.getNat assign.getNat src.getString)

/- Marks the end of the prelude: from here on the watchdog gives each snippet its own wall-clock budget. -/
elab "#ready___NONCE__" : command => IO.println "READY __NONCE__"

end VerifierPrelude
#ready___NONCE__
