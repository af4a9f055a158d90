"""The one inference path of every network method, driven by its card.

For a batch of equal-size uint8 RGB images:

1. scale to the card's ``input_range`` (``[0, 1]``: ``x / 255``; ``[-1, 1]``:
   ``2 x / 255 - 1``; ``[0, 255]``: ``x``) and reorder to ``input_colour``;
2. whole image, or overlapping tiles (:mod:`models.inference.tiling`) where the card
   allows it; each piece goes through the card's size rule (pad to a multiple / minimum
   side / square and crop back, or resize and resize back), the network (under the
   precision's autocast, in the memory format asked), and the pick of the card's
   ``output`` (and ``rain_map_output``) when the network gives several tensors;
3. back to RGB on the ``[0, 1]`` scale from ``output_range``, then the card's
   ``output_norm`` (``minmax``: per image, over the whole image).

The result is float32, not clipped: quantization (:func:`models.inference.output`)
follows, with the card's convention or one chosen by the user.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from models.cards import ANY_SIZE, MethodCard, SizeRule
from models.inference.runtime import autocast
from models.inference.tiling import tiled_forward

_SCALE = {"[0, 1]": (1 / 255, 0.0), "[-1, 1]": (2 / 255, -1.0), "[0, 255]": (1.0, 0.0)}


@dataclass(frozen=True)
class IOSpec:
    """The card fields the engine reads (a bare network: RGB [0, 1], any size)."""

    input_range: str = "[0, 1]"
    input_colour: str = "RGB"
    size: SizeRule = ANY_SIZE
    output: int | str | None = None
    rain_map_output: int | str | None = None
    output_range: str = "[0, 1]"
    output_norm: str = "none"

    @classmethod
    def of(cls, card: MethodCard) -> IOSpec:
        """The I/O facts of ``card``."""
        return cls(card.input_range, card.input_colour, card.size, card.output,
                   card.rain_map_output, card.out_range, card.output_norm)


def to_network(x: torch.Tensor, spec: IOSpec) -> torch.Tensor:
    """uint8-valued [N, 3, H, W] RGB -> float32 in the network's range and colour order."""
    scale, shift = _SCALE[spec.input_range]
    y = x.float()
    if scale != 1.0:
        y = y * scale
    if shift:
        y = y + shift
    return y.flip(1) if spec.input_colour == "BGR" else y


def from_network(y: torch.Tensor, spec: IOSpec, difference: bool = False) -> torch.Tensor:
    """A network image (or, with ``difference``, a rain map) -> RGB on the [0, 1] scale."""
    if spec.input_colour == "BGR":
        y = y.flip(1)
    if spec.output_range == "[-1, 1]":
        return y / 2 if difference else (y + 1) / 2
    if spec.output_range == "[0, 255]":
        return y / 255
    return y


def pad_index(length: int, total: int, mode: str, device: torch.device) -> torch.Tensor:
    """Source indices that pad an axis of ``length`` to ``total`` at its end.

    ``reflect`` mirrors without repeating the edge (as ``numpy.pad(mode='reflect')``,
    repeatedly when the padding is longer than the axis); ``replicate`` repeats the edge.
    """
    idx = torch.arange(total, device=device)
    if mode == "replicate" or length == 1:
        return idx.clamp(max=length - 1)
    period = 2 * (length - 1)
    k = idx % period
    return torch.where(k < length, k, period - k)


def fit_size(x: torch.Tensor, rule: SizeRule) -> tuple[torch.Tensor, Callable]:
    """``x`` made acceptable to the network by ``rule``, and the function that undoes it."""
    height, width = x.shape[-2:]
    if rule.mode == "any":
        return x, lambda y: y
    th, tw = rule.padded_size(height, width)
    if rule.mode == "resize":
        resized = F.interpolate(x, size=(th, tw), mode="bicubic", align_corners=False)
        return resized, lambda y: F.interpolate(y, size=(height, width), mode="bicubic",
                                                align_corners=False)
    if (th, tw) == (height, width):
        return x, lambda y: y
    if rule.pad_mode == "constant":
        padded = F.pad(x, (0, tw - width, 0, th - height))
    else:
        rows = pad_index(height, th, rule.pad_mode, x.device)
        cols = pad_index(width, tw, rule.pad_mode, x.device)
        padded = x.index_select(-2, rows).index_select(-1, cols)
    return padded, lambda y: y[..., :height, :width]


def pick(out: object, key: int | str | None, what: str = "output") -> torch.Tensor:
    """The tensor ``key`` of a network's output (the output itself when ``key`` is None)."""
    if key is None:
        if not isinstance(out, torch.Tensor):
            raise TypeError(f"the network returned {type(out).__name__}; its card must say "
                            f"which {what} is the image")
        return out
    return out[key]  # type: ignore[index]


def run_network(
    net: nn.Module,
    x: torch.Tensor,
    spec: IOSpec,
    *,
    tile: int | None = None,
    overlap: int = 32,
    precision: str = "fp32",
    channels_last: bool = False,
    rain_map: bool = False,
) -> tuple[torch.Tensor, torch.Tensor | None]:
    """Run ``net`` on ``x`` (network range and colour) and return (image, rain map or None).

    Both are on the network's scale, sized like ``x``. Runs under ``inference_mode``; the
    caller has put ``net`` in eval mode on ``x``'s device.
    """
    fmt = torch.channels_last if channels_last else torch.contiguous_format
    channels = x.shape[1]

    def piece(t: torch.Tensor) -> torch.Tensor:
        fitted, undo = fit_size(t, spec.size)
        with autocast(precision, t.device):
            out = net(fitted.contiguous(memory_format=fmt))
        image = pick(out, spec.output)
        if image.ndim != 4 or image.shape[-2:] != fitted.shape[-2:]:
            raise ValueError(f"the network must keep the image size, got "
                             f"{tuple(image.shape)} for input {tuple(fitted.shape)}")
        parts = [undo(image.float())]
        if rain_map:
            parts.append(undo(pick(out, spec.rain_map_output, "output").float()))
        return torch.cat(parts, dim=1) if len(parts) > 1 else parts[0]

    with torch.inference_mode():
        height, width = x.shape[-2:]
        if tile is None or (height <= tile and width <= tile):
            y = piece(x)
        else:
            y = tiled_forward(piece, x, tile, overlap)
    if rain_map:
        return y[:, :channels], y[:, channels:]
    return y, None


def minmax(y: torch.Tensor) -> torch.Tensor:
    """Per image: ``(y - min) / (max - min)`` over all its pixels and channels."""
    flat = y.flatten(1)
    lo = flat.min(dim=1).values.view(-1, 1, 1, 1)
    hi = flat.max(dim=1).values.view(-1, 1, 1, 1)
    return (y - lo) / (hi - lo).clamp_min(torch.finfo(y.dtype).tiny)


def to_numpy(y: torch.Tensor) -> list[np.ndarray]:
    """[N, 3, H, W] -> N float32 ``H x W x 3`` arrays."""
    arr = y.float().permute(0, 2, 3, 1).cpu().numpy()
    return [np.ascontiguousarray(a, dtype=np.float32) for a in arr]


def derain_tensor(
    net: nn.Module,
    images: torch.Tensor,
    spec: IOSpec,
    *,
    tile: int | None = None,
    overlap: int = 32,
    precision: str = "fp32",
    channels_last: bool = False,
    rain_map: bool = False,
) -> tuple[torch.Tensor, torch.Tensor | None]:
    """Steps 1-3 of the module docstring for uint8-valued RGB ``images`` [N, 3, H, W].

    Returns the image estimate and (with ``rain_map``) the network's rain-map output,
    both RGB on the [0, 1] scale, float32, not clipped.
    """
    x = to_network(images, spec)
    y, z = run_network(net, x, spec, tile=tile, overlap=overlap, precision=precision,
                       channels_last=channels_last, rain_map=rain_map)
    y = from_network(y, spec)
    if spec.output_norm == "minmax":
        y = minmax(y)
    if z is not None:
        z = from_network(z, spec, difference=True)
    return y, z


def derain_image(
    net: nn.Module,
    img: np.ndarray,
    *,
    device: str | torch.device = "cpu",
    tile: int | None = None,
    overlap: int = 32,
    precision: str = "fp32",
    channels_last: bool = False,
    spec: IOSpec | None = None,
) -> np.ndarray:
    """Derain one uint8 ``H x W x 3`` RGB image with a bare network; float32 [0, 1] scale.

    ``spec`` gives the network's I/O (default: RGB in [0, 1], any size, one output, as
    UDRDR's F3). ``net`` is moved to ``device`` and ``channels_last`` format in place and
    run in eval mode (its train/eval mode is restored afterwards). The output is not
    clipped. Registered methods do the same through
    :class:`models.inference.method.NetworkMethod`.
    """
    from models.inference.output import check_rainy
    from models.inference.runtime import check_precision, memory_format, resolve_device
    from models.inference.tiling import check_tiling

    check_rainy(img, "image")
    check_tiling(tile, overlap)
    dev = resolve_device(device)
    check_precision(precision, dev)
    net.to(device=dev, memory_format=memory_format(channels_last))
    was_training = net.training
    net.eval()
    try:
        x = torch.from_numpy(np.ascontiguousarray(img)).to(dev).permute(2, 0, 1)[None]
        y, _ = derain_tensor(net, x, spec or IOSpec(), tile=tile, overlap=overlap,
                             precision=precision, channels_last=channels_last)
    finally:
        net.train(was_training)
    return to_numpy(y)[0]
