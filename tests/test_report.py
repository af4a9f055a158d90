"""``benchmark report``: the gathered data, the files it writes, and the page in a real browser.

The runs are tiny synthetic ones built in a temporary folder: the ``input`` method with
``--save-images``, and a ``results:DIR`` method whose images are the ground truth plus a
uniform offset that grows with the image number (so its PSNR falls from img1 to img6).
"""

from __future__ import annotations

import json
import os
import re
import time
from pathlib import Path
from urllib.parse import unquote

import numpy as np
import pytest
from click.testing import CliRunner

from benchmark.cli import main
from benchmark.report.build import write_report
from benchmark.report.data import gather
from benchmark.report.thumbs import load_view, thumbnail, write_thumbs
from benchmark.runner import RunRequest, run_one
from raindata.errors import DataError
from raindata.imageio import decode_image, read_image, write_png

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
N = 6


def _make_runs(root: Path) -> tuple[Path, Path, Path]:
    """(dataset folder, results folder, results:DIR folder) with the two runs scored."""
    rng = np.random.default_rng(10)
    data, results, outputs = root / "data", root / "res", root / "outputs"
    for i in range(1, N + 1):
        clean = rng.integers(30, 200, (40, 48, 3), dtype=np.uint8)
        streak = (rng.random((40, 48, 1)) < 0.1) * rng.integers(20, 60, (40, 48, 1))
        write_png(data / "rainy" / f"img{i}.png",
                  np.clip(clean.astype(int) + streak, 0, 255).astype(np.uint8))
        write_png(data / "clean" / f"img{i}.png", clean)
        write_png(outputs / f"img{i}.png", clean + np.uint8(i))  # no overflow: clean < 200
    for method, save in (("input", True), (f"results:{outputs}", False)):
        run_one(RunRequest(method=method, dataset="paired", data_root=str(data), results=results,
                           metrics=("psnr", "ssim"), save_images=save), log=lambda m: None)
    return data, results, outputs


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    return _make_runs(tmp_path_factory.mktemp("report"))


def _local_file(out: Path, src: str) -> Path:
    assert not re.match(r"^[a-z]+:|^/", src), f"not a relative link: {src}"
    return out / unquote(src)


def test_leaderboard_rows(runs):
    _, results, outputs = runs
    lb = gather(results)["leaderboard"]
    assert lb["columns"] == ["psnr", "ssim"]
    rows = lb["rows"]
    assert [r["label"] for r in rows] == ["input", f"results:{outputs}"]  # input first
    for r in rows:
        assert (r["dataset"], r["group"], r["protocol"]) == ("paired", "paired", "y-matlab")
        assert (r["scored"], r["expected"], r["status"]) == (N, N, "complete")
        assert r["section"] == "paired-test"
        assert r["cells"]["psnr"]["n"] == N and not r["cells"]["psnr"]["partial"]
    inp, res = rows
    assert res["cells"]["psnr"]["best"] and not inp["cells"]["psnr"]["best"]
    assert res["cells"]["psnr"]["value"] > inp["cells"]["psnr"]["value"]
    assert res["cells"]["psnr"]["text"] == f"{res['cells']['psnr']['value']:.2f}"
    assert inp["quantize"] == inp["official_quantize"]
    assert (inp["outputs"], res["outputs"]) == (N, N)  # saved images; results:DIR images


def test_partial_run_without_images_is_flagged(tmp_path):
    data, results, _ = _make_runs(tmp_path)
    run_one(RunRequest(method="input", dataset="paired", data_root=str(data), results=results,
                       metrics=("psnr",), limit=3), log=lambda m: None)
    gathered = gather(results)
    partial = [r for r in gathered["leaderboard"]["rows"] if r["scored"] == 3]
    assert len(partial) == 1
    row = partial[0]
    assert row["label"].startswith("input [run:") and row["status"] == "incomplete"
    assert row["cells"]["psnr"]["partial"] and not row["cells"]["psnr"]["best"]
    assert row["cells"]["psnr"]["text"].endswith("*")
    assert row["outputs"] == 0  # still in the tables, nothing for the viewer
    images = gathered["sections"][0]["images"]
    assert sum(row["run"] in im["scores"] for im in images) == 3
    assert not any(row["run"] in im["outputs"] for im in images)


def test_moved_dataset_keeps_scores_and_saved_images(tmp_path):
    data, results, _ = _make_runs(tmp_path)
    data.rename(tmp_path / "moved")
    gathered = gather(results)
    assert any("dataset images not shown" in n for n in gathered["notes"])
    sec = gathered["sections"][0]
    inp, res = sec["runs"]
    assert not sec["found"] and len(sec["images"]) == N
    for im in sec["images"]:
        assert im["rainy"] is None and im["clean"] is None and im["file"] == f"rainy/{im['id']}.png"
        assert set(im["scores"]) == {inp, res} and set(im["outputs"]) == {inp, res}


def test_thumbnails_shrink_and_split_side_by_side(tmp_path):
    rng = np.random.default_rng(4)
    img = rng.integers(0, 255, (30, 80, 3), dtype=np.uint8)
    assert thumbnail(img, 40).shape == (15, 40, 3)
    assert thumbnail(img, 256) is img  # never enlarged
    write_png(tmp_path / "did.png", img)
    assert np.array_equal(load_view(tmp_path / "did.png", "right"), img[:, 40:])
    info, made = write_thumbs([(str(tmp_path / "did.png"), "left"),
                               (str(tmp_path / "did.png"), "right")], tmp_path / "t", 20)
    assert made == 2
    assert [(v["w"], v["h"], v["tw"], v["th"]) for v in info.values()] == [(40, 30, 20, 15)] * 2
    notes: list[str] = []
    info, made = write_thumbs([(str(tmp_path / "gone.png"), None)], tmp_path / "t", 20,
                              notes.append)
    assert info == {} and made == 0 and "gone.png" in notes[0]
    assert sorted(p.name for p in (tmp_path / "t").iterdir()) == ["index.json"]


def test_per_image_rows(runs):
    data, results, outputs = runs
    sections = gather(results)["sections"]
    assert len(sections) == 1
    sec = sections[0]
    inp, res = sec["runs"]
    assert inp.startswith("paired/input/") and res.startswith(f"paired/results-{outputs.name}/")
    assert sec["metrics"] == ["psnr", "ssim"] and sec["paired"] and sec["found"]
    assert [im["id"] for im in sec["images"]] == [f"img{i}" for i in range(1, N + 1)]
    scores = {r["id"]: r for r in _read_csv(results / res / "scores.csv")}
    psnr = []
    for im in sec["images"]:
        assert im["rainy"]["path"] == str(data / "rainy" / f"{im['id']}.png")
        assert im["clean"]["path"] == str(data / "clean" / f"{im['id']}.png")
        assert Path(im["outputs"][inp]["path"]).parent.name == "images"
        assert im["outputs"][res]["path"] == str(outputs / f"{im['id']}.png")
        assert im["scores"][res]["psnr"] == pytest.approx(float(scores[im["id"]]["psnr"]))
        psnr.append(im["scores"][res]["psnr"])
    assert psnr == sorted(psnr, reverse=True) and len(set(psnr)) == N  # offset grows with i


def _read_csv(path: Path) -> list[dict[str, str]]:
    import csv

    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def _page_data(page: str) -> dict:
    found = re.search(r'<script id="report-data" type="application/json">(.*?)</script>', page,
                      re.S)
    assert found
    return json.loads(found.group(1))


def test_written_report_links_thumbs_and_rerun(runs, tmp_path):
    data, results, outputs = runs
    out = tmp_path / "report"
    written = write_report(results, out, thumb_size=32)
    page = (out / "index.html").read_text(encoding="utf-8")
    assert _page_data(page) == written
    assert not re.search(r"(src|href)=\"?(https?:)?//|@import|url\(", page)  # no network
    refs = [ref for im in written["sections"][0]["images"]
            for ref in (im["rainy"], im["clean"], *im["outputs"].values())]
    assert len(refs) == 4 * N
    originals = {str(data / "rainy" / "img1.png"), str(outputs / "img1.png")}
    for ref in refs:
        full = _local_file(out, ref["src"])
        assert full.is_file() and "thumbs" not in ref["src"]
        thumb = read_image(_local_file(out, ref["thumb"]))
        assert max(thumb.shape[:2]) == 32 and (ref["w"], ref["h"]) == (48, 40)
        assert (ref["tw"], ref["th"]) == (thumb.shape[1], thumb.shape[0])
    linked = {str(_local_file(out, ref["src"]).resolve()) for ref in refs}
    assert originals <= linked and not (out / "images").exists()  # linked, not copied
    for row in written["leaderboard"]["rows"]:
        assert _local_file(out, row["files"]["scores"]["src"]).name == "scores.csv"
        assert _local_file(out, row["files"]["record"]["src"]).is_file()
    # rainy, clean, the input run's saved copy and the results:DIR image: 4 files an image
    assert written["thumbnails"]["made"] == written["thumbnails"]["count"] == 4 * N

    (out / "thumbs" / "stale.jpg").write_bytes(b"old")
    again = write_report(results, out, thumb_size=32)
    assert again["thumbnails"]["made"] == 0 and not (out / "thumbs" / "stale.jpg").exists()

    copied = write_report(results, out, copy=True, thumb_size=32)
    srcs = [ref["src"] for im in copied["sections"][0]["images"]
            for ref in (im["rainy"], *im["outputs"].values())]
    assert all(s.startswith("images/") and _local_file(out, s).is_file() for s in srcs)
    write_report(results, out, thumb_size=32)
    assert not (out / "images").exists()  # a rerun without --copy-images drops the copies


def test_errors_are_one_clear_line(tmp_path):
    with pytest.raises(DataError, match="results folder not found"):
        gather(tmp_path / "nowhere")
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataError, match="no benchmark runs found"):
        gather(tmp_path / "empty")
    result = CliRunner().invoke(main, ["report", "--results", str(tmp_path / "empty"),
                                       "--out", str(tmp_path / "r")])
    assert result.exit_code == 1
    assert result.output.startswith("error:") and result.output.count("\n") == 1


def test_cli_writes_and_refuses_foreign_folders(runs, tmp_path):
    _, results, _ = runs
    runner = CliRunner()
    out = tmp_path / "r"
    result = runner.invoke(main, ["report", "--results", str(results), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "2 run(s), 6 image(s), 24 thumbnail(s)" in result.output
    again = runner.invoke(main, ["report", "--results", str(results), "--out", str(out)])
    assert again.exit_code == 0 and "(0 new)" in again.output
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("keep me")
    refused = runner.invoke(main, ["report", "--results", str(results),
                                   "--out", str(tmp_path / "mine")])
    assert refused.exit_code == 1 and "not empty" in refused.output
    assert runner.invoke(main, ["report", "--help"]).exit_code == 0


# ---- the page in a real browser ----------------------------------------------------------


def _browser(tmp_path: Path):
    """Headless Debian Chromium through selenium; skipped only when one of them is missing."""
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        pytest.skip("selenium not installed (pip install -e '.[test]')")
    for exe in (CHROMIUM, CHROMEDRIVER):
        if not exe.exists():
            pytest.skip(f"{exe} not found (apt-get install chromium chromium-driver)")
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--disable-background-networking", "--disable-component-update",
                "--disable-sync", "--no-first-run", "--window-size=1280,800",
                "--force-device-scale-factor=1", f"--user-data-dir={tmp_path / 'profile'}"):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    return webdriver.Chrome(options=options, service=Service(str(CHROMEDRIVER)))


def _png(data: bytes) -> np.ndarray:
    return decode_image(data, "screenshot")


def _order(driver, css: str, attr: str) -> list[str]:
    return [e.get_attribute(attr) for e in driver.find_elements("css selector", css)]


def _wait(check, timeout: float = 10.0):
    end = time.monotonic() + timeout
    while True:
        value = check()
        if value or time.monotonic() > end:
            return value
        time.sleep(0.05)


def test_page_in_headless_chromium(runs, tmp_path):
    _, results, outputs = runs
    out = tmp_path / "report"
    written = write_report(results, out)
    sec = written["sections"][0]
    inp, res = sec["runs"]
    driver = _browser(tmp_path)
    try:
        driver.get((out / "index.html").as_uri())
        lb_rows = "#lb-table tbody tr"
        assert _order(driver, lb_rows, "data-label") == ["input", f"results:{outputs}"]
        header = driver.find_element("css selector", '#lb-table th[data-key="m:psnr"]')
        header.click()  # best PSNR first
        assert _order(driver, lb_rows, "data-label") == [f"results:{outputs}", "input"]
        assert driver.find_element("css selector", '#lb-table th[data-key="m:psnr"]') \
            .get_attribute("aria-sort") == "descending"
        best = driver.find_elements("css selector", f"{lb_rows} td.best")
        assert best and all(td.find_element("xpath", "..").get_attribute("data-label")
                            == f"results:{outputs}" for td in best)

        # per-image table: worst mean PSNR first by default; sorting by # restores file order
        rows = f'section[data-section="{sec["id"]}"] tbody tr'
        mean = {im["id"]: np.mean([im["scores"][r]["psnr"] for r in (inp, res)])
                for im in sec["images"]}
        assert _order(driver, rows, "data-id") == sorted(mean, key=mean.get)
        driver.find_element("css selector",
                            f'section[data-section="{sec["id"]}"] th[data-key="index"]').click()
        assert _order(driver, rows, "data-id") == [f"img{i}" for i in range(1, N + 1)]

        # click the results method's cell of img3: the viewer compares it with the ground truth
        driver.find_element("css selector",
                            f'{rows}[data-id="img3"] td[data-key="r:{res}:psnr"]').click()
        assert driver.find_element("id", "viewer").is_displayed()
        loaded = "return [document.getElementById('v-img-a').naturalWidth, " \
                 "document.getElementById('v-img-b').naturalWidth]"
        assert _wait(lambda: all(w > 0 for w in driver.execute_script(loaded))), \
            driver.execute_script(loaded)
        assert driver.execute_script(loaded) == [48, 48]
        value = "return document.getElementById(arguments[0]).value"
        assert driver.execute_script(value, "v-a") == f"run:{res}"
        assert driver.execute_script(value, "v-b") == "clean"
        assert driver.execute_script(value, "v-image") == "img3"
        time.sleep(0.2)  # the fit and first paint happen on the next animation frame

        shot = _png(driver.get_screenshot_as_png())
        inner = driver.execute_script("return [window.innerWidth, window.innerHeight]")
        assert (shot.shape[1], shot.shape[0]) == tuple(inner)
        assert shot.std() > 10  # not blank
        left, right = (driver.find_element("id", f"v-canvas-{s}") for s in "ab")
        a, b = _png(left.screenshot_as_png), _png(right.screenshot_as_png)
        assert a.shape == b.shape and a.shape[0] > 100 and a.shape[1] > 100
        assert a.std() > 20 and b.std() > 20  # the noise images fill the panes
        # same view in both panes: result = ground truth + 3, so the panes nearly agree
        assert np.abs(a.astype(int) - b.astype(int)).mean() < 8

        from selenium.webdriver.common.action_chains import ActionChains

        driver.find_element("id", "v-in").click()
        ActionChains(driver).move_to_element(left).click_and_hold() \
            .move_by_offset(60, 30).release().perform()
        time.sleep(0.1)
        a2, b2 = _png(left.screenshot_as_png), _png(right.screenshot_as_png)
        assert np.abs(a2.astype(int) - a.astype(int)).mean() > 8  # zoomed and panned...
        assert np.abs(a2.astype(int) - b2.astype(int)).mean() < 8  # ...both panes together

        driver.find_element("css selector", '#viewer .seg button[data-mode="slider"]').click()
        time.sleep(0.1)
        assert not right.is_displayed()
        assert _png(left.screenshot_as_png).std() > 20
        severe = [e for e in driver.get_log("browser") if e["level"] == "SEVERE"]
        assert not severe, severe
    finally:
        driver.quit()


def test_no_import_time_work():
    """Importing the command module stays light: the report code loads when it runs."""
    import subprocess
    import sys

    code = ("import sys, benchmark.commands.report; "
            "print(any(m.startswith('benchmark.report') for m in sys.modules))")
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                         check=True)
    assert out.stdout.strip() == "False"
