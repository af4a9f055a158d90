"""benchmark figure: paper-style comparison grids built from runs with saved images."""

from __future__ import annotations

import csv
import re
import subprocess
import sys
import zlib
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from benchmark.cli import main
from benchmark.figure_render import draw_comparison, fit_title
from benchmark.figures import Crop, auto_crops, build_comparison
from benchmark.runner import RunRequest, run_one
from raindata.errors import DataError
from raindata.imageio import read_image, write_png

H, W = 24, 32
PLANT = (20, 10, 8)  # x, y, size of the square where method b differs from method a


@pytest.fixture(scope="module")
def made(tmp_path_factory):
    """Three 24x32 pairs (generic `paired` layout) and runs of `input`, results:a (the
    clean image) and results:b (a with a bright square planted), all with saved images."""
    tmp = tmp_path_factory.mktemp("runs")  # no "fi": it would be set as a ligature
    rng = np.random.default_rng(7)
    root, a, b = tmp / "data", tmp / "a", tmp / "b"
    x, y, s = PLANT
    for i in range(1, 4):
        clean = rng.integers(40, 180, (H, W, 3), dtype=np.uint8)
        rainy = clean.copy()
        rainy[:, i::5] = 240
        out_b = clean.copy()
        out_b[y:y + s, x:x + s] += 60
        write_png(root / "rainy" / f"{i}.png", rainy)
        write_png(root / "clean" / f"{i}.png", clean)
        write_png(a / f"{i}.png", clean)
        write_png(b / f"{i}.png", out_b)
    res = tmp / "res"
    folders = {}
    for method in ("input", f"results:{a}", f"results:{b}"):
        out = run_one(RunRequest(method=method, dataset="paired", data_root=str(root),
                                 results=res, metrics=("psnr", "ssim", "rainmap"),
                                 save_images=True), log=lambda m: None)
        folders[method] = out.folder
    return {"root": root, "res": res, "a": f"results:{a}", "b": f"results:{b}",
            "folders": folders, "tmp": tmp}


def _csv(folder: Path, image_id: str) -> dict[str, str]:
    with open(folder / "scores.csv", newline="") as fh:
        return next(r for r in csv.DictReader(fh) if r["id"] == image_id)


def _shown(row: dict[str, str], prefix: str = "") -> str:
    return f"{float(row[prefix + 'psnr']):.2f} / {float(row[prefix + 'ssim']):.4f}"


def test_layout_order_labels_and_given_crop(made):
    comp = build_comparison(made["res"], "paired", ["3", "1"], ["input", made["a"], made["b"]],
                            crops=[Crop(2, 3, 6)], log=lambda m: None)
    layout = draw_comparison(comp, dpi=100).layout
    assert [(p.row, p.column, p.kind, p.image_id) for p in layout.panels] == [
        (r, c, k, i) for r, i in enumerate(("3", "1"))
        for c, k in enumerate(("rainy", "method", "method", "clean"))]
    for p in layout.panels:
        run = {"rainy": "input", "method": p.title}.get(p.kind)
        expected = _shown(_csv(made["folders"][run], p.image_id)) if run else "PSNR / SSIM"
        assert p.scores == expected
        assert [c.source for c in p.crops] == [Crop(2, 3, 6)]
        (zoom,) = p.crops
        x0, _, x1, y1 = p.box_px
        assert x0 <= zoom.box_px[0] < zoom.box_px[2] <= x1 and zoom.box_px[1] > y1
        assert x0 < p.title_xy_px[0] < x1 and p.title_xy_px[1] > zoom.box_px[3]
        assert p.scores_xy_px[1] > p.title_xy_px[1] and p.title_lines == (p.title,)
        assert p.image_size == (W, H)
    assert [p.title for p in layout.panels[:4]] == ["Rainy input", made["a"], made["b"],
                                                  "Ground truth"]
    assert layout.width_px == 700


def test_png_pixels_are_the_source_pixels(made):
    comp = build_comparison(made["res"], "paired", ["2"], [made["a"], made["b"]],
                            crops=[Crop(0, 0, 4)], log=lambda m: None)
    drawing = draw_comparison(comp, dpi=100)
    png = read_image_bytes(drawing.png)
    assert png.shape[:2] == (drawing.layout.height_px, drawing.layout.width_px)
    for p, panel in zip(drawing.layout.panels, comp.rows[0].panels, strict=True):
        _same_pixels(png, p.box_px, panel.image, skip=6)  # the box covers pixels 0..4
        (zoom,) = p.crops
        _same_pixels(png, zoom.box_px, panel.image[:4, :4], skip=0, border=True)


def read_image_bytes(data: bytes) -> np.ndarray:
    from raindata.imageio import decode_image

    return decode_image(data)


def _same_pixels(png, box, src, skip: int, border: bool = False) -> None:
    """Every source pixel's centre (beyond the zoom box corner, away from a frame) in the
    drawn box has the source's exact value: nearest neighbour, no smoothing."""
    x0, y0, x1, y1 = box
    h, w = src.shape[:2]
    lo = 1 if border else 0
    for yy in range(lo, h - lo):
        for xx in range(lo, w - lo):
            if xx < skip and yy < skip:
                continue
            px = int(x0 + (xx + 0.5) * (x1 - x0) / w)
            py = int(y0 + (yy + 0.5) * (y1 - y0) / h)
            assert (png[py, px] == src[yy, xx]).all(), (xx, yy)


def test_auto_crop_lands_on_the_planted_difference(made):
    comp = build_comparison(made["res"], "paired", ["1", "2"], [made["a"], made["b"]],
                            auto_crop=2, crop_size=8, log=lambda m: None)
    for row in comp.rows:
        first, second = row.crops
        assert first == Crop(*PLANT)
        assert abs(second.x - first.x) >= 8 or abs(second.y - first.y) >= 8  # no overlap
    one = np.zeros((10, 12, 3), np.uint8)
    other = one.copy()
    other[6:9, 1:4] = 9
    assert auto_crops([one, other], 3, 1) == (Crop(1, 6, 3),)
    assert auto_crops([one, one], 3, 1) == (Crop(0, 0, 3),)  # no spread: first window
    with pytest.raises(DataError, match="do not fit"):
        auto_crops([one, other], 8, 2)


def test_rain_map_variant(made):
    comp = build_comparison(made["res"], "paired", ["1"], [made["a"], made["b"]],
                            rain_maps=True, auto_crop=0, log=lambda m: None)
    rainy = read_image(made["root"] / "rainy" / "1.png").astype(int)
    clean = read_image(made["root"] / "clean" / "1.png").astype(int)
    panels = comp.rows[0].panels
    assert [p.kind for p in panels] == ["rainy", "clean", "method", "method"]
    assert panels[0].scores == "" and (panels[0].image == rainy).all()
    assert (panels[1].image == np.clip(rainy - clean, 0, 255)).all()
    for p, method in zip(panels[2:], ("a", "b"), strict=True):
        folder = made["folders"][made[method]]
        out = read_image(folder / "images" / "1.png").astype(int)
        assert (p.image == np.clip(rainy - out, 0, 255)).all()
        assert p.scores == _shown(_csv(folder, "1"), "rainmap_")
    assert draw_comparison(comp, dpi=60).layout.panels[1].crops == ()


def test_long_titles_shrink_then_wrap_then_shorten():
    def width(text, size):  # a stand-in for the font: every character 0.5 em wide
        return len(text) * size / 2

    assert fit_title("prenet", 30, 7.0, width) == (("prenet",), 7.0)
    assert fit_title("prenet-real", 30, 7.0, width) == (("prenet-real",), 5.0)
    assert fit_title("umrl [Net_JORDER.pth]", 40, 7.0, width) == (
        ("umrl", "[Net_JORDER.pth]"), 5.0)
    lines, size = fit_title("results:/a/very/long/folder/name/of/outputs", 20, 7.0, width)
    assert size == 4.5 and len(lines) == 1 and "\u2026" in lines[0]
    assert width(lines[0], size) <= 20


def _unescape(m: re.Match) -> bytes:
    code = m.group(1)
    if code.isdigit():
        return bytes([int(code, 8)])
    return {b"n": b"\n", b"r": b"\r", b"t": b"\t", b"b": b"\b", b"f": b"\f"}.get(code, code)


def _pdf_text(pdf: bytes) -> str:
    """Text shown by the PDF's content streams (matplotlib's Type 42 fonts: 2-byte codes)."""
    out = []
    for stream in re.findall(rb"stream\r?\n(.*?)\r?\nendstream", pdf, re.S):
        try:
            content = zlib.decompress(stream)
        except zlib.error:
            continue
        for block in re.findall(rb"BT(.*?)ET", content, re.S):
            raw = b"".join(re.findall(rb"\(((?:\\.|[^\\)])*)\)", block, re.S))
            raw = re.sub(rb"\\([0-7]{1,3}|.)", _unescape, raw, flags=re.S)
            out.append(raw.decode("utf-16-be", "replace"))
    return "\n".join(out)


def test_cli_writes_identical_png_and_vector_pdf(made, tmp_path):
    out = tmp_path / "fig"
    args = ["figure", "--results", str(made["res"]), "--dataset", "paired", "--images", "1,2",
            "--methods", f"input,{made['a']},{made['b']}", "--out", str(out), "--dpi", "90",
            "--auto-crop", "2", "--crop-size", "6", "--no-run"]
    res = CliRunner().invoke(main, args)
    assert res.exit_code == 0, res.output
    png, pdf = (out.with_suffix(".png").read_bytes(), out.with_suffix(".pdf").read_bytes())
    assert (tmp_path / "fig.json").is_file()
    again = CliRunner().invoke(main, args)
    assert again.exit_code == 0, again.output
    assert out.with_suffix(".png").read_bytes() == png
    assert out.with_suffix(".pdf").read_bytes() == pdf
    assert png.startswith(b"\x89PNG") and b"Software" not in png
    assert pdf.startswith(b"%PDF") and b"CreationDate" not in pdf and b"Matplotlib" not in pdf
    assert b"/FontFile2" in pdf and b"/Type3" not in pdf  # embedded TrueType, not glyph paths
    text = _pdf_text(pdf)
    for shown in ("Rainy input", "Ground truth", made["b"],
                  _shown(_csv(made["folders"][made["b"]], "2"))):
        assert shown in text
    base = args[:args.index("--out")]
    column = CliRunner().invoke(main, [*base, "--column", "--dpi", "100", "--auto-crop", "0",
                                       "--out", str(tmp_path / "col.png")])
    assert column.exit_code == 0, column.output
    assert read_image(tmp_path / "col.png").shape[1] == 340
    assert "PSNR/SSIM" in CliRunner().invoke(main, ["figure", "--help"]).output


def test_missing_runs_are_made_with_saved_images(made, tmp_path):
    res = tmp_path / "res"
    run_one(RunRequest(method=made["a"], dataset="paired", data_root=str(made["root"]),
                       results=res, metrics=("psnr", "ssim"), save_images=True),
            log=lambda m: None)
    said = []
    comp = build_comparison(res, "paired", ["2"], [made["a"], made["b"]], auto_crop=0,
                            log=said.append)
    assert said == [f"running {m} on paired (first 2 images, saving them)"
                    for m in (made["b"], "input")]
    folders = sorted(p.parent for p in res.glob("paired/*/*/run.json"))
    assert [f.parent.name for f in folders] == ["input", "results-a", "results-b"]
    assert (folders[2] / "images" / "2.png").is_file()
    with open(folders[2] / "scores.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert [r["id"] for r in rows] == ["1", "2"]  # up to the last chosen image
    assert comp.rows[0].panels[2].scores == _shown(rows[1])
    assert comp.rows[0].panels[0].scores == _shown(_csv(folders[0], "2"))


def _error(made, tmp_path, *extra, methods=None) -> str:
    res = CliRunner().invoke(main, [
        "figure", "--results", str(made["res"]), "--dataset", "paired", "--out",
        str(tmp_path / "x"), "--methods", methods or made["a"], "--images", "1", *extra])
    assert res.exit_code == 1, res.output
    lines = res.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), res.output
    return lines[0]


def test_errors_are_one_line_naming_the_value(made, tmp_path, monkeypatch):
    assert "no image '9' in paired" in _error(made, tmp_path, "--images", "9")
    line = _error(made, tmp_path, "--no-run", methods="prenet")
    assert "no run of prenet on paired" in line
    assert f"benchmark run --method prenet --dataset paired --results {made['res']} " \
        "--save-images --weights prenet=PATH" in line
    assert "no run labelled 'nosuch'" in _error(made, tmp_path, methods="nosuch")
    assert "outside" in _error(made, tmp_path, "--crop", "30,0,8")
    assert "expected X,Y,SIZE" in _error(made, tmp_path, "--crop", "1,2")
    assert "expected METHOD=PATH" in _error(made, tmp_path, "--weights", "w.pth")
    bare = made["tmp"] / "bare"
    for protocol, save in (("y-matlab", False), ("rgb", True), ("y-double", True)):
        run_one(RunRequest(method=made["a"], dataset="paired", data_root=str(made["root"]),
                           results=bare, protocol=protocol, metrics=("psnr",),
                           save_images=save), log=lambda m: None)
        if not save:
            line = _error(made, tmp_path, "--results", str(bare), "--no-run")
            assert "no saved image for '1'" in line and "--save-images" in line
    assert "matches 3 runs" in _error(made, tmp_path, "--results", str(bare))
    comp = build_comparison(bare, "paired", ["1"], [made["a"]], protocol="rgb", auto_crop=0,
                            log=lambda m: None)
    assert comp.runs[made["a"]].startswith(str(bare / "paired" / "results-a"))
    rgb = next(f for f in bare.glob("paired/results-a/*") if "rgb" in (f / "run.json").read_text())
    assert comp.runs[made["a"]] == str(rgb)
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    line = _error(made, tmp_path)
    assert "pip install 'derain-toolkit[plots]'" in line


def test_scoring_path_and_figure_modules_do_not_import_matplotlib():
    code = ("import sys, benchmark.runner, benchmark.metrics, benchmark.cli, benchmark.figures,"
            " benchmark.figure_runs, benchmark.figure_render, benchmark.commands.figure\n"
            "assert 'matplotlib' not in sys.modules, 'matplotlib imported'\n")
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)
