"""Methods as the benchmark runs them: registered models, or a folder of results."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np

from raindata.errors import DataError
from raindata.imageio import IMAGE_SUFFIXES, read_image

QUANTIZE_CHOICES = ("official", "round", "truncate")


class Scorable(Protocol):
    """What the runner needs from a method."""

    name: str
    quantize: str  # the convention this run applies
    official_quantize: str  # the method's official test-script convention
    weights_sha256: str | None

    def output(self, sample_id: str, rainy_file: Path, rainy: np.ndarray) -> np.ndarray:
        """The derained image as uint8 RGB, quantized with ``quantize``."""
        ...


@dataclass
class ModelMethod:
    """A registered method (``input``, ``prenet``, ``udrdr``, ...) run on each image."""

    name: str
    model: object
    quantize: str
    official_quantize: str
    weights_sha256: str | None

    def output(self, sample_id: str, rainy_file: Path, rainy: np.ndarray) -> np.ndarray:
        from models.inference.output import quantize

        return quantize(self.model.derain(rainy), self.quantize)

    def outputs(self, images: list[np.ndarray]) -> list[np.ndarray]:
        """:meth:`output` of several images; equal sizes share the model's batches."""
        from models.inference.output import quantize

        return [quantize(y, self.quantize) for y in self.model.derain_batch(images)]


@dataclass
class ResultsFolder:
    """Derained images produced elsewhere, paired with the dataset by file name."""

    name: str
    folder: Path
    files: dict[str, Path]
    quantize: str = "as-saved"
    official_quantize: str = "as-saved"
    weights_sha256: str | None = None

    def output(self, sample_id: str, rainy_file: Path, rainy: np.ndarray) -> np.ndarray:
        path = self.lookup(sample_id, rainy_file)
        if path is None:
            raise DataError(
                f"{self.folder}: no result for {rainy_file.name} (looked for "
                f"{rainy_file.stem}.* and {sample_id}.*)"
            )
        return read_image(path)

    def lookup(self, sample_id: str, rainy_file: Path) -> Path | None:
        return self.files.get(rainy_file.stem) or self.files.get(sample_id)

    def check_against(self, samples) -> tuple[list[str], list[str]]:
        """(missing, extra): dataset images without a result, and result files unused."""
        used, missing = set(), []
        for s in samples:
            path = self.lookup(s.id, s.rainy)
            if path is None:
                missing.append(s.rainy.name)
            else:
                used.add(path)
        extra = sorted(p.name for p in self.files.values() if p not in used)
        return missing, extra


def open_results_folder(spec: str) -> ResultsFolder:
    """``results:DIR`` -> a :class:`ResultsFolder` indexing DIR's images by file stem."""
    folder = Path(spec.split(":", 1)[1])
    if not folder.is_dir():
        raise DataError(f"{folder}: results folder not found (from --method {spec})")
    files: dict[str, Path] = {}
    for p in sorted(folder.iterdir()):
        if p.suffix.lower() in IMAGE_SUFFIXES:
            if p.stem in files:
                raise DataError(
                    f"{folder}: two results for {p.stem!r}: {files[p.stem].name}, {p.name}"
                )
            files[p.stem] = p
    if not files:
        raise DataError(f"{folder}: no images in results folder")
    return ResultsFolder(name=spec, folder=folder, files=files)


def open_method(
    spec: str, weights: str | None, device: str, quantize: str, options: dict | None = None,
    batch_size: int = 1,
) -> Scorable:
    """Build the method named by ``spec`` with its weights; ``quantize`` may override;
    ``batch_size`` images of equal size per forward pass where the card allows it."""
    if spec.startswith("results:"):
        asked = [*(options or {}), *(["batch_size"] if batch_size > 1 else [])]
        if asked:
            raise DataError(f"--method {spec}: {', '.join(asked)} apply to networks only")
        return open_results_folder(spec)
    from models.registry import create_model, get_card

    card = get_card(spec)
    kwargs = dict(options or {})
    if weights is not None:
        kwargs["weights"] = weights
    if batch_size > 1 and card.network is not None:
        kwargs["batch_size"] = batch_size
    model = create_model(spec, device=device, **kwargs)
    how = card.quantize if quantize == "official" else quantize
    return ModelMethod(
        name=spec, model=model, quantize=how, official_quantize=card.quantize,
        weights_sha256=getattr(model, "weights_sha256", None),
    )
