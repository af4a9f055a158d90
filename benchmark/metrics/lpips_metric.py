"""LPIPS (Zhang et al. 2018) through the ``lpips`` package: AlexNet trunk, version 0.1.

The linear calibration layers ship inside the ``lpips`` wheel. The AlexNet trunk is
torchvision's ImageNet model (``alexnet-owt-7be5be79.pth``), which torchvision would
download: here it is never downloaded implicitly (``benchmark weights fetch
alexnet-owt-7be5be79.pth`` does it when asked). It is the path given (``weights=`` /
``--lpips-weights``), else the first copy on the weights search path of
:mod:`models.io.store` (``$DERAIN_WEIGHTS_DIR``, the toolkit's cache, then
``torch.hub.get_dir()/checkpoints``) whose sha256 starts with ``7be5be79``, the prefix
torchvision itself checks (its full sha256 is published nowhere in torchvision); when
absent, :class:`MetricUnavailable` is raised with one line naming where it looked and the
fetch command. ``lpips.LPIPS`` is built with ``pnet_rand=True`` and
``pretrained=False`` (nothing loaded, nothing fetched); both state dicts are then read
with ``torch.load(..., weights_only=True)`` and loaded with ``strict=True``.

Inputs: RGB (or grey, replicated), ``uint8`` [0, 255] or float [0, 1], scaled to
[-1, 1] as LPIPS expects. torch is imported only inside functions.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from benchmark.metrics.cards import CARDS, MetricCard
from benchmark.metrics.color import check_pair, to_double
from benchmark.metrics.errors import MetricInputError, MetricUnavailable
from models.cards import RemoteFile, WeightsFile

ALEXNET_FILE = "alexnet-owt-7be5be79.pth"
ALEXNET_URL = f"https://download.pytorch.org/models/{ALEXNET_FILE}"
ALEXNET_WEIGHTS = WeightsFile(
    name=ALEXNET_FILE,
    sha256="7be5be79",
    trained_on="ImageNet-1k (torchvision's AlexNet_Weights.IMAGENET1K_V1)",
    source="torchvision, models/alexnet.py: AlexNet_Weights.IMAGENET1K_V1 (its meta gives "
           "_file_size 233.087 MB)",
    method="lpips",
    files=(RemoteFile(name=ALEXNET_FILE, sha256="7be5be79", size=0, url=ALEXNET_URL),),
    licence="torchvision's (BSD 3-Clause); trained on ImageNet",
)
"""LPIPS's AlexNet trunk. Only the sha256 prefix in the file name is known (torchvision
publishes no full digest and checks only the prefix), so a copy is verified by that."""
# torchvision alexnet.features index -> lpips slice holding it
_SLICE_OF = {0: 1, 3: 2, 6: 3, 8: 4, 10: 5}


def default_alexnet_path() -> Path:
    """Where torchvision would have cached the AlexNet weights."""
    from models.io.store import hub_checkpoints

    return hub_checkpoints() / ALEXNET_FILE


def find_alexnet_weights(weights: str | os.PathLike | None = None) -> Path:
    """The AlexNet weights file to use: ``weights``, else the first copy on the weights
    search path; :class:`MetricUnavailable` naming where it looked otherwise."""
    from models.io.store import copies, fetch_command, search_path

    if weights is not None:
        p = Path(weights)
        if p.is_file():
            return p
        raise MetricUnavailable(f"LPIPS unavailable: AlexNet weights not found at {p}")
    folders = search_path()
    found = copies(ALEXNET_WEIGHTS, folders)
    for copy in found:
        if copy.ok:
            return copy.path
    others = [str(f.path) for f in folders if f.origin != "torch hub"]
    bad = "".join(f"; {c.path} is not torchvision's file (sha256 {c.digest[:16]}...)"
                  for c in found)
    raise MetricUnavailable(
        f"LPIPS unavailable: AlexNet weights not found at {default_alexnet_path()} nor in "
        f"{', '.join(others)}{bad} (fetch them with `{fetch_command(ALEXNET_WEIGHTS)}`, "
        f"or give --lpips-weights PATH to torchvision's {ALEXNET_FILE})"
    )


def _load_state_dict(path: Path) -> dict:
    from models.io.torch_state import read_torch
    from raindata.errors import DataError

    try:
        sd = read_torch(path, "state dict")
    except DataError as exc:
        raise MetricInputError(str(exc)) from None
    if not isinstance(sd, dict):
        raise MetricInputError(f"{path}: expected a state dict, got {type(sd).__name__}")
    return sd


def _trunk_state_dict(sd: dict, path: Path) -> dict:
    out = {}
    for idx, sl in _SLICE_OF.items():
        for kind in ("weight", "bias"):
            key = f"features.{idx}.{kind}"
            if key not in sd:
                raise MetricInputError(
                    f"{path}: not torchvision AlexNet weights (missing {key!r})"
                )
            out[f"net.slice{sl}.{idx}.{kind}"] = sd[key]
    return out


def build_lpips(weights: str | os.PathLike | None = None):
    """An ``lpips.LPIPS`` (alex, v0.1) in eval mode with all weights loaded locally."""
    import warnings

    import lpips
    import torch

    trunk_path = find_alexnet_weights(weights)
    lin_path = Path(lpips.__file__).resolve().parent / "weights" / "v0.1" / "alex.pth"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torchvision's 'pretrained' deprecation notice
        model = lpips.LPIPS(
            pretrained=False, net="alex", version="0.1", pnet_rand=True, verbose=False
        )
    state = {k: v for k, v in model.state_dict().items() if k.startswith("scaling_layer.")}
    state.update(_load_state_dict(lin_path))
    state.update(_trunk_state_dict(_load_state_dict(trunk_path), trunk_path))
    for key in model.state_dict():  # ``lins.N`` is the same module as ``linN``
        if key.startswith("lins.") and f"lin{key[5:]}" in state:
            state[key] = state[f"lin{key[5:]}"]
    try:
        model.load_state_dict(state, strict=True)
    except RuntimeError as exc:
        detail = " ".join(str(exc).split())
        raise MetricInputError(
            f"{trunk_path}: weights do not fit LPIPS AlexNet ({detail})"
        ) from None
    model.eval()
    for prm in model.parameters():
        prm.requires_grad_(False)
    return model, trunk_path, torch


def _to_tensor(img: np.ndarray, torch, device: str):
    x = to_double(img)
    if x.ndim == 2:
        x = np.repeat(x[:, :, None], 3, axis=2)
    t = torch.from_numpy(np.ascontiguousarray(x.transpose(2, 0, 1))).float()[None]
    return (t * 2.0 - 1.0).to(device)


class LPIPSMetric:
    """Callable LPIPS distance (lower is better); ``.card`` and ``.weights_sha256`` describe it."""

    def __init__(self, weights: str | os.PathLike | None = None, device: str = "cpu") -> None:
        from models.io.store import file_digest

        self.model, self.weights_path, self._torch = build_lpips(weights)
        self.device = device
        self.model.to(device)
        self.weights_sha256 = file_digest(self.weights_path)
        self.card: MetricCard = CARDS["lpips"]

    def __call__(self, a: np.ndarray, b: np.ndarray) -> float:
        a, b = check_pair(a, b)
        torch = self._torch
        with torch.no_grad():
            d = self.model(_to_tensor(a, torch, self.device), _to_tensor(b, torch, self.device))
        return float(d.reshape(-1)[0])

    def __repr__(self) -> str:
        return f"LPIPSMetric(weights={str(self.weights_path)!r}, device={self.device!r})"

