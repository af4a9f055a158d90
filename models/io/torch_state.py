"""Safe reading of torch files: tensors and plain values only, via ``weights_only``.

A checkpoint is a pickle, and an arbitrary pickle can run code when loaded. Every torch
file the toolkit reads (released state dicts, the F3 file, training checkpoints, the
LPIPS backbone) goes through :func:`read_torch`, which refuses anything but plain
containers of tensors and numbers and answers every problem with a one-line
:class:`~raindata.errors.DataError` naming the file. :func:`load_state_dict` adds the
unwrapping of the usual state-dict containers on top.
"""

from __future__ import annotations

import os
import pickle
import warnings
from pathlib import Path

import torch

from raindata.atomic import sha256_file
from raindata.errors import DataError

__all__ = ["fit_report", "load_state_dict", "read_torch", "sha256_file", "strip_module_prefix"]

WRAPPER_KEYS: tuple[str, ...] = ("state_dict", "model")
"""Keys under which training checkpoints commonly nest the network's state dict."""

_PREFIX = "module."


def _one_line(exc: BaseException, limit: int = 200) -> str:
    """The most telling line of an exception message, shortened."""
    lines = [ln.strip() for ln in str(exc).splitlines() if ln.strip()]
    for ln in lines:  # torch's weights_only refusal names the offending global here
        if "unsupported global" in ln.lower() or "unsupported operand" in ln.lower():
            return ln[:limit]
    text = lines[0] if lines else type(exc).__name__
    return text[:limit]


def read_torch(path: str | os.PathLike, what: str = "checkpoint") -> object:
    """``torch.load(path, weights_only=True)`` on the CPU; DataError naming the file.

    A missing file, truncated or foreign bytes and a pickle holding anything but plain
    values and tensors (custom classes, callables: refused without being executed) each
    give one line; ``what`` names the kind of file in the message.
    """
    p = Path(path)
    if not p.is_file():
        raise DataError(f"{what} file not found: {p}")
    try:
        with warnings.catch_warnings():  # e.g. "pickle protocol 5": the refusal says enough
            warnings.simplefilter("ignore", UserWarning)
            return torch.load(p, weights_only=True, map_location="cpu")
    except pickle.UnpicklingError as exc:
        line = _one_line(exc)
        if "unsupported global" not in line.lower() and not _looks_like_pickle(p):
            raise DataError(f"{p}: cannot read {what} (not a torch.save file: {line})") from None
        raise DataError(
            f"{p}: refused, not a plain tensor {what} (weights_only load: {line})"
        ) from None
    except Exception as exc:  # truncated zip, EOF, garbage bytes: torch raises many kinds
        raise DataError(
            f"{p}: cannot read {what} ({type(exc).__name__}: {_one_line(exc)})"
        ) from None


def _looks_like_pickle(path: Path) -> bool:
    """Whether the file starts like a pickle (PROTO opcode) or a torch zip archive."""
    with open(path, "rb") as fh:
        head = fh.read(2)
    return head[:1] == b"\x80" or head == b"PK"


def load_state_dict(
    path: str | os.PathLike, *, expected_sha256: str | None = None
) -> dict[str, torch.Tensor]:
    """Load a network state dict from ``path`` onto the CPU, safely (:func:`read_torch`).

    Accepts a plain state dict or a dict wrapping one under ``'state_dict'`` or
    ``'model'``; strips a ``'module.'`` (DataParallel) prefix carried by every key.
    With ``expected_sha256``, a file with another hash is refused.
    """
    p = Path(path)
    if not p.is_file():
        raise DataError(f"weights file not found: {p}")
    if expected_sha256 is not None:
        got = sha256_file(p)
        if got != expected_sha256.lower():
            raise DataError(f"{p}: sha256 expected {expected_sha256.lower()}, got {got}")
    return _as_state_dict(read_torch(p), p)


def _as_state_dict(obj: object, path: Path) -> dict[str, torch.Tensor]:
    """Unwrap, check and de-prefix a loaded object; DataError if it is no state dict."""
    if not isinstance(obj, dict):
        raise DataError(
            f"{path}: expected a state dict (dict of tensors), got {type(obj).__name__}"
        )
    for key in WRAPPER_KEYS:
        inner = obj.get(key)
        if isinstance(inner, dict):
            obj = inner
            break
    if not obj:
        raise DataError(f"{path}: expected a state dict of tensors, got an empty dict")
    for k, v in obj.items():
        if not isinstance(k, str) or not isinstance(v, torch.Tensor):
            raise DataError(
                f"{path}: expected a state dict of tensors, got key {k!r} holding "
                f"{type(v).__name__}"
            )
    return strip_module_prefix(obj)


def strip_module_prefix(state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Drop the ``'module.'`` (DataParallel/DDP) prefix when every key carries it."""
    if state and all(k.startswith(_PREFIX) for k in state):
        return {k[len(_PREFIX) :]: v for k, v in state.items()}
    return dict(state)


def fit_report(net: torch.nn.Module, state: dict[str, torch.Tensor]) -> str:
    """One-line summary of why ``state`` does not fit ``net`` ('' when it fits)."""
    own = net.state_dict()
    missing = [k for k in own if k not in state]
    unexpected = [k for k in state if k not in own]
    shapes = [
        f"{k} {tuple(state[k].shape)} vs {tuple(v.shape)}"
        for k, v in own.items()
        if k in state and state[k].shape != v.shape
    ]
    parts = []
    for label, items in (("missing", missing), ("unexpected", unexpected), ("shape", shapes)):
        if items:
            more = f" (+{len(items) - 3} more)" if len(items) > 3 else ""
            parts.append(f"{label}: {', '.join(items[:3])}{more}")
    return "; ".join(parts)
