"""UDRDR inference: whole-image or tiled deraining of uint8 images, and of image files.

:func:`derain_image` runs a network (F3 at test time, Sec. 3.4) on one ``H x W x 3`` uint8
RGB image of any size and returns float32 RGB on the ``[0, 1]`` scale, unclamped (the
caller quantizes, e.g. with ``models.methods.quantize(out, "round")``).

Tiling (``tile=T``): the image is cut into ``T x T`` tiles whose starts step by
``T - overlap``; the last tile of a row/column is shifted back so that it ends at the
image border, so every tile lies inside the image and nothing is padded. An image side
not longer than ``T`` is processed whole along that side (no padding either). Tile
outputs are blended with a separable window: on each tile edge that lies inside the image,
the outer quarter of the overlap (``overlap // 4`` pixels, where the network's zero padding
at the tile border shows) weighs 0, the next half rises as a raised cosine
``0.5 - 0.5 cos(pi (i + 0.5) / n)`` and the rest weighs 1; edges at the image border keep
weight 1. The weighted tiles are summed and divided by the summed weights. Hence:

- a tile covering the whole image is exactly whole-image inference;
- a network whose receptive field reaches ``r`` pixels from its centre gives the
  whole-image result (up to float rounding) whenever ``overlap // 4 >= r``; with a smaller
  overlap the seams differ slightly (tests and ``bench/results/inference.md`` report it).
  The scale-1 EDSR has ``r = 2 * n_blocks + 3`` (3x3 convolutions), i.e. 35 for the paper
  config, although a trained net's effective reach is usually far smaller.

:func:`derain_files` is the batch driver behind ``udrdr derain``: files or folders in,
PNGs out, written atomically.
"""

from __future__ import annotations

import contextlib
import math
import os
import re
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

from models.methods import bf16_supported
from raindata.errors import DataError
from raindata.imageio import is_image_file, read_image, write_png

PRECISIONS: tuple[str, ...] = ("fp32", "bf16", "fp16")
"""``fp32`` eager; ``bf16`` autocast (CUDA, or CPUs with AVX512/AMX); ``fp16`` autocast (CUDA)."""


# --------------------------------------------------------------------------- checks


def check_image(img: np.ndarray, name: str = "image") -> None:
    """DataError unless ``img`` is a non-empty uint8 ``H x W x 3`` array."""
    if not isinstance(img, np.ndarray):
        raise DataError(f"{name}: expected a uint8 H x W x 3 numpy array, got {type(img).__name__}")
    if img.dtype != np.uint8 or img.ndim != 3 or img.shape[2] != 3 or 0 in img.shape:
        raise DataError(
            f"{name}: expected a uint8 H x W x 3 RGB image, got {img.dtype} array of shape "
            f"{img.shape}"
        )


def check_tiling(tile: int | None, overlap: int) -> None:
    """DataError unless ``tile`` is None or an int >= 1 and ``0 <= overlap < tile``."""
    if tile is None:
        return
    if isinstance(tile, bool) or not isinstance(tile, int) or tile < 1:
        raise DataError(f"tile: expected an integer >= 1 or None, got {tile!r}")
    if isinstance(overlap, bool) or not isinstance(overlap, int) or not 0 <= overlap < tile:
        raise DataError(f"overlap: expected an integer in [0, tile={tile}), got {overlap!r}")


def resolve_device(device: str | torch.device) -> torch.device:
    """``torch.device(device)``; DataError for a bad name or CUDA without a GPU."""
    try:
        dev = torch.device(device)
    except (RuntimeError, TypeError) as exc:
        raise DataError(f"device: expected cpu, cuda or cuda:N, got {device!r} ({exc})") from None
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise DataError(f"device {str(device)!r} requested but CUDA is not available")
    if dev.type not in ("cpu", "cuda"):
        raise DataError(f"device: expected cpu or cuda, got {str(device)!r}")
    return dev


def check_precision(precision: str, device: str | torch.device) -> None:
    """DataError unless ``precision`` is one of :data:`PRECISIONS` and usable on ``device``."""
    if precision not in PRECISIONS:
        raise DataError(f"precision: expected one of {', '.join(PRECISIONS)}, got {precision!r}")
    dev = resolve_device(device)
    if precision == "fp16" and dev.type != "cuda":
        raise DataError(f"precision 'fp16' needs a CUDA device, got {str(device)!r}; use fp32")
    if precision == "bf16":
        if dev.type == "cpu" and not bf16_supported("cpu"):
            cap = torch.backends.cpu.get_cpu_capability()
            raise DataError(
                f"precision 'bf16' needs a CPU with AVX512 or AMX, this one reports {cap}; "
                "use fp32"
            )
        if dev.type == "cuda" and not torch.cuda.is_bf16_supported():
            name = torch.cuda.get_device_name(dev)
            raise DataError(f"precision 'bf16' is not supported by {name}; use fp32 or fp16")


# --------------------------------------------------------------------------- tiling


def tile_starts(length: int, tile: int, overlap: int) -> list[int]:
    """Start offsets of tiles of size ``min(tile, length)`` covering ``[0, length)``.

    Steps of ``tile - overlap``; the last start is ``length - tile`` so the last tile ends
    at the border. A side not longer than ``tile`` gives ``[0]``.
    """
    check_tiling(tile, overlap)
    if length <= tile:
        return [0]
    return [*range(0, length - tile, tile - overlap), length - tile]


def ramp(length: int) -> np.ndarray:
    """Raised-cosine ramp of ``length`` weights rising from near 0 to near 1 (all > 0)."""
    i = np.arange(length, dtype=np.float64)
    return 0.5 - 0.5 * np.cos(math.pi * (i + 0.5) / max(length, 1))


def edge_profile(overlap: int) -> np.ndarray:
    """Weights of the ``overlap - overlap // 4`` pixels next to an inner tile edge.

    The first ``overlap // 4`` (the margin, where the network saw the tile border instead
    of image content) weigh 0, the next ``overlap - 2 * (overlap // 4)`` follow
    :func:`ramp`; further in, the weight is 1.
    """
    margin = overlap // 4
    return np.concatenate([np.zeros(margin), ramp(overlap - 2 * margin)])


def blend_window(size: int, overlap: int, ramp_start: bool, ramp_end: bool) -> np.ndarray:
    """1-D blending weights of one tile side: 1, with :func:`edge_profile` at inner edges."""
    w = np.ones(size, dtype=np.float64)
    prof = edge_profile(overlap)[:size]
    n = prof.size
    if n > 0:
        if ramp_start:
            w[:n] *= prof
        if ramp_end:
            w[size - n :] *= prof[::-1]
    return w


def tiles(height: int, width: int, tile: int, overlap: int) -> Iterator[tuple[slice, slice]]:
    """(rows, cols) slices of every tile of an ``height x width`` image, row by row."""
    for y in tile_starts(height, tile, overlap):
        for x in tile_starts(width, tile, overlap):
            yield slice(y, y + min(tile, height)), slice(x, x + min(tile, width))


# --------------------------------------------------------------------------- running a net


def prepare_network(net: nn.Module, device: torch.device, channels_last: bool) -> nn.Module:
    """Move ``net`` to ``device`` in the memory format asked, in place (as ``nn.Module.to``)."""
    fmt = torch.channels_last if channels_last else torch.contiguous_format
    return net.to(device=device, memory_format=fmt)


def _autocast(precision: str, device: torch.device) -> contextlib.AbstractContextManager:
    if precision == "bf16":
        return torch.autocast(device_type=device.type, dtype=torch.bfloat16)
    if precision == "fp16":
        return torch.autocast(device_type=device.type, dtype=torch.float16)
    return contextlib.nullcontext()


def _forward(net: nn.Module, x: torch.Tensor, precision: str, fmt: torch.memory_format):
    with _autocast(precision, x.device):
        out = net(x.contiguous(memory_format=fmt))
    if out.ndim != 4 or out.shape[0] != 1 or out.shape[2:] != x.shape[2:]:
        raise ValueError(f"derain_image: the network must keep the image size, "
                         f"got {tuple(out.shape)} for input {tuple(x.shape)}")
    return out.float()


def derain_image(
    net: nn.Module,
    img: np.ndarray,
    *,
    device: str | torch.device = "cpu",
    tile: int | None = None,
    overlap: int = 32,
    precision: str = "fp32",
    channels_last: bool = False,
) -> np.ndarray:
    """Derain one uint8 ``H x W x 3`` RGB image; float32 ``H x W x 3`` on the [0, 1] scale.

    ``net`` maps ``[1, 3, H, W]`` float images in [0, 1] to images of the same size (F3); it
    is moved to ``device`` and ``channels_last`` format in place, and run in eval mode (its
    train/eval mode is restored afterwards).
    ``tile=None`` runs the whole image; ``tile=T`` runs overlapping ``T x T`` tiles and
    blends them (module docstring). ``precision``: ``'fp32'``, ``'bf16'`` autocast (CUDA, or
    a CPU with AVX512/AMX) or ``'fp16'`` autocast (CUDA only). The output is not clipped.
    Runs under ``torch.inference_mode()``.
    """
    check_image(img)
    check_tiling(tile, overlap)
    dev = resolve_device(device)
    check_precision(precision, dev)
    prepare_network(net, dev, channels_last)
    fmt = torch.channels_last if channels_last else torch.contiguous_format
    was_training = net.training
    net.eval()
    try:
        return _derain(net, img, dev, tile, overlap, precision, fmt)
    finally:
        net.train(was_training)


def _derain(
    net: nn.Module, img: np.ndarray, dev: torch.device, tile: int | None, overlap: int,
    precision: str, fmt: torch.memory_format,
) -> np.ndarray:
    height, width = img.shape[:2]
    with torch.inference_mode():
        x = torch.from_numpy(np.ascontiguousarray(img)).to(dev)
        x = x.permute(2, 0, 1).unsqueeze(0).float().div_(255.0)
        if tile is None or (height <= tile and width <= tile):
            y = _forward(net, x, precision, fmt)
        else:
            y = _tiled_forward(net, x, tile, overlap, precision, fmt)
        out = y[0].permute(1, 2, 0).cpu().numpy()
    return np.ascontiguousarray(out, dtype=np.float32)


def _tiled_forward(
    net: nn.Module, x: torch.Tensor, tile: int, overlap: int, precision: str,
    fmt: torch.memory_format,
) -> torch.Tensor:
    """Blend the outputs of overlapping tiles of ``x`` [1, C, H, W] (module docstring)."""
    _, _, height, width = x.shape
    acc: torch.Tensor | None = None
    wsum = torch.zeros(1, 1, height, width, dtype=torch.float32, device=x.device)
    for rows, cols in tiles(height, width, tile, overlap):
        out = _forward(net, x[:, :, rows, cols], precision, fmt)
        if acc is None:
            acc = torch.zeros(1, out.shape[1], height, width, dtype=torch.float32,
                              device=x.device)
        wy = blend_window(rows.stop - rows.start, overlap, rows.start > 0, rows.stop < height)
        wx = blend_window(cols.stop - cols.start, overlap, cols.start > 0, cols.stop < width)
        w = torch.from_numpy(np.outer(wy, wx).astype(np.float32)).to(x.device)[None, None]
        acc[:, :, rows, cols] += out * w
        wsum[:, :, rows, cols] += w
    assert acc is not None
    return acc / wsum


# --------------------------------------------------------------------------- files


_DIGITS = re.compile(r"(\d+)")


def natural_key(path: str | os.PathLike) -> tuple:
    """Sort key ordering ``img2`` before ``img10`` (digit runs compare as numbers)."""
    name = Path(path).name
    return tuple(
        (0, int(part), part) if part.isdigit() else (1, 0, part.lower())
        for part in _DIGITS.split(name)
        if part
    ), name


def collect_inputs(inputs: Sequence[str | os.PathLike]) -> list[Path]:
    """Image files named by ``inputs``: files as given, folders' images (naturally sorted).

    Folders are not searched recursively; hidden files are skipped. A path given twice
    (or a file also inside a given folder) is kept once. DataError for a missing path or a
    folder without images.
    """
    found: list[Path] = []
    seen: set[Path] = set()
    for item in inputs:
        p = Path(item)
        if p.is_dir():
            names = [c for c in p.iterdir()
                     if c.is_file() and not c.name.startswith(".") and is_image_file(c)]
            if not names:
                raise DataError(f"{p}: no image files in this folder")
            batch = sorted(names, key=natural_key)
        elif p.is_file():
            batch = [p]
        else:
            raise DataError(f"{p}: no such file or folder")
        for f in batch:
            key = f.resolve()
            if key not in seen:
                seen.add(key)
                found.append(f)
    if not found:
        raise DataError("no input images given")
    return found


def plan_outputs(sources: Sequence[Path], out_dir: str | os.PathLike, force: bool) -> list[Path]:
    """Output PNG path in ``out_dir`` for each source (``<stem>.png``), checked up front.

    DataError when two sources share a stem, when an output would replace its own input,
    or when an output exists and ``force`` is False.
    """
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise DataError(f"{out}: --out must be a folder, this is a file")
    by_name: dict[str, Path] = {}
    plan = []
    for src in sources:
        dst = out / f"{src.stem}.png"
        if dst.name in by_name:
            raise DataError(
                f"{src} and {by_name[dst.name]} would both be written to {dst}; rename one"
            )
        by_name[dst.name] = src
        if dst.exists():
            if dst.resolve() == src.resolve():
                raise DataError(f"{dst}: output would replace its own input; choose another --out")
            if not force:
                raise DataError(f"{dst}: already exists (use --force to replace it)")
        plan.append(dst)
    return plan


@dataclass(frozen=True)
class DerainedFile:
    """One image derained by :func:`derain_files`."""

    source: Path
    output: Path
    height: int
    width: int
    seconds: float
    """Read + network + write time of this image."""
    sha256: str
    """sha256 of the PNG written."""


def derain_files(
    net: nn.Module,
    sources: Sequence[Path],
    outputs: Sequence[Path],
    *,
    device: str | torch.device = "cpu",
    tile: int | None = None,
    overlap: int = 32,
    precision: str = "fp32",
    channels_last: bool = False,
    progress: Callable[[DerainedFile], None] | None = None,
) -> list[DerainedFile]:
    """Derain each ``sources[i]`` into the PNG ``outputs[i]`` (written atomically).

    Output pixels are ``round half away from zero(255 * clip(out, 0, 1))``
    (``models.methods.quantize(out, "round")``). ``progress`` is called after each image.
    DataError (naming the file) for an unreadable image.
    """
    from models.methods import quantize
    from raindata.atomic import sha256_bytes

    if len(sources) != len(outputs):
        raise ValueError(f"expected one output per source, got {len(sources)} vs {len(outputs)}")
    check_tiling(tile, overlap)
    check_precision(precision, device)
    done = []
    for src, dst in zip(sources, outputs, strict=True):
        start = time.perf_counter()
        img = read_image(src)
        y = derain_image(net, img, device=device, tile=tile, overlap=overlap,
                         precision=precision, channels_last=channels_last)
        if not np.isfinite(y).all():
            raise DataError(f"{src}: the network output holds NaN/inf values")
        data = write_png(dst, quantize(y, "round"))
        item = DerainedFile(src, dst, img.shape[0], img.shape[1],
                            time.perf_counter() - start, sha256_bytes(data))
        done.append(item)
        if progress is not None:
            progress(item)
    return done
