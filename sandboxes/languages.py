"""How each language is compiled and run inside a sandbox's working directory.

Commands use absolute interpreter and compiler paths under /usr (the one host tree a `bwrap` sandbox sees,
read-only) and paths relative to the working directory for the program itself. Python is Debian's
`/usr/bin/python3` (never the pyenv shim) run as `python3 -E -s main.py`: no PYTHON* variables, no user site,
but the script's directory on sys.path (so extra `files` import) and `site` on, so `exit()`/`quit()` exist and
Debian's dist-packages import as usual (`-S` saves a few ms per start but makes a program calling `exit()` fail).
"""

from __future__ import annotations

from dataclasses import dataclass

from . import UnknownLanguageError

__all__ = ["BINARY", "LANGUAGES", "Language", "get_language"]

BINARY = "prog"  # the name compiled languages write their executable to


@dataclass(frozen=True)
class Language:
    """A language: the file the program is written to, an optional compile step and the run command."""

    name: str
    source: str
    run: tuple[str, ...]
    compile: tuple[str, ...] | None = None
    aliases: tuple[str, ...] = ()

    @property
    def compiled(self) -> bool:
        return self.compile is not None


LANGUAGES: dict[str, Language] = {}


def _add(language: Language) -> None:
    for key in (language.name, *language.aliases):
        LANGUAGES[key] = language


_add(Language("python", "main.py", ("/usr/bin/python3", "-E", "-s", "main.py"), aliases=("py", "python3")))
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
        aliases=("c++", "cxx"),
    )
)
_add(Language("javascript", "main.js", ("/usr/bin/node", "main.js"), aliases=("js", "node")))


def get_language(name: str) -> Language:
    """The language called `name` (case-insensitive, aliases allowed); `UnknownLanguageError` lists the known ones."""
    try:
        return LANGUAGES[name.lower()]
    except KeyError:
        known = ", ".join(sorted({lang.name for lang in LANGUAGES.values()}))
        raise UnknownLanguageError(f"unknown language {name!r}; known: {known}") from None
