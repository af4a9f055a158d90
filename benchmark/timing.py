"""``benchmark time``: seconds per image of a method's network (the paper's Table 3)."""

from __future__ import annotations

import json
import time
from pathlib import Path

from raindata.atomic import atomic_write_text
from raindata.errors import DataError


def time_network(network, size: int, n: int, device: str, warmup: int = 3,
                 precision: str = "fp32", channels_last: bool = False) -> float:
    """Mean seconds per forward pass of a 1x3xSIZExSIZE input after ``warmup`` passes.

    CUDA work is synchronised before the clock is read, so the figure is the real
    latency, not the time to queue kernels.
    """
    import torch

    dev = torch.device(device)
    net = network.to(dev).eval()
    x = torch.rand(1, 3, size, size, generator=torch.Generator().manual_seed(0)).to(dev)
    if channels_last:
        net = net.to(memory_format=torch.channels_last)
        x = x.contiguous(memory_format=torch.channels_last)
    dtype = {"fp32": None, "bf16": torch.bfloat16, "fp16": torch.float16}[precision]

    def sync():
        if dev.type == "cuda":
            torch.cuda.synchronize(dev)

    with torch.inference_mode(), torch.autocast(dev.type, dtype=dtype or torch.float32,
                                                enabled=dtype is not None):
        for _ in range(warmup):
            net(x)
        sync()
        start = time.perf_counter()
        for _ in range(n):
            net(x)
        sync()
    return (time.perf_counter() - start) / n


def time_method(method: str, size: int = 512, n: int = 100, device: str = "cpu",
                weights: str | None = None, precision: str = "fp32",
                channels_last: bool = False, warmup: int = 3) -> dict:
    """Time the network behind ``method`` and return a Table 3 row."""
    from benchmark.runner import describe_device

    if n < 1 or size < 8:
        raise DataError(f"--n must be >= 1 and --size >= 8 (got n={n}, size={size})")
    network = build_network(method, weights)
    params = sum(p.numel() for p in network.parameters())
    seconds = time_network(network, size, n, device, warmup, precision, channels_last)
    return {
        "method": method, "parameters": params, "size": size, "n": n,
        "seconds_per_image": round(seconds, 5), "device": describe_device(device),
        "precision": precision + ("+channels-last" if channels_last else ""),
        "weights": weights,
    }


def build_network(method: str, weights: str | None):
    """The network behind ``method``: from its weights when given, else random weights."""
    from models.registry import create_model, create_network

    if weights is None:
        return create_network(method)
    model = create_model(method, weights=weights)
    network = getattr(model, "network", None)
    if network is None:
        raise DataError(f"method {method!r} has no network to time")
    return network


def save_timing(results: Path, row: dict, provenance: dict) -> Path:
    """Store a timing row under ``results/_timing/<method>.json`` (atomically)."""
    path = Path(results) / "_timing" / f"{row['method']}.json"
    atomic_write_text(path, json.dumps({**row, "provenance": provenance}, indent=2) + "\n")
    return path
