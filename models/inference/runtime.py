"""Where and how a network runs: device, precision (autocast) and memory format.

torch is imported inside the functions, so that importing a method module (for its card)
stays light.
"""

from __future__ import annotations

import contextlib
from typing import Any

from raindata.errors import DataError

PRECISIONS: tuple[str, ...] = ("fp32", "bf16", "fp16")
"""``fp32`` eager; ``bf16`` autocast (CUDA, or CPUs with AVX512/AMX); ``fp16`` autocast (CUDA)."""


def bf16_supported(device: Any = "cpu") -> bool:
    """Whether bf16 autocast is worth using on ``device``.

    CPU: the kernels are native when ``torch.backends.cpu.get_cpu_capability()`` reports
    AVX512 or AMX; CUDA: ``torch.cuda.is_bf16_supported()``.
    """
    import torch

    if torch.device(device).type == "cuda":
        return torch.cuda.is_available() and torch.cuda.is_bf16_supported()
    cap = torch.backends.cpu.get_cpu_capability().upper()
    return "AVX512" in cap or "AMX" in cap


def resolve_device(device: Any):
    """``torch.device(device)``; DataError for a bad name or CUDA without a GPU."""
    import torch

    try:
        dev = torch.device(device)
    except (RuntimeError, TypeError) as exc:
        raise DataError(f"device: expected cpu, cuda or cuda:N, got {device!r} ({exc})") from None
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise DataError(f"device {str(device)!r} requested but CUDA is not available")
    if dev.type not in ("cpu", "cuda"):
        raise DataError(f"device: expected cpu or cuda, got {str(device)!r}")
    return dev


def check_precision(precision: str, device: Any) -> None:
    """DataError unless ``precision`` is one of :data:`PRECISIONS` and usable on ``device``."""
    import torch

    if precision not in PRECISIONS:
        raise DataError(f"precision: expected one of {', '.join(PRECISIONS)}, got {precision!r}")
    dev = resolve_device(device)
    if precision == "fp16" and dev.type != "cuda":
        raise DataError(f"precision 'fp16' needs a CUDA device, got {str(device)!r}; use fp32")
    if precision == "bf16":
        if dev.type == "cpu" and not bf16_supported("cpu"):
            cap = torch.backends.cpu.get_cpu_capability()
            raise DataError(
                f"precision 'bf16' needs a CPU with AVX512 or AMX, this one reports {cap}; "
                "use fp32"
            )
        if dev.type == "cuda" and not torch.cuda.is_bf16_supported():
            name = torch.cuda.get_device_name(dev)
            raise DataError(f"precision 'bf16' is not supported by {name}; use fp32 or fp16")


def autocast(precision: str, device: Any) -> contextlib.AbstractContextManager:
    """The autocast context of ``precision`` on ``device`` (a no-op for fp32)."""
    import torch

    dev = torch.device(device)
    if precision == "bf16":
        return torch.autocast(device_type=dev.type, dtype=torch.bfloat16)
    if precision == "fp16":
        return torch.autocast(device_type=dev.type, dtype=torch.float16)
    return contextlib.nullcontext()


def memory_format(channels_last: bool):
    """``torch.channels_last`` or ``torch.contiguous_format``."""
    import torch

    return torch.channels_last if channels_last else torch.contiguous_format
