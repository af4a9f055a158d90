"""Method cards: what a deraining method expects, how its output becomes an image, its weights.

Plain metadata, no torch. A card is what ``benchmark`` records beside every score so that a
result can be traced to a paper, a weights file (by sha256) and an output convention.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

QUANTIZE_CONVENTIONS: tuple[str, ...] = ("truncate", "round")
"""How a float output in [0, 1] becomes uint8.

``truncate``: clip to [0, 1], then ``uint8(255 * out)`` cast toward zero (numpy/PyTorch
``astype(uint8)``), as in the PReNet test scripts. ``round``: clip to [0, 1], then round
``255 * out`` half away from zero, as MATLAB ``uint8()``/``im2uint8`` do.
"""


@dataclass(frozen=True)
class WeightsFile:
    """One released weights file of a method."""

    name: str
    """File name as distributed (what users pass to ``--weights``)."""
    sha256: str
    """Hex sha256 of the released file."""
    trained_on: str
    """Training data, in words."""
    source: str
    """Where the file comes from (repository path)."""
    method: str
    """Registry name of the method whose network this file belongs to."""


@dataclass(frozen=True)
class MethodCard:
    """Metadata of one registered method.

    ``network`` is a ``"module:attr"`` builder of the bare ``nn.Module`` (None for methods
    without one) and ``network_kwargs`` the arguments that give the released architecture;
    ``params`` is the published parameter count of that network (0 without one).
    """

    name: str
    title: str
    paper: str
    input_range: str
    input_colour: str
    quantize: str
    weights: tuple[WeightsFile, ...] = ()
    weights_required: bool = False
    params: int = 0
    network: str | None = None
    network_kwargs: tuple[tuple[str, object], ...] = ()
    url: str = ""
    notes: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.quantize not in QUANTIZE_CONVENTIONS:
            raise ValueError(
                f"card {self.name!r}: quantize must be one of {QUANTIZE_CONVENTIONS}, "
                f"got {self.quantize!r}"
            )

    @property
    def needs_weights(self) -> bool:
        """Whether ``create_model`` needs ``weights=`` (alias of ``weights_required``)."""
        return self.weights_required

    @property
    def weights_file_names(self) -> tuple[str, ...]:
        """Names of the released weights files of this method."""
        return tuple(w.name for w in self.weights)

    def known_weights(self, sha256: str) -> WeightsFile | None:
        """The released file with this sha256, or None."""
        for w in self.weights:
            if w.sha256 == sha256.lower():
                return w
        return None

    def missing_fields(self) -> list[str]:
        """Names of fields a complete card must fill but this one leaves empty."""
        required = ("name", "title", "paper", "input_range", "input_colour", "quantize", "notes")
        missing = [f for f in required if not getattr(self, f)]
        if self.weights_required and not self.weights:
            missing.append("weights")
        if self.network is not None and self.params <= 0:
            missing.append("params")
        return missing

    def to_dict(self) -> dict:
        """JSON-ready form for run records."""
        d = dataclasses.asdict(self)
        d["network_kwargs"] = dict(self.network_kwargs)
        d["weights"] = [dataclasses.asdict(w) for w in self.weights]
        d["notes"] = list(self.notes)
        return d


_PRENET_PAPER = (
    "Dongwei Ren, Wangmeng Zuo, Qinghua Hu, Pengfei Zhu, Deyu Meng. Progressive Image "
    "Deraining Networks: A Better and Simpler Baseline. CVPR 2019."
)
_PRENET_URL = "https://github.com/csdwren/PReNet"

PRENET_WEIGHTS: tuple[WeightsFile, ...] = (
    WeightsFile(
        name="PReNet6_Rain100H.pth",
        sha256="127c0098787c5272f1f8583f6c5202e7ef674f750cd145a1691912a6d9e96210",
        trained_on="RainTrainH (Rain100H)",
        source="csdwren/PReNet logs/Rain100H/PReNet6/net_latest.pth",
        method="prenet",
    ),
    WeightsFile(
        name="PReNet6_Rain100L.pth",
        sha256="cb9b743bb33cf6e5c56ba45f8ade93add46266dea9fa582e1934dc5eed942333",
        trained_on="RainTrainL (Rain100L)",
        source="csdwren/PReNet logs/Rain100L/PReNet6/net_latest.pth",
        method="prenet",
    ),
)

PRENET_REAL_WEIGHTS: tuple[WeightsFile, ...] = (
    WeightsFile(
        name="PReNet_real1.pth",
        sha256="eba0c0ed941565abce9c61ceb8b36ff5e1532320c20efc11843f5f7fc810f7bb",
        trained_on="mixed sets, for real rainy images",
        source="csdwren/PReNet logs/real/PReNet1.pth",
        method="prenet-real",
    ),
)

_PRENET_IO_NOTES: tuple[str, ...] = (
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

PRENET_CARD = MethodCard(
    name="prenet",
    title="PReNet (6 stages, LSTM)",
    paper=_PRENET_PAPER,
    input_range="[0, 1] float (uint8 / 255)",
    input_colour="RGB",
    quantize="truncate",
    weights=PRENET_WEIGHTS,
    weights_required=True,
    params=168_963,
    network="models.prenet:PReNet",
    network_kwargs=(("stages", 6),),
    url=_PRENET_URL,
    notes=(
        "Architecture = networks.PReNet of the official code: per stage, conv0 (6->32, "
        "ReLU) on cat(input, previous output); ConvLSTM gates i, f, o (sigmoid) and g "
        "(tanh), each a 3x3 conv on cat(x, h); c = f*c + i*g; h = o*tanh(c); 5 residual "
        "blocks on h, each relu(conv-relu-conv-relu(x) + x); conv (32->3); output = x + "
        "input (residual on the rainy image).",
        "6 stages (recurrent_iter=6 in the test scripts), h and c start at zero, the "
        "first stage's previous output is the rainy input itself; the last stage is "
        "the result.",
        *_PRENET_IO_NOTES,
    ),
)

PRENET_REAL_CARD = MethodCard(
    name="prenet-real",
    title="PReNet for real rain (generator, 4 stages)",
    paper=_PRENET_PAPER,
    input_range="[0, 1] float (uint8 / 255)",
    input_colour="RGB",
    quantize="truncate",
    weights=PRENET_REAL_WEIGHTS,
    weights_required=True,
    params=168_963,
    network="models.prenet:PReNetGenerator",
    network_kwargs=(("stages", 4),),
    url=_PRENET_URL,
    notes=(
        "The real-image weights (logs/real/PReNet1.pth) are run by test_real.py with "
        "generator.Generator_lstm, not networks.PReNet: same parameter names and shapes "
        "(so they load with strict=True into either), different forward.",
        "Per stage: conv0 on cat(input, previous output); the 5 residual blocks come "
        "BEFORE the ConvLSTM; conv (32->3) on h gives the output directly (no + input).",
        "4 stages (recurrent_iter=4 by default in test_real.py; test_real.sh keeps it).",
        *_PRENET_IO_NOTES,
    ),
)

INPUT_CARD = MethodCard(
    name="input",
    title="Rainy input (no deraining)",
    paper="None: the rainy image itself, the usual first row of a deraining table.",
    input_range="uint8 [0, 255]",
    input_colour="RGB",
    quantize="round",
    notes=("Returns rainy / 255 as float32; quantize='round' gives back the input exactly.",),
)
