"""Unpacking the WebAssembly Lean's library (`verifiers.formal.toolchain._extract_safely`) on every Python we support:
with `tarfile`'s data filter, and without it (Debian 12's Python 3.11.2 has none: a fresh machine's first Lean use
crashed with a TypeError)."""

from __future__ import annotations

import io
import tarfile
from pathlib import Path

import pytest

from verifiers.formal import LeanUnavailable
from verifiers.formal.toolchain import _extract_safely


def _archive(tmp_path: Path, *entries: tarfile.TarInfo) -> Path:
    path = tmp_path / "lib.tar.gz"
    with tarfile.open(path, "w:gz") as tar:
        for entry in entries:
            data = b"olean" if entry.isfile() else None
            if data is not None:
                entry.size = len(data)
            tar.addfile(entry, io.BytesIO(data) if data is not None else None)
    return path


def _file(name: str, mode: int = 0o644) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.mode = mode
    return info


def _link(name: str, target: str, kind: bytes = tarfile.SYMTYPE) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type, info.linkname = kind, target
    return info


@pytest.fixture(params=["data filter", "no data filter"])
def python(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    if request.param == "no data filter":  # as on Python 3.11.2: no data_filter, and extractall takes no filter
        monkeypatch.delattr(tarfile, "data_filter", raising=False)
        extractall = tarfile.TarFile.extractall

        def without_filter(self, path=".", members=None, *, numeric_owner=False, **unknown):
            if unknown:
                raise TypeError(f"TarFile.extractall() got an unexpected keyword argument {next(iter(unknown))!r}")
            return extractall(self, path, members, numeric_owner=numeric_owner)

        monkeypatch.setattr(tarfile.TarFile, "extractall", without_filter)
    elif not hasattr(tarfile, "data_filter"):
        pytest.skip("this Python's tarfile has no data filter")
    return str(request.param)


def test_the_library_unpacks(tmp_path: Path, python: str) -> None:
    folder = tarfile.TarInfo("Init")
    folder.type = tarfile.DIRTYPE
    archive = _archive(tmp_path, folder, _file("Init/Core.olean"), _link("Init/Alias.olean", "Core.olean"))
    (tmp_path / "lib").mkdir()
    _extract_safely(archive, tmp_path / "lib")
    assert (tmp_path / "lib" / "Init" / "Core.olean").read_bytes() == b"olean"
    assert (tmp_path / "lib" / "Init" / "Alias.olean").read_bytes() == b"olean"


@pytest.mark.parametrize(
    "entry",
    [lambda tmp: _file("../escaped.olean"), lambda tmp: _file(str(tmp / "escaped.olean")),
     lambda tmp: _link("Init/escaped.olean", "../../escaped.olean"),
     lambda tmp: _link("Init/escaped.olean", "../escaped.olean", tarfile.LNKTYPE)],
    ids=["a path out of the folder", "an absolute path", "a symlink out of the folder", "a hard link out of it"],
)  # fmt: skip
def test_nothing_lands_outside_the_folder(tmp_path: Path, python: str, entry) -> None:
    archive = _archive(tmp_path, _file("Init.olean"), entry(tmp_path))
    (tmp_path / "lib").mkdir()
    try:
        _extract_safely(archive, tmp_path / "lib")  # the data filter may put an absolute path inside instead
    except (LeanUnavailable, tarfile.TarError) as exc:  # ours without the filter, tarfile's with it
        assert "escaped" in str(exc)
    assert not (tmp_path / "escaped.olean").exists() and not (tmp_path / "escaped.olean").is_symlink()


def test_setuid_bits_are_dropped(tmp_path: Path, python: str) -> None:
    archive = _archive(tmp_path, _file("run.olean", 0o4777))
    (tmp_path / "lib").mkdir()
    _extract_safely(archive, tmp_path / "lib")
    assert (tmp_path / "lib" / "run.olean").stat().st_mode & 0o7022 == 0
