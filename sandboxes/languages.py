"""The one table of languages: their names and aliases (also the fence tags `verifiers.code` reads), and how each
is compiled and run inside a sandbox's working directory.

Commands use absolute interpreter and compiler paths under /usr (the one host tree a `bwrap` sandbox sees,
read-only) and paths relative to the working directory for the program itself. Python is Debian's
`/usr/bin/python3` (never the pyenv shim) run as `python3 -E -s main.py`: no PYTHON* variables, no user site,
but the script's directory on sys.path (so extra `files` import) and `site` on, so `exit()`/`quit()` exist and
Debian's dist-packages import as usual (`-S` saves a few ms per start but makes a program calling `exit()` fail).
"""

from __future__ import annotations

from dataclasses import dataclass

from . import UnknownLanguageError

__all__ = ["BINARY", "LANGUAGES", "Language", "fence_tags", "get_language", "language_names", "lookup_language"]

BINARY = "prog"  # the name compiled languages write their executable to


@dataclass(frozen=True)
class Language:
    """A language: the file the program is written to, an optional compile step and the run command.

    `aliases` are the other names it goes by, in a reference's `language` and as a Markdown fence tag (```py).
    """

    name: str
    source: str
    run: tuple[str, ...]
    compile: tuple[str, ...] | None = None
    aliases: tuple[str, ...] = ()

    @property
    def compiled(self) -> bool:
        return self.compile is not None

    @property
    def tags(self) -> tuple[str, ...]:
        """Every name of the language (its own first), each one a fence tag that marks a block as this language."""
        return (self.name, *self.aliases)


LANGUAGES: dict[str, Language] = {}


def _add(language: Language) -> None:
    for key in (language.name, *language.aliases):
        LANGUAGES[key] = language


_add(Language("python", "main.py", ("/usr/bin/python3", "-E", "-s", "main.py"), aliases=("py", "python3", "py3")))
_add(
    Language(
        "c",
        "main.c",
        (f"./{BINARY}",),
        compile=("/usr/bin/gcc", "-O2", "-std=gnu17", "-pipe", "-o", BINARY, "main.c", "-lm"),
    )
)
_add(
    Language(
        "cpp",
        "main.cpp",
        (f"./{BINARY}",),
        compile=("/usr/bin/g++", "-O2", "-std=gnu++17", "-pipe", "-o", BINARY, "main.cpp"),
        aliases=("c++", "cxx", "cc"),
    )
)
_add(Language("javascript", "main.js", ("/usr/bin/node", "main.js"), aliases=("js", "node", "nodejs")))


def language_names() -> list[str]:
    """The canonical language names, sorted (no aliases)."""
    return sorted({lang.name for lang in LANGUAGES.values()})


def lookup_language(name: str) -> Language | None:
    """The language called `name` (case-insensitive, aliases allowed), or None when no language has that name."""
    return LANGUAGES.get(name.strip().lower())


def get_language(name: str) -> Language:
    """The language called `name` (case-insensitive, aliases allowed); `UnknownLanguageError` lists the known ones."""
    language = lookup_language(name)
    if language is None:
        raise UnknownLanguageError(f"unknown language {name!r}; known: {', '.join(language_names())}")
    return language


def fence_tags(name: str) -> tuple[str, ...]:
    """The fence tags that mark a code block as language `name` (all its names; just `name` when it is unknown)."""
    language = lookup_language(name)
    return language.tags if language is not None else (name.lower(),)
