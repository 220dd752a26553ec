"""A small PNG reader for screenshots: 8-bit RGB or RGBA, non-interlaced (what Chromium writes).

Pure Python (zlib and struct), so the browser test needs no imaging library.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Iterator

import attrs

_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_CHANNELS = {2: 3, 6: 4}  # colour type → samples per pixel (RGB, RGBA)


@attrs.frozen
class Image:
    """Decoded pixels, row by row."""

    width: int
    height: int
    channels: int
    rows: tuple[bytes, ...]

    def pixel(self, x: int, y: int) -> tuple[int, int, int]:
        """Return the RGB of the pixel at (`x`, `y`)."""
        row = self.rows[y]
        start = x * self.channels
        r, g, b = row[start : start + 3]
        return (r, g, b)

    def pixels(self) -> Iterator[tuple[int, int, int, int, int]]:
        """Yield (x, y, r, g, b) for every pixel."""
        step = self.channels
        for y, row in enumerate(self.rows):
            for x in range(self.width):
                r, g, b = row[x * step : x * step + 3]
                yield x, y, r, g, b


def _paeth(a: int, b: int, c: int) -> int:
    p = a + b - c
    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
    if pa <= pb and pa <= pc:
        return a
    return b if pb <= pc else c


def _unfilter(kind: int, line: bytearray, previous: bytearray, channels: int) -> bytearray:
    """Undo one scanline's filter (PNG filter types 0 to 4), given the line above."""
    for i in range(len(line)):
        left = line[i - channels] if i >= channels else 0
        up = previous[i]
        corner = previous[i - channels] if i >= channels else 0
        if kind == 1:
            line[i] = (line[i] + left) & 0xFF
        elif kind == 2:
            line[i] = (line[i] + up) & 0xFF
        elif kind == 3:
            line[i] = (line[i] + (left + up) // 2) & 0xFF
        elif kind == 4:
            line[i] = (line[i] + _paeth(left, up, corner)) & 0xFF
    return line


def read_png(data: bytes) -> Image:
    """Decode a PNG file's bytes.

    Raises:
        ValueError: Not a PNG, or a kind this reader does not handle.
    """
    if not data.startswith(_SIGNATURE):
        msg = "not a PNG file"
        raise ValueError(msg)
    offset = len(_SIGNATURE)
    chunks: list[bytes] = []
    width = height = channels = 0
    while offset < len(data):
        (length,) = struct.unpack(">I", data[offset : offset + 4])
        kind = data[offset + 4 : offset + 8]
        body = data[offset + 8 : offset + 8 + length]
        offset += 12 + length
        if kind == b"IHDR":
            width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", body)
            if depth != 8 or colour not in _CHANNELS or interlace:
                msg = f"unsupported PNG: depth {depth}, colour type {colour}, interlace {interlace}"
                raise ValueError(msg)
            channels = _CHANNELS[colour]
        elif kind == b"IDAT":
            chunks.append(body)
        elif kind == b"IEND":
            break
    raw = zlib.decompress(b"".join(chunks))
    stride = width * channels
    rows: list[bytes] = []
    previous = bytearray(stride)
    for y in range(height):
        start = y * (stride + 1)
        line = _unfilter(
            raw[start], bytearray(raw[start + 1 : start + 1 + stride]), previous, channels
        )
        rows.append(bytes(line))
        previous = line
    return Image(width=width, height=height, channels=channels, rows=tuple(rows))
