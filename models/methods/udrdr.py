"""``udrdr``: UDRDR's distillation net F3 (Liu et al., ICCV 2021), the test-time model."""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Any, ClassVar

from models.cards import MethodCard, WeightsFile
from models.inference.method import NetworkMethod, refuse_foreign

CPU_WEIGHTS_NAME = "udrdr_cpu_f3.pt"
DEMO_WEIGHTS_NAME = "udrdr_demo_f3.pt"

UDRDR_PAPER = (
    "Yang Liu, Ziyu Yue, Jinshan Pan, Zhixun Su. Unpaired Learning for Deep Image "
    "Deraining with Rain Direction Regularizer. ICCV 2021."
)

CARD = MethodCard(
    name="udrdr",
    title="UDRDR (F3 distillation net)",
    paper=UDRDR_PAPER,
    input_range="[0, 1]",
    input_colour="RGB",
    quantize="round",
    weights=(
        WeightsFile(
            name=CPU_WEIGHTS_NAME,
            sha256="41fe11d57c5b7dcbb2c6fbccb3208080dc22f5b454cda5a6e75d01f313cb3365",
            trained_on="configs/cpu.toml: RainDirection-style rain (raindata synth) over "
                       "RainTrainL clean 1-90 paired, RainTrainL rainy 101-180 unpaired; "
                       "best of 720 steps on RainTrainL 181-200 (study run full-s0)",
            source="this repository, models/weights/ (udrdr_cpu_*: config, logs, provenance)",
            method="udrdr",
        ),
        WeightsFile(
            name=DEMO_WEIGHTS_NAME,
            sha256="2ebb3cd96f9e4ba7569c8984e3040f0273cde165b2779ad72316190382223b11",
            trained_on="the toolkit's demo set (raindata synth --demo), configs/demo.toml",
            source="this repository, models/weights/",
            method="udrdr",
        ),
    ),
    weights_required=False,
    weights_format="udrdr-f3",
    params=4_877_315,
    network="models.methods.udrdr:paper_f3",
    url="https://lewisyangliu.github.io/projects/UDRDR",
    licence="this repository's (MIT)",
    notes=(
        "Only F3 runs at test time (Sec. 3.4); F1/F2 are the teacher used in training "
        "(scored as the method udrdr-teacher).",
        "Weights: an F3 checkpoint written by `udrdr train` (models/io/f3.py) or one of "
        "its training checkpoints; without --weights the CPU-scale F3 bundled in "
        "models/weights/ (configs/cpu.toml, 6 blocks, 40 filters) is used; the demo F3 "
        "beside it (`make demo`) was trained on the demo set only.",
        "No official code or weights were released; output rounded to uint8 (round half "
        "away from zero) as `udrdr derain` saves it.",
        "`params` is F3 at the paper config (16 blocks, 128 filters), Table 3's 4.9M.",
    ),
)


def paper_f3():
    """F3 at the paper configuration (16 residual blocks, 128 filters), random weights."""
    from models.archs.udrdr import UDRDRConfig, build_f3

    return build_f3(UDRDRConfig.paper())


def bundled_weights_path(name: str) -> Path:
    """A weights file shipped inside the package (``models/weights/NAME``)."""
    return Path(str(resources.files("models") / "weights" / name))


def demo_weights_path() -> Path:
    """The demo F3 checkpoint shipped inside the package (``make demo``)."""
    return bundled_weights_path(DEMO_WEIGHTS_NAME)


def cpu_weights_path() -> Path:
    """The CPU-scale F3 shipped inside the package: the default weights of ``udrdr``."""
    return bundled_weights_path(CPU_WEIGHTS_NAME)


class UDRDRMethod(NetworkMethod):
    """UDRDR's F3 for inference; the network config comes from the weights file."""

    card: ClassVar[MethodCard] = CARD

    def default_weights(self) -> Path:
        """The bundled CPU-scale F3."""
        return cpu_weights_path()

    def load_network(self, path: Path):
        """F3 from an F3 file or a training checkpoint (the bundled file is hash-checked)."""
        from models.io import weights_digest
        from models.io.f3 import load_f3
        from raindata.errors import DataError

        bundled = {bundled_weights_path(w.name): w.sha256 for w in self.card.weights}
        if path in bundled and not path.exists():
            raise DataError(f"{path}: bundled weights missing; pass --weights PATH")
        refuse_foreign(self.card, weights_digest(path), path)
        expected = bundled.get(path)
        net, self.f3_info = load_f3(path, expected_sha256=expected)
        return net, self.f3_info.sha256, path

    def info(self) -> dict[str, Any]:
        """Run-record facts: the engine's, plus the F3 config and training metadata."""
        return {**super().info(), "f3": self.f3_info.to_dict(),
                "bundled_weights": self.weights_path.name
                if self.weights_path in (cpu_weights_path(), demo_weights_path()) else None}
