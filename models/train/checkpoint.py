"""Training checkpoints: everything needed to continue a run bit for bit.

Format (``torch.save`` of plain types and tensors only, so ``torch.load(...,
weights_only=True)`` reads it without allow-listing anything)::

    {"format": "udrdr-train", "version": 1,
     "step": int, "epoch": int,
     "models": {"f1": state_dict, "f2": ..., "f3": ...},
     "optimizers": {name: state_dict}, "schedulers": {name: state_dict},
     "scaler": state_dict or None,
     "rng": {"python": [version, [625 ints], gauss or None],
             "numpy": ["MT19937", [624 ints], pos, has_gauss, cached_gaussian],
             "torch": uint8 tensor, "cuda": [uint8 tensor per device]},
     "config": TrainConfig.to_dict()}

Files are ``OUT/checkpoints/step-<step, 8 digits>.pt``, written atomically (temp file
and rename), so an interrupted write never leaves a truncated checkpoint; ``latest``
is the highest step present. The F3-only inference export is a separate, small file
(:func:`models.io.f3.save_f3`), and :func:`models.io.f3.load_f3` also
reads F3 out of these files (the network config sits under ``config["model"]``).
"""

from __future__ import annotations

import os
import random
import re
from pathlib import Path
from typing import Any

import numpy as np
import torch

from raindata.atomic import atomic_open
from raindata.errors import DataError

FORMAT = "udrdr-train"
VERSION = 1
CHECKPOINT_DIR = "checkpoints"
BEST_NAME = "best.pt"
_NAME = re.compile(r"step-(\d{8,})\.pt")


def checkpoint_path(out: str | os.PathLike, step: int) -> Path:
    """``OUT/checkpoints/step-00000123.pt``."""
    return Path(out) / CHECKPOINT_DIR / f"step-{step:08d}.pt"


def best_path(out: str | os.PathLike) -> Path:
    """``OUT/checkpoints/best.pt``: the validation-selected checkpoint."""
    return Path(out) / CHECKPOINT_DIR / BEST_NAME


def copy_checkpoint(src: str | os.PathLike, dst: str | os.PathLike) -> Path:
    """Copy a checkpoint file atomically (temp file and rename)."""
    import shutil

    with atomic_open(dst, "wb") as out, open(src, "rb") as fh:
        shutil.copyfileobj(fh, out)
    return Path(dst)


def list_checkpoints(out: str | os.PathLike) -> list[tuple[int, Path]]:
    """``(step, path)`` of every checkpoint in ``OUT/checkpoints``, by increasing step."""
    folder = Path(out) / CHECKPOINT_DIR
    if not folder.is_dir():
        return []
    found = []
    for p in folder.iterdir():
        m = _NAME.fullmatch(p.name)
        if m and p.is_file():
            found.append((int(m.group(1)), p))
    return sorted(found)


def latest_checkpoint(out: str | os.PathLike) -> Path | None:
    """The checkpoint with the highest step in ``OUT/checkpoints``, or None."""
    found = list_checkpoints(out)
    return found[-1][1] if found else None


# -- RNG states as plain values ---------------------------------------------------------
def rng_state() -> dict[str, Any]:
    """The global python, numpy, torch CPU and CUDA generator states as plain values."""
    version, internal, gauss = random.getstate()
    name, keys, pos, has_gauss, cached = np.random.get_state(legacy=True)
    state: dict[str, Any] = {
        "python": [int(version), [int(v) for v in internal], gauss],
        "numpy": [str(name), [int(v) for v in keys], int(pos), int(has_gauss), float(cached)],
        "torch": torch.get_rng_state(),
        "cuda": [],
    }
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        state["cuda"] = [t.cpu() for t in torch.cuda.get_rng_state_all()]
    return state


def set_rng_state(state: dict[str, Any]) -> None:
    """Restore what :func:`rng_state` returned (CUDA states only when devices match)."""
    version, internal, gauss = state["python"]
    random.setstate((int(version), tuple(int(v) for v in internal), gauss))
    name, keys, pos, has_gauss, cached = state["numpy"]
    np.random.set_state((name, np.asarray(keys, dtype=np.uint32), int(pos), int(has_gauss),
                         float(cached)))
    torch.set_rng_state(state["torch"].cpu())
    cuda = state.get("cuda") or []
    if cuda and torch.cuda.is_available() and len(cuda) == torch.cuda.device_count():
        torch.cuda.set_rng_state_all([t.cpu() for t in cuda])


# -- save / load ----------------------------------------------------------------------
def _unwrap(module: torch.nn.Module) -> torch.nn.Module:
    return getattr(module, "module", module)


def make_state(
    *,
    step: int,
    epoch: int,
    models: dict[str, torch.nn.Module],
    optimizers: dict[str, torch.optim.Optimizer],
    schedulers: dict[str, Any],
    scaler: Any | None,
    config: dict[str, Any],
) -> dict[str, Any]:
    """The checkpoint dict (CPU tensors; DDP ``module.`` wrappers removed)."""
    return {
        "format": FORMAT,
        "version": VERSION,
        "step": int(step),
        "epoch": int(epoch),
        "models": {k: {n: t.detach().cpu().clone() for n, t in _unwrap(m).state_dict().items()}
                   for k, m in models.items()},
        "optimizers": {k: o.state_dict() for k, o in optimizers.items()},
        "schedulers": {k: s.state_dict() for k, s in schedulers.items()},
        "scaler": scaler.state_dict() if scaler is not None and scaler.is_enabled() else None,
        "rng": rng_state(),
        "config": config,
    }


def save_checkpoint(path: str | os.PathLike, state: dict[str, Any]) -> Path:
    """Write ``state`` to ``path`` atomically (temp file in the same folder, then rename)."""
    p = Path(path)
    with atomic_open(p, "wb") as fh:
        torch.save(state, fh)
    return p


def load_checkpoint(path: str | os.PathLike) -> dict[str, Any]:
    """Read a training checkpoint with ``weights_only=True``; DataError naming the file."""
    from models.io.torch_state import read_torch

    p = Path(path)
    state = read_torch(p, "training checkpoint")
    if not isinstance(state, dict) or state.get("format") != FORMAT:
        raise DataError(f"{p}: not a UDRDR training checkpoint (expected format {FORMAT!r})")
    if not isinstance(state.get("version"), int) or state["version"] > VERSION:
        raise DataError(f"{p}: checkpoint version {state.get('version')!r} is newer than this "
                        f"toolkit reads (<= {VERSION})")
    return state


def restore(
    state: dict[str, Any],
    *,
    models: dict[str, torch.nn.Module],
    optimizers: dict[str, torch.optim.Optimizer],
    schedulers: dict[str, Any],
    scaler: Any | None,
    rng: bool = True,
) -> None:
    """Load a checkpoint dict into live models, optimisers, schedulers, scaler and RNGs."""
    for key, module in models.items():
        _unwrap(module).load_state_dict(state["models"][key], strict=True)
    for key, opt in optimizers.items():
        opt.load_state_dict(state["optimizers"][key])
    for key, sched in schedulers.items():
        sched.load_state_dict(state["schedulers"][key])
    if scaler is not None and scaler.is_enabled() and state.get("scaler") is not None:
        scaler.load_state_dict(state["scaler"])
    if rng:
        set_rng_state(state["rng"])


def prune_checkpoints(out: str | os.PathLike, keep: int) -> list[Path]:
    """Delete all but the ``keep`` newest checkpoints; returns the deleted paths."""
    found = list_checkpoints(out)
    doomed = [p for _, p in found[:-keep]] if keep > 0 else []
    for p in doomed:
        p.unlink(missing_ok=True)
    return doomed
