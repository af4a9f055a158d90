"""Deraining methods for inference: the objects ``benchmark`` calls, one per registry name.

A method turns a uint8 RGB image into a float32 RGB estimate in [0, 1] (not yet quantized);
:func:`quantize` then applies the card's output convention. Importing this module is
light: torch is imported when a network method is built.
"""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any, ClassVar, Protocol, runtime_checkable

import numpy as np

from models.cards import (
    INPUT_CARD,
    PRENET_CARD,
    PRENET_REAL_CARD,
    QUANTIZE_CONVENTIONS,
    MethodCard,
    WeightsFile,
)
from raindata.errors import DataError

PRECISIONS: tuple[str, ...] = ("fp32", "bf16")


@runtime_checkable
class Method(Protocol):
    """What the benchmark harness needs from a method."""

    card: MethodCard

    def derain(self, rainy: np.ndarray) -> np.ndarray:
        """uint8 ``H x W x 3`` RGB in, float32 ``H x W x 3`` RGB in [0, 1] out (unquantized)."""
        ...

    def info(self) -> dict[str, Any]:
        """What a run record should say about this instance (weights hash, device, ...)."""
        ...


def quantize(out: np.ndarray, how: str) -> np.ndarray:
    """Turn a float image in [0, 1] into uint8 by one of :data:`QUANTIZE_CONVENTIONS`.

    Both clip to [0, 1] first. ``'truncate'`` computes ``255 * out`` in float32 and casts
    toward zero, bit-for-bit the official PReNet ``np.uint8(255 * clamp(out, 0, 1))``.
    ``'round'`` computes ``255 * out`` in float64 and rounds half away from zero, as
    MATLAB ``uint8()`` and ``im2uint8`` do (numpy's ``round`` would round half to even).
    """
    if how not in QUANTIZE_CONVENTIONS:
        raise DataError(f"quantize: expected one of {', '.join(QUANTIZE_CONVENTIONS)}, got {how!r}")
    a = np.asarray(out)
    if not np.issubdtype(a.dtype, np.floating):
        raise DataError(f"quantize: expected a float image, got dtype {a.dtype}")
    if not np.isfinite(a).all():
        raise DataError(f"quantize: image holds {np.count_nonzero(~np.isfinite(a))} NaN/inf values")
    if how == "truncate":
        scaled = np.float32(255) * np.clip(a.astype(np.float32, copy=False), 0, 1)
        return scaled.astype(np.uint8)
    scaled = 255.0 * np.clip(a.astype(np.float64, copy=False), 0, 1)
    return np.floor(scaled + 0.5).astype(np.uint8)


def check_rainy(rainy: np.ndarray) -> None:
    """DataError unless ``rainy`` is a uint8 ``H x W x 3`` array."""
    if (
        not isinstance(rainy, np.ndarray)
        or rainy.dtype != np.uint8
        or rainy.ndim != 3
        or rainy.shape[2] != 3
    ):
        got = (
            f"{rainy.dtype} array of shape {rainy.shape}"
            if isinstance(rainy, np.ndarray)
            else type(rainy).__name__
        )
        raise DataError(f"derain: expected a uint8 H x W x 3 RGB image, got {got}")


def _check_precision(precision: str) -> None:
    if precision not in PRECISIONS:
        raise DataError(f"precision: expected one of {', '.join(PRECISIONS)}, got {precision!r}")


class InputMethod:
    """The rainy image itself (``rainy / 255``); with ``'round'`` it quantizes back exactly."""

    card: ClassVar[MethodCard] = INPUT_CARD

    def __init__(
        self,
        weights: str | Path | None = None,
        *,
        device: str = "cpu",
        channels_last: bool = False,
        precision: str = "fp32",
    ) -> None:
        if weights is not None:
            raise DataError(f"method 'input' takes no weights, got {weights}")
        _check_precision(precision)
        self.device = device

    def derain(self, rainy: np.ndarray) -> np.ndarray:
        """``rainy / 255`` as float32."""
        check_rainy(rainy)
        return rainy.astype(np.float32) / np.float32(255)

    def info(self) -> dict[str, Any]:
        """Run-record facts (nothing beyond the card)."""
        return {"method": self.card.name, "weights": None}


def bf16_supported(device: str = "cpu") -> bool:
    """Whether bf16 autocast is worth using on ``device``.

    CPU: the kernels are native when ``torch.backends.cpu.get_cpu_capability()`` reports
    AVX512 or AMX; CUDA: ``torch.cuda.is_bf16_supported()``.
    """
    import torch

    if torch.device(device).type == "cuda":
        return torch.cuda.is_available() and torch.cuda.is_bf16_supported()
    cap = torch.backends.cpu.get_cpu_capability().upper()
    return "AVX512" in cap or "AMX" in cap


def _known_weights(sha256: str) -> WeightsFile | None:
    """The released weights file of any registered method with this hash, or None."""
    from models.registry import get_card, list_methods

    for name in list_methods():
        found = get_card(name).known_weights(sha256)
        if found is not None:
            return found
    return None


class NetworkMethod:
    """A method that runs a released network; subclasses set ``card``.

    ``weights`` is required (``--weights PATH``); a file whose sha256 is not one of the
    card's released files still loads and its hash is reported by :meth:`info`, but a
    released file of another method is refused. ``channels_last`` and ``precision``
    (``'fp32'`` or ``'bf16'`` autocast) are inference speed options.
    """

    card: ClassVar[MethodCard]

    def __init__(
        self,
        weights: str | Path | None = None,
        *,
        device: str = "cpu",
        channels_last: bool = False,
        precision: str = "fp32",
    ) -> None:
        import torch

        from models.checkpoints import fit_report, load_state_dict, sha256_file
        from models.registry import create_network

        card = self.card
        if weights is None:
            raise DataError(
                f"method {card.name!r} needs weights: pass --weights PATH "
                f"(official files: {', '.join(card.weights_file_names)})"
            )
        _check_precision(precision)
        dev = torch.device(device)
        if dev.type == "cuda" and not torch.cuda.is_available():
            raise DataError(f"device {device!r} requested but CUDA is not available")
        if precision == "bf16" and not bf16_supported(device):
            cap = torch.backends.cpu.get_cpu_capability() if dev.type == "cpu" else dev.type
            raise DataError(f"precision 'bf16' is not supported on {device!r} ({cap}); use fp32")

        path = Path(weights)
        state = load_state_dict(path)
        self.weights_path = path
        self.weights_sha256 = sha256_file(path)
        known = _known_weights(self.weights_sha256)
        if known is not None and known.method != card.name:
            raise DataError(
                f"{path}: this is {known.name}, released for method {known.method!r} "
                f"(see its card); use --method {known.method}"
            )
        self.weights_known = known

        net = create_network(card.name)
        mismatch = fit_report(net, state)
        if mismatch:
            raise DataError(f"{path}: does not fit {card.title} ({mismatch})")
        net.load_state_dict(state, strict=True)
        net.eval().requires_grad_(False)
        self.memory_format = torch.channels_last if channels_last else torch.contiguous_format
        self.network = net.to(device=dev, memory_format=self.memory_format)
        self.device = dev
        self.channels_last = channels_last
        self.precision = precision

    @property
    def parameter_count(self) -> int:
        """Number of network parameters."""
        return sum(p.numel() for p in self.network.parameters())

    def derain(self, rainy: np.ndarray) -> np.ndarray:
        """Run the network on one uint8 RGB image; float32 RGB out, not clipped."""
        import torch

        check_rainy(rainy)
        with torch.inference_mode():
            x = torch.from_numpy(np.ascontiguousarray(rainy)).to(self.device)
            x = x.permute(2, 0, 1).unsqueeze(0).float().div_(255.0)
            x = x.contiguous(memory_format=self.memory_format)
            if self.precision == "bf16":
                ctx = torch.autocast(device_type=self.device.type, dtype=torch.bfloat16)
            else:
                ctx = contextlib.nullcontext()
            with ctx:
                y = self.network(x)
            y = y.float()[0].permute(1, 2, 0).cpu()
        return np.ascontiguousarray(y.numpy(), dtype=np.float32)

    def info(self) -> dict[str, Any]:
        """Run-record facts: weights file and hash, whether it is a released file, device."""
        return {
            "method": self.card.name,
            "weights": str(self.weights_path),
            "weights_sha256": self.weights_sha256,
            "weights_released_as": self.weights_known.name if self.weights_known else None,
            "device": str(self.device),
            "precision": self.precision,
            "channels_last": self.channels_last,
            "parameters": self.parameter_count,
            "network_kwargs": dict(self.card.network_kwargs),
        }


class PReNetMethod(NetworkMethod):
    """PReNet (CVPR 2019), 6 stages, official Rain100H/Rain100L weights."""

    card: ClassVar[MethodCard] = PRENET_CARD


class PReNetRealMethod(NetworkMethod):
    """PReNet's real-image generator (``test_real.py``), 4 stages, ``PReNet_real1.pth``."""

    card: ClassVar[MethodCard] = PRENET_REAL_CARD
