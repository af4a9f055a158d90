"""``benchmark time``: seconds per image of a method's network (the paper's Table 3)."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

from raindata.atomic import atomic_write_text, human_bytes
from raindata.errors import DataError


def time_network(network, size: int, n: int, device: str, warmup: int = 3,
                 precision: str = "fp32", channels_last: bool = False, spec=None) -> float:
    """Mean seconds per SIZExSIZE image through the inference engine after ``warmup`` runs.

    The clock covers what the method does at test time to an image already in memory:
    the card's input scaling, size rule and the network's forward (with the method's own
    pre/post-processing, which lives in its network module), the output pick and scaling
    (``spec``: the card's I/O, default RGB [0, 1]). CUDA work is synchronised before the
    clock is read, so the figure is the real latency, not the time to queue kernels.
    """
    import torch

    from models.inference.pipeline import IOSpec, derain_tensor
    from models.inference.runtime import memory_format

    dev = torch.device(device)
    net = network.to(device=dev, memory_format=memory_format(channels_last)).eval()
    gen = torch.Generator().manual_seed(0)
    x = torch.randint(0, 256, (1, 3, size, size), generator=gen, dtype=torch.uint8).to(dev)
    spec = spec or IOSpec()

    def sync():
        if dev.type == "cuda":
            torch.cuda.synchronize(dev)

    def once():
        derain_tensor(net, x, spec, precision=precision, channels_last=channels_last)

    for _ in range(warmup):
        once()
    sync()
    start = time.perf_counter()
    for _ in range(n):
        once()
    sync()
    return (time.perf_counter() - start) / n


def time_method(method: str, size: int = 512, n: int = 100, device: str = "cpu",
                weights: str | None = None, precision: str = "fp32",
                channels_last: bool = False, warmup: int = 3) -> dict:
    """Time the network behind ``method`` and return a Table 3 row."""
    from benchmark.runner import describe_device
    from models.inference.pipeline import IOSpec
    from models.inference.runtime import check_precision
    from models.registry import get_card

    if n < 1 or size < 8:
        raise DataError(f"--n must be >= 1 and --size >= 8 (got n={n}, size={size})")
    check_precision(precision, device)
    card = get_card(method)
    check_size_fits(size, device)
    network = build_network(method, weights)
    params = sum(p.numel() for p in network.parameters())
    try:
        seconds = time_network(network, size, n, device, warmup, precision, channels_last,
                               IOSpec.of(card))
    except (MemoryError, RuntimeError) as exc:
        if not _is_out_of_memory(exc):
            raise
        line = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:160]
        raise DataError(f"--size {size}: out of memory on {device} while timing {method} "
                        f"({line}); choose a smaller --size") from None
    return {
        "method": method, "parameters": params, "size": size, "n": n, "warmup": warmup,
        "seconds_per_image": round(seconds, 5), "device": describe_device(device),
        "precision": precision + ("+channels-last" if channels_last else ""),
        "weights": weights,
    }


BYTES_PER_PIXEL = 3 * 4 * 3
"""A floor on the memory one SIZE x SIZE image needs: three float32 RGB tensors (input,
output and one intermediate), before any feature map of the network."""


def available_memory(device: str) -> int | None:
    """Bytes free for new tensors on ``device`` (None when it cannot be told)."""
    if device.startswith("cuda"):
        import torch

        if not torch.cuda.is_available():
            return None
        return int(torch.cuda.mem_get_info(torch.device(device))[0])
    try:
        with open("/proc/meminfo", encoding="utf-8") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, AttributeError):
        return None


def check_size_fits(size: int, device: str) -> None:
    """Refuse a ``size`` whose tensors cannot fit in the memory free on ``device``."""
    need = BYTES_PER_PIXEL * size * size
    free = available_memory(device)
    if free is not None and need > free:
        raise DataError(
            f"--size {size}: a {size}x{size} image needs more than {human_bytes(need)} for "
            f"its tensors alone, and only {human_bytes(free)} is free on {device}; choose a "
            "smaller --size"
        )


def _is_out_of_memory(exc: BaseException) -> bool:
    """Whether ``exc`` is an allocation failure (CPU allocator, CUDA, Python)."""
    if isinstance(exc, MemoryError):
        return True
    text = str(exc).lower()
    return any(w in text for w in ("out of memory", "can't allocate memory",
                                   "not enough memory")) \
        or type(exc).__name__ == "OutOfMemoryError"


def build_network(method: str, weights: str | None):
    """The network behind ``method``: from its weights when given, else random weights."""
    from models.registry import create_model, create_network, get_card

    if get_card(method).network is None:
        raise DataError(f"method {method!r} has no network to time")
    if weights is None:
        return create_network(method)
    return create_model(method, weights=weights).network


def save_timing(results: Path, row: dict, provenance: dict) -> Path:
    """Store a timing row under ``results/_timing/<method>.json`` (atomically)."""
    path = Path(results) / "_timing" / f"{row['method']}.json"
    atomic_write_text(path, json.dumps({**row, "provenance": provenance}, indent=2) + "\n")
    return path
