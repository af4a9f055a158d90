"""F1's own rain map scored against the true one, for each run of the UDRDR study (issue 9).

``benchmark run``'s rain-map metric scores ``rainy - derained`` (the paper's Table 1), which
for F3 says little more than its PSNR. The direction regularizer trains F1, and the two
open choices (whether the F2 terms train F1, whether F2/F3 predict a residual) act on the
teacher first, so this scores the estimated rain map F1(x) of each run's
validation-selected checkpoint
(``checkpoints/best.pt``, the teacher method's second output) against
``clip(rainy - clean)``: both uint8 (F1(x) rounded, negatives clipped, as ``udrdr derain
--rain-maps`` writes it), Y-PSNR/SSIM under the set's protocol. One CSV per run and set,
``results/study/<run>/f1map/<dataset>.csv``, written atomically when the set is done.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

COLUMNS = ("image", "psnr", "ssim")


def score_set(weights: Path, dataset: str, root: str, split: str, out: Path) -> Path:
    """Score F1(x) of the teacher in ``weights`` on one set into ``out`` (skip if there)."""
    from benchmark.datasets import open_dataset
    from benchmark.metrics.psnr import psnr
    from benchmark.metrics.rainmap import rain_map
    from benchmark.metrics.ssim import ssim
    from models.inference.files import rain_map_image
    from models.registry import create_model
    from raindata.atomic import atomic_write_text
    from raindata.errors import DataError
    from raindata.layouts import find_samples, load_pair

    if out.is_file():
        return out
    ds = open_dataset(dataset, root, split)
    model = create_model("udrdr-teacher", weights=str(weights), device="cpu")
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(COLUMNS)
    for sample in find_samples(ds.name, ds.root, ds.split):
        rainy, clean = load_pair(sample)
        if clean is None:
            raise DataError(f"{sample.rainy}: no ground truth to score a rain map against")
        (_, z), = model.derain_with_rain_maps([rainy])
        est, ref = rain_map_image(z), rain_map(rainy, clean)
        writer.writerow((sample.id, f"{psnr(est, ref, ds.protocol):.6f}",
                         f"{ssim(est, ref, ds.protocol):.6f}"))
    out.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(out, buf.getvalue())
    return out


def read_means(path: Path) -> tuple[float, float, int] | None:
    """(mean PSNR, mean SSIM, images) of one scored set, or None when not scored; means as
    ``benchmark`` takes them (:func:`benchmark.store.mean_score`)."""
    from benchmark.store import mean_score

    if not path.is_file():
        return None
    with path.open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    if not rows:
        return None
    return (mean_score([float(r["psnr"]) for r in rows]),
            mean_score([float(r["ssim"]) for r in rows]), len(rows))
