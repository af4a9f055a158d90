"""Training of UDRDR: typed TOML config, the joint teacher/student loop, checkpoints, DDP.

>>> from models.train import load_config, train          # doctest: +SKIP
>>> cfg = load_config("configs/demo.toml", ["run.max_steps=10"])  # doctest: +SKIP
>>> result = train(cfg)                                   # doctest: +SKIP

Submodules: :mod:`~models.train.config` (dataclasses, TOML, ``--set``),
:mod:`~models.train.data` (which items each step uses), :mod:`~models.train.trainer`
(the loop), :mod:`~models.train.checkpoint`, :mod:`~models.train.log`,
:mod:`~models.train.ddp`. Names below are imported on first use.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "TrainConfig": "models.train.config",
    "load_config": "models.train.config",
    "config_from_dict": "models.train.config",
    "dump_toml": "models.train.config",
    "train": "models.train.trainer",
    "TrainResult": "models.train.trainer",
    "NonFiniteLoss": "models.train.trainer",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'models.train' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
