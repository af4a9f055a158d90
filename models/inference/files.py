"""Deraining image files with any method: inputs, output plan, atomic PNGs."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from models.inference.output import quantize
from raindata.errors import DataError
from raindata.imageio import is_image_file, read_image, write_png


def natural_key(path: str | os.PathLike) -> tuple:
    """Sort key ordering ``img2`` before ``img10`` (by file name)."""
    from raindata.synth import natural_key as by_name

    return by_name(Path(path).name)


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


def plan_outputs(sources: Sequence[Path], out_dir: str | os.PathLike) -> list[Path]:
    """Output PNG path in ``out_dir`` for each source (``<stem>.png``), checked up front.

    DataError when ``out_dir`` is a file, when two sources share a stem or when an output
    would replace its own input. Existing outputs are sorted out by :func:`existing_outputs`.
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
        if dst.exists() and dst.resolve() == src.resolve():
            raise DataError(f"{dst}: output would replace its own input; choose another --out")
        plan.append(dst)
    return plan


def is_complete_output(output: Path, source: Path) -> bool:
    """Whether ``output`` is a finished output of ``source``: a PNG file that decodes, with
    the source image's size (a truncated or foreign file is not)."""
    if not output.is_file() or output.suffix.lower() != ".png":
        return False
    try:
        got = read_image(output)
        want = read_image(source)
    except DataError:
        return False
    return got.shape[:2] == want.shape[:2]


@dataclass(frozen=True)
class ExistingOutputs:
    """How :func:`existing_outputs` sorted the planned outputs (indices into them)."""

    todo: list[int]
    """To derain: missing, incomplete or (with ``force``) existing outputs."""
    kept: list[int]
    """Complete outputs already there, kept as they are."""
    redone: list[int]
    """Outputs that exist but are incomplete or unreadable: derained again."""


def existing_outputs(sources: Sequence[Path], outputs: Sequence[Path], *, force: bool,
                     rain_maps: Sequence[Path] | None = None) -> ExistingOutputs:
    """Sort ``outputs`` into those to derain and complete ones to keep (unless ``force``).

    An output is kept when it, and its rain map when ``rain_maps`` are asked for, is
    complete (:func:`is_complete_output`); so a rerun of an interrupted run continues
    where it stopped, and redoes the image whose output is broken.
    """
    todo: list[int] = []
    kept: list[int] = []
    redone: list[int] = []
    for i, (src, dst) in enumerate(zip(sources, outputs, strict=True)):
        paths = [dst] + ([rain_maps[i]] if rain_maps is not None else [])
        present = [p for p in paths if p.exists()]
        if force or not present:
            todo.append(i)
        elif len(present) == len(paths) and all(is_complete_output(p, src) for p in paths):
            kept.append(i)
        else:
            todo.append(i)
            redone.append(i)
    return ExistingOutputs(todo, kept, redone)


@dataclass(frozen=True)
class DerainedFile:
    """One image derained by :func:`derain_files`."""

    source: Path
    output: Path
    height: int
    width: int
    seconds: float
    """Share of read + network + write time of this image (its batch's time / batch size)."""
    sha256: str
    """sha256 of the PNG written."""
    rain_map: Path | None = None


def rain_map_image(z: np.ndarray) -> np.ndarray:
    """An estimated rain map (float, [0, 1] scale) as uint8, rounded, negatives clipped."""
    return quantize(z, "round")


def derain_files(
    method,
    sources: Sequence[Path],
    outputs: Sequence[Path],
    *,
    how: str,
    rain_map_dir: Path | None = None,
    progress: Callable[[DerainedFile], None] | None = None,
) -> list[DerainedFile]:
    """Derain each ``sources[i]`` with ``method`` into the PNG ``outputs[i]`` (atomically).

    ``how`` is the quantization (``truncate``/``round``). Consecutive images of equal size
    share forward passes up to the method's ``batch_size``. With ``rain_map_dir`` the
    method's estimated rain map of each image is saved there too, same name. DataError
    (naming the file) for an unreadable image or a non-finite output.
    """
    from raindata.atomic import sha256_bytes

    if len(sources) != len(outputs):
        raise ValueError(f"expected one output per source, got {len(sources)} vs {len(outputs)}")
    batch = max(1, int(getattr(method, "batch_size", 1)))
    done: list[DerainedFile] = []
    for lo in range(0, len(sources), batch):
        start = time.perf_counter()
        srcs, dsts = sources[lo:lo + batch], outputs[lo:lo + batch]
        images = [read_image(s) for s in srcs]
        if rain_map_dir is not None:
            pairs = method.derain_with_rain_maps(images)
        else:
            pairs = [(y, None) for y in method.derain_batch(images)]
        written = []
        for src, dst, img, (y, z) in zip(srcs, dsts, images, pairs, strict=True):
            if not np.isfinite(y).all():
                raise DataError(f"{src}: the network output holds NaN/inf values")
            data = write_png(dst, quantize(y, how))
            zpath = None
            if z is not None and rain_map_dir is not None:
                zpath = Path(rain_map_dir) / dst.name
                write_png(zpath, rain_map_image(z))
            written.append((src, dst, img.shape, sha256_bytes(data), zpath))
        share = (time.perf_counter() - start) / len(written)
        for src, dst, shape, digest, zpath in written:
            item = DerainedFile(src, dst, shape[0], shape[1], share, digest, zpath)
            done.append(item)
            if progress is not None:
                progress(item)
    return done
