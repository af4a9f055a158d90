"""Hostile files against every command that reads images (issue 11).

The corpus in ``tests/fixtures/hostile`` (made by its ``make_corpus.py``) goes through
``raindata verify/index/pack/synth/label``, ``benchmark run`` (with and without
``--skip-bad``) and ``udrdr derain``. A refused file gets exactly one line naming it,
no traceback, and leaves nothing behind; a valid-but-unusual file is accepted. The
other tests cover what a folder can hold besides files: links to ``/dev/zero``, FIFOs,
links out of the dataset, and a root that lacks the split asked for.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from raindata.errors import DataError
from raindata.imageio import write_png

CORPUS = Path(__file__).parent / "fixtures" / "hostile"

#: Refused files and the reason their one line must give.
REFUSED = {
    "huge_header.png": "60000x60000 pixels",
    "huge_header.jpg": "60000x60000 pixels",
    "huge_header.bmp": "60000x60000 pixels",
    "huge_header.tiff": "60000x60000 pixels",
    "huge_header.webp": "16383x16383 pixels",
    "truncated.png": "not a readable image",
    "truncated.jpg": "not a readable image",
    "empty.png": "empty file",
    "text.png": "not a readable image",
    "nan_float.tiff": "unsupported sample type float32",
    "bad_crc.png": "not a readable image",
    "odd name \u00fc cut.png": "not a readable image",
}
#: Valid but unusual: must be accepted everywhere.
ACCEPTED = ("jpeg_named.png", "gray16.png", "rgb16.png", "gray.png", "alpha.png", "chatty.png",
            "odd name \u00fc \u2713.png")


def _corpus_files() -> list[str]:
    return sorted(p.name for p in CORPUS.iterdir() if p.suffix != ".py" and p.is_file())


def test_corpus_is_small_and_every_file_has_an_expectation():
    assert _corpus_files() == sorted([*REFUSED, *ACCEPTED])
    assert all((CORPUS / name).stat().st_size < 4096 for name in _corpus_files())


def _good(path: Path) -> None:
    write_png(path, np.full((16, 16, 3), 90, np.uint8))


def _listing(folder: Path) -> set[str]:
    return {p.relative_to(folder).as_posix() for p in folder.rglob("*")}


def _invoke(cli, args: list[str]):
    return CliRunner().invoke(cli, [str(a) for a in args])


def _check_refused(result, name: str, reason: str, what: str) -> list[str]:
    """Problems with the outcome of a command that must refuse file ``name``."""
    out = result.output
    errors = [line for line in out.splitlines() if line.startswith("error:")]
    bad = []
    if result.exit_code != 1 or not isinstance(result.exception, SystemExit):
        bad.append(f"{what}: exit {result.exit_code}, exception {result.exception!r}")
    if len(errors) != 1 or name not in errors[0] or reason not in errors[0]:
        bad.append(f"{what}: expected one error line naming {name!r} ({reason}), got {out!r}")
    if "Traceback" in out:
        bad.append(f"{what}: traceback in output")
    return bad


def _check_ok(result, what: str) -> list[str]:
    if result.exit_code == 0 and "Traceback" not in result.output:
        return []
    return [f"{what}: exit {result.exit_code}: {result.output[-300:]!r} {result.exception!r}"]


def _trees(work: Path, name: str) -> dict[str, Path]:
    """Small trees around corpus file ``name``: a paired dataset (one good pair after
    it), a folder of clean images for synth, a RainDirection streak folder for label."""
    data = (CORPUS / name).read_bytes()
    accepted = name in ACCEPTED
    ds = work / "ds"
    for role in ("rainy", "clean"):  # sorted after the corpus file: read second
        _good(ds / role / "zz-good.png")
    (ds / "rainy" / name).write_bytes(data)
    if accepted:  # its partner must have its size: itself
        (ds / "clean" / name).write_bytes(data)
    else:
        _good(ds / "clean" / name)
    clean = work / "clean"
    clean.mkdir()
    (clean / name).write_bytes(data)
    label = work / "label"
    (label / "streak").mkdir(parents=True)
    (label / "streak" / "1.png").write_bytes(data)
    return {"ds": ds, "clean": clean, "label": label, "input": ds / "rainy" / name}


def test_every_command_over_the_hostile_corpus(tmp_path, monkeypatch):
    """Each corpus file through each image-reading command (in-process, CliRunner)."""
    from benchmark.cli import main as benchmark
    from models.cli import main as udrdr
    from raindata.cli import main as raindata

    monkeypatch.chdir(tmp_path)
    problems: list[str] = []
    for k, name in enumerate(_corpus_files()):
        work = tmp_path / f"case{k}"
        work.mkdir()
        t = _trees(work, name)
        refused = name not in ACCEPTED
        commands = {
            "verify": (raindata, ["verify", "paired", t["ds"], "--split", "test"]),
            "index": (raindata, ["index", "paired", t["ds"], "--split", "test",
                                 "--out", work / "m.csv"]),
            "pack": (raindata, ["pack", "paired", t["ds"], "--split", "test",
                                "--out", work / "p.h5", "--patch", "4"]),
            "synth": (raindata, ["synth", "--clean", t["clean"], "--out", work / "syn"]),
            "label": (raindata, ["label", t["label"]]),
            "run": (benchmark, ["run", "--method", "input", "--dataset", "paired", "--data-root",
                                t["ds"], "--split", "test", "--metrics", "psnr",
                                "--results", work / "res"]),
            "derain": (udrdr, ["derain", t["input"], "--out", work / "derained"]),
        }
        for what, (cli, args) in commands.items():
            label = f"{name} / {what}"
            before = _listing(work)
            result = _invoke(cli, args)
            if not refused:
                problems += _check_ok(result, label)
                continue
            if what == "verify":  # verify lists problems, one per line, and exits 1
                lines = [ln for ln in result.output.splitlines() if not ln.startswith("FAILED")]
                if result.exit_code != 1 or not isinstance(result.exception, SystemExit) \
                        or len(lines) != 1 or name not in lines[0] or REFUSED[name] not in lines[0]:
                    problems.append(f"{label}: {result.exit_code} {result.output!r}")
            else:
                problems += _check_refused(result, name if what != "label" else "1.png",
                                           REFUSED[name], label)
            if _listing(work) != before:
                problems.append(f"{label}: left behind {sorted(_listing(work) - before)}")
        if refused:  # --skip-bad scores the good pair and says which file it skipped
            result = _invoke(benchmark, [*commands["run"][1], "--skip-bad"])
            problems += _check_ok(result, f"{name} / run --skip-bad")
            skipped = [ln for ln in result.output.splitlines() if ln.startswith("skipped:")]
            if len(skipped) != 1 or name not in skipped[0]:
                problems.append(f"{name} / run --skip-bad: skipped lines {skipped!r}")
            left = [p for p in _listing(work) if Path(p).name.startswith(".")]
            if left:
                problems.append(f"{name} / run --skip-bad: temporary files {left}")
        shutil.rmtree(work)
    assert not problems, "\n".join(problems)


def _python(code: str, *args: str, timeout: float = 60, memory: int | None = None):
    """Run ``code`` in a fresh interpreter (stderr as the user sees it), optionally under
    an address-space limit so that a regression cannot take the machine's memory."""
    def limit():
        if memory is not None:
            import resource

            resource.setrlimit(resource.RLIMIT_AS, (memory, memory))

    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    return subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True,
                          timeout=timeout, preexec_fn=limit, env=env)


CLI = "import sys; from {0} import main; sys.argv[0] = '{1}'; main()"


def test_decoder_chatter_stays_off_stderr(tmp_path):
    """Item 14a: libpng printed ``libpng error: IDAT: CRC error`` (and warnings for a
    valid file with a broken text chunk) beside our own line."""
    ds = tmp_path / "ds"
    for name in ("bad_crc.png", "chatty.png"):
        data = (CORPUS / name).read_bytes()
        for role in ("rainy", "clean"):
            (ds / role / name).parent.mkdir(parents=True, exist_ok=True)
            (ds / role / name).write_bytes(data if role == "rainy" or name == "chatty.png"
                                           else (CORPUS / "chatty.png").read_bytes())
    out = _python(CLI.format("raindata.cli", "raindata"), "verify", "paired", str(ds))
    assert out.returncode == 1
    assert out.stderr == ""
    assert out.stdout.splitlines()[:-1] == ["rainy/bad_crc.png: not a readable image"]
    out = _python(CLI.format("raindata.cli", "raindata"), "index", "paired", str(ds),
                  "--out", str(tmp_path / "m.csv"))
    assert out.returncode == 1 and out.stdout == ""
    assert out.stderr.splitlines() == [
        "error: cannot index " + str(ds) + ": rainy/bad_crc.png: not a readable image"
    ]


def test_decoder_chatter_filter_keeps_other_output():
    """Everything that is not decoder chatter still reaches stderr, in order: lines and
    partial lines written between and around decodes of bad files, in the main thread and
    in threads decoding at the same time (decodes are serialized, chatter dropped)."""
    code = (
        "import sys, threading\n"
        "from raindata.imageio import read_image\n"
        "from raindata.quiet import quiet_decoders\n"
        "bad, ok = sys.argv[1], sys.argv[2]\n"
        "for i in range(5):\n"
        "    read_image(ok)\n"
        "    try: read_image(bad)\n"
        "    except Exception: pass\n"
        "    print(f'line {i}', file=sys.stderr, flush=True)\n"
        "with quiet_decoders():\n"
        "    sys.stderr.write('partial ')\n"
        "    sys.stderr.flush()\n"
        "print('end', file=sys.stderr)\n"
        "def work():\n"
        "    for _ in range(10):\n"
        "        try: read_image(bad)\n"
        "        except Exception: pass\n"
        "ts = [threading.Thread(target=work) for _ in range(3)]\n"
        "[t.start() for t in ts]; [t.join() for t in ts]\n"
        "print('after threads', file=sys.stderr)\n"
    )
    out = _python(code, str(CORPUS / "bad_crc.png"), str(CORPUS / "chatty.png"))
    assert out.returncode == 0, out.stderr
    expected = "".join(f"line {i}\n" for i in range(5)) + "partial end\nafter threads\n"
    assert out.stderr == expected


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs and /dev/zero")
def test_results_folder_never_opens_devices_or_fifos(tmp_path):
    """Item 3: in ``results:DIR`` a link to /dev/zero was read until memory ran out and a
    FIFO hung the run. Both are refused by name, or skipped with --skip-bad (run in a
    subprocess with a memory limit and a timeout, so a regression fails instead)."""
    ds = tmp_path / "ds"
    for stem in ("a", "b", "c"):
        _good(ds / "rainy" / f"{stem}.png")
        _good(ds / "clean" / f"{stem}.png")
    res = tmp_path / "res"
    res.mkdir()
    (res / "a.png").symlink_to("/dev/zero")
    os.mkfifo(res / "b.png")
    _good(res / "c.png")
    args = ["run", "--method", f"results:{res}", "--dataset", "paired", "--data-root", str(ds),
            "--metrics", "psnr", "--results", str(tmp_path / "runs")]
    cli = CLI.format("benchmark.cli", "benchmark")
    out = _python(cli, *args, timeout=120, memory=2 << 30)
    assert out.returncode == 1, out.stderr
    assert out.stderr.splitlines()[-1] == (
        f"error: {res / 'a.png'}: a character device (link to /dev/zero), not a regular file; "
        "not read"
    )
    out = _python(cli, *args, "--skip-bad", timeout=120, memory=2 << 30)
    assert out.returncode == 0, out.stderr
    skipped = [ln for ln in out.stdout.splitlines() + out.stderr.splitlines()
               if ln.startswith("skipped:")]
    assert skipped == [f"skipped: {res / 'a.png'}: a character device (link to /dev/zero), "
                       "not a regular file; not read",
                       f"skipped: {res / 'b.png'}: a FIFO, not a regular file; not read"]


def test_dataset_links_and_special_files_are_listed_not_dropped(tmp_path):
    """Item 13: links leading out of the dataset, broken links and FIFOs were dropped by
    the scan without a word. verify lists each, index refuses; a link that stays inside
    the root is followed."""
    from raindata.layouts import find_samples
    from raindata.verify import index, verify

    root = tmp_path / "data"
    for stem in ("1", "2"):
        _good(root / "test" / "rainy" / f"{stem}.png")
        _good(root / "test" / "clean" / f"{stem}.png")
    _good(root / "spare" / "3.png")
    _good(tmp_path / "outside.png")
    (root / "test" / "rainy" / "3.png").symlink_to(root / "spare" / "3.png")  # inside: followed
    (root / "test" / "clean" / "3.png").symlink_to(Path("..") / ".." / "spare" / "3.png")
    (root / "test" / "rainy" / "4.png").symlink_to(tmp_path / "outside.png")
    (root / "test" / "clean" / "4.png").symlink_to(tmp_path / "outside.png")
    (root / "test" / "rainy" / "5.png").symlink_to(tmp_path / "gone.png")
    os.mkfifo(root / "test" / "clean" / "6.png")
    assert [s.id for s in find_samples("paired", root, "test")] == ["1", "2", "3"]
    report = verify("paired", root, split="test")
    assert [str(p) for p in report.problems] == [
        f"test/rainy/4.png: leads outside the dataset root (to {tmp_path / 'outside.png'}); "
        "left out",
        "test/rainy/5.png: broken link; left out",
        f"test/clean/4.png: leads outside the dataset root (to {tmp_path / 'outside.png'}); "
        "left out",
        "test/clean/6.png: a FIFO, not an image file; left out",
    ]
    assert report.splits[0].count == 3
    with pytest.raises(DataError, match=r"cannot index .*test/rainy/4\.png: leads outside"):
        index("paired", root, tmp_path / "m.csv", split="test")
    assert not (tmp_path / "m.csv").exists()


def _rcdnet_test_root(root: Path) -> Path:
    """An RCDNet-layout test split given directly as the root (as ../shared/data has it)."""
    for n in (1, 2):
        for d in ("rain", "norain"):
            _good(root / "small" / d / f"norain-{n}.png")
    return root


def test_a_split_that_is_not_there_is_an_error_everywhere(tmp_path, monkeypatch):
    """Item 12: ``--split train`` on a root holding only the test split (named
    ``rain100l_test``) scored the test images as train. Now every entry point refuses,
    naming the root and the split found; a root whose name says nothing still takes
    the split asked for."""
    from benchmark.cli import main as benchmark
    from models.train.config import DatasetRef
    from models.train.data import find_samples as training_samples
    from raindata.cli import main as raindata
    from raindata.layouts import detect, find_samples

    root = _rcdnet_test_root(tmp_path / "rain100l_test")
    message = (f"{root}: no 'train' split of rain100l (rcdnet variant) found; found test in "
               "the root itself (rain100l_test)")
    with pytest.raises(DataError) as err:
        find_samples("rain100l", root, "train")
    assert str(err.value) == message
    with pytest.raises(DataError, match="no 'train' split of rain100l"):
        training_samples(DatasetRef(name="rain100l", root=str(root), split="train"), "synthetic")
    assert [s.split for s in find_samples("rain100l", root, "test")] == ["test", "test"]
    assert [s.split for s in find_samples("rain100l", root)] == ["test", "test"]
    monkeypatch.chdir(tmp_path)
    for cli, args in [
        (raindata, ["index", "rain100l", root, "--split", "train", "--out", "m.csv"]),
        (raindata, ["pack", "rain100l", root, "--split", "train", "--out", "p.h5"]),
        (benchmark, ["run", "--method", "input", "--dataset", "rain100l", "--data-root", root,
                     "--split", "train", "--metrics", "psnr", "--results", "runs"]),
    ]:
        result = _invoke(cli, args)
        assert result.exit_code == 1 and result.output.splitlines()[-1] == f"error: {message}"
    assert sorted(os.listdir(tmp_path)) == ["rain100l_test"]
    result = _invoke(raindata, ["verify", "rain100l", root, "--split", "train"])
    assert result.exit_code == 1 and result.output.strip() == f"error: {message}"
    other = _rcdnet_test_root(tmp_path / "RainTrainL")  # its name says train
    assert detect("rain100l", other).splits == {"train": other}
    with pytest.raises(DataError, match=r"no 'test' split .* found train in the root itself"):
        detect("rain100l", other, "test")
    anon = _rcdnet_test_root(tmp_path / "whatever")  # no word for a split: --split decides
    assert detect("rain100l", anon, "train").splits == {"train": anon}
