"""A small pure-Python PNG reader for the tests (Pillow is not a dependency): 8-bit greyscale, RGB and RGBA.

Rows are decoded lazily, top to bottom, so a test that looks for something near the top of a tall screenshot
stops early instead of unfiltering megabytes in Python.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

SIGNATURE = b"\x89PNG\r\n\x1a\n"
_CHANNELS = {0: 1, 2: 3, 4: 2, 6: 4}  # colour type -> samples per pixel (no palettes)


@dataclass(frozen=True)
class Png:
    width: int
    height: int
    channels: int
    data: bytes  # the zlib stream of the image data, still compressed

    def rows(self) -> Iterator[list[tuple[int, int, int]]]:
        """Each row as a list of (r, g, b) pixels (alpha dropped, greyscale widened), top to bottom."""
        bpp, stride = self.channels, self.width * self.channels
        inflate = zlib.decompressobj()
        pending = bytearray()
        prior = bytes(stride)
        chunks = (self.data[i : i + 65536] for i in range(0, len(self.data), 65536))
        for _ in range(self.height):
            while len(pending) < stride + 1:
                chunk = next(chunks, None)
                pending += inflate.decompress(chunk) if chunk is not None else inflate.flush()
                if chunk is None and len(pending) < stride + 1:
                    raise ValueError("PNG image data ends early")
            kind, line = pending[0], bytes(pending[1 : stride + 1])
            del pending[: stride + 1]
            prior = _unfilter(kind, line, prior, bpp)
            yield _pixels(prior, bpp)


def _unfilter(kind: int, line: bytes, prior: bytes, bpp: int) -> bytes:
    if kind == 0:
        return line
    if kind == 2:  # Up: a bytewise add without carries, done on one big integer (SWAR) instead of per byte
        n = len(line)
        a, b = int.from_bytes(line, "big"), int.from_bytes(prior, "big")
        low, high = int.from_bytes(b"\x7f" * n, "big"), int.from_bytes(b"\x80" * n, "big")
        return (((a & low) + (b & low)) ^ ((a ^ b) & high)).to_bytes(n, "big")
    out = bytearray(line)
    if kind == 1:
        for i in range(bpp, len(out)):
            out[i] = (out[i] + out[i - bpp]) & 0xFF
    elif kind == 3:
        for i in range(len(out)):
            left = out[i - bpp] if i >= bpp else 0
            out[i] = (out[i] + ((left + prior[i]) >> 1)) & 0xFF
    elif kind == 4:
        for i in range(len(out)):
            if i >= bpp:
                a, c = out[i - bpp], prior[i - bpp]
            else:
                a = c = 0
            b = prior[i]
            p = a + b - c
            pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
            predictor = a if pa <= pb and pa <= pc else (b if pb <= pc else c)
            out[i] = (out[i] + predictor) & 0xFF
    else:
        raise ValueError(f"unknown PNG filter type {kind}")
    return bytes(out)


def _pixels(row: bytes, bpp: int) -> list[tuple[int, int, int]]:
    if bpp >= 3:
        return list(zip(row[0::bpp], row[1::bpp], row[2::bpp]))
    grey = row[0::bpp]
    return list(zip(grey, grey, grey))


def read_png(path: str | Path) -> Png:
    """Parse a PNG file's header and collect its image data (8-bit, non-interlaced, no palette)."""
    blob = Path(path).read_bytes()
    if not blob.startswith(SIGNATURE):
        raise ValueError(f"{path} is not a PNG file")
    pos, header, data = len(SIGNATURE), None, bytearray()
    while pos + 8 <= len(blob):
        (length,) = struct.unpack(">I", blob[pos : pos + 4])
        kind, body = blob[pos + 4 : pos + 8], blob[pos + 8 : pos + 8 + length]
        pos += 12 + length
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            data += body
        elif kind == b"IEND":
            break
    if header is None:
        raise ValueError(f"{path} has no IHDR chunk")
    width, height, depth, colour, _, _, interlace = header
    if depth != 8 or colour not in _CHANNELS or interlace:
        raise ValueError(f"unsupported PNG: bit depth {depth}, colour type {colour}, interlace {interlace}")
    return Png(width, height, _CHANNELS[colour], bytes(data))
