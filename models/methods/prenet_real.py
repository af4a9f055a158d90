"""``prenet-real``: PReNet's real-image generator, as the official ``test_real.py`` runs it."""

from __future__ import annotations

from typing import ClassVar

from models.cards import MethodCard, WeightsFile
from models.inference.method import NetworkMethod
from models.methods.prenet import PRENET_IO_NOTES, PRENET_PAPER, PRENET_URL, prenet_file

WEIGHTS: tuple[WeightsFile, ...] = (
    WeightsFile(
        name="PReNet_real1.pth",
        sha256="eba0c0ed941565abce9c61ceb8b36ff5e1532320c20efc11843f5f7fc810f7bb",
        trained_on="mixed sets, for real rainy images",
        source="csdwren/PReNet @ 6d908d1e, logs/real/PReNet1.pth",
        method="prenet-real",
        folder="prenet_official",
        files=(prenet_file("PReNet_real1.pth",
                           "eba0c0ed941565abce9c61ceb8b36ff5e1532320c20efc11843f5f7fc810f7bb",
                           "logs/real/PReNet1.pth"),),
    ),
)

CARD = MethodCard(
    name="prenet-real",
    title="PReNet for real rain (generator, 4 stages)",
    paper=PRENET_PAPER,
    input_range="[0, 1]",
    input_colour="RGB",
    quantize="truncate",
    weights=WEIGHTS,
    weights_required=True,
    weights_format="torch",
    params=168_963,
    network="models.archs.prenet:PReNetGenerator",
    network_kwargs=(("stages", 4),),
    url=PRENET_URL,
    licence="none stated in the repository",
    notes=(
        "The real-image weights (logs/real/PReNet1.pth) are run by test_real.py with "
        "generator.Generator_lstm, not networks.PReNet: same parameter names and shapes "
        "(so they load with strict=True into either), different forward.",
        "Per stage: conv0 on cat(input, previous output); the 5 residual blocks come "
        "BEFORE the ConvLSTM; conv (32->3) on h gives the output directly (no + input).",
        "4 stages (recurrent_iter=4 by default in test_real.py; test_real.sh keeps it).",
        *PRENET_IO_NOTES,
    ),
)


class PReNetRealMethod(NetworkMethod):
    """PReNet's real-image generator (``test_real.py``), 4 stages, ``PReNet_real1.pth``."""

    card: ClassVar[MethodCard] = CARD
