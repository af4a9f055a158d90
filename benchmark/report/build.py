"""Write the report folder: ``index.html``, ``thumbs/`` and, with ``copy_images``, ``images/``.

Full-size images are linked with paths relative to the report folder, so the page opens
from disk (file://) as long as the results and the dataset stay where they are; with
``copy_images`` they are copied into the report, which can then be moved on its own.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

from benchmark.report.data import gather
from benchmark.report.html import GENERATOR, render_page
from benchmark.report.thumbs import THUMB_SIZE, write_thumbs
from raindata.atomic import atomic_path, atomic_write_text
from raindata.errors import DataError

Log = Callable[[str], None]


def link(path: str | Path, base: Path) -> str:
    """A relative URL from folder ``base`` to ``path`` (POSIX separators, percent-encoded)."""
    relative = os.path.relpath(os.path.abspath(path), os.path.abspath(base))
    return quote(Path(relative).as_posix(), safe="/")


def image_refs(data: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Every image reference of the gathered data (rainy, clean and output images)."""
    for section in data["sections"]:
        for image in section["images"]:
            for key in ("rainy", "clean"):
                if image[key] is not None:
                    yield image[key]
            yield from image["outputs"].values()


def check_out(out: Path) -> None:
    """Refuse to write into an existing folder that is neither empty nor a report."""
    if out.exists() and not out.is_dir():
        raise DataError(f"--out {out}: exists and is not a folder")
    if out.is_dir() and any(out.iterdir()):
        page = out / "index.html"
        if not (page.is_file() and GENERATOR in page.read_text(encoding="utf-8", errors="replace")):
            raise DataError(f"--out {out}: folder is not empty and holds no benchmark report; "
                            "choose a new or empty folder")


def copy_images(paths: list[str], folder: Path) -> dict[str, Path]:
    """Copy each file into ``folder/<hash of its folder>/<name>`` (unchanged copies are kept);
    remove files of an earlier report that are no longer used. Returns path -> copy."""
    copies: dict[str, Path] = {}
    for path in dict.fromkeys(paths):
        src = Path(path)
        dest = folder / hashlib.sha1(str(src.parent).encode()).hexdigest()[:12] / src.name
        st = src.stat()
        if not (dest.is_file() and dest.stat().st_size == st.st_size
                and dest.stat().st_mtime_ns == st.st_mtime_ns):
            with atomic_path(dest, durable=False) as tmp:
                shutil.copy2(src, tmp)
        copies[path] = dest
    _prune(folder, set(copies.values()))
    return copies


def _prune(folder: Path, keep: set[Path]) -> None:
    if not folder.is_dir():
        return
    for path in sorted(folder.rglob("*"), reverse=True):  # files before their folders
        if path.is_dir():
            if not any(path.iterdir()):
                path.rmdir()
        elif path not in keep:
            path.unlink()
    if not any(folder.iterdir()):
        folder.rmdir()


def write_report(
    results: Path, out: Path, *, copy: bool = False, thumb_size: int = THUMB_SIZE,
    title: str = "Deraining benchmark", log: Log | None = None,
) -> dict[str, Any]:
    """Gather the runs under ``results`` and write the report into ``out``; returns the data
    the page embeds (image references as relative ``src``/``thumb`` links)."""
    results, out = Path(results), Path(out)
    data = gather(results)
    for note in data["notes"] if log is not None else ():
        log(note)
    check_out(out)
    out.mkdir(parents=True, exist_ok=True)
    refs = list(image_refs(data))
    readable = [r for r in refs if Path(r["path"]).is_file()]

    def say(message: str) -> None:  # shown on the page's notes, and told to the caller
        data["notes"].append(message)
        if log is not None:
            log(message)

    thumbs, made = write_thumbs(((r["path"], r["crop"]) for r in readable), out / "thumbs",
                                thumb_size, say)
    copies = copy_images([r["path"] for r in readable], out / "images") if copy else {}
    if not copy:
        _prune(out / "images", set())
    for ref in refs:
        path = ref.pop("path")
        ref["src"] = link(copies.get(path, path), out)
        info = thumbs.get((path, ref["crop"]))
        ref["thumb"] = link(out / "thumbs" / info["name"], out) if info else None
        ref.update({k: info[k] for k in ("w", "h", "tw", "th")} if info else {})
    for row in data["leaderboard"]["rows"]:
        for ref in row["files"].values():
            ref["src"] = link(ref.pop("path"), out)
    data.update(title=title, results=str(results),
                generated=_dt.datetime.now().astimezone().isoformat(timespec="seconds"),
                thumbnails={"count": len(thumbs), "made": made, "size": thumb_size},
                copied=copy)
    atomic_write_text(out / "index.html", render_page(data, title))
    return data
