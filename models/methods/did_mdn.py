"""``did-mdn``: DID-MDN (Zhang and Patel, CVPR 2018), its official three-network test.

The official ``test.py`` estimates a rain-density label with two networks (a residue
net and a classifier) and derains with the generator given that label; each is released
as its own file. ``--weights`` names the generator (``pre_trained/netG_epoch_9.pth``) or
the folder laid out as the README asks (``pre_trained/``, ``classification/``,
``residual_heavy/``); the other two are found in that layout or given as the options
``classifier=`` and ``residue=``. ``label=1..4`` skips the estimator and gives every image
that label instead (not the official test; only the generator file is needed).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

from models.cards import MethodCard, SizeRule
from models.inference.method import NetworkMethod, refuse_foreign
from raindata.errors import DataError

GENERATOR_FILE = Path("pre_trained") / "netG_epoch_9.pth"
CLASSIFIER_FILE = Path("classification") / "netG_epoch_9.pth"
RESIDUE_FILE = Path("residual_heavy") / "netG_epoch_6.pth"
"""Where the README puts the three released files, relative to the repository root."""

SIZE = SizeRule(
    mode="resize",
    resize_to=(512, 512),
    note=(
        "The official test (transforms.pix2pix.Scale(512)) resizes both sides to 512 with "
        "PIL bilinear on the uint8 image, ignoring the aspect ratio, and saves the 512 x "
        "512 result; the classifier's linear layer only takes 512 x 512. The engine "
        "resizes bicubically and resizes the output back; DID-MDN's own test images are "
        "512 x 512, where neither resize does anything."
    ),
)

CARD = MethodCard(
    name="did-mdn",
    title="DID-MDN (density-aware multi-stream dense network)",
    paper=(
        "He Zhang, Vishal M. Patel. Density-aware Single Image De-raining using a "
        "Multi-stream Dense Network. CVPR 2018."
    ),
    input_range="[-1, 1]",
    input_colour="RGB",
    quantize="truncate",
    size=SIZE,
    output=1,
    rain_map_output=0,
    output_range="[-1, 1]",
    output_norm="minmax",
    tileable=False,
    batchable=False,
    weights=(),
    weights_required=True,
    weights_format="torch",
    params=66_056_870,
    network="models.archs.did_mdn:DIDMDN",
    network_kwargs=(("label", None),),
    url="https://github.com/hezhangsprinter/DID-MDN",
    licence="MIT (stated in the README)",
    notes=(
        "Weights (not bundled): three files on Google Drive folders linked from the README "
        "- the generator pre_trained/netG_epoch_9.pth (372,839 parameters), the density "
        "classifier classification/netG_epoch_9.pth (65,501,084) and the residue net "
        "residual_heavy/netG_epoch_6.pth (182,947); all trained on DID-MDN's synthetic set "
        "(heavy, medium and light rain, 4,000 pairs each). Card params = all three.",
        "Giving them: --weights ROOT (a folder with the README's layout) or --weights "
        "ROOT/pre_trained/netG_epoch_9.pth (the other two are looked up beside it), or in "
        "Python create_model('did-mdn', weights=G, classifier=C, residue=R). label=1..4 "
        "runs the generator alone with that label (not the official test).",
        "Checkpoint format: torch.save(net.state_dict()) of each plain network (no "
        "DataParallel), loaded strictly; batch-norm num_batches_tracked, absent from files "
        "saved by PyTorch < 0.4.1, is filled with 0 (PyTorch's own loader does the same).",
        "Reading: datasets/pix2pix_val.py opens <root>/<i>.jpg with PIL convert('RGB'), a "
        "side-by-side pair; the LEFT half is the rainy input (the right half the target). "
        "Give this method the rainy half.",
        "Size: resized to 512 x 512 (see the size rule's note).",
        "Scaling: ToTensor then Normalize(0.5, 0.5): RGB in [-1, 1].",
        "Networks: test.py never calls eval() (the README: 'use netG.train() for "
        "testing'), so all three normalise with the image's own batch-norm statistics; "
        "one image per forward (batchable False).",
        "Label: output = residue_net(x, label 0); label = argmax(softmax(classifier(x - "
        "output))) + 1, i.e. 1..4 (the training scripts use 0 heavy, 1 medium, 2 light); "
        "the generator gets it as 8 constant planes.",
        "Output: the generator returns (residual, clean2); the image is clean2 (output 1, "
        "tanh, [-1, 1]; rain_map_output 0 = residual). It is min-max normalised over the "
        "whole image (norm_range(t, None)), then mul(255).clamp(0, 255).byte() - "
        "truncation - and saved as <i>.jpg with PIL's default JPEG quality (lossy; this "
        "toolkit writes PNG).",
    ),
)


def _missing_batch_counters(state: dict[str, Any]) -> dict[str, Any]:
    """``state`` with a zero ``num_batches_tracked`` beside each batch-norm
    ``running_mean`` that has none (files saved by PyTorch < 0.4.1)."""
    import torch

    out = dict(state)
    for key in state:
        if key.endswith(".running_mean"):
            counter = key[: -len("running_mean")] + "num_batches_tracked"
            out.setdefault(counter, torch.tensor(0, dtype=torch.long))
    return out


class DIDMDNMethod(NetworkMethod):
    """DID-MDN (CVPR 2018): residue net + density classifier + generator, as ``test.py``.

    Options besides :class:`NetworkMethod`'s: ``classifier`` and ``residue`` (the
    classifier's and residue net's files, when they are not in the README's layout
    around ``weights``) and ``label`` (1..4: a fixed density label instead of the
    estimator; then only the generator file is read).
    """

    card: ClassVar[MethodCard] = CARD

    def __init__(
        self,
        weights: str | Path | None = None,
        *,
        classifier: str | Path | None = None,
        residue: str | Path | None = None,
        label: int | None = None,
        device: str = "cpu",
        precision: str = "fp32",
        channels_last: bool = False,
        tile: int | None = None,
        overlap: int = 32,
        batch_size: int = 1,
    ) -> None:
        if label is not None and (isinstance(label, bool) or label not in (1, 2, 3, 4)):
            raise DataError(f"did-mdn label: expected 1, 2, 3 or 4, got {label!r}")
        if label is not None and (classifier is not None or residue is not None):
            raise DataError("did-mdn: a fixed label replaces the density estimator; "
                            "give label or classifier/residue, not both")
        self.label = label
        self.classifier_path = Path(classifier) if classifier is not None else None
        self.residue_path = Path(residue) if residue is not None else None
        self.parts: dict[str, dict[str, str]] = {}
        super().__init__(weights, device=device, precision=precision,
                         channels_last=channels_last, tile=tile, overlap=overlap,
                         batch_size=batch_size)

    @classmethod
    def convert_state(cls, state: dict[str, Any]) -> dict[str, Any]:
        return _missing_batch_counters(state)

    def load_network(self, path: Path):
        from models.registry import load_target

        generator = path / GENERATOR_FILE if path.is_dir() else path
        net = load_target(self.card.network)(label=self.label)
        digest, read = self._load_part(net.generator, generator, "generator")
        if self.label is None:
            root = path if path.is_dir() else generator.parent.parent
            self._load_part(net.classifier, self._estimator_file(
                self.classifier_path, root / CLASSIFIER_FILE, "classifier"), "classifier")
            self._load_part(net.residue_net, self._estimator_file(
                self.residue_path, root / RESIDUE_FILE, "residue"), "residue")
        return net, digest, read

    def _estimator_file(self, given: Path | None, default: Path, option: str) -> Path:
        if given is not None:
            return given
        if default.is_file():
            return default
        raise DataError(f"did-mdn needs its {option} file: pass {option}=PATH (official "
                        f"{default.parent.name}/{default.name}), or label=1..4 to skip the "
                        f"density estimator (not the official test); not found: {default}")

    def _load_part(self, module, path: Path, part: str) -> tuple[str, Path]:
        """Load one released file strictly into ``module``; (sha256, file read)."""
        from models.io import read_weights, weights_digest
        from models.io.torch_state import fit_report

        refuse_foreign(self.card, weights_digest(path), path)
        state, digest, read = read_weights(path, self.card.weights_format)
        state = self.convert_state(state)
        problems = fit_report(module, state)
        if problems:
            raise DataError(f"{path}: does not fit the DID-MDN {part} ({problems})")
        module.load_state_dict(state, strict=True)
        self.parts[part] = {"path": str(read), "sha256": digest}
        return digest, read

    def info(self) -> dict[str, Any]:
        info = super().info()
        label = getattr(self.network, "label", None)
        info["density_label"] = label if label is not None else "estimated"
        info["parts"] = dict(getattr(self, "parts", {}))
        return info
