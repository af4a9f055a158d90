"""``input``: the rainy image itself, the usual first row of a deraining table."""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from models.cards import MethodCard
from models.inference.output import check_rainy
from raindata.errors import DataError

CARD = MethodCard(
    name="input",
    title="Rainy input (no deraining)",
    paper="None: the rainy image itself, the usual first row of a deraining table.",
    input_range="[0, 255]",
    quantize="round",
    notes=("Returns rainy / 255 as float32; quantize='round' gives back the input exactly.",),
)


class InputMethod:
    """The rainy image itself (``rainy / 255``); with ``'round'`` it quantizes back exactly.

    Takes the inference options of network methods (and ignores them) so that a command
    can pass the same options to every method of a run.
    """

    card: ClassVar[MethodCard] = CARD

    def __init__(
        self,
        weights: str | Path | None = None,
        *,
        device: str = "cpu",
        precision: str = "fp32",
        channels_last: bool = False,
        tile: int | None = None,
        overlap: int = 32,
        batch_size: int = 1,
    ) -> None:
        from models.inference.runtime import PRECISIONS

        if weights is not None:
            raise DataError(f"method 'input' takes no weights, got {weights}")
        if precision not in PRECISIONS:
            raise DataError(f"precision: expected one of {', '.join(PRECISIONS)}, "
                            f"got {precision!r}")
        self.device = device
        self.batch_size = batch_size

    def derain(self, rainy: np.ndarray) -> np.ndarray:
        """``rainy / 255`` as float32."""
        check_rainy(rainy)
        return rainy.astype(np.float32) / np.float32(255)

    def derain_batch(self, images: list[np.ndarray]) -> list[np.ndarray]:
        """:meth:`derain` of each image."""
        return [self.derain(img) for img in images]

    def info(self) -> dict[str, Any]:
        """Run-record facts (nothing beyond the card)."""
        return {"method": self.card.name, "weights": None}
