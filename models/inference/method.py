"""What a registered method is at inference time, and the one class every network uses.

A method turns a uint8 RGB image into a float32 RGB estimate on the [0, 1] scale (not yet
quantized; :func:`models.inference.output` applies a convention). :class:`NetworkMethod`
does everything that is the same for all networks - device, precision, memory format,
tiling, batching, reading and checking the weights - from the card of its subclass; a
method's file subclasses it with its card and, only where its format needs one, a
:meth:`NetworkMethod.convert_state` that maps the released names onto the network's.

Importing this module is light (no torch); torch is imported when a method is built.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar, Protocol, runtime_checkable

import numpy as np

from models.cards import MethodCard, WeightsFile
from models.inference.output import check_rainy
from raindata.errors import DataError


@runtime_checkable
class Method(Protocol):
    """What the benchmark harness and ``udrdr derain`` need from a method."""

    card: MethodCard

    def derain(self, rainy: np.ndarray) -> np.ndarray:
        """uint8 ``H x W x 3`` RGB in, float32 ``H x W x 3`` RGB on [0, 1] out (unquantized)."""
        ...

    def derain_batch(self, images: list[np.ndarray]) -> list[np.ndarray]:
        """:meth:`derain` of several images (equal sizes may share a forward pass)."""
        ...

    def info(self) -> dict[str, Any]:
        """What a run record should say about this instance (weights hash, device, ...)."""
        ...


def known_weights(sha256: str) -> WeightsFile | None:
    """The released weights file of any registered method with this hash, or None."""
    from models.registry import get_card, list_methods

    for name in list_methods():
        found = get_card(name).known_weights(sha256)
        if found is not None:
            return found
    return None


def equal_size_groups(images: list[np.ndarray], batch_size: int) -> list[list[int]]:
    """Indices of ``images`` in runs of consecutive equal shapes, at most ``batch_size`` long."""
    groups: list[list[int]] = []
    for i, img in enumerate(images):
        last = groups[-1] if groups else None
        if last and len(last) < batch_size and images[last[0]].shape == img.shape:
            last.append(i)
        else:
            groups.append([i])
    return groups


class NetworkMethod:
    """A method that runs a network; subclasses set ``card`` (and may override hooks).

    Options: ``weights`` (a file in the card's ``weights_format``; when None:
    :meth:`default_weights`, else the first of the card's released files, in card order,
    found with its sha256 on the weights search path of :mod:`models.io.store` - never
    downloaded; a one-line error naming the fetch command otherwise), ``device``,
    ``precision`` (``fp32``, ``bf16``, ``fp16``), ``channels_last``, ``tile``/``overlap``
    (refused when the card is not tileable) and ``batch_size`` (images of equal size per
    forward pass in :meth:`derain_batch`; 1 when the card is not batchable). A file whose
    sha256 is not one of the card's released files still loads and its hash is reported
    by :meth:`info`; a released file of another method is refused, and a file that does
    not fit the network is refused with the first missing/unexpected/mis-shaped names.
    """

    card: ClassVar[MethodCard]
    weights_from: str | None = None
    """How the weights were chosen (``info()``): given, the method's default, or found on
    the search path; None for :meth:`from_network`."""

    def __init__(
        self,
        weights: str | Path | None = None,
        *,
        device: str = "cpu",
        precision: str = "fp32",
        channels_last: bool = False,
        tile: int | None = None,
        overlap: int = 32,
        batch_size: int = 1,
    ) -> None:
        from models.inference.runtime import check_precision, resolve_device
        from models.inference.tiling import check_tiling

        card = self.card
        dev = resolve_device(device)
        check_precision(precision, dev)
        if tile is not None and not card.tileable:
            raise DataError(f"method {card.name!r} cannot run in tiles (its official test "
                            f"processes the whole image: {card.size.describe()}"
                            f"{'' if card.batchable else ', per-image statistics'}); "
                            "drop --tile")
        check_tiling(tile, overlap)
        if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
            raise DataError(f"batch size: expected an integer >= 1, got {batch_size!r}")
        path, origin = self._resolve_weights(weights)
        net, digest, read = self.load_network(path)
        self._setup(net, digest, read, dev, precision, channels_last, tile, overlap,
                    batch_size)
        self.weights_from = origin

    def _resolve_weights(self, weights: str | Path | None) -> tuple[Path, str]:
        """(the weights to read, how they were chosen), or the one-line missing error."""
        from models.io.store import find_released, missing_message

        if weights is not None:
            return Path(weights), "given"
        default = self.default_weights()
        if default is not None:
            return default, "the method's default"
        found = find_released(self.card)
        if found is None:
            raise DataError(missing_message(self.card))
        return found.path, ("weights search path: the first of the card's released files "
                            "found, in card order")

    @classmethod
    def from_network(cls, network, *, device: str = "cpu", precision: str = "fp32",
                     channels_last: bool = False, tile: int | None = None, overlap: int = 32,
                     batch_size: int = 1):
        """This method around ``network`` as it is (no weights read; for tests and timing)."""
        from models.inference.runtime import resolve_device

        self = cls.__new__(cls)
        self._setup(network, "", None, resolve_device(device), precision, channels_last, tile,
                    overlap, batch_size)
        return self

    def _setup(self, net, digest: str, path: Path | None, dev, precision: str,
               channels_last: bool, tile: int | None, overlap: int, batch_size: int) -> None:
        import torch

        from models.inference.pipeline import IOSpec

        self.weights_sha256 = digest
        self.weights_path = path
        self.weights_known = self.card.known_weights(digest) if digest else None
        net.eval().requires_grad_(False)
        fmt = torch.channels_last if channels_last else torch.contiguous_format
        self.network = net.to(device=dev, memory_format=fmt)
        self.device = dev
        self.precision = precision
        self.channels_last = channels_last
        self.tile = tile
        self.overlap = overlap
        self.batch_size = batch_size if self.card.batchable else 1
        self.spec = IOSpec.of(self.card)

    # -- hooks a method file may override ------------------------------------------------
    def default_weights(self) -> Path | None:
        """Weights used when none are given (None: ``weights`` is required)."""
        return None

    @classmethod
    def build_network(cls):
        """The test-time ``nn.Module`` with random weights (card ``network`` + kwargs)."""
        from models.registry import load_target

        card = cls.card
        if card.network is None:
            raise DataError(f"method {card.name!r} has no network")
        return load_target(card.network)(**dict(card.network_kwargs))

    @classmethod
    def convert_state(cls, state: dict[str, Any]) -> dict[str, Any]:
        """Map the released file's tensors onto the network's state-dict names/layouts."""
        return state

    def load_network(self, path: Path):
        """(network with the weights loaded, sha256 of the file, the file read)."""
        from models.io import read_weights, weights_digest
        from models.io.torch_state import fit_report

        card = self.card
        refuse_foreign(card, weights_digest(path), path)
        state, digest, read = read_weights(path, card.weights_format)
        state = self.convert_state(state)
        net = self.build_network()
        problems = fit_report(net, state)
        if problems:
            raise DataError(f"{path}: does not fit {card.title} ({problems})")
        net.load_state_dict(state, strict=True)
        return net, digest, read

    # -- running -------------------------------------------------------------------------
    @property
    def parameter_count(self) -> int:
        """Number of network parameters."""
        return sum(p.numel() for p in self.network.parameters())

    def forward(self, images, *, rain_map: bool = False):
        """The engine on a uint8-valued RGB tensor [N, 3, H, W] (already on the device)."""
        from models.inference.pipeline import derain_tensor

        return derain_tensor(self.network, images, self.spec, tile=self.tile,
                             overlap=self.overlap, precision=self.precision,
                             channels_last=self.channels_last, rain_map=rain_map)

    def derain(self, rainy: np.ndarray) -> np.ndarray:
        """Run the method on one uint8 RGB image; float32 RGB out, not clipped."""
        return self.derain_batch([rainy])[0]

    def derain_batch(self, images: list[np.ndarray]) -> list[np.ndarray]:
        """Derain several images; equal sizes share forward passes of ``batch_size``."""
        return [y for y, _ in self.derain_with_rain_maps(images, rain_maps=False)]

    def derain_with_rain_maps(
        self, images: list[np.ndarray], rain_maps: bool = True
    ) -> list[tuple[np.ndarray, np.ndarray | None]]:
        """(estimate, estimated rain map or None) per image; rain maps need the card's
        ``rain_map_output``."""
        import torch

        from models.inference.pipeline import to_numpy

        if rain_maps and self.card.rain_map_output is None:
            raise DataError(f"method {self.card.name!r} does not estimate a rain map")
        for img in images:
            check_rainy(img)
        out: list[tuple[np.ndarray, np.ndarray | None]] = [None] * len(images)  # type: ignore
        for group in equal_size_groups(images, self.batch_size):
            batch = np.stack([images[i] for i in group])
            x = torch.from_numpy(batch).to(self.device).permute(0, 3, 1, 2)
            y, z = self.forward(x, rain_map=rain_maps)
            ys = to_numpy(y)
            zs = to_numpy(z) if z is not None else [None] * len(group)
            for i, a, b in zip(group, ys, zs, strict=True):
                out[i] = (a, b)
        return out

    def info(self) -> dict[str, Any]:
        """Run-record facts: weights file and hash, whether it is a released file, device."""
        return {
            "method": self.card.name,
            "weights": str(self.weights_path) if self.weights_path else None,
            "weights_sha256": self.weights_sha256,
            "weights_released_as": self.weights_known.name if self.weights_known else None,
            "weights_from": self.weights_from,
            "device": str(self.device),
            "precision": self.precision,
            "channels_last": self.channels_last,
            "tile": self.tile,
            "overlap": self.overlap if self.tile else None,
            "batch_size": self.batch_size,
            "parameters": self.parameter_count,
            "network_kwargs": dict(self.card.network_kwargs),
        }


def refuse_foreign(card: MethodCard, digest: str | None, path: Path) -> None:
    """DataError when ``digest`` is a released file of another method than ``card``'s."""
    if digest is None:
        return
    known = known_weights(digest)
    if known is not None and known.method != card.name:
        raise DataError(f"{path}: this is {known.name}, released for method "
                        f"{known.method!r} (see its card); use --method {known.method}")
