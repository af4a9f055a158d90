"""Provenance records: command, config, git commit, package versions, machine."""

from __future__ import annotations

import datetime as _dt
import platform
import shlex
import subprocess
import sys
from importlib import metadata
from pathlib import Path
from typing import Any

PACKAGES = (
    "numpy", "opencv-python-headless", "opencv-python", "scipy", "torch", "torchvision",
    "pandas", "lpips", "pyiqa", "click", "h5py", "derain-toolkit",
)


def git_commit(path: str | Path | None = None) -> str | None:
    """The git commit of the checkout holding ``path`` (default: this package), or None."""
    where = Path(path) if path is not None else Path(__file__).resolve().parent
    try:
        out = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=where, capture_output=True, text=True, timeout=10
        )
    except (OSError, subprocess.SubprocessError):
        return None
    if out.returncode != 0:
        return None
    commit = out.stdout.strip()
    dirty = subprocess.run(
        ["git", "--no-optional-locks", "status", "--porcelain", "--untracked-files=no"],
        cwd=where, capture_output=True, text=True, timeout=10,
    )
    return commit + ("-dirty" if dirty.returncode == 0 and dirty.stdout.strip() else "")


def package_versions(names: tuple[str, ...] = PACKAGES) -> dict[str, str]:
    """Installed versions of the packages that matter for reproducing a result."""
    found = {}
    for name in names:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return found


def command_line(argv: list[str] | None = None) -> str:
    """The command line as a shell-quoted string (defaults to ``sys.argv``)."""
    args = sys.argv if argv is None else argv
    if args:
        args = [Path(args[0]).name, *args[1:]]
    return shlex.join(args)


def record(config: dict[str, Any] | None = None, argv: list[str] | None = None) -> dict[str, Any]:
    """A provenance record to store beside a dataset, checkpoint or result."""
    return {
        "command": command_line(argv),
        "config": config or {},
        "git_commit": git_commit(),
        "packages": package_versions(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "machine": platform.machine(),
        "created": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
    }
