"""Reading and writing images with explicit, checked conventions.

Every image that enters the toolkit goes through :func:`read_image`: it comes back
as an ``H x W x 3`` (or ``H x W`` for ``mode="gray"``) ``uint8`` array in RGB order.
16-bit files are reduced to 8 bits by rounding (``round(v / 257)``), grey files are
replicated to three channels, and an alpha channel is dropped (the colour values are
kept as stored, not composited). Anything else is refused with a :class:`DataError`
that names the file.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from raindata.atomic import atomic_write_bytes
from raindata.errors import DataError

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp")


def _cv2():
    import cv2

    return cv2


def is_image_file(path: str | os.PathLike) -> bool:
    """True when the file name has a supported image suffix."""
    return Path(path).suffix.lower() in IMAGE_SUFFIXES


def decode_image(data: bytes, name: str = "<bytes>", mode: str = "rgb") -> np.ndarray:
    """Decode encoded image bytes to uint8 RGB (or grey); see :func:`read_image`."""
    cv2 = _cv2()
    buf = np.frombuffer(data, dtype=np.uint8)
    img = cv2.imdecode(buf, cv2.IMREAD_UNCHANGED) if buf.size else None
    if img is None:
        raise DataError(f"{name}: not a readable image")
    return _normalise(img, name, mode)


def read_image(path: str | os.PathLike, mode: str = "rgb") -> np.ndarray:
    """Read an image file as ``uint8``: ``H x W x 3`` RGB, or ``H x W`` for ``mode="gray"``.

    Raises :class:`DataError` naming ``path`` when it is missing, unreadable or of
    an unsupported kind.
    """
    p = Path(path)
    try:
        data = p.read_bytes()
    except FileNotFoundError:
        raise DataError(f"{p}: no such file") from None
    except IsADirectoryError:
        raise DataError(f"{p}: is a folder, expected an image file") from None
    except OSError as exc:
        raise DataError(f"{p}: cannot read ({exc.strerror})") from None
    return decode_image(data, str(p), mode)


def _normalise(img: np.ndarray, name: str, mode: str) -> np.ndarray:
    cv2 = _cv2()
    if mode not in ("rgb", "gray"):
        raise ValueError(f"mode must be 'rgb' or 'gray', got {mode!r}")
    if img.dtype == np.uint16:
        img = np.round(img.astype(np.float64) / 257.0).astype(np.uint8)
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
