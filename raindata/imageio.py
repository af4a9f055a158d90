"""Reading and writing images with explicit, checked conventions.

Every image that enters the toolkit goes through :func:`read_image`: it comes back
as an ``H x W x 3`` (or ``H x W`` for ``mode="gray"``) ``uint8`` array in RGB order.
16-bit files are reduced to 8 bits by rounding (``round(v / 257)``), grey files are
replicated to three channels, and an alpha channel is dropped (the colour values are
kept as stored, not composited). Anything else is refused with a :class:`DataError`
that names the file.

Hostile files are refused before they cost memory or time: only regular files are
opened (never a FIFO or a device, also behind a link), a file larger than any image
within the pixel limit could be is not read, and the size in the header (PNG, JPEG,
BMP, TIFF, WebP, PNM; see :mod:`raindata.headers`) is checked against the pixel limit
before decoding. The limit is :data:`DEFAULT_MAX_PIXELS` (2**26 = 67,108,864 pixels,
8192 x 8192, or a 64-megapixel phone photo of 9248 x 6936), raised or lowered by the
environment variable ``RAINDATA_MAX_PIXELS`` or the ``max_pixels`` argument. Decoder
failures of any kind become a :class:`DataError`, and decoder chatter on stderr
(libpng warnings, OpenCV log lines) is dropped during reads (:mod:`raindata.quiet`).
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

import numpy as np

from raindata.atomic import atomic_write_bytes
from raindata.errors import DataError
from raindata.headers import image_header

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp")

#: Largest image accepted, in pixels (width x height): 2**26, e.g. 8192 x 8192. A uint8
#: RGB copy is then at most 192 MiB and a 16-bit RGBA decode at most 512 MiB, about a
#: hundred times the largest image of the public deraining sets (SIRR-Data's real
#: photos reach a few megapixels), while a 64-megapixel phone photo still fits.
DEFAULT_MAX_PIXELS = 1 << 26
#: Environment variable that sets the pixel limit (a whole number, e.g. 200000000).
MAX_PIXELS_ENV = "RAINDATA_MAX_PIXELS"
#: Bytes per pixel of the largest encoding accepted (16-bit RGBA, uncompressed) and
#: the room left for metadata: a file above ``limit * 8 + 16 MiB`` is not read.
_BYTES_PER_PIXEL = 8
_FILE_SLACK = 16 << 20

_FILE_KINDS = (
    (stat.S_ISDIR, "a folder"), (stat.S_ISFIFO, "a FIFO"), (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket"),
)


def _cv2():
    import cv2

    return cv2


def is_image_file(path: str | os.PathLike) -> bool:
    """True when the file name has a supported image suffix."""
    return Path(path).suffix.lower() in IMAGE_SUFFIXES


def pixel_limit(max_pixels: int | None = None) -> int:
    """The pixel limit in force: ``max_pixels`` if given, else ``$RAINDATA_MAX_PIXELS``,
    else :data:`DEFAULT_MAX_PIXELS`. A bad value is a :class:`DataError` naming it."""
    if max_pixels is not None:
        if isinstance(max_pixels, bool) or not isinstance(max_pixels, int) or max_pixels < 1:
            raise DataError(f"max_pixels: expected a positive whole number, got {max_pixels!r}")
        return max_pixels
    text = os.environ.get(MAX_PIXELS_ENV, "").strip()
    if not text:
        return DEFAULT_MAX_PIXELS
    try:
        value = int(text.replace("_", ""))
    except ValueError:
        value = 0
    if value < 1:
        raise DataError(f"{MAX_PIXELS_ENV}={text!r}: expected a positive whole number of pixels")
    return value


def _megapixels(pixels: int) -> str:
    return f"{pixels / 1e6:.1f} megapixels"


def _check_pixels(name: str, width: int, height: int, limit: int) -> None:
    if width * height > limit:
        raise DataError(
            f"{name}: {width}x{height} pixels ({_megapixels(width * height)}) is above the "
            f"limit of {limit} pixels ({_megapixels(limit)}); raise it with --max-pixels or "
            f"{MAX_PIXELS_ENV}"
        )


def decode_image(
    data: bytes, name: str = "<bytes>", mode: str = "rgb", max_pixels: int | None = None
) -> np.ndarray:
    """Decode encoded image bytes to uint8 RGB (or grey); see :func:`read_image`.

    The header size is checked against :func:`pixel_limit` before decoding; any
    decoder failure is a :class:`DataError` naming ``name``.
    """
    if mode not in ("rgb", "gray"):
        raise ValueError(f"mode must be 'rgb' or 'gray', got {mode!r}")
    limit = pixel_limit(max_pixels)
    if not data:
        raise DataError(f"{name}: empty file (0 bytes), not an image")
    header = image_header(data, name)
    if header is not None:
        _check_pixels(name, header.width, header.height, limit)
    from raindata.quiet import quiet_decoders

    cv2 = _cv2()
    try:
        with quiet_decoders(cv2):
            img = cv2.imdecode(np.frombuffer(data, dtype=np.uint8), cv2.IMREAD_UNCHANGED)
        if img is None:
            raise DataError(f"{name}: not a readable image")
        _check_pixels(name, img.shape[1], img.shape[0], limit)  # formats without a header parser
        return _normalise(img, name, mode)
    except cv2.error as exc:
        raise DataError(f"{name}: not a readable image ({_cv2_reason(exc)})") from None
    except MemoryError:
        raise DataError(f"{name}: not enough memory to decode it") from None
    except (ValueError, OverflowError, SystemError) as exc:  # anything else from the decoder
        raise DataError(f"{name}: not a readable image ({type(exc).__name__})") from None


def _cv2_reason(exc: Exception) -> str:
    """The short reason inside an OpenCV error (``error: (-215:...) what``), one line."""
    text = " ".join(str(exc).split())
    reason = text.split(" error: ", 1)[-1]
    return reason[:200]


def read_image(
    path: str | os.PathLike, mode: str = "rgb", max_pixels: int | None = None
) -> np.ndarray:
    """Read an image file as ``uint8``: ``H x W x 3`` RGB, or ``H x W`` for ``mode="gray"``.

    Raises :class:`DataError` naming ``path`` when it is missing, not a regular file,
    unreadable, larger than the pixel limit (see :func:`pixel_limit`) or of an
    unsupported kind.
    """
    limit = pixel_limit(max_pixels)
    data = read_image_bytes(path, limit)
    return decode_image(data, str(Path(path)), mode, limit)


def read_image_bytes(path: str | os.PathLike, max_pixels: int | None = None) -> bytes:
    """The bytes of image file ``path``: a regular file (links followed) no larger than an
    image within the pixel limit can be. Never opens a FIFO or a device; DataError otherwise.
    """
    p = Path(path)
    limit = pixel_limit(max_pixels)
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
    try:
        st = os.stat(p)  # refuse devices and FIFOs before opening (open could block)
        _check_regular(p, st)
        fd = os.open(p, flags)
    except FileNotFoundError:
        kind = "broken link" if p.is_symlink() else "no such file"
        raise DataError(f"{p}: {kind}") from None
    except IsADirectoryError:
        raise DataError(f"{p}: is a folder, expected an image file") from None
    except OSError as exc:
        raise DataError(f"{p}: cannot read ({exc.strerror or exc})") from None
    most = limit * _BYTES_PER_PIXEL + _FILE_SLACK
    try:
        with os.fdopen(fd, "rb") as fh:
            _check_regular(p, os.fstat(fh.fileno()))  # the file opened is the one checked
            data = fh.read(most + 1)
    except OSError as exc:
        raise DataError(f"{p}: cannot read ({exc.strerror or exc})") from None
    if len(data) > most:
        raise DataError(
            f"{p}: file larger than {most} bytes, more than an image within the limit of "
            f"{limit} pixels can take; raise it with --max-pixels or {MAX_PIXELS_ENV}"
        )
    return data


def _check_regular(p: Path, st: os.stat_result) -> None:
    if stat.S_ISREG(st.st_mode):
        return
    if stat.S_ISDIR(st.st_mode):
        raise DataError(f"{p}: is a folder, expected an image file")
    kind = next((what for test, what in _FILE_KINDS if test(st.st_mode)), "not a regular file")
    link = f" (link to {os.path.realpath(p)})" if p.is_symlink() else ""
    raise DataError(f"{p}: {kind}{link}, not a regular file; not read")


def _normalise(img: np.ndarray, name: str, mode: str) -> np.ndarray:
    cv2 = _cv2()
    if mode not in ("rgb", "gray"):
        raise ValueError(f"mode must be 'rgb' or 'gray', got {mode!r}")
    if img.dtype == np.uint16:
        # round(v / 257) without a float64 copy: v = 257k + r with 0 <= r <= 256 never
        # lands on a half, so it is (v + 128) // 257 exactly (checked for every v in tests)
        img = ((img.astype(np.uint32) + 128) // 257).astype(np.uint8)
    elif img.dtype != np.uint8:
        raise DataError(f"{name}: unsupported sample type {img.dtype} (expected 8 or 16 bit)")
    if img.ndim == 3 and img.shape[2] == 1:
        img = img[:, :, 0]
    if img.ndim == 2:
        gray = img
        rgb = None
    elif img.ndim == 3 and img.shape[2] in (3, 4):
        rgb = cv2.cvtColor(img[:, :, :3], cv2.COLOR_BGR2RGB)
        gray = None
    else:
        raise DataError(f"{name}: unsupported image shape {img.shape}")
    if img.shape[0] < 1 or img.shape[1] < 1:
        raise DataError(f"{name}: empty image")
    if mode == "gray":
        if gray is None:
            gray = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
        return np.ascontiguousarray(gray)
    if rgb is None:
        rgb = np.repeat(gray[:, :, None], 3, axis=2)
    return np.ascontiguousarray(rgb)


def encode_png(img: np.ndarray, compression: int = 3) -> bytes:
    """Encode a uint8 RGB (``H x W x 3``) or grey (``H x W``) array as PNG bytes."""
    cv2 = _cv2()
    if img.dtype != np.uint8:
        raise ValueError(f"expected uint8 image, got {img.dtype}")
    if img.ndim == 3:
        if img.shape[2] != 3:
            raise ValueError(f"expected 3 channels, got shape {img.shape}")
        img = cv2.cvtColor(img, cv2.COLOR_RGB2BGR)
    ok, buf = cv2.imencode(".png", img, [cv2.IMWRITE_PNG_COMPRESSION, compression])
    if not ok:
        raise RuntimeError("PNG encoding failed")
    return buf.tobytes()


def write_png(path: str | os.PathLike, img: np.ndarray, compression: int = 3) -> bytes:
    """Write ``img`` as a PNG atomically; returns the bytes written (for hashing)."""
    data = encode_png(img, compression)
    atomic_write_bytes(path, data)
    return data


def image_size(path: str | os.PathLike) -> tuple[int, int]:
    """(width, height) of an image file, read fully so that a corrupt file is caught."""
    img = read_image(path)
    return img.shape[1], img.shape[0]
