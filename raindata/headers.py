"""Image sizes read from file headers, before any decoder allocates a pixel.

:func:`image_header` looks at the first bytes of an encoded image (PNG, JPEG, BMP,
TIFF, WebP, PNM) and returns its format, width and height, so that a file claiming
60000 x 60000 pixels is refused before OpenCV tries to allocate them. Pure Python,
no dependency; a format without a parser here gives ``None`` (the caller decodes and
checks the size afterwards).
"""

from __future__ import annotations

import re
import struct
from dataclasses import dataclass

from raindata.errors import DataError

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@dataclass(frozen=True)
class ImageHeader:
    """What a file header says: format name and size in pixels."""

    format: str
    width: int
    height: int

    @property
    def pixels(self) -> int:
        """width x height."""
        return self.width * self.height


def image_header(data: bytes, name: str = "<bytes>") -> ImageHeader | None:
    """Format and size from the header of encoded image ``data``.

    Returns None when the format has no parser here (or a JPEG gives its height only
    later, in a DNL marker). Raises :class:`DataError` naming ``name`` when the bytes
    start like a known format but its header is cut short or gives a zero size.
    """
    for magic, parse in _PARSERS:
        if data.startswith(magic):
            fmt = parse.__name__.removeprefix("_")
            try:
                size = parse(data)
            except (struct.error, IndexError, ValueError):
                raise DataError(f"{name}: not a readable image (broken {fmt.upper()} header)") \
                    from None
            if size is None:
                return None
            width, height = size
            if width <= 0 or height <= 0:
                raise DataError(
                    f"{name}: not a readable image ({fmt.upper()} header gives {width}x{height})"
                )
            return ImageHeader(fmt, width, height)
    return None


def _png(data: bytes) -> tuple[int, int]:
    length, kind, width, height = struct.unpack(">I4sII", data[8:24])
    if kind != b"IHDR" or length != 13:
        raise ValueError("first chunk is not IHDR")
    return width, height


# SOF markers carry the frame size; C4 (DHT), C8 (JPG) and CC (DAC) share the range.
_SOF = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}
_STANDALONE = frozenset({0x01, *range(0xD0, 0xD9)})  # TEM, RSTn, SOI: no length field


def _jpeg(data: bytes) -> tuple[int, int] | None:
    pos = 2
    while True:
        if data[pos] != 0xFF:
            raise ValueError("expected a marker")
        while data[pos] == 0xFF:  # fill bytes
            pos += 1
        marker = data[pos]
        pos += 1
        if marker in _STANDALONE:
            continue
        if marker in (0xD9, 0xDA):  # EOI or SOS before any frame header
            raise ValueError("no frame header")
        length = struct.unpack(">H", data[pos:pos + 2])[0]
        if length < 2:
            raise ValueError("bad segment length")
        if marker in _SOF:
            height, width = struct.unpack(">HH", data[pos + 3:pos + 7])
            return None if height == 0 else (width, height)  # 0: height comes in DNL
        pos += length


def _bmp(data: bytes) -> tuple[int, int]:
    dib = struct.unpack("<I", data[14:18])[0]
    if dib == 12:  # BITMAPCOREHEADER: 16-bit sizes
        width, height = struct.unpack("<hh", data[18:22])
    else:
        width, height = struct.unpack("<ii", data[18:26])
    return width, abs(height)  # a negative height means top-down rows


def _tiff(data: bytes) -> tuple[int, int]:
    order = "<" if data[:2] == b"II" else ">"
    offset = struct.unpack(order + "I", data[4:8])[0]
    count = struct.unpack(order + "H", data[offset:offset + 2])[0]
    size: dict[int, int] = {}
    for k in range(count):
        at = offset + 2 + 12 * k
        tag, kind, n = struct.unpack(order + "HHI", data[at:at + 8])
        if tag in (256, 257) and n == 1:
            if kind == 3:  # SHORT
                size[tag] = struct.unpack(order + "H", data[at + 8:at + 10])[0]
            elif kind == 4:  # LONG
                size[tag] = struct.unpack(order + "I", data[at + 8:at + 12])[0]
    if 256 not in size or 257 not in size:
        raise ValueError("no ImageWidth/ImageLength")
    return size[256], size[257]


def _webp(data: bytes) -> tuple[int, int]:
    if data[8:12] != b"WEBP":
        raise ValueError("RIFF file that is not WebP")
    chunk = data[12:16]
    if chunk == b"VP8 ":
        if data[23:26] != b"\x9d\x01\x2a":
            raise ValueError("no VP8 start code")
        width, height = struct.unpack("<HH", data[26:30])
        return width & 0x3FFF, height & 0x3FFF
    if chunk == b"VP8L":
        if data[20] != 0x2F:
            raise ValueError("no VP8L signature")
        bits = struct.unpack("<I", data[21:25])[0]
        return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
    if chunk == b"VP8X":
        b = data[24:30]
        if len(b) < 6:
            raise ValueError("short VP8X chunk")
        return int.from_bytes(b[:3], "little") + 1, int.from_bytes(b[3:], "little") + 1
    raise ValueError(f"unknown WebP chunk {chunk!r}")


_PNM_HEAD = re.compile(rb"P[1-6](?:\s+|#[^\n]*\n)+(\d+)(?:\s+|#[^\n]*\n)+(\d+)\s")


def _pnm(data: bytes) -> tuple[int, int] | None:
    if data[2:3] not in b" \t\r\n#" or not data[2:3]:
        return None  # "P7" (PAM) and others: left to the decoder
    m = _PNM_HEAD.match(data[:1024])
    if m is None:
        raise ValueError("no width and height")
    return int(m.group(1)), int(m.group(2))


_PARSERS = (
    (PNG_SIGNATURE, _png),
    (b"\xff\xd8", _jpeg),
    (b"BM", _bmp),
    (b"II*\x00", _tiff),
    (b"MM\x00*", _tiff),
    (b"RIFF", _webp),
    *((f"P{k}".encode(), _pnm) for k in range(1, 7)),
)
