"""The inference engine: one path for every network method, driven by its card.

- :mod:`~models.inference.method` - :class:`Method` (what callers use) and
  :class:`NetworkMethod` (weights, device, precision, tiling, batching for every network).
- :mod:`~models.inference.pipeline` - range/colour conversion, size rules, output picks.
- :mod:`~models.inference.tiling` - overlapping tiles blended without seams.
- :mod:`~models.inference.runtime` - device, precision and memory format.
- :mod:`~models.inference.output` - the official output conventions.
- :mod:`~models.inference.files` - deraining folders of image files.

Names below are imported on first use, so ``import models.inference`` stays light.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "Method": "models.inference.method",
    "NetworkMethod": "models.inference.method",
    "IOSpec": "models.inference.pipeline",
    "derain_image": "models.inference.pipeline",
    "quantize": "models.inference.output",
    "check_rainy": "models.inference.output",
    "bf16_supported": "models.inference.runtime",
    "resolve_device": "models.inference.runtime",
    "check_precision": "models.inference.runtime",
    "PRECISIONS": "models.inference.runtime",
    "collect_inputs": "models.inference.files",
    "plan_outputs": "models.inference.files",
    "derain_files": "models.inference.files",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'models.inference' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
