"""Typed training configuration for UDRDR, read from TOML with ``--set`` overrides.

A config file has six tables; every key is optional and defaults to the paper's value
(Sec. 3.4, 4.2) where the paper gives one::

    [model]   UDRDRConfig fields (models/udrdr.py): n_blocks, f1_feats, f2_feats, ...
    [loss]    LossWeights fields (models/losses.py) plus ``ref_clip``
    [optim]   Adam and the step schedule, epochs, batch size
    [data]    patch size, workers, and the sub-tables [data.synthetic], [data.real]
    [val]     held-out validation set, how often it is scored
    [run]     output folder, seed, device, AMP, checkpoint/log cadence, max_steps

Rules:
- Unknown keys are refused with the close matches (``DataError`` naming the file).
- Values are type-checked against the dataclass field types: an int is accepted for a
  float, nothing else is converted (``true`` is not an int, ``1`` is not a bool).
- ``--set KEY=VALUE`` (KEY dotted, e.g. ``loss.direction=0`` or ``data.real.root=x``)
  parses VALUE with TOML value syntax (``0.5``, ``true``, ``"text"``, ``[0.9, 0.999]``);
  a VALUE that is not valid TOML is taken as a bare string, so paths need no quotes.
- Relative paths are relative to the working directory (not to the config file), as
  for every other option of the command line tools.
- The resolved config is written beside the checkpoints as ``config.toml`` (loadable
  again with :func:`load_config`) and inside ``provenance.json``.

Epoch: one pass over the synthetic training set, i.e. ``len(synthetic) // batch_size``
steps (the last incomplete batch is dropped); the real set is drawn independently with
as many images per epoch as the synthetic set (see :mod:`models.train.data`). The lr
schedule (``lr_step_epochs``) and ``epochs`` count these epochs.
"""

from __future__ import annotations

import dataclasses
import difflib
import math
import tomllib
import types
import typing
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from models.archs.udrdr import UDRDRConfig
from models.losses import LossWeights
from raindata.errors import DataError

DEVICE_HELP = 'cpu, cuda or cuda:N'
AMP_DTYPES = ("float16", "bfloat16")


@dataclass(frozen=True)
class LossConfig(LossWeights):
    """Loss weights (paper defaults, see :class:`~models.losses.LossWeights`) plus switches.

    ``ref_clip``: clamp ``x_ref = y_gt + z_real`` (eq. 9) to [0, 1]; the paper adds
    without clipping (default False).
    ``f2_losses_train_f1``: let the F2 terms (recons, TV, and the F2 side of cycle) send
    gradients into F1 through ``x - z`` (default True: the two stages are trained jointly).
    False reads Sec. 3.4's "F1 and F2 ... regularized by (4), (5), and (8), respectively"
    literally: F2 sees ``x - z.detach()`` and F1 learns only from content, direction and
    the rain-map side of cycle.
    ``check_labels``: before training (when the direction term is on), compare the
    direction labels of a few synthetic samples with the angle ``raindata`` estimates
    from their true rain maps, and stop when they disagree systematically (a dataset
    with another angle convention would otherwise switch the regularizer off unnoticed:
    eq. 5 cannot see a label that is off by exactly 90 deg).
    """

    ref_clip: bool = False
    f2_losses_train_f1: bool = True
    check_labels: bool = True


@dataclass(frozen=True)
class OptimConfig:
    """Adam and its schedule (Sec. 4.2): betas (0.9, 0.999), eps 1e-4, lr 8e-4 halved
    every 40 epochs, 200 epochs, mini-batch 12.

    ``batch_size`` is the global batch: under DDP each of the W processes takes
    ``batch_size / W`` samples (it must divide), so epochs and lr schedule do not depend
    on W. ``separate``: one Adam (and StepLR) for the teacher F1+F2 and another for the
    student F3 (default, the alternating update of Sec. 3.4); False uses one Adam over
    all three nets and one backward of the summed loss (same gradients, since the
    student's inputs and targets are detached, but one shared AMP loss scale).
    ``grad_clip`` > 0 clips each optimiser's gradient norm (the paper uses none).
    """

    lr: float = 8e-4
    betas: tuple[float, float] = (0.9, 0.999)
    eps: float = 1e-4
    weight_decay: float = 0.0
    lr_step_epochs: int = 40
    lr_gamma: float = 0.5
    epochs: int = 200
    batch_size: int = 12
    separate: bool = True
    grad_clip: float = 0.0

    def __post_init__(self) -> None:
        _positive(self, "lr", "eps", "lr_gamma")
        _at_least(self, 1, "lr_step_epochs", "epochs", "batch_size")
        if len(self.betas) != 2 or not all(0.0 <= b < 1.0 for b in self.betas):
            raise ValueError(f"optim.betas: expected two numbers in [0, 1), got {self.betas!r}")
        _at_least(self, 0.0, "weight_decay", "grad_clip")


@dataclass(frozen=True)
class DatasetRef:
    """A dataset to train on: a registered layout name (``raindata list``), its root
    folder and split. ``split = ""`` takes every split found (for ``unpaired``: the
    images of the folder). ``cache``: an HDF5 patch cache from ``raindata pack`` used
    instead of the image files (synthetic set only; "" for none). ``ids``: keep only
    the samples whose id is a number in ``LOW-HIGH`` (e.g. ``"101-180"``; "" for all),
    so that one folder can give disjoint training, validation and test parts."""

    name: str
    root: str
    split: str = "train"
    cache: str = ""
    ids: str = ""

    def __post_init__(self) -> None:
        if self.ids:
            id_range(self.ids, "ids")


def id_range(text: str, key: str) -> tuple[int, int]:
    """``"LOW-HIGH"`` (or ``LOW:HIGH``) -> (low, high); ValueError naming ``key``."""
    parts = text.replace(":", "-").split("-")
    try:
        low, high = (int(parts[0]), int(parts[-1])) if len(parts) in (1, 2) else (1, 0)
    except ValueError:
        low, high = 1, 0
    if low > high or low < 0:
        raise ValueError(f"{key}: expected LOW-HIGH with 0 <= LOW <= HIGH, got {text!r}")
    return low, high


@dataclass(frozen=True)
class DataConfig:
    """Training data: the paired synthetic set and the unpaired real set.

    ``patch_size``: side of the square random crops, the same for synthetic and real
    (the paper does not give it). ``augment``: random transpose and flips (the angle
    label moves with them). ``workers``: DataLoader processes (0: load in the main
    process).
    """

    synthetic: DatasetRef = field(
        default_factory=lambda: DatasetRef("raindirection", "data/RainDirection", "train"))
    real: DatasetRef = field(
        default_factory=lambda: DatasetRef("real3000", "data/Real3000", "train"))
    patch_size: int = 128
    augment: bool = True
    workers: int = 4

    def __post_init__(self) -> None:
        _at_least(self, 1, "patch_size")
        _at_least(self, 0, "workers")
        if self.real.cache:
            raise ValueError("data.real.cache: a patch cache holds pairs; leave it empty")


@dataclass(frozen=True)
class RunConfig:
    """Where and how a run executes.

    ``out``: folder for checkpoints, log, config and F3 export. ``seed``: model init and
    data order (crops, flips, sample order follow from ``(seed, epoch, index)``).
    ``device``: cpu, cuda or cuda:N (under torchrun ``cuda`` means ``cuda:LOCAL_RANK``).
    ``amp``: autocast + GradScaler on CUDA (ignored on CPU, which trains in fp32);
    ``amp_dtype`` float16 (with loss scaling) or bfloat16 (no scaling needed).
    ``checkpoint_every``: steps between checkpoints (0: only at the end); the last
    ``keep_checkpoints`` are kept. ``log_every``: steps between CSV rows.
    ``max_steps``: stop after this many steps in all (0: no limit; for smoke runs; the
    lr schedule still follows ``optim.epochs``). ``deterministic``: deterministic
    cuDNN/torch algorithms (slower on CUDA). ``progress``: show the progress bar.
    ``threads``: CPU threads for torch (``torch.set_num_threads``; 0 keeps torch's
    default). On a small CPU shared with other jobs 1 thread can be several times
    faster than an oversubscribed default.
    """

    out: str = "runs/udrdr"
    seed: int = 0
    device: str = "cpu"
    amp: bool = True
    amp_dtype: str = "float16"
    checkpoint_every: int = 1000
    keep_checkpoints: int = 3
    log_every: int = 1
    max_steps: int = 0
    deterministic: bool = False
    progress: bool = True
    threads: int = 0

    def __post_init__(self) -> None:
        _at_least(self, 0, "seed", "checkpoint_every", "max_steps", "threads")
        _at_least(self, 1, "keep_checkpoints", "log_every")
        if self.amp_dtype not in AMP_DTYPES:
            raise ValueError(f"run.amp_dtype: expected one of {AMP_DTYPES}, "
                             f"got {self.amp_dtype!r}")
        dev = self.device
        if not (dev == "cpu" or dev == "cuda" or (dev.startswith("cuda:")
                                                  and dev[5:].isdigit())):
            raise ValueError(f"run.device: expected {DEVICE_HELP}, got {dev!r}")
        if not self.out:
            raise ValueError("run.out: expected a folder, got an empty string")


@dataclass(frozen=True)
class ValConfig:
    """Validation during training: a held-out paired set scored every ``every`` steps.

    ``name``/``root``/``split``/``ids`` as in :class:`DatasetRef` (``name = ""``: no
    validation). ``limit``: at most this many images (0: all); ``crop``: score the
    central ``crop x crop`` region of each image (0: whole images). F3 (and the
    teacher F2(x - F1(x))) run on each image; Y-PSNR/SSIM under ``protocol`` are
    logged to ``val_log.csv`` and the checkpoint with the best PSNR of the model that
    is tested (F3, or the teacher when ``loss.distill = 0``) is kept as
    ``checkpoints/best.pt`` and exported as ``udrdr_f3_best.pt``. A checkpoint is also
    written at every validation step, so a resumed run never loses a best one.
    """

    name: str = ""
    root: str = ""
    split: str = "test"
    ids: str = ""
    every: int = 0
    limit: int = 0
    crop: int = 0
    protocol: str = "y-matlab"

    def __post_init__(self) -> None:
        _at_least(self, 0, "every", "limit", "crop")
        if self.ids:
            id_range(self.ids, "val.ids")
        if self.name and (not self.root or not self.every):
            raise ValueError("val: a validation set needs val.root and val.every > 0")

    @property
    def enabled(self) -> bool:
        """Whether validation runs."""
        return bool(self.name and self.every)


@dataclass(frozen=True)
class TrainConfig:
    """The whole training configuration (one TOML file)."""

    model: UDRDRConfig = field(default_factory=UDRDRConfig)
    loss: LossConfig = field(default_factory=LossConfig)
    optim: OptimConfig = field(default_factory=OptimConfig)
    data: DataConfig = field(default_factory=DataConfig)
    val: ValConfig = field(default_factory=ValConfig)
    run: RunConfig = field(default_factory=RunConfig)

    def to_dict(self) -> dict[str, Any]:
        """Plain nested dict (tuples as lists), JSON- and TOML-ready."""
        return _plain(dataclasses.asdict(self))

    def replace(self, **overrides: Any) -> TrainConfig:
        """A copy with dotted-key overrides, e.g. ``replace(**{"run.max_steps": 3})``."""
        raw = self.to_dict()
        for key, value in overrides.items():
            _assign(raw, key.split("."), value, key)
        return config_from_dict(raw)


# -- checks used by the dataclasses ------------------------------------------------------
def _section(obj: object) -> str:
    return {OptimConfig: "optim", DataConfig: "data", RunConfig: "run",
            ValConfig: "val"}.get(type(obj), "?")


def _positive(obj: object, *names: str) -> None:
    for name in names:
        value = getattr(obj, name)
        if not (isinstance(value, int | float) and math.isfinite(value) and value > 0):
            raise ValueError(f"{_section(obj)}.{name}: expected a number > 0, got {value!r}")


def _at_least(obj: object, low: float, *names: str) -> None:
    for name in names:
        value = getattr(obj, name)
        if not (isinstance(value, int | float) and math.isfinite(value) and value >= low):
            raise ValueError(f"{_section(obj)}.{name}: expected a number >= {low}, "
                             f"got {value!r}")


# -- building from plain data ------------------------------------------------------------
def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def _type_name(tp: Any) -> str:
    if isinstance(tp, type):
        return {"str": "a string", "int": "an integer", "float": "a number",
                "bool": "true or false"}.get(tp.__name__, tp.__name__)
    return str(tp).replace("typing.", "")


def _convert(value: Any, tp: Any, key: str) -> Any:
    """``value`` checked against the annotation ``tp``; TypeError names ``key``."""
    origin = typing.get_origin(tp)
    if dataclasses.is_dataclass(tp):
        if not isinstance(value, Mapping):
            raise TypeError(f"{key}: expected a table, got {type(value).__name__} {value!r}")
        return _build(tp, value, key)
    if origin is tuple:
        args = typing.get_args(tp)
        if not isinstance(value, list | tuple) or len(value) != len(args):
            raise TypeError(f"{key}: expected an array of {len(args)} values, got {value!r}")
        pairs = enumerate(zip(value, args, strict=True))
        return tuple(_convert(v, a, f"{key}[{i}]") for i, (v, a) in pairs)
    if origin in (typing.Union, types.UnionType):
        errors = []
        for arg in typing.get_args(tp):
            try:
                return _convert(value, arg, key)
            except TypeError as exc:
                errors.append(str(exc))
        raise TypeError(errors[0])
    if tp is type(None):
        if value is not None:
            raise TypeError(f"{key}: expected nothing, got {value!r}")
        return None
    if tp is bool:
        if not isinstance(value, bool):
            raise TypeError(f"{key}: expected true or false, got {value!r}")
        return value
    if tp is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise TypeError(f"{key}: expected an integer, got {value!r}")
        return value
    if tp is float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise TypeError(f"{key}: expected a number, got {value!r}")
        return float(value)
    if tp is str:
        if not isinstance(value, str):
            raise TypeError(f"{key}: expected a string, got {value!r}")
        return value
    raise TypeError(f"{key}: unsupported field type {_type_name(tp)}")


def _build(cls: type, values: Mapping[str, Any], prefix: str) -> Any:
    hints = typing.get_type_hints(cls)
    known = [f.name for f in fields(cls) if f.init]
    kwargs = {}
    for key, value in values.items():
        full = f"{prefix}.{key}" if prefix else key
        if key not in known:
            hint = difflib.get_close_matches(key, known, n=3)
            extra = f" (did you mean {', '.join(hint)}?)" if hint else ""
            raise KeyError(f"unknown key {full!r}{extra}; known in "
                           f"{prefix or 'the top level'}: {', '.join(known)}")
        kwargs[key] = _convert(value, hints[key], full)
    try:
        return cls(**kwargs)
    except ValueError as exc:
        raise ValueError(f"{exc}") from None


def config_from_dict(values: Mapping[str, Any]) -> TrainConfig:
    """Build a :class:`TrainConfig` from nested plain values (e.g. a parsed TOML file).

    Raises KeyError (unknown key, with close matches), TypeError (wrong type) or
    ValueError (out-of-range value), each naming the dotted key.
    """
    return _build(TrainConfig, values, "")


def parse_override(text: str) -> tuple[str, Any]:
    """``"a.b=value"`` -> ``("a.b", value)`` with VALUE in TOML value syntax (else a string)."""
    key, sep, raw = text.partition("=")
    key = key.strip()
    if not sep or not key or any(not part for part in key.split(".")):
        raise ValueError(f"--set: expected KEY=VALUE with a dotted KEY, got {text!r}")
    raw = raw.strip()
    try:
        value = tomllib.loads(f"v = {raw}")["v"]
    except tomllib.TOMLDecodeError:
        value = raw
    return key, value


def _assign(raw: dict[str, Any], parts: Sequence[str], value: Any, key: str) -> None:
    node = raw
    for part in parts[:-1]:
        child = node.setdefault(part, {})
        if not isinstance(child, dict):
            raise TypeError(f"--set {key}: {part!r} is a value, not a table")
        node = child
    node[parts[-1]] = value


def apply_overrides(raw: dict[str, Any], overrides: Sequence[str]) -> dict[str, Any]:
    """Apply ``--set KEY=VALUE`` strings to a nested dict (a new dict is returned)."""
    out = _deep_copy(raw)
    for text in overrides:
        key, value = parse_override(text)
        _assign(out, key.split("."), value, key)
    return out


def _merge(base: Mapping[str, Any], top: Mapping[str, Any]) -> dict[str, Any]:
    """``base`` updated by ``top`` table by table (``top`` wins; unknown keys are kept)."""
    out = _deep_copy(base)
    for key, value in top.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = _merge(out[key], value)
        else:
            out[key] = _deep_copy(value) if isinstance(value, Mapping) else value
    return out


def _deep_copy(raw: Mapping[str, Any]) -> dict[str, Any]:
    return {k: _deep_copy(v) if isinstance(v, Mapping) else v for k, v in raw.items()}


def load_config(path: str | Path | None, overrides: Sequence[str] = ()) -> TrainConfig:
    """Read a TOML config (None: all defaults) and apply ``--set`` overrides.

    Keys absent from the file take the defaults of the dataclasses; ``--set`` then
    changes single keys of that merged config.

    Any problem raises :class:`DataError` with one line naming the file and the key.
    """
    name = str(path) if path is not None else "defaults"
    raw: dict[str, Any] = {}
    if path is not None:
        p = Path(path)
        if not p.is_file():
            raise DataError(f"{p}: config file not found")
        try:
            raw = tomllib.loads(p.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise DataError(f"{p}: not valid TOML ({exc})") from None
    try:
        merged = _merge(TrainConfig().to_dict(), raw)
        return config_from_dict(apply_overrides(merged, overrides))
    except KeyError as exc:
        raise DataError(f"{name}: {exc.args[0]}") from None
    except (TypeError, ValueError) as exc:
        raise DataError(f"{name}: {exc}") from None


# -- writing -------------------------------------------------------------------------
def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"cannot write non-finite {value!r} to TOML")
        return repr(value)
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    raise TypeError(f"cannot write {type(value).__name__} to TOML")


def _toml_table(values: Mapping[str, Any], prefix: str, lines: list[str]) -> None:
    scalars = {k: v for k, v in values.items() if not isinstance(v, Mapping)}
    tables = {k: v for k, v in values.items() if isinstance(v, Mapping)}
    if prefix and scalars:
        lines.append(f"[{prefix}]")
    for key, value in scalars.items():
        lines.append(f"{key} = {_toml_value(value)}")
    if scalars:
        lines.append("")
    for key, value in tables.items():
        _toml_table(value, f"{prefix}.{key}" if prefix else key, lines)


def dump_toml(config: TrainConfig, header: str = "") -> str:
    """The config as TOML text that :func:`load_config` reads back to an equal config."""
    lines = [f"# {line}" for line in header.splitlines()]
    if lines:
        lines.append("")
    _toml_table(config.to_dict(), "", lines)
    return "\n".join(lines).rstrip("\n") + "\n"


def diff_keys(old: Mapping[str, Any], new: Mapping[str, Any], prefix: str = "") -> list[str]:
    """Dotted keys whose values differ between two plain config dicts."""
    keys = []
    for key in sorted(set(old) | set(new)):
        full = f"{prefix}.{key}" if prefix else key
        a, b = old.get(key), new.get(key)
        if isinstance(a, Mapping) and isinstance(b, Mapping):
            keys += diff_keys(a, b, full)
        elif a != b:
            keys.append(full)
    return keys
