"""UDRDR as a registered method: the distillation net F3 (the only net used at test time)."""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from models.cards import MethodCard, WeightsFile
from raindata.errors import DataError

DEMO_WEIGHTS_NAME = "udrdr_demo_f3.pt"

UDRDR_CARD = MethodCard(
    name="udrdr",
    title="UDRDR (F3 distillation net)",
    paper=(
        "Yang Liu, Ziyu Yue, Jinshan Pan, Zhixun Su. Unpaired Learning for Deep Image "
        "Deraining with Rain Direction Regularizer. ICCV 2021."
    ),
    input_range="[0, 1] float (uint8 / 255)",
    input_colour="RGB",
    quantize="round",
    weights=(
        WeightsFile(
            name=DEMO_WEIGHTS_NAME,
            sha256="2ebb3cd96f9e4ba7569c8984e3040f0273cde165b2779ad72316190382223b11",
            trained_on="the toolkit's demo set (raindata synth --demo), configs/demo.toml",
            source="this repository, models/weights/",
            method="udrdr",
        ),
    ),
    weights_required=False,
    params=4_877_315,
    network="models.udrdr_method:paper_f3",
    url="",
    notes=(
        "Only F3 runs at test time (Sec. 3.4); F1/F2 are the teacher used in training.",
        "Weights: an F3 checkpoint written by `udrdr train` (models/f3_checkpoint.py); "
        "without --weights the small demo F3 bundled in models/weights/ is used, which was "
        "trained on the demo set only.",
        "Output: float RGB, rounded to uint8 (round half away from zero) as `udrdr derain` "
        "saves it; no official release exists to follow.",
        "`params` is F3 at the paper config (16 blocks, 128 filters), Table 3's 4.9M.",
    ),
)


def paper_f3():
    """F3 at the paper configuration (16 residual blocks, 128 filters), random weights."""
    from models.udrdr import UDRDRConfig, build_f3

    return build_f3(UDRDRConfig.paper())


def demo_weights_path() -> Path:
    """The demo F3 checkpoint shipped inside the package."""
    return Path(str(resources.files("models") / "weights" / DEMO_WEIGHTS_NAME))


class UDRDRMethod:
    """UDRDR's F3 for inference: ``derain(rainy uint8) -> float32 RGB in [0, 1]``."""

    card: ClassVar[MethodCard] = UDRDR_CARD

    def __init__(
        self,
        weights: str | Path | None = None,
        *,
        device: str = "cpu",
        channels_last: bool = False,
        precision: str = "fp32",
        tile: int | None = None,
        overlap: int = 32,
    ) -> None:
        from models.f3_checkpoint import load_f3

        path = Path(weights) if weights is not None else demo_weights_path()
        if weights is None and not path.exists():
            raise DataError(f"{path}: bundled demo weights missing; pass --weights PATH")
        bundled = self.card.weights[0].sha256 if weights is None else None
        self.network, self.f3_info = load_f3(path, device=device, expected_sha256=bundled)
        self.weights_path = path
        self.weights_sha256 = self.f3_info.sha256
        self.device = device
        self.channels_last = channels_last
        self.precision = precision
        self.tile = tile
        self.overlap = overlap

    def derain(self, rainy: np.ndarray) -> np.ndarray:
        """Run F3 on one uint8 RGB image (tiled when ``tile`` is set); float32 out."""
        from models.inference import derain_image

        return derain_image(
            self.network, rainy, device=self.device, tile=self.tile, overlap=self.overlap,
            precision=self.precision, channels_last=self.channels_last,
        )

    def info(self) -> dict[str, Any]:
        """Run-record facts: weights file and hash, F3 config, device and precision."""
        return {
            "method": self.card.name,
            **self.f3_info.to_dict(),
            "bundled_demo_weights": self.weights_path == demo_weights_path(),
            "device": str(self.device),
            "precision": self.precision,
            "channels_last": self.channels_last,
            "tile": self.tile,
        }
