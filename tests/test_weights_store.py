"""The weights search path and catalogue (issue 14): order, layouts, the card-order rule,
one-line missing-weights messages naming the fetch command, LPIPS's AlexNet lookup, and
the provenance of every official URL. Offline: nothing here opens a connection."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import re
import socket
import subprocess
import sys

import pytest
from click.testing import CliRunner

from benchmark.cli import main
from models.cards import MethodCard, RemoteFile, WeightsFile
from models.io import store
from models.io.store import Folder, catalogue, copies, find_released, locate, search_path
from raindata.errors import DataError


@pytest.fixture(autouse=True)
def isolated(monkeypatch, tmp_path):
    """Every weights folder in tmp_path; any network access fails the test."""

    def refuse(*args, **kwargs):
        raise AssertionError("network access attempted")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    for var in ("DERAIN_WEIGHTS_DIR", "DERAIN_WEIGHTS_BASE_URL", "XDG_CACHE_HOME"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("DERAIN_WEIGHTS_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def entry(name: str, data: bytes, method: str = "demo", folder: str = "") -> WeightsFile:
    return WeightsFile(name=name, sha256=sha(data), trained_on="", source="", method=method,
                       folder=folder, files=(RemoteFile(name, sha(data), len(data),
                                                        "http://127.0.0.1:9/x"),))


def put(path, data: bytes):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def test_search_path_order(tmp_path, monkeypatch):
    monkeypatch.setenv("DERAIN_WEIGHTS_DIR", os.pathsep.join(
        [str(tmp_path / "e1"), "", str(tmp_path / "e2")]))
    folders = search_path([tmp_path / "given"])
    assert [(f.path, f.origin) for f in folders] == [
        (tmp_path / "given", "--dir"),
        (tmp_path / "e1", "$DERAIN_WEIGHTS_DIR"),
        (tmp_path / "e2", "$DERAIN_WEIGHTS_DIR"),
        (tmp_path / "cache", "cache"),
        (tmp_path / "torch" / "hub" / "checkpoints", "torch hub"),
        (store.bundled_dir(), "bundled"),
    ]
    monkeypatch.delenv("DERAIN_WEIGHTS_CACHE")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert store.cache_dir() == tmp_path / "xdg" / "derain-toolkit" / "weights"
    assert len(search_path([tmp_path / "e1"])) == 5  # duplicates dropped, first kept


def test_first_matching_copy_wins_and_a_differing_one_is_never_used(tmp_path):
    data = b"released weights"
    w = entry("w.pth", data)
    folders = [Folder(tmp_path / n, n) for n in ("a", "b", "c")]
    put(tmp_path / "a" / "demo" / "w.pth", b"something else")
    put(tmp_path / "b" / "w.pth", data)  # a flat folder
    put(tmp_path / "c" / "demo" / "w.pth", data)
    found = copies(w, folders)
    assert [(c.path, c.ok) for c in found] == [(tmp_path / "a" / "demo" / "w.pth", False),
                                               (tmp_path / "b" / "w.pth", True),
                                               (tmp_path / "c" / "demo" / "w.pth", True)]
    assert locate(w, folders).path == tmp_path / "b" / "w.pth"
    assert locate(w, folders[:1]) is None


def test_shared_data_layouts_and_tf1_checkpoints(tmp_path):
    """A file is found under its test-data folder (``baselines_official/x``) from the data
    root, from the folder above (``x/``), and a TF1 prefix only with all of its files."""
    data, index = b"shard bytes", b"index bytes"
    w = WeightsFile(name="model", sha256=sha(data), trained_on="", source="", method="tfm",
                    folder="baselines_official/tf_m",
                    files=(RemoteFile("model.data-00000-of-00001", sha(data), len(data), "u"),
                           RemoteFile("model.index", sha(index), len(index), "u")))
    root = tmp_path / "data"
    put(root / "baselines_official" / "tf_m" / "model.data-00000-of-00001", data)
    assert locate(w, [Folder(root, "--dir")]) is None  # no .index yet
    put(root / "baselines_official" / "tf_m" / "model.index", index)
    assert locate(w, [Folder(root, "--dir")]).path == root / "baselines_official/tf_m/model"
    found = locate(w, [Folder(root / "baselines_official", "--dir")])
    assert found.path == root / "baselines_official" / "tf_m" / "model"
    assert found.digest == sha(data)


def test_default_weights_follow_the_card_order(tmp_path):
    first, second = entry("h.pth", b"heavy"), entry("l.pth", b"light")
    card = MethodCard(name="demo", title="t", paper="p", weights=(first, second))
    folders = [Folder(tmp_path / "a", "a"), Folder(tmp_path / "b", "b")]
    put(tmp_path / "a" / "l.pth", b"light")  # earlier folder, later in the card
    assert find_released(card, folders).path == tmp_path / "a" / "l.pth"
    put(tmp_path / "b" / "h.pth", b"heavy")
    assert find_released(card, folders).path == tmp_path / "b" / "h.pth"


def test_missing_weights_are_one_line_naming_the_fetch_command():
    from models.registry import create_model

    for method, command in (("prenet", "benchmark weights fetch PReNet6_Rain100H.pth"),
                            ("ddn", "benchmark weights fetch ddn/model"),
                            ("umrl", "benchmark weights fetch Net_DIDMDN.pth")):
        with pytest.raises(DataError) as err:
            create_model(method)
        msg = str(err.value)
        assert "\n" not in msg and f"`{command}`" in msg and "needs weights" in msg, msg
        assert "--weights PATH" in msg
    with pytest.raises(DataError, match=r"'rcdnet' needs weights: pass --weights PATH"):
        create_model("rcdnet")


def test_udrdr_derain_names_the_fetch_command(tmp_path):
    import numpy as np

    from models.cli import main as udrdr
    from raindata.imageio import write_png

    src = tmp_path / "a.png"
    write_png(src, np.full((40, 40, 3), 90, np.uint8))
    res = CliRunner().invoke(udrdr, ["derain", str(src), "--method", "prenet-real",
                                     "--out", str(tmp_path / "o")])
    assert res.exit_code == 1
    (line,) = [ln for ln in res.output.splitlines() if ln.startswith("error: ")]
    assert "`benchmark weights fetch PReNet_real1.pth`" in line


def test_udrdr_keeps_its_bundled_default():
    from models.registry import create_model

    info = create_model("udrdr").info()
    assert info["bundled_weights"] == "udrdr_cpu_f3.pt"
    assert info["weights_from"] == "the method's default"


def test_lpips_finds_alexnet_on_the_search_path(tmp_path, monkeypatch):
    """A stand-in AlexNet on the search path: refused under the real name (its sha256 does
    not start with 7be5be79), found once the catalogue entry is given its prefix."""
    import torch

    from benchmark.metrics import MetricUnavailable, create_metric, lpips_metric

    shapes = {0: (64, 3, 11, 11), 3: (192, 64, 5, 5), 6: (384, 192, 3, 3),
              8: (256, 384, 3, 3), 10: (256, 256, 3, 3)}
    gen = torch.Generator().manual_seed(7)
    sd = {}
    for idx, shape in shapes.items():
        sd[f"features.{idx}.weight"] = torch.randn(shape, generator=gen) * 0.05
        sd[f"features.{idx}.bias"] = torch.zeros(shape[0])
    path = tmp_path / "cache" / "lpips" / lpips_metric.ALEXNET_FILE
    path.parent.mkdir(parents=True)
    torch.save(sd, path)
    with pytest.raises(MetricUnavailable) as err:
        create_metric("lpips")
    msg = str(err.value)
    assert "\n" not in msg and "`benchmark weights fetch alexnet-owt-7be5be79.pth`" in msg
    assert f"{path} is not torchvision's file" in msg
    digest = sha(path.read_bytes())
    fake = dataclasses.replace(
        lpips_metric.ALEXNET_WEIGHTS, sha256=digest[:8],
        files=(dataclasses.replace(lpips_metric.ALEXNET_WEIGHTS.files[0], sha256=digest[:8]),))
    monkeypatch.setattr(lpips_metric, "ALEXNET_WEIGHTS", fake)
    metric = create_metric("lpips")
    assert metric.weights_path == path and metric.weights_sha256 == digest


GITHUB_RAW = re.compile(r"https://github\.com/([^/]+/[^/]+)/raw/([0-9a-f]{40})/(.+)")


def test_catalogue_urls_are_pinned_and_keys_unique():
    files = catalogue()
    assert len({w.key for w in files}) == len(files)
    assert {w.method for w in files} >= {"prenet", "prenet-real", "umrl", "jorder-e", "sirr",
                                         "ddn", "derainnet", "rain-over-me", "udrdr", "lpips"}
    for w in files:
        for f in w.files:
            if w.method == "lpips":
                assert f.url == "https://download.pytorch.org/models/alexnet-owt-7be5be79.pth"
                assert f.sha256 == "7be5be79"  # torchvision's own prefix: all that is known
                continue
            m = GITHUB_RAW.fullmatch(f.url)
            assert m, f.url
            assert m[2][:8] in w.source, (w.key, w.source)  # the commit the card names
            assert len(f.sha256) == 64 and f.size > 0
    assert store.fetch_name(next(w for w in files if w.key == "ddn/model"), files) == "ddn/model"
    assert [w.key for w in store.select(["umrl"], files)] == [
        "umrl/Net_DIDMDN.pth", "umrl/Net_JORDER.pth", "umrl/Net_Rain800.pth"]


@pytest.mark.shared
def test_catalogue_matches_the_shared_copies(shared_data):
    """Every file a card says it downloads is, byte for byte (sha256 and size), the copy of
    the authors' file in ../shared/data (whose README gives the same sources)."""
    checked = 0
    for w in catalogue():
        if not w.folder:
            continue
        for f in w.files:
            p = shared_data / w.folder / f.name
            assert p.stat().st_size == f.size, p
            assert sha(p.read_bytes()) == f.sha256, p
            checked += 1
    assert checked == 16


@pytest.mark.shared
def test_list_shows_the_shared_files_as_present(shared_data, monkeypatch):
    res = CliRunner().invoke(main, ["weights", "list", "--dir", str(shared_data), "--json"])
    assert res.exit_code == 0, res.output
    doc = json.loads(res.output)
    rows = {r["key"]: r for r in doc["weights"]}
    released = [r for r in rows.values() if r["method"] not in ("udrdr", "lpips")]
    assert len(released) == 13 and all(r["present"] for r in released)
    assert rows["ddn/model"]["path"] == str(shared_data / "baselines_official/ddn/model")
    assert rows["udrdr/udrdr_demo_f3.pt"]["present"] and rows["udrdr/udrdr_cpu_f3.pt"]["present"]
    assert not rows["lpips/alexnet-owt-7be5be79.pth"]["present"]
    assert {o["method"] for o in doc["bring_your_own"]} >= {"rcdnet", "syn2real", "did-mdn"}
    monkeypatch.setenv("DERAIN_WEIGHTS_DIR", str(shared_data / "baselines_official") +
                       os.pathsep + str(shared_data / "prenet_official"))
    res = CliRunner().invoke(main, ["weights", "list"])
    assert res.exit_code == 0, res.output
    assert res.output.count("  present: ") == 15  # the 13 released files and 2 bundled F3s
    assert "alexnet-owt-7be5be79.pth  [lpips]  missing (benchmark weights fetch " \
        "alexnet-owt-7be5be79.pth)" in res.output
    assert "page: https://github.com/xueyangfu/xueyangfu.github.io/blob/" in res.output


@pytest.mark.parametrize("args", [["weights"], ["weights", "list"], ["weights", "fetch"]])
def test_help(args):
    res = CliRunner().invoke(main, [*args, "--help"])
    assert res.exit_code == 0 and "Usage:" in res.output


def test_import_is_light():
    code = ("import sys, models.io.store, models.io.fetch, benchmark.commands.weights; "
            "bad = [m for m in ('torch', 'cv2') if m in sys.modules]; "
            "print(bad); sys.exit(1 if bad else 0)")
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert res.returncode == 0, res.stdout + res.stderr
