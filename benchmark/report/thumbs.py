"""Small JPEG thumbnails of the report's images, named after their source so that a rerun
reuses the ones whose source did not change and removes the ones no longer shown."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from raindata.atomic import atomic_write_bytes, atomic_write_text
from raindata.errors import DataError

if TYPE_CHECKING:
    import numpy as np

THUMB_SIZE = 256
JPEG_QUALITY = 85
INDEX = "index.json"

Source = tuple[str, str | None]  # (absolute path, crop: None | "left" | "right")


def thumbnail(img: np.ndarray, size: int = THUMB_SIZE) -> np.ndarray:
    """``img`` shrunk (area-averaged) so that its long side is at most ``size``; never enlarged."""
    import cv2

    h, w = img.shape[:2]
    scale = size / max(h, w)
    if scale >= 1:
        return img
    return cv2.resize(img, (max(1, round(w * scale)), max(1, round(h * scale))),
                      interpolation=cv2.INTER_AREA)


def encode_jpeg(img: np.ndarray, quality: int = JPEG_QUALITY) -> bytes:
    """JPEG bytes of a uint8 RGB image."""
    import cv2

    ok, buf = cv2.imencode(".jpg", cv2.cvtColor(img, cv2.COLOR_RGB2BGR),
                           [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:
        raise RuntimeError("JPEG encoding failed")
    return buf.tobytes()


def load_view(path: str | Path, crop: str | None) -> np.ndarray:
    """The image as the report shows it: the whole file, or one half of a side-by-side file."""
    from raindata.imageio import read_image
    from raindata.layouts.load import split_side_by_side

    img = read_image(path)
    if crop is None:
        return img
    left, right = split_side_by_side(img, path)
    return left if crop == "left" else right


def thumb_name(source: Source, size: int) -> str:
    """File name of a source's thumbnail: changes when the file (size, mtime) changes."""
    path, crop = source
    st = Path(path).stat()
    key = f"{path}|{crop}|{size}|{st.st_size}|{st.st_mtime_ns}"
    return hashlib.sha1(key.encode()).hexdigest()[:20] + ".jpg"


def write_thumbs(
    sources: Iterable[Source], folder: Path, size: int = THUMB_SIZE,
    log: Callable[[str], None] | None = None,
) -> tuple[dict[Source, dict[str, Any]], int]:
    """Thumbnails of ``sources`` in ``folder`` (written atomically, reused when current).

    Returns ``(info, made)``: source -> ``{"name", "w", "h", "tw", "th"}`` (full and
    thumbnail size) for each readable source, and how many thumbnails were made now.
    Unreadable or missing files are left out and reported through ``log``. Files in
    ``folder`` that belong to no source are removed.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    try:
        known = json.loads((folder / INDEX).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        known = {}
    info: dict[Source, dict[str, Any]] = {}
    index: dict[str, dict[str, int]] = {}
    made = 0
    for source in dict.fromkeys(sources):
        try:
            name = thumb_name(source, size)
            sizes = known.get(name) if (folder / name).is_file() else None
            if sizes is None:
                img = load_view(*source)
                small = thumbnail(img, size)
                atomic_write_bytes(folder / name, encode_jpeg(small), durable=False)
                sizes = {"w": img.shape[1], "h": img.shape[0],
                         "tw": small.shape[1], "th": small.shape[0]}
                made += 1
        except (OSError, DataError) as exc:
            if log is not None:
                log(f"no thumbnail for {source[0]}: {exc}")
            continue
        index[name] = sizes
        info[source] = {"name": name, **sizes}
    atomic_write_text(folder / INDEX, json.dumps(index, indent=0, sort_keys=True) + "\n")
    for path in folder.iterdir():
        if path.name != INDEX and path.name not in index and path.is_file():
            path.unlink()
    return info, made
