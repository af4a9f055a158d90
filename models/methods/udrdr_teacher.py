"""``udrdr-teacher``: UDRDR's semi-supervised part F2(x - F1(x)) from a training checkpoint.

The paper's Table 5 column "w/o (10)" (no distillation) is this network; it is also what
the full model's teacher gives before distillation, and its F1 output is the estimated
rain map of Figure 2 (``udrdr derain --method udrdr-teacher --rain-maps DIR``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

from models.cards import MethodCard
from models.inference.method import NetworkMethod, refuse_foreign
from models.methods.udrdr import UDRDR_PAPER

CARD = MethodCard(
    name="udrdr-teacher",
    title="UDRDR teacher F2(x - F1(x)) (no distillation)",
    paper=UDRDR_PAPER,
    input_range="[0, 1]",
    input_colour="RGB",
    quantize="round",
    output=0,
    rain_map_output=1,
    weights_required=True,
    weights_format="udrdr-train",
    params=2_444_294,
    network="models.methods.udrdr_teacher:paper_teacher",
    url="https://lewisyangliu.github.io/projects/UDRDR",
    licence="this repository's (MIT)",
    notes=(
        "Weights: a training checkpoint of `udrdr train` (run.out/checkpoints/step-N.pt, "
        "or best.pt); the network config is read from the checkpoint.",
        "Output: y = F2(x - F1(x)) (eq. 6-7), rounded to uint8; the second output F1(x) is "
        "the estimated rain map (eq. 2-3).",
        "`params` is F1 + F2 at the paper config (16 blocks, 64 filters each).",
    ),
)


def paper_teacher():
    """F1 + F2 at the paper configuration, random weights."""
    from models.archs.udrdr import UDRDRConfig, UDRDRTeacher

    return UDRDRTeacher(UDRDRConfig.paper())


class UDRDRTeacherMethod(NetworkMethod):
    """The teacher of a UDRDR training checkpoint; network config from the checkpoint."""

    card: ClassVar[MethodCard] = CARD

    def load_network(self, path: Path):
        """F1 and F2 of a training checkpoint, loaded strictly."""
        from models.archs.udrdr import UDRDRConfig, UDRDRTeacher
        from models.io import weights_digest
        from models.io.torch_state import fit_report, strip_module_prefix
        from models.train.checkpoint import load_checkpoint
        from raindata.atomic import sha256_file
        from raindata.errors import DataError

        refuse_foreign(self.card, weights_digest(path), path)
        if not path.is_file():
            raise DataError(f"weights file not found: {path}")
        digest = sha256_file(path)
        state = load_checkpoint(path)
        try:
            cfg = UDRDRConfig.from_dict(state["config"]["model"])
            weights = {f"{k}.{name}": t for k in ("f1", "f2")
                       for name, t in strip_module_prefix(state["models"][k]).items()}
        except (KeyError, TypeError, ValueError) as exc:
            raise DataError(f"{path}: training checkpoint without F1/F2 or their config "
                            f"({exc})") from None
        net = UDRDRTeacher(cfg)
        problems = fit_report(net, weights)
        if problems:
            raise DataError(f"{path}: F1/F2 do not fit the stored config ({problems})")
        net.load_state_dict(weights, strict=True)
        self.step = int(state.get("step", 0))
        self.model_config = cfg
        return net, digest, path

    def info(self) -> dict[str, Any]:
        """Run-record facts: the engine's, plus the checkpoint's step and network config."""
        import dataclasses

        return {**super().info(), "step": self.step,
                "model_config": dataclasses.asdict(self.model_config)}
