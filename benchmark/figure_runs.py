"""Which runs a comparison figure shows: methods named by their ``benchmark table`` labels
(or by method name when that is unambiguous), found under a results folder, with the
images ``benchmark run --save-images`` kept; a missing run is made with
:func:`benchmark.runner.run_one`, or named with the command that would make it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from benchmark import store
from benchmark.datasets import BenchDataset, open_dataset
from benchmark.runner import RunRequest, run_one
from benchmark.tables import _labels
from raindata.errors import DataError
from raindata.layouts import find_samples


@dataclass(frozen=True)
class LabelledRun:
    """A run with its row label; ``rows`` are its ``scores.csv`` rows by image id."""

    label: str
    folder: Path
    record: store.RunRecord
    rows: dict[str, dict]


@dataclass(frozen=True)
class Selection:
    """The runs and images of one figure, in the order asked for."""

    dataset: BenchDataset
    samples: tuple  # raindata.layouts.Sample of each chosen image
    methods: tuple[LabelledRun, ...]
    input_run: LabelledRun | None  # whose scores the rainy panel shows


def split_names(text: str) -> list[str]:
    """``"input,umrl [bf16, tile 512],prenet"`` -> names, commas inside ``[...]`` kept."""
    names, depth, part = [], 0, ""
    for ch in text:
        depth += (ch == "[") - (ch == "]")
        if ch == "," and depth == 0:
            names.append(part.strip())
            part = ""
        else:
            part += ch
    names.append(part.strip())
    return [n for n in names if n]


def labelled_runs(results: Path) -> list[LabelledRun]:
    """Every run under ``results`` with the row label ``benchmark table`` gives it."""
    if not Path(results).is_dir():
        return []
    runs = list(store.iter_runs(results))
    return [LabelledRun(label, folder, record, {r["id"]: r for r in rows})
            for label, (folder, record, rows) in zip(_labels(runs), runs, strict=True)]


def image_path(run: LabelledRun, image_id: str) -> Path | None:
    """Where ``benchmark run --save-images`` put the output for ``image_id`` (None: absent)."""
    row = run.rows.get(image_id)
    if row is None:
        return None
    path = run.folder / "images" / f"{Path(row['file']).stem}.png"
    return path if path.is_file() else None


def pick_run(name: str, dataset: str, runs: Sequence[LabelledRun],
             image_ids: Sequence[str]) -> LabelledRun | None:
    """The run of ``dataset`` labelled ``name``, else the only one of method ``name``.

    Several candidates are narrowed to those with saved images of ``image_ids``; None
    when there is no candidate at all."""
    mine = [r for r in runs if r.record.settings.dataset == dataset]
    found = [r for r in mine if r.label == name] or \
        [r for r in mine if r.record.settings.method == name]
    if len(found) > 1:
        with_images = [r for r in found if all(image_path(r, i) for i in image_ids)]
        if len(with_images) == 1:
            return with_images[0]
        raise DataError(
            f"--methods: {name!r} matches {len(found)} runs on {dataset} ("
            + ", ".join(f"{r.label!r} {r.record.settings.protocol} run {r.folder.name}"
                        for r in found) + "); name one by its label, or pass --protocol")
    return found[0] if found else None


def run_command(method: str, dataset: str, results: Path, needs_weights: bool) -> str:
    """The ``benchmark run`` command line that makes a run with saved images."""
    weights = f" --weights {method}=PATH" if needs_weights else ""
    return (f"benchmark run --method {method} --dataset {dataset} --results {results} "
            f"--save-images{weights}")


def is_input(name: str) -> bool:
    """Whether ``name`` picks a run of the ``input`` method (the rainy panel's scores)."""
    return name == "input" or name.startswith("input [")


def select_runs(
    results: Path,
    dataset: str,
    image_ids: Sequence[str],
    methods: Sequence[str],
    *,
    with_input: bool = True,
    protocol: str | None = None,
    data_root: str | Path | None = None,
    weights: dict[str, str] | None = None,
    run_missing: bool = True,
    log: Callable[[str], None] = print,
) -> Selection:
    """The runs of ``methods`` on ``dataset`` and the samples ``image_ids`` name.

    ``input`` (or an input run's label) picks the run whose scores the rainy panel shows;
    without one, the input run alike the others is used (``with_input``). ``protocol`` keeps
    the runs scored under that protocol only (the default: any). A method with no
    run is run up to the last chosen image, with saved images (``run_missing``, ``weights``
    as ``{method: path}``), or a DataError gives the command that would make it."""
    results, weights = Path(results), dict(weights or {})
    ids = list(dict.fromkeys(image_ids))
    if not ids:
        raise DataError("--images: name at least one image")
    names = list(dict.fromkeys(methods))
    others = [n for n in names if not is_input(n)]
    inputs = [n for n in names if is_input(n)]
    if not others:
        raise DataError("--methods: name at least one method besides input")
    if len(inputs) > 1:
        raise DataError(f"--methods: one rainy input, got {', '.join(inputs)}")
    input_name = inputs[0] if inputs else "input"

    runs = _scored(labelled_runs(results), protocol)
    picked = {n: pick_run(n, dataset, runs, ids) for n in others}
    for name in (n for n, r in picked.items() if r is None):
        _check_makeable(name, dataset, results, weights, run_missing)
    context = [r for r in picked.values() if r is not None]
    ds = _dataset(dataset, context, data_root, protocol)
    samples = find_samples(ds.name, ds.root, ds.split)
    chosen = _choose(samples, ids, dataset)
    if with_input and ds.paired:  # unpaired sets have no scores for the rainy panel
        picked[input_name] = _pick_input(input_name, dataset, runs, ids, context)

    _check_found(picked, ids, others, results)
    missing = [n for n, r in picked.items() if r is None]
    if missing:
        limit = max(i for i, s in enumerate(samples) if s in chosen) + 1
        for name in missing:
            if name == input_name and not inputs and not run_missing:
                log(f"note: no input run on {dataset}: the rainy panel shows no scores")
                continue
            _check_makeable(name, dataset, results, weights, run_missing)
            _make_run(name, ds, results, weights, limit, context, log)
        runs = _scored(labelled_runs(results), protocol)
        by_folder = {r.folder: r for r in runs}  # labels may have gained tags
        picked = {n: by_folder[r.folder] if r is not None else None for n, r in picked.items()}
        for n in missing:
            picked[n] = pick_run(n, dataset, runs, ids) if n in others else \
                _pick_input(n, dataset, runs, ids, [picked[o] for o in others])
        _check_found(picked, ids, others, results)
    protocols = {r.record.settings.protocol for r in picked.values() if r is not None}
    if len(protocols) > 1:
        raise DataError(f"--methods: the runs were scored with different protocols "
                        f"({', '.join(sorted(protocols))}); pick runs scored alike")
    return Selection(ds, tuple(chosen), tuple(picked[n] for n in others),
                     picked.get(input_name))


def _scored(runs: list[LabelledRun], protocol: str | None) -> list[LabelledRun]:
    return [r for r in runs if protocol is None or r.record.settings.protocol == protocol]


def _dataset(name: str, runs: Sequence[LabelledRun], data_root, protocol) -> BenchDataset:
    """The dataset as the chosen runs saw it (one folder, split and protocol)."""
    shared = {}
    for attr in ("data_root", "split", "protocol"):
        values = sorted({getattr(r.record.settings, attr) for r in runs})
        if len(values) > 1 and not (attr == "data_root" and data_root is not None):
            raise DataError(f"--methods: the runs differ in {attr} ({', '.join(values)}); "
                            "pick runs of one dataset folder, split and protocol")
        shared[attr] = values[0] if values else None
    root = data_root if data_root is not None else shared["data_root"]
    if data_root is None and root is not None and not Path(root).is_dir():
        raise DataError(f"{root}: dataset folder of the runs not found; pass --data-root")
    return open_dataset(name, root, shared["split"] or "test", protocol or shared["protocol"])


def _pick_input(name, dataset, runs, ids, context) -> LabelledRun | None:
    """The input run alike the methods' runs (same data root, split and protocol)."""
    if name != "input" or not context:
        return pick_run(name, dataset, runs, ids)
    s = context[0].record.settings
    alike = [r for r in runs if (r.record.settings.data_root, r.record.settings.split,
                                 r.record.settings.protocol) == (s.data_root, s.split, s.protocol)]
    return pick_run(name, dataset, alike, ids)


def _choose(samples, ids: Sequence[str], dataset: str) -> list:
    """The samples named by id (or by the rainy file's stem), in the order given."""
    by_id = {s.id: s for s in samples}
    by_stem = {Path(s.rainy).stem: s for s in samples}
    chosen = []
    for i in ids:
        sample = by_id.get(i) or by_stem.get(i)
        if sample is None:
            shown = ", ".join(s.id for s in samples[:8]) + (" ..." if len(samples) > 8 else "")
            raise DataError(f"--images: no image {i!r} in {dataset} (ids: {shown})")
        chosen.append(sample)
    return chosen


def _needs_weights(method: str) -> bool:
    """Whether ``method`` needs a weights file; DataError for a name that is no method."""
    if method.startswith("results:"):
        return False
    from models.registry import get_card

    return get_card(method).needs_weights


def _check_makeable(name: str, dataset: str, results: Path, weights: dict,
                    allowed: bool) -> None:
    """DataError with the command that makes a run of ``name``, unless this may run it."""
    try:
        needs = _needs_weights(name)
    except DataError as exc:
        raise DataError(f"--methods: no run labelled {name!r} on {dataset} under {results}"
                        f" ({exc})") from None
    if not allowed or (needs and name not in weights):
        raise DataError(f"--methods: no run of {name} on {dataset} with saved images; make "
                        f"one with: {run_command(name, dataset, results, needs)}")


def _make_run(name, ds, results, weights, limit, context, log) -> None:
    """Run ``name`` on the first ``limit`` images and keep them (a resumable run:
    ``benchmark run`` completes it later)."""
    metrics = context[0].record.settings.metrics if context else None
    log(f"running {name} on {ds.name} (first {limit} images, saving them)")
    run_one(RunRequest(method=name, dataset=ds.name, data_root=str(ds.root), split=ds.split,
                       weights=weights.get(name), metrics=metrics, protocol=ds.protocol,
                       save_images=True, results=results, limit=limit), log=log)


def _check_found(picked: dict, ids, others, results: Path) -> None:
    """Every run found has scores, and every method's run saved images, of ``ids``."""
    for name, run in picked.items():
        for i in ids if run is not None else ():
            if i not in run.rows or (name in others and image_path(run, i) is None):
                raise _no_images(run, i, results)


def _no_images(run: LabelledRun, image_id: str, results: Path) -> DataError:
    s = run.record.settings
    if image_id not in run.rows:
        return DataError(f"{run.folder / 'scores.csv'}: no score for image {image_id!r} "
                         f"({run.label}); finish the run with `benchmark run`")
    return DataError(
        f"{run.folder / 'images'}: no saved image for {image_id!r} ({run.label} ran without "
        f"--save-images); move that run away and make one with: "
        f"{run_command(s.method, s.dataset, results, _needs_weights(s.method))}")
