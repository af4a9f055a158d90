"""The UDRDR inference checkpoint: F3 weights plus the config that rebuilds F3.

Format (a ``torch.save`` pickle of plain types only, so that ``torch.load(...,
weights_only=True)`` accepts it)::

    {"format": "udrdr-f3", "version": 1,
     "config": {...},          # UDRDRConfig fields as plain Python values
     "meta": {...},            # free plain-typed facts (step, dataset, provenance, ...)
     "state_dict": {name: Tensor}}   # F3's parameters and buffers, CPU, contiguous

The state dict sits under ``"state_dict"``, so :func:`models.io.torch_state.load_state_dict`
also reads the weights of such a file. :func:`load_f3` also accepts a training checkpoint
``{"models": {"f3": state_dict, ...}, "config": {...}, ...}`` when it loads with
``weights_only=True`` and its config holds the network fields (at the top or under
``"model"``, ``"network"`` or ``"arch"``); anything else is refused with one line naming
the file.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn

from models.archs.udrdr import UDRDRConfig, build_f3
from models.io.torch_state import fit_report, read_torch, strip_module_prefix
from raindata.atomic import atomic_open, sha256_file
from raindata.errors import DataError

FORMAT = "udrdr-f3"
VERSION = 1
NETWORK_CONFIG_KEYS: tuple[str, ...] = ("model", "network", "arch")
"""Where :func:`load_f3` looks for the network fields inside a training checkpoint's config."""

_PLAIN_SCALARS = (str, int, float, bool, type(None))


@dataclass(frozen=True)
class F3Info:
    """What :func:`load_f3` read besides the weights."""

    path: Path
    sha256: str
    config: UDRDRConfig
    meta: dict[str, Any] = field(default_factory=dict)
    parameters: int = 0
    source: str = FORMAT
    """``"udrdr-f3"`` for an inference checkpoint, ``"training"`` when F3 was extracted."""

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form for provenance records."""
        return {
            "path": str(self.path),
            "sha256": self.sha256,
            "config": dataclasses.asdict(self.config),
            "meta": self.meta,
            "parameters": self.parameters,
            "source": self.source,
        }


def _check_plain(value: Any, where: str) -> None:
    """TypeError unless ``value`` is built from str/int/float/bool/None, lists and str-keyed
    dicts (what ``weights_only`` unpickling accepts without allow-listing)."""
    if isinstance(value, _PLAIN_SCALARS):
        return
    if isinstance(value, list | tuple):
        for i, v in enumerate(value):
            _check_plain(v, f"{where}[{i}]")
        return
    if isinstance(value, dict):
        for k, v in value.items():
            if not isinstance(k, str):
                raise TypeError(f"{where}: keys must be str, got {type(k).__name__} {k!r}")
            _check_plain(v, f"{where}[{k!r}]")
        return
    raise TypeError(f"{where}: expected plain Python values, got {type(value).__name__}")


def _config_of(config: UDRDRConfig | Mapping[str, Any]) -> UDRDRConfig:
    if isinstance(config, UDRDRConfig):
        return config
    return UDRDRConfig.from_dict(config)


def save_f3(
    path: str | os.PathLike,
    f3: nn.Module,
    config: UDRDRConfig | Mapping[str, Any],
    meta: Mapping[str, Any] | None = None,
) -> str:
    """Write F3's weights and network config to ``path`` atomically; returns its sha256.

    ``config`` is the :class:`UDRDRConfig` (or its dict) that built ``f3``; it must rebuild
    a network with exactly ``f3``'s state-dict keys and shapes (ValueError otherwise).
    ``meta`` must hold plain Python values only (TypeError otherwise). A
    DistributedDataParallel ``module.`` prefix is removed.
    """
    cfg = _config_of(config)
    state = {k: v.detach().to("cpu").contiguous().clone()
             for k, v in strip_module_prefix(f3.state_dict()).items()}
    problems = fit_report(build_f3(cfg), state)
    if problems:
        raise ValueError(f"save_f3: the network does not match config {cfg} ({problems})")
    meta = dict(meta or {})
    _check_plain(meta, "meta")
    payload = {
        "format": FORMAT,
        "version": VERSION,
        "config": dataclasses.asdict(cfg),
        "meta": meta,
        "state_dict": state,
    }
    with atomic_open(path, "wb") as fh:
        torch.save(payload, fh)
    return sha256_file(path)


def _network_config(config: Any) -> Mapping[str, Any] | None:
    """The UDRDRConfig fields inside a training config, or None."""
    if not isinstance(config, Mapping):
        return None
    known = {f.name for f in dataclasses.fields(UDRDRConfig)}
    for key in NETWORK_CONFIG_KEYS:
        sub = config.get(key)
        if isinstance(sub, Mapping) and sub and set(sub) <= known:
            return sub
    if config and set(config) <= known:
        return config
    return None


def _describe(obj: Any) -> str:
    if isinstance(obj, dict):
        if obj and all(isinstance(v, torch.Tensor) for v in obj.values()):
            return "a bare state dict without the network config"
        return f"a dict with keys {sorted(map(str, obj))[:6]}"
    return f"a {type(obj).__name__}"


def _unpack(obj: Any, p: Path) -> tuple[dict[str, Any], dict[str, Any], Any, str]:
    """(config fields, meta, state dict, source) from a loaded checkpoint; DataError if none."""
    if isinstance(obj, dict) and obj.get("format") == FORMAT:
        version = obj.get("version")
        if not isinstance(version, int) or version > VERSION:
            raise DataError(f"{p}: F3 checkpoint version {version!r} is newer than this "
                            f"toolkit reads (<= {VERSION}); update the toolkit")
        config, meta = obj.get("config"), obj.get("meta") or {}
        if not isinstance(config, dict) or not isinstance(meta, dict):
            raise DataError(f"{p}: F3 checkpoint lacks its 'config'/'meta' dicts")
        return config, meta, obj.get("state_dict"), FORMAT
    models = obj.get("models") if isinstance(obj, dict) else None
    if isinstance(models, dict) and "f3" in models:
        loss = obj.get("config", {}).get("loss") if isinstance(obj.get("config"), dict) else None
        if isinstance(loss, dict) and loss.get("distill") == 0:
            raise DataError(
                f"{p}: training checkpoint of a run with loss.distill = 0, whose F3 was never "
                "trained; score its teacher F2(x - F1(x)) with --method udrdr-teacher"
            )
        config = _network_config(obj.get("config"))
        if config is None:
            raise DataError(
                f"{p}: training checkpoint without the network config (expected UDRDRConfig "
                f"fields in 'config' or under config[{'|'.join(NETWORK_CONFIG_KEYS)}])"
            )
        meta = {"step": obj.get("step")} if isinstance(obj.get("step"), int) else {}
        return dict(config), meta, models["f3"], "training"
    raise DataError(
        f"{p}: not a UDRDR F3 checkpoint (expected format {FORMAT!r} written by save_f3, "
        f"or a training checkpoint with models.f3 and config), got {_describe(obj)}"
    )


def load_f3(
    path: str | os.PathLike,
    device: str | torch.device = "cpu",
    *,
    expected_sha256: str | None = None,
) -> tuple[nn.Module, F3Info]:
    """Load F3 from an inference (or training) checkpoint with ``weights_only=True``.

    Returns the network in eval mode without gradients on ``device``, and an
    :class:`F3Info`. DataError naming the file for a missing, unreadable or foreign file,
    a wrong sha256, an unknown config or weights that do not fit the config.
    """
    from models.inference import resolve_device

    p = Path(path)
    if not p.is_file():
        raise DataError(f"weights file not found: {p}")
    digest = sha256_file(p)
    if expected_sha256 is not None and digest != expected_sha256.lower():
        raise DataError(f"{p}: sha256 expected {expected_sha256.lower()}, got {digest}")
    dev = resolve_device(device)
    config, meta, state, source = _unpack(read_torch(p), p)
    if not isinstance(state, dict) or not state or not all(
        isinstance(k, str) and isinstance(v, torch.Tensor) for k, v in state.items()
    ):
        raise DataError(f"{p}: F3 weights are not a state dict of tensors")
    try:
        cfg = UDRDRConfig.from_dict(config)
    except (TypeError, ValueError) as exc:
        raise DataError(f"{p}: bad network config ({exc})") from None
    net = build_f3(cfg)
    state = strip_module_prefix(state)
    problems = fit_report(net, state)
    if problems:
        raise DataError(f"{p}: weights do not fit the stored F3 config ({problems})")
    net.load_state_dict(state, strict=True)
    net.eval().requires_grad_(False)
    net.to(dev)
    info = F3Info(path=p, sha256=digest, config=cfg, meta=dict(meta),
                  parameters=sum(t.numel() for t in net.parameters()), source=source)
    return net, info
