"""Manifests: CSV round trip, path safety, atomic writes with provenance, wide checksums."""

from __future__ import annotations

import json
import os

import pytest

from raindata.errors import DataError
from raindata.manifest import (
    COLUMNS,
    ManifestEntry,
    format_manifest,
    parse_manifest,
    provenance_path,
    read_checksum_columns,
    read_manifest,
    resolve_inside,
    write_manifest,
)

SHA = "ab" * 32
HEADER = ",".join(COLUMNS) + "\n"


def entries() -> list[ManifestEntry]:
    return [
        ManifestEntry("small/rain/norain-1.png", "rainy", "test", "1", 481, 321, SHA),
        ManifestEntry("small/norain/norain-1.png", "clean", "test", "1", 481, 321, None),
        ManifestEntry("direction/direction.txt", "labels", "train", "", None, None, SHA),
    ]


def test_round_trip():
    text = format_manifest(entries())
    assert text.splitlines()[0] == ",".join(COLUMNS)
    assert parse_manifest(text) == entries()


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("../outside.png", r"line 2: path '\.\./outside\.png' refused: '\.\.' leaves the dataset"),
        ("a/../../b.png", r"line 2: .*'\.\.' leaves"),
        ("/etc/passwd", r"line 2: absolute path '/etc/passwd' refused"),
        ("C:/data/x.png", r"line 2: path 'C:/data/x.png' must use '/' separators and no drive"),
        ("a\\b.png", r"line 2: path .* must use '/' separators"),
        ("", r"line 2: empty path"),
    ],
)
def test_unsafe_paths_are_refused_naming_the_line(tmp_path, path, message):
    manifest = tmp_path / "m.csv"
    manifest.write_text(HEADER + f"{path},rainy,test,1,8,8,\n")
    with pytest.raises(DataError, match=message) as err:
        read_manifest(manifest)
    assert str(err.value).startswith(f"{manifest} line 2:")
    assert "\n" not in str(err.value)


def test_symlink_escape_is_refused(tmp_path):
    root = tmp_path / "root"
    root.mkdir()
    outside = tmp_path / "secret.png"
    outside.write_bytes(b"x")
    os.symlink(outside, root / "link.png")
    (root / "ok.png").write_bytes(b"x")
    assert resolve_inside(root, "ok.png", "m.csv line 2") == root / "ok.png"
    with pytest.raises(DataError, match=r"m.csv line 3: path 'link.png' resolves to .*outside"):
        resolve_inside(root, "link.png", "m.csv line 3")


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("a.png,rainy,test,1,8,8,xyz\n", "line 2: sha256 must be 64 hex digits"),
        ("a.png,rainy,test,1,eight,8,\n", "line 2: width must be a whole number"),
        ("a.png,rainy,test,1,8,8,\nb.png,clean,test,1,8,8\n", "line 3: expected 7 fields"),
        ("a.png,rainy,test,1,8,8,\na.png,clean,test,1,8,8,\n", "line 3: 'a.png' listed twice"),
    ],
)
def test_malformed_rows(body, message):
    with pytest.raises(DataError, match=message):
        parse_manifest(HEADER + body, "m.csv")


def test_not_a_manifest(tmp_path):
    with pytest.raises(DataError, match="missing column"):
        parse_manifest("path,role\na.png,rainy\n", "m.csv")
    with pytest.raises(DataError, match="no such manifest"):
        read_manifest(tmp_path / "absent.csv")


def test_write_is_atomic_with_provenance_and_refuses_overwrite(tmp_path):
    out = tmp_path / "manifests" / "set.csv"
    write_manifest(out, entries(), config={"dataset": "x"}, argv=["raindata", "index"])
    assert read_manifest(out) == entries()
    prov = json.loads(provenance_path(out).read_text())
    assert provenance_path(out).name == "set.provenance.json"
    assert prov["command"] == "raindata index" and prov["config"] == {"dataset": "x"}
    before = out.read_text()
    with pytest.raises(DataError, match="already exists"):
        write_manifest(out, entries()[:1])
    assert out.read_text() == before
    write_manifest(out, entries()[:1], force=True)
    assert read_manifest(out) == entries()[:1]
    assert sorted(p.name for p in out.parent.iterdir()) == ["set.csv", "set.provenance.json"]


def test_write_refuses_unsafe_entries(tmp_path):
    out = tmp_path / "m.csv"
    with pytest.raises(DataError, match=r"'\.\.' leaves"):
        write_manifest(out, [ManifestEntry("../x.png", "rainy", "test", "1")])
    assert not out.exists()


def test_wide_checksum_columns(tmp_path):
    """The per-split manifest.csv of `raindata synth`: id + <role>_sha256 columns."""
    path = tmp_path / "manifest.csv"
    path.write_text(
        "id,source,angle,rainy_sha256,latent_sha256,streak_sha256,source_sha256\n"
        f"001,a.png,30,{'1' * 64},{'2' * 64},{'3' * 64},{'4' * 64}\n"
    )
    assert read_checksum_columns(path) == {
        ("1", "rainy"): "1" * 64, ("1", "clean"): "2" * 64, ("1", "streak"): "3" * 64,
    }
    path.write_text(  # the column order `raindata synth` writes
        "id,split,width,height,rainy,latent,streak,sha256_rainy,sha256_latent,sha256_streak\n"
        f"7,test,8,8,rainy/7.png,latent/7.png,streak/7.png,{'a' * 64},{'b' * 64},{'c' * 64}\n"
    )
    assert read_checksum_columns(path) == {
        ("7", "rainy"): "a" * 64, ("7", "clean"): "b" * 64, ("7", "streak"): "c" * 64,
    }
    path.write_text("name,rainy_sha256\nx,abc\n")
    with pytest.raises(DataError, match="no 'id' column"):
        read_checksum_columns(path)
    path.write_text("id,rainy_sha256\n1,abc\n")
    with pytest.raises(DataError, match="line 2: rainy_sha256 must be 64 hex digits"):
        read_checksum_columns(path)
