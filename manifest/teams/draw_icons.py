"""Draw the Teams app icons with the standard library only: `python manifest/teams/draw_icons.py`.

color.png   192×192, full colour: three rising bars on the accent colour, the last one an arrow.
outline.png  32×32, the same shape in white on a transparent background.
"""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

ACCENT = (0x2E, 0x7D, 0x6B)   # also the manifest's accentColor
WHITE = (0xFF, 0xFF, 0xFF)
HERE = Path(__file__).resolve().parent

# The shape on a 192-unit square: bars (x0, y0, x1, y1) and the arrow head (a triangle).
BARS = ((36, 116, 66, 156), (81, 90, 111, 156), (126, 64, 156, 156))
ARROW = ((141, 22), (112, 68), (170, 68))


def _in_triangle(x: float, y: float, tri) -> bool:
    (x1, y1), (x2, y2), (x3, y3) = tri

    def side(ax, ay, bx, by):
        return (x - bx) * (ay - by) - (ax - bx) * (y - by)

    d1, d2, d3 = side(x1, y1, x2, y2), side(x2, y2, x3, y3), side(x3, y3, x1, y1)
    return not ((d1 < 0 or d2 < 0 or d3 < 0) and (d1 > 0 or d2 > 0 or d3 > 0))


def _inside(x: float, y: float) -> bool:
    return any(x0 <= x < x1 and y0 <= y < y1 for x0, y0, x1, y1 in BARS) or _in_triangle(x, y, ARROW)


def coverage(size: int, samples: int = 4) -> list[list[float]]:
    """How much of each pixel the shape covers (0..1), supersampled."""
    scale = 192 / size
    rows = []
    for py in range(size):
        row = []
        for px in range(size):
            hits = 0
            for sy in range(samples):
                for sx in range(samples):
                    x = (px + (sx + 0.5) / samples) * scale
                    y = (py + (sy + 0.5) / samples) * scale
                    hits += _inside(x, y)
            row.append(hits / samples**2)
        rows.append(row)
    return rows


def png(width: int, height: int, rgba_rows: list[bytes]) -> bytes:
    """An RGBA PNG (colour type 6, 8 bits) from raw rows."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    raw = b"".join(b"\x00" + row for row in rgba_rows)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b""))


def color_icon() -> bytes:
    rows = []
    for row in coverage(192):
        out = bytearray()
        for c in row:
            out += bytes(round(a * c + b * (1 - c)) for a, b in zip(WHITE, ACCENT)) + b"\xff"
        rows.append(bytes(out))
    return png(192, 192, rows)


def outline_icon() -> bytes:
    rows = []
    for row in coverage(32, samples=8):
        out = bytearray()
        for c in row:
            out += bytes(WHITE) + bytes([round(255 * c)])
        rows.append(bytes(out))
    return png(32, 32, rows)


def main() -> None:
    (HERE / "color.png").write_bytes(color_icon())
    (HERE / "outline.png").write_bytes(outline_icon())


if __name__ == "__main__":
    main()
