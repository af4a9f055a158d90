"""``prenet``: PReNet (Ren et al., CVPR 2019), 6 recurrent stages, official weights."""

from __future__ import annotations

from typing import ClassVar

from models.cards import MethodCard, RemoteFile, WeightsFile, github_raw
from models.inference.method import NetworkMethod

PRENET_PAPER = (
    "Dongwei Ren, Wangmeng Zuo, Qinghua Hu, Pengfei Zhu, Deyu Meng. Progressive Image "
    "Deraining Networks: A Better and Simpler Baseline. CVPR 2019."
)
PRENET_URL = "https://github.com/csdwren/PReNet"
PRENET_REPO = "csdwren/PReNet"
PRENET_COMMIT = "6d908d1e3c7ff5c26fee624112297ad1c8603ca7"
PRENET_SIZE = 681_694
"""Bytes of each of the three released files (the same network, 168,963 parameters)."""


def prenet_file(name: str, sha256: str, path: str) -> RemoteFile:
    """A released PReNet file: ``path`` in the official repository at PRENET_COMMIT."""
    return RemoteFile(name=name, sha256=sha256, size=PRENET_SIZE,
                      url=github_raw(PRENET_REPO, PRENET_COMMIT, path))


WEIGHTS: tuple[WeightsFile, ...] = (
    WeightsFile(
        name="PReNet6_Rain100H.pth",
        sha256="127c0098787c5272f1f8583f6c5202e7ef674f750cd145a1691912a6d9e96210",
        trained_on="RainTrainH (Rain100H)",
        source="csdwren/PReNet @ 6d908d1e, logs/Rain100H/PReNet6/net_latest.pth",
        method="prenet",
        folder="prenet_official",
        files=(prenet_file("PReNet6_Rain100H.pth",
                           "127c0098787c5272f1f8583f6c5202e7ef674f750cd145a1691912a6d9e96210",
                           "logs/Rain100H/PReNet6/net_latest.pth"),),
    ),
    WeightsFile(
        name="PReNet6_Rain100L.pth",
        sha256="cb9b743bb33cf6e5c56ba45f8ade93add46266dea9fa582e1934dc5eed942333",
        trained_on="RainTrainL (Rain100L)",
        source="csdwren/PReNet @ 6d908d1e, logs/Rain100L/PReNet6/net_latest.pth",
        method="prenet",
        folder="prenet_official",
        files=(prenet_file("PReNet6_Rain100L.pth",
                           "cb9b743bb33cf6e5c56ba45f8ade93add46266dea9fa582e1934dc5eed942333",
                           "logs/Rain100L/PReNet6/net_latest.pth"),),
    ),
)

PRENET_IO_NOTES: tuple[str, ...] = (
    "Official test scripts (test_PReNet.py, test_real.py) read with cv2.imread (BGR) and "
    "swap to RGB before the network: the network sees RGB.",
    "Input scaling: float32 / 255 to [0, 1]; no mean subtraction, no other normalisation.",
    "Output: torch.clamp(out, 0, 1), then np.uint8(255 * out) in float32, a cast that "
    "truncates (card quantize='truncate'); the benchmark's own protocol rounds.",
    "The saved image is swapped back RGB->BGR before cv2.imwrite, so the PNG on disk has "
    "the correct colours.",
    "The published PSNR/SSIM come from MATLAB scripts (statistic/*.m): im2double of the "
    "saved uint8 PNGs, rgb2ycbcr Y channel unrounded, psnr with peak 1, ssim on Y*255.",
)

CARD = MethodCard(
    name="prenet",
    title="PReNet (6 stages, LSTM)",
    paper=PRENET_PAPER,
    input_range="[0, 1]",
    input_colour="RGB",
    quantize="truncate",
    weights=WEIGHTS,
    weights_required=True,
    weights_format="torch",
    params=168_963,
    network="models.archs.prenet:PReNet",
    network_kwargs=(("stages", 6),),
    url=PRENET_URL,
    licence="none stated in the repository",
    notes=(
        "Architecture = networks.PReNet of the official code: per stage, conv0 (6->32, "
        "ReLU) on cat(input, previous output); ConvLSTM gates i, f, o (sigmoid) and g "
        "(tanh), each a 3x3 conv on cat(x, h); c = f*c + i*g; h = o*tanh(c); 5 residual "
        "blocks on h, each relu(conv-relu-conv-relu(x) + x); conv (32->3); output = x + "
        "input (residual on the rainy image).",
        "6 stages (recurrent_iter=6 in the test scripts), h and c start at zero, the "
        "first stage's previous output is the rainy input itself; the last stage is "
        "the result.",
        *PRENET_IO_NOTES,
    ),
)


class PReNetMethod(NetworkMethod):
    """PReNet (CVPR 2019), 6 stages, official Rain100H/Rain100L weights."""

    card: ClassVar[MethodCard] = CARD
