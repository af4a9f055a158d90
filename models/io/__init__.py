"""Reading weights: one safe loader per checkpoint format, one entry point for all.

- :mod:`models.io.torch_state` - every ``torch.load`` of the toolkit (``weights_only``):
  released state dicts, training checkpoints, the LPIPS backbone.
- :mod:`models.io.f3` - UDRDR's small F3 file (weights + network config).
- :mod:`models.io.tf1` - TensorFlow 1 checkpoints (``.index`` + ``.data-*``), read
  directly without TensorFlow.

:func:`read_weights` is what the inference engine calls for a card's ``weights_format``.
Importing this package is light; torch is imported by the functions.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from raindata.errors import DataError


def weights_digest(path: str | os.PathLike) -> str | None:
    """The sha256 that identifies the weights at ``path`` whatever their format (a file's
    own; a TensorFlow 1 checkpoint's data shard, given its prefix, ``.index``, shard or
    folder), or None when nothing is there. Used to recognise a released file before
    trying to read it in some format."""
    p = Path(path)
    if p.is_file() and not p.name.endswith(".index"):
        from raindata.atomic import sha256_file

        return sha256_file(p)
    from models.io.tf1 import checkpoint_digest, resolve_checkpoint

    try:
        return checkpoint_digest(resolve_checkpoint(p))
    except DataError:
        return None


def read_weights(path: str | os.PathLike, fmt: str) -> tuple[dict[str, Any], str, Path]:
    """(tensors by name, sha256 that identifies the file, the file read) for ``fmt``.

    ``torch``: a state dict (plain, or under ``state_dict``/``model``; a ``module.``
    prefix is stripped); ``tf1``: the variables of a TensorFlow 1 checkpoint as torch
    tensors in TensorFlow's layout (``path``: the prefix, its ``.index`` or a folder
    holding one checkpoint), identified by the sha256 of its data shard. Other formats
    have their own loaders (:mod:`models.io.f3`).
    """
    if fmt == "torch":
        from models.io.torch_state import load_state_dict, sha256_file

        p = Path(path)
        state = load_state_dict(p)
        return state, sha256_file(p), p
    if fmt == "tf1":
        import torch

        from models.io.tf1 import checkpoint_digest, read_variables, resolve_checkpoint

        ckpt = resolve_checkpoint(path)
        arrays = read_variables(ckpt)
        return ({k: torch.from_numpy(v.copy()) for k, v in arrays.items()},
                checkpoint_digest(ckpt), ckpt.index)
    raise DataError(f"{path}: weights format {fmt!r} has no generic reader")
