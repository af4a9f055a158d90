"""Downloading released weights, explicitly: ``benchmark weights fetch`` (standard library only).

:func:`fetch_weights` puts the files of one weights file ``<method>/<name>`` into
``DIR/<method>/`` (DIR: the cache of :mod:`models.io.store` unless given):

- each file is downloaded from its official URL into ``.<file>.part`` beside its target;
  a partial file left by a cut connection (or an earlier run) is resumed with an HTTP
  ``Range`` request (a server that ignores it sends the whole file again);
- a file inside a zip archive (DDN, DerainNet) is taken from the archive, downloaded the
  same way as ``.<archive>.part`` and removed once its members are out;
- every file is checked against its sha256 (torchvision's: the prefix in its name, as
  torchvision checks it) before anything is moved into place; all files of a weights
  file are checked first, then renamed onto their names (fsynced, atomic; a TensorFlow
  checkpoint's ``.index`` last). A file that does not match is kept aside as
  ``<file>.sha256-mismatch`` (a name nothing looks for) and the fetch fails with one line;
- HTTP errors (404, ...) and unreachable hosts are one line naming the URL.

**Mirror** (``--base-url`` or ``$DERAIN_WEIGHTS_BASE_URL``): every file is fetched from
``<base>/<method>/<file>``, the layout this module writes into DIR, so a folder filled by
``benchmark weights fetch --all --dir DIR`` served over HTTP is a mirror. Archive members
are plain files there (no zip). Proxies: urllib honours ``$https_proxy``/``$http_proxy``.

Nothing is downloaded unless these functions are called; the toolkit never calls them
implicitly.
"""

from __future__ import annotations

import contextlib
import http.client
import os
import re
import time
import urllib.error
import urllib.request
import zipfile
from collections.abc import Callable
from pathlib import Path

from models.cards import RemoteFile, WeightsFile, sha256_matches
from models.io.store import cache_dir, file_digest
from raindata.atomic import naming_disk_full
from raindata.errors import DataError

BASE_URL_ENV = "DERAIN_WEIGHTS_BASE_URL"
"""A mirror's base URL (see the module docstring); ``--base-url`` overrides it."""
PART_SUFFIX = ".part"
MISMATCH_SUFFIX = ".sha256-mismatch"
CHUNK = 1 << 16
RETRY_WAIT_S = 1.0
"""Pause before resuming a cut transfer (times the attempt number, at most 5 s)."""
USER_AGENT = "derain-toolkit weights fetch (urllib)"

Progress = Callable[[str, int, int | None], None]
"""``progress(label, bytes done, total bytes or None)``."""


class FetchError(DataError):
    """A download failed (HTTP error, unreachable host, cut connection); one line."""


class ChecksumMismatch(FetchError):
    """A downloaded file is not the released one; it was kept aside, never used."""


def base_url(given: str | None = None) -> str | None:
    """The mirror to use: ``given``, else ``$DERAIN_WEIGHTS_BASE_URL``, else None."""
    url = given or os.environ.get(BASE_URL_ENV) or None
    return url.rstrip("/") if url else None


def mirror_url(base: str, w: WeightsFile, f: RemoteFile) -> str:
    """``<base>/<method>/<file>``: where a mirror holds file ``f`` of ``w``."""
    from urllib.parse import quote

    return f"{base.rstrip('/')}/{quote(w.method)}/{quote(f.name)}"


def part_path(target: Path) -> Path:
    """The partial download of ``target``: ``.<name>.part`` beside it."""
    return target.with_name(f".{target.name}{PART_SUFFIX}")


# -- one URL into one partial file ------------------------------------------------------
def download(url: str, part: Path, *, label: str, size: int = 0,
             progress: Progress | None = None, retries: int = 2,
             timeout: float = 60.0) -> Path:
    """Download ``url`` into ``part``, resuming what ``part`` already holds (``size``: the
    file's size when known; a partial file of that size is taken as complete).

    A connection cut mid-transfer is resumed up to ``retries`` times in this call; after
    that the partial file stays for the next call to resume, and FetchError says so.
    """
    attempts = 0
    restarted = False
    while True:
        have = part.stat().st_size if part.is_file() else 0
        if size and have == size:
            return part
        headers = {"User-Agent": USER_AGENT}
        if have:
            headers["Range"] = f"bytes={have}-"
        try:
            resp = urllib.request.urlopen(urllib.request.Request(url, headers=headers),
                                          timeout=timeout)
        except urllib.error.HTTPError as exc:
            exc.close()
            if exc.code == 416 and have and not restarted:  # partial larger than the file
                part.unlink()
                restarted = True
                continue
            raise FetchError(f"{label}: HTTP {exc.code} {exc.reason} from {url}") from None
        except (urllib.error.URLError, OSError, http.client.HTTPException) as exc:
            reason = getattr(exc, "reason", exc)
            raise FetchError(f"{label}: cannot reach {url} ({reason})") from None
        with resp:
            total = _total(resp, have)
            if resp.status != 206:
                have = 0  # the whole file comes (again)
            done, cut = _copy(resp, part, have, total, label, progress)
        if not cut and (total is None or done >= total):
            return part
        attempts += 1
        if attempts > retries:
            of = f" of {total}" if total is not None else ""
            raise FetchError(f"{label}: connection lost after {done}{of} bytes from {url} "
                             f"({cut or 'closed early'}); the partial download is kept as "
                             f"{part}: run the same command again to resume")
        time.sleep(min(RETRY_WAIT_S * attempts, 5.0))


_RANGE = re.compile(r"bytes (\d+)-(\d+)/(\d+|\*)")


def _total(resp, have: int) -> int | None:
    """The full size of the file (None when the server does not say); FetchError when a
    206 answer does not start where the partial file ends."""
    if resp.status == 206:
        m = _RANGE.fullmatch(resp.headers.get("Content-Range", "").strip())
        if m is None or int(m[1]) != have:
            raise FetchError(f"{resp.url}: the server resumed at the wrong place "
                             f"({resp.headers.get('Content-Range')!r}, expected byte {have})")
        return int(m[3]) if m[3] != "*" else None
    length = resp.headers.get("Content-Length")
    return int(length) if length and length.isdigit() else None


def _copy(resp, part: Path, have: int, total: int | None, label: str,
          progress: Progress | None) -> tuple[int, str]:
    """Append (or write, when ``have`` is 0) the body to ``part``: (bytes in ``part``,
    why the transfer stopped early or '')."""
    done = have
    with naming_disk_full(part):
        part.parent.mkdir(parents=True, exist_ok=True)
        with open(part, "ab" if have else "wb") as fh:
            if progress is not None:
                progress(label, done, total)
            while True:
                try:
                    chunk = resp.read(CHUNK)
                except (http.client.HTTPException, OSError) as exc:
                    return done, f"{type(exc).__name__}: {exc}".strip(": ")
                if not chunk:
                    return done, ""
                fh.write(chunk)
                done += len(chunk)
                if progress is not None:
                    progress(label, done, total)


# -- checking and placing ---------------------------------------------------------------
def check(path: Path, f: RemoteFile, target: Path, url: str) -> None:
    """ChecksumMismatch (the file moved aside to ``<target>.sha256-mismatch``) unless
    ``path`` has ``f``'s sha256."""
    digest = file_digest(path)
    if sha256_matches(f.sha256, digest):
        return
    aside = target.with_name(target.name + MISMATCH_SUFFIX)
    os.replace(path, aside)
    what = "prefix " if len(f.sha256) < 64 else ""
    raise ChecksumMismatch(f"{target.name}: sha256 mismatch for {url} (expected {what}"
                           f"{f.sha256}, got {digest}); kept aside as {aside}, not used")


def _place(tmp: Path, target: Path) -> None:
    with naming_disk_full(target):
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, target)


# -- one weights file ------------------------------------------------------------------
def fetch_weights(w: WeightsFile, folder: str | os.PathLike | None = None, *,
                  base: str | None = None, progress: Progress | None = None,
                  retries: int = 2, timeout: float = 60.0) -> Path:
    """Download ``w`` into ``folder/<method>/`` (default: the cache) and verify it; the
    path to give as weights (a file, or a TensorFlow checkpoint's prefix). Files already
    there with the released sha256 are kept as they are.

    ``base``: a mirror's base URL (see the module docstring). One-line FetchError on any
    failure; ChecksumMismatch when a file is not the released one.
    """
    from raindata.lock import lock_file

    if not w.files:
        raise DataError(f"{w.key}: not downloadable ({w.source})")
    dest = Path(cache_dir() if folder is None else folder).expanduser() / w.method
    with lock_file(dest / w.name):  # one fetcher per weights file and folder
        todo = missing_files(w, dest.parent)
        ready: list[tuple[Path, Path]] = []
        plain = [f for f in todo if base or not f.member]
        for f in plain:
            target = dest / f.name
            url = mirror_url(base, w, f) if base else f.url
            part = download(url, part_path(target), label=f.name, size=f.size,
                            progress=progress, retries=retries, timeout=timeout)
            check(part, f, target, url)
            ready.append((part, target))
        archives = dict.fromkeys(f.url for f in todo if f not in plain)
        for url in archives:
            members = [f for f in todo if f not in plain and f.url == url]
            ready += _from_archive(url, members, dest, progress, retries, timeout)
        for part, target in ready:  # in card order: a checkpoint's .index last
            _place(part, target)
    return dest / w.name


def missing_files(w: WeightsFile, folder: str | os.PathLike) -> list[RemoteFile]:
    """The files of ``w`` not yet in ``folder/<method>/`` with their released sha256."""
    dest = Path(folder).expanduser() / w.method
    return [f for f in w.files
            if not ((dest / f.name).is_file()
                    and sha256_matches(f.sha256, file_digest(dest / f.name)))]


def _from_archive(url: str, members: list[RemoteFile], dest: Path,
                  progress: Progress | None, retries: int,
                  timeout: float) -> list[tuple[Path, Path]]:
    """Download the zip at ``url``, extract and check ``members``: (checked file, target)."""
    archive = dest / Path(url.rsplit("/", 1)[-1]).name
    part = download(url, part_path(archive), label=archive.name, progress=progress,
                    retries=retries, timeout=timeout)
    out = []
    try:
        with zipfile.ZipFile(part) as zf:
            for f in members:
                target = dest / f.name
                tmp = part_path(target)
                try:
                    src = zf.open(f.member)
                except KeyError:
                    raise FetchError(f"{archive.name}: has no member {f.member} "
                                     f"(from {url})") from None
                with src, naming_disk_full(tmp), open(tmp, "wb") as fh:
                    while block := src.read(CHUNK):
                        fh.write(block)
                check(tmp, f, target, f"{url} ({f.member})")
                out.append((tmp, target))
    except zipfile.BadZipFile as exc:
        aside = archive.with_name(archive.name + MISMATCH_SUFFIX)
        os.replace(part, aside)
        raise ChecksumMismatch(f"{archive.name}: not a readable zip archive from {url} "
                               f"({exc}); kept aside as {aside}, not used") from None
    with contextlib.suppress(FileNotFoundError):
        part.unlink()
    return out
