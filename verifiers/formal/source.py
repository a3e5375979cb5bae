"""Lean source handling before Lean runs: a small lexer, the cheating policy, and turning input into snippets.

The policy works on tokens, never on raw text, so `h_sorry` is a name and `sorry` inside a comment or a string
is harmless, while `«sorry»` and `Foo.sorry` are caught. It rejects everything that can forge acceptance or leak
into a neighbouring snippet of the same batch file: `sorry`/`admit`, axioms and their kin, compiler trust
(`native_decide`, `implemented_by`, `extern`), `unsafe`/`partial`/`opaque`, options, new syntax, meta-code,
`#` commands, imports, attributes and instances (global effects), `open … in`, and any top-level command inside a
proof. What passes is then decided by Lean: the prelude parses the snippet with Lean's own parser, refuses syntax
outside its allowlist, re-checks declarations with the kernel and audits axioms (`checker.py`,
`lean/AuditPrelude.lean`).
This lexer is not Lean's (strings, char literals, interpolation and Unicode identifiers differ in corner cases), so
the policy here is a fast first gate with clear messages, never the decision.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from verifiers.errors import VerifiersError


class LeanSyntaxError(VerifiersError, ValueError):
    """The text cannot be tokenized as Lean (an unterminated comment, string or «name»)."""


class PolicyViolation(VerifiersError, ValueError):
    """The text uses a construct the checker refuses before running Lean."""


@dataclass(frozen=True)
class Token:
    kind: str  # "ident", "hash", "attr", "string", "char", "number", "symbol"
    text: str
    start: int
    end: int

    @property
    def components(self) -> tuple[str, ...]:
        if self.kind != "ident":
            return ()
        return tuple(part.strip("«»") for part in re.split(r"\.(?![^«]*»)", self.text))


_IDENT_START = re.compile(r"[^\W\d]|_", re.UNICODE)
_IDENT_REST = re.compile(r"[\w'!?₀-₉ₐ-ₜᵢ-ᵪ]", re.UNICODE)
_CHAR_LIT = re.compile(r"'(?:\\(?:x[0-9a-fA-F]{2}|u[0-9a-fA-F]{4}|.)|[^\\'\n])'")


def tokenize(text: str) -> list[Token]:
    """Lean tokens of `text`, without comments and whitespace."""
    tokens: list[Token] = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch.isspace():
            i += 1
        elif text.startswith("--", i):
            j = text.find("\n", i)
            i = n if j < 0 else j + 1
        elif text.startswith("/-", i):
            depth, j = 1, i + 2
            while depth and j < n:
                if text.startswith("/-", j):
                    depth, j = depth + 1, j + 2
                elif text.startswith("-/", j):
                    depth, j = depth - 1, j + 2
                else:
                    j += 1
            if depth:
                raise LeanSyntaxError(f"unterminated comment starting at offset {i}")
            i = j
        elif ch == '"' or (ch == "r" and re.match(r'r#*"', text[i:])):
            j = _string_end(text, i)
            tokens.append(Token("string", text[i:j], i, j))
            i = j
        elif ch == "'" and (m := _CHAR_LIT.match(text, i)) and not (tokens and tokens[-1].end == i):
            tokens.append(Token("char", m.group(), i, m.end()))
            i = m.end()
        elif ch == "«" or _IDENT_START.match(ch):
            j = _ident_end(text, i)
            tokens.append(Token("ident", text[i:j], i, j))
            i = j
        elif ch == "#" and i + 1 < n and _IDENT_START.match(text[i + 1]):
            j = _ident_end(text, i + 1)
            tokens.append(Token("hash", text[i:j], i, j))
            i = j
        elif text.startswith("@[", i):
            tokens.append(Token("attr", "@[", i, i + 2))
            i += 2
        elif ch.isdigit():
            m = re.compile(r"0[xX][0-9a-fA-F_]+|0[bB][01_]+|0[oO][0-7_]+|\d[\d_]*(?:\.\d+)?(?:[eE][-+]?\d+)?").match(
                text, i
            )
            assert m is not None
            tokens.append(Token("number", m.group(), i, m.end()))
            i = m.end()
        else:
            j = i + (2 if text[i : i + 2] in (":=", "=>", "<;", "..", "::", "<-", "->") else 1)
            tokens.append(Token("symbol", text[i:j], i, j))
            i = j
    return tokens


def _string_end(text: str, i: int) -> int:
    if text[i] == "r":
        m = re.match(r'r(#*)"', text[i:])
        assert m is not None
        close = '"' + m.group(1)
        j = text.find(close, i + len(m.group()))
        if j < 0:
            raise LeanSyntaxError(f"unterminated raw string starting at offset {i}")
        return j + len(close)
    j = i + 1
    while j < len(text):
        if text[j] == "\\":
            j += 2
        elif text[j] == '"':
            return j + 1
        else:
            j += 1
    raise LeanSyntaxError(f"unterminated string starting at offset {i}")


def _ident_end(text: str, i: int) -> int:
    """End of the (possibly dotted) identifier starting at `i`."""
    n = len(text)
    while True:
        if text[i] == "«":
            j = text.find("»", i)
            if j < 0:
                raise LeanSyntaxError(f"unterminated «name» starting at offset {i}")
            i = j + 1
        else:
            i += 1
            while i < n and _IDENT_REST.match(text[i]):
                i += 1
        if i + 1 < n and text[i] == "." and (text[i + 1] == "«" or _IDENT_START.match(text[i + 1])):
            i += 1
            continue
        return i


# Words rejected anywhere (as a token or a component of a dotted name).
FORBIDDEN_WORDS = frozenset(
    {
        "sorry",
        "admit",
        "sorryAx",
        "axiom",
        "axioms",
        "native_decide",
        "implemented_by",
        "extern",
        "unsafe",
        "opaque",
        "partial",
        "set_option",
        "macro",
        "macro_rules",
        "syntax",
        "notation",
        "infix",
        "infixl",
        "infixr",
        "prefix",
        "postfix",
        "elab",
        "elab_rules",
        "declare_syntax_cat",
        "import",
        "run_cmd",
        "run_tac",
        "run_elab",
        "run_meta",
        "by_elab",
        "ofReduceBool",
        "ofReduceNat",
        "trustCompiler",
        "reduceBool",
        "reduceNat",
        "instance",
        "attribute",
        "initialize",
        "builtin_initialize",
        "deriving",
        "_root_",
        "export",
        "mutual",
        "namespace",
        "section",
        "end",
        "class",
        "structure",
        "inductive",
        "universe",
        "local",
        "scoped",
        "meta",
        "omit",
        "include",
        "module",
        # commands that register meta-code or change global state (they would leak into later snippets)
        "simproc",
        "dsimproc",
        "builtin_simproc",
        "builtin_dsimproc",
        "simproc_decl",
        "dsimproc_decl",
        "builtin_simproc_decl",
        "register_simp_attr",
        "declare_simp_like_tactic",
        "grind_pattern",
        "seal",
        "unseal",
        "add_decl_doc",
        "recommended_spelling",
        "register_tactic_tag",
        "tactic_extension",
        "register_option",
        "register_builtin_option",
        "register_error_explanation",
        "declare_config_elab",
        "binder_predicate",
        "init_quot",
        "end_local_scope",
        "compile_inductive",
        "gen_injective_theorems",
        "coinductive",
    }
)

# Keywords that start a top-level command (with the modifiers that may precede one).
COMMAND_WORDS = frozenset(
    {
        "theorem",
        "lemma",
        "def",
        "example",
        "abbrev",
        "instance",
        "axiom",
        "opaque",
        "structure",
        "class",
        "inductive",
        "namespace",
        "section",
        "end",
        "open",
        "variable",
        "universe",
        "set_option",
        "attribute",
        "import",
        "mutual",
        "noncomputable",
        "private",
        "protected",
        "public",
        "nonrec",
        "deriving",
        "export",
        "omit",
        "include",
        "initialize",
        "macro",
        "syntax",
        "notation",
        "elab",
    }
)

DECLARATION_WORDS = frozenset({"theorem", "lemma", "example", "def", "abbrev"})
_MODIFIERS = frozenset({"private", "protected", "noncomputable", "nonrec"})


_PLAIN_NAME = re.compile(r"^[^\W\d][\w']*$")


def check_name(name: str, what: str) -> None:
    """Raise PolicyViolation unless `name` is a plain (undotted) Lean identifier the policy allows."""
    if not _PLAIN_NAME.match(name) or len(tokenize(name)) != 1 or name in FORBIDDEN_WORDS | COMMAND_WORDS:
        raise PolicyViolation(f"{what} {name!r} is not a plain Lean identifier")


def check_policy(tokens: list[Token], *, allow_commands: frozenset[str] = frozenset(), what: str = "proof") -> None:
    """Raise PolicyViolation for the first forbidden token."""
    for tok in tokens:
        if tok.kind == "hash":
            raise PolicyViolation(f"`{tok.text}` commands are not allowed in a {what}")
        if tok.kind == "attr":
            raise PolicyViolation(f"attributes (`@[...]`) are not allowed in a {what}: they leak into other proofs")
        if tok.kind != "ident":
            continue
        bad = [c for c in tok.components if c in FORBIDDEN_WORDS]
        if bad:
            raise PolicyViolation(f"`{bad[0]}` is not allowed in a {what}")
        if tok.text in COMMAND_WORDS and tok.text not in allow_commands:
            raise PolicyViolation(f"a new top-level command (`{tok.text}`) is not allowed inside a {what}")


@dataclass(frozen=True)
class Declaration:
    """One top-level declaration of a complete snippet, as written by the verifier into the batch file."""

    keyword: str  # theorem, def or abbrev ("lemma" and "example" are written as theorems)
    name: str | None  # None for `open` lines
    text: str


@dataclass(frozen=True)
class Statement:
    """A theorem statement split into its parts: `theorem <name> <binders> : <proposition>`."""

    name: str | None
    binders: str
    proposition: str

    def as_proposition(self) -> str:
        """The statement as one closed proposition (`∀ binders, P`), for use as a hypothesis. Each part ends its
        line, so a trailing `--` comment in the binders cannot swallow the proposition."""
        return f"∀ {self.binders}\n, {self.proposition}" if self.binders else self.proposition


_OPENERS = {"(": ")", "{": "}", "[": "]", "⦃": "⦄", "⟨": "⟩"}


def check_balanced(tokens: list[Token], what: str) -> None:
    """Brackets must pair up: a statement such as `True) (x : False` would otherwise smuggle a hypothesis."""
    stack: list[str] = []
    closers = {v: k for k, v in _OPENERS.items()}
    for tok in tokens:
        if tok.kind != "symbol":
            continue
        if tok.text in _OPENERS:
            stack.append(tok.text)
        elif tok.text in closers:
            if not stack or stack.pop() != closers[tok.text]:
                raise PolicyViolation(f"unbalanced `{tok.text}` in the {what}")
    if stack:
        raise PolicyViolation(f"unclosed `{stack[-1]}` in the {what}")


def parse_statement(statement: str) -> Statement:
    """Split a statement given as `theorem foo ...`, `lemma foo ...`, `example ...`, a signature
    `(a : Nat) : ...` or a bare proposition; a trailing `:= by sorry` / `:=` is dropped."""
    statement = re.sub(r":=\s*(?:by\s+)?sorry\s*$", "", statement.strip()).strip()
    if statement.endswith(":="):
        statement = statement[:-2].rstrip()
    tokens = tokenize(statement)
    if not tokens:
        raise PolicyViolation("the theorem statement is empty")
    name: str | None = None
    head = tokens[0].text if tokens[0].kind == "ident" else ""
    if head in ("theorem", "lemma"):
        if len(tokens) < 2 or tokens[1].kind != "ident":
            raise PolicyViolation(f"`{head}` must be followed by a name in the statement")
        name, tokens = tokens[1].text, tokens[2:]
    elif head == "example":
        tokens = tokens[1:]
    check_policy(tokens, what="theorem statement")
    check_balanced(tokens, "theorem statement")
    if any(t.text == ":=" for t in tokens):
        raise PolicyViolation("the theorem statement contains `:=`; give the statement and the proof separately")
    if not tokens:
        raise PolicyViolation("the theorem statement has no proposition")
    body = statement[tokens[0].start :]
    offset = tokens[0].start
    depth, colon = 0, None
    if tokens[0].text in _OPENERS:  # a signature: binders, then `:` at bracket depth 0
        for tok in tokens:
            if tok.text in _OPENERS:
                depth += 1
            elif tok.text in _OPENERS.values():
                depth -= 1
            elif tok.text == ":" and depth == 0:
                colon = tok
                break
        if colon is None:
            raise PolicyViolation("the theorem statement has binders but no `:` before its proposition")
    elif tokens[0].text == ":":
        colon = tokens[0]
    if colon is None:
        return Statement(name, "", body.strip())
    binders = statement[offset : colon.start].strip()
    proposition = statement[colon.end :].strip()
    if not proposition:
        raise PolicyViolation("the theorem statement has no proposition after `:`")
    return Statement(name, binders, proposition)


def proof_body(response: str) -> str:
    """The proof term or tactic block of a response: code fences and a leading `:=` removed; a restated
    theorem header (`theorem t : P := proof`) is dropped so the verifier's own header is the one checked."""
    text = _strip_fences(response).rstrip()
    tokens = tokenize(text)
    if tokens and tokens[0].kind == "ident" and tokens[0].text in ("theorem", "lemma", "example"):
        assign = next((t for t in tokens if t.text == ":="), None)
        if assign is None:
            raise PolicyViolation("the response restates a theorem but has no `:=` before the proof")
        text = text[assign.end :]
    elif tokens and tokens[0].text == ":=":
        text = text[tokens[0].end :]
    if not text.strip():
        raise PolicyViolation("the proof is empty")
    check_policy(tokenize(text))
    return text.lstrip("\n")


def _strip_fences(text: str) -> str:
    m = re.search(r"```(?:lean4?|Lean4?)?[ \t]*\n(.*?)```", text, re.DOTALL)
    return m.group(1) if m else text


def indent(text: str, spaces: int = 2) -> str:
    """Indent every line, keeping relative columns, so a proof written at column 0 stays inside its theorem."""
    return "\n".join((" " * spaces + line) if line.strip() else line for line in text.split("\n"))


def split_declarations(code: str) -> list[Declaration]:
    """Split a complete snippet into declarations; only `theorem`/`lemma`/`example`/`def`/`abbrev` (with
    `private`/`protected`/`noncomputable`/`nonrec`) and plain `open X` lines are allowed."""
    code = _strip_fences(code)
    tokens = tokenize(code)
    check_policy(tokens, allow_commands=COMMAND_WORDS, what="Lean snippet")
    starts: list[int] = []
    for i, tok in enumerate(tokens):
        if tok.kind == "ident" and tok.text in COMMAND_WORDS:
            if i > 0 and tokens[i - 1].kind == "ident" and tokens[i - 1].text in _MODIFIERS:
                continue  # part of the declaration that starts at the modifier
            if i > 0 and tokens[i - 1].text in (".", "@"):
                continue
            starts.append(i)
    if not starts or starts[0] != 0:
        raise PolicyViolation("a Lean snippet must start with a declaration (`theorem`, `lemma`, `example`, `def`)")
    decls: list[Declaration] = []
    examples = 0
    for idx, first in enumerate(starts):
        last = starts[idx + 1] if idx + 1 < len(starts) else len(tokens)
        part = tokens[first:last]
        text = code[part[0].start : part[-1].end]
        keyword = next((t for t in part if t.kind == "ident" and t.text not in _MODIFIERS), part[0])
        k = part.index(keyword)  # part[:k] are the modifiers
        if keyword.text == "variable":
            raise PolicyViolation("`variable` is not allowed: it would add hidden premises to the theorems after it")
        if keyword.text == "open":
            if any(t.text == "in" for t in part):
                raise PolicyViolation("`open … in` is not allowed")
            decls.append(Declaration(keyword.text, None, text))
            continue
        if keyword.text not in DECLARATION_WORDS:
            raise PolicyViolation(f"the command `{keyword.text}` is not allowed in a Lean snippet")
        prefix = code[part[0].start : keyword.start]
        body = code[keyword.end : part[-1].end]
        if keyword.text == "example":
            if k:
                raise PolicyViolation("modifiers are not allowed on `example`")
            examples += 1
            name = f"example_{examples}"
            decls.append(Declaration("theorem", name, f"theorem {name}{body}"))
            continue
        if k + 1 >= len(part) or part[k + 1].kind != "ident":
            raise PolicyViolation(f"`{keyword.text}` must be followed by a name")
        out_kw = "theorem" if keyword.text == "lemma" else keyword.text
        decls.append(Declaration(out_kw, part[k + 1].text, f"{prefix}{out_kw}{body}"))
    return decls
