"""`benchmark weights fetch` (issue 14) against a local HTTP server on 127.0.0.1.

The server is started by the tests (http.server in a thread) and serves bytes from memory,
honours ``Range: bytes=N-``, can cut the connection after N bytes once, and answers 404
for anything else. Every connection to another host fails the test, so nothing here
reaches the internet: the real download code runs, offline.
"""

from __future__ import annotations

import hashlib
import io
import re
import socket
import threading
import zipfile
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from click.testing import CliRunner

from benchmark.cli import main
from models.cards import RemoteFile, WeightsFile
from models.io import fetch as fetch_mod
from models.io.fetch import ChecksumMismatch, FetchError, fetch_weights, mirror_url
from models.io.store import Folder, locate
from raindata.errors import DataError


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def payload(n: int, seed: int) -> bytes:
    """``n`` deterministic bytes (no RNG state shared between tests)."""
    out = b""
    block = seed.to_bytes(4, "big")
    while len(out) < n:
        block = hashlib.sha256(block).digest()
        out += block
    return out[:n]


@dataclass
class State:
    files: dict[str, bytes] = field(default_factory=dict)
    cut_once: dict[str, int] = field(default_factory=dict)
    """path -> bytes of the body sent before the connection is cut (first request only)."""
    requests: list[tuple[str, str | None]] = field(default_factory=list)
    ignore_range: bool = False


class Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        state: State = self.server.state  # type: ignore[attr-defined]
        rng = self.headers.get("Range")
        state.requests.append((self.path, rng))
        data = state.files.get(self.path)
        if data is None:
            self.send_error(404, "Not Found")
            return
        start = 0
        if rng and not state.ignore_range:
            start = int(re.fullmatch(r"bytes=(\d+)-", rng)[1])
            if start >= len(data):
                self.send_response(416)
                self.send_header("Content-Range", f"bytes */{len(data)}")
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            self.send_response(206)
            self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
        else:
            self.send_response(200)
        body = data[start:]
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        cut = state.cut_once.pop(self.path, None)
        if cut is not None:
            self.wfile.write(body[:cut])
            self.wfile.flush()
            self.connection.shutdown(socket.SHUT_RDWR)
            self.close_connection = True
            return
        self.wfile.write(body)

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def offline(monkeypatch, tmp_path):
    """Only 127.0.0.1 may be reached; no proxy; the weights folders are all in tmp_path."""
    real = socket.create_connection

    def guarded(address, *args, **kwargs):
        assert address[0] == "127.0.0.1", f"connection to {address} attempted"
        return real(address, *args, **kwargs)

    monkeypatch.setattr(socket, "create_connection", guarded)
    for var in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "all_proxy",
                "ALL_PROXY", "DERAIN_WEIGHTS_DIR", "DERAIN_WEIGHTS_BASE_URL"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("no_proxy", "127.0.0.1")
    monkeypatch.setenv("DERAIN_WEIGHTS_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    monkeypatch.setattr(fetch_mod, "RETRY_WAIT_S", 0.0)


@pytest.fixture
def server(offline):
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.state = State()  # type: ignore[attr-defined]
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield httpd
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(5)


def url_of(httpd, path: str) -> str:
    return f"http://127.0.0.1:{httpd.server_address[1]}{path}"


def single(httpd, data: bytes, *, name: str = "tiny.pth", expected: bytes | None = None,
           path: str = "/official/tiny.pth") -> WeightsFile:
    """A one-file weights entry served at ``path`` (``expected``: the released bytes)."""
    digest = sha(data if expected is None else expected)
    httpd.state.files[path] = data
    return WeightsFile(name=name, sha256=digest, trained_on="nothing", source="test",
                       method="demo", files=(RemoteFile(name, digest, len(data),
                                                        url_of(httpd, path)),))


def one_line(exc: BaseException) -> str:
    text = str(exc)
    assert "\n" not in text and text
    return text


def test_correct_file_is_fetched_verified_and_found(server, tmp_path):
    data = payload(200_000, 1)
    w = single(server, data)
    seen = []
    path = fetch_weights(w, tmp_path / "w", progress=lambda *a: seen.append(a))
    assert path == tmp_path / "w" / "demo" / "tiny.pth"
    assert path.read_bytes() == data
    assert sorted(p.name for p in path.parent.iterdir()) == ["tiny.pth"]  # no .part, no lock
    assert seen[-1] == ("tiny.pth", len(data), len(data))
    found = locate(w, [Folder(tmp_path / "w", "--dir")])
    assert found is not None and found.ok and found.path == path
    before = len(server.state.requests)
    assert fetch_weights(w, tmp_path / "w") == path  # already there: no request
    assert len(server.state.requests) == before


def test_wrong_checksum_is_kept_aside_and_never_used(server, tmp_path):
    released = payload(5_000, 2)
    w = single(server, payload(5_000, 3), expected=released)
    with pytest.raises(ChecksumMismatch) as err:
        fetch_weights(w, tmp_path / "w")
    msg = one_line(err.value)
    aside = tmp_path / "w" / "demo" / "tiny.pth.sha256-mismatch"
    assert f"expected {sha(released)}" in msg and str(aside) in msg and "not used" in msg
    assert aside.read_bytes() == payload(5_000, 3)
    assert not (tmp_path / "w" / "demo" / "tiny.pth").exists()
    assert locate(w, [Folder(tmp_path / "w", "--dir")]) is None


def test_cut_transfer_is_resumed_with_a_range_request(server, tmp_path):
    data = payload(300_000, 4)
    w = single(server, data)
    server.state.cut_once["/official/tiny.pth"] = 100_000
    with pytest.raises(FetchError) as err:  # no retry in this call: the partial file stays
        fetch_weights(w, tmp_path / "w", retries=0)
    part = tmp_path / "w" / "demo" / ".tiny.pth.part"
    msg = one_line(err.value)
    assert "connection lost after 100000 of 300000 bytes" in msg and str(part) in msg
    assert part.stat().st_size == 100_000
    assert not (tmp_path / "w" / "demo" / "tiny.pth").exists()
    path = fetch_weights(w, tmp_path / "w")  # the next run resumes
    assert path.read_bytes() == data and not part.exists()
    assert server.state.requests[-1] == ("/official/tiny.pth", "bytes=100000-")


def test_cut_transfer_resumes_within_one_call(server, tmp_path):
    data = payload(120_000, 5)
    w = single(server, data)
    server.state.cut_once["/official/tiny.pth"] = 70_000
    assert fetch_weights(w, tmp_path / "w", retries=1).read_bytes() == data
    assert server.state.requests == [("/official/tiny.pth", None),
                                     ("/official/tiny.pth", "bytes=70000-")]


def test_a_server_without_range_support_sends_the_whole_file_again(server, tmp_path):
    data = payload(50_000, 12)
    w = single(server, data)
    part = tmp_path / "w" / "demo" / ".tiny.pth.part"
    part.parent.mkdir(parents=True)
    part.write_bytes(b"stale bytes of an older download")
    server.state.ignore_range = True
    assert fetch_weights(w, tmp_path / "w").read_bytes() == data
    assert server.state.requests == [("/official/tiny.pth", "bytes=32-")]


def test_404_and_unreachable_host_are_one_line(server, tmp_path):
    w = single(server, b"x")
    del server.state.files["/official/tiny.pth"]
    with pytest.raises(FetchError) as err:
        fetch_weights(w, tmp_path / "w")
    assert re.fullmatch(r"tiny\.pth: HTTP 404 Not Found from http://127\.0\.0\.1:\d+/"
                        r"official/tiny\.pth", one_line(err.value))
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    dead = WeightsFile(name="tiny.pth", sha256=sha(b"x"), trained_on="", source="", method="d",
                       files=(RemoteFile("tiny.pth", sha(b"x"), 1,
                                         f"http://127.0.0.1:{port}/tiny.pth"),))
    with pytest.raises(FetchError, match=r"^tiny\.pth: cannot reach http://127\.0\.0\.1"):
        fetch_weights(dead, tmp_path / "w")
    assert not list((tmp_path / "w").rglob("tiny.pth"))


def _checkpoint_zip(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("CODE/readme.txt", b"non-commercial use only")
        for name, data in members.items():
            zf.writestr(name, data)
    return buf.getvalue()


def _zipped_checkpoint(httpd, data: bytes, index: bytes, *, index_sha: str | None = None):
    archive = _checkpoint_zip({"CODE/model/trained/model.data-00000-of-00001": data,
                               "CODE/model/trained/model.index": index})
    httpd.state.files["/repo/raw/c0ffee/code.zip"] = archive
    url = url_of(httpd, "/repo/raw/c0ffee/code.zip")
    files = (RemoteFile("model.data-00000-of-00001", sha(data), len(data), url,
                        "CODE/model/trained/model.data-00000-of-00001"),
             RemoteFile("model.index", index_sha or sha(index), len(index), url,
                        "CODE/model/trained/model.index"))
    return WeightsFile(name="model", sha256=sha(data), trained_on="", source="zip",
                       method="zipped", files=files)


def test_zip_archive_members_are_extracted_and_verified(server, tmp_path):
    data, index = payload(40_000, 6), payload(900, 7)
    w = _zipped_checkpoint(server, data, index)
    prefix = fetch_weights(w, tmp_path / "w")
    assert prefix == tmp_path / "w" / "zipped" / "model"
    folder = prefix.parent
    assert sorted(p.name for p in folder.iterdir()) == ["model.data-00000-of-00001",
                                                        "model.index"]  # zip removed
    assert (folder / "model.index").read_bytes() == index
    assert (folder / "model.data-00000-of-00001").read_bytes() == data
    assert [r[0] for r in server.state.requests] == ["/repo/raw/c0ffee/code.zip"]  # once
    found = locate(w, [Folder(tmp_path / "w", "--dir")])
    assert found is not None and found.path == prefix and found.digest == sha(data)


def test_a_bad_zip_member_is_kept_aside_and_nothing_is_placed(server, tmp_path):
    w = _zipped_checkpoint(server, payload(4_000, 8), payload(300, 9), index_sha="ab" * 32)
    with pytest.raises(ChecksumMismatch) as err:
        fetch_weights(w, tmp_path / "w")
    assert "model.index: sha256 mismatch" in one_line(err.value)
    assert "(CODE/model/trained/model.index)" in str(err.value)
    folder = tmp_path / "w" / "zipped"
    assert (folder / "model.index.sha256-mismatch").is_file()
    assert not (folder / "model.index").exists()
    assert not (folder / "model.data-00000-of-00001").exists()  # checked, but not placed


def test_mirror_base_url_serves_the_cache_layout(server, tmp_path, monkeypatch):
    data, index = payload(3_000, 10), payload(200, 11)
    w = _zipped_checkpoint(server, data, index)
    server.state.files.clear()  # the official archive is gone; the mirror has plain files
    server.state.files["/mirror/zipped/model.data-00000-of-00001"] = data
    server.state.files["/mirror/zipped/model.index"] = index
    base = url_of(server, "/mirror/")
    assert mirror_url(base, w, w.files[1]) == url_of(server, "/mirror/zipped/model.index")
    monkeypatch.setenv("DERAIN_WEIGHTS_BASE_URL", base)
    assert fetch_mod.base_url() == url_of(server, "/mirror")
    assert fetch_mod.base_url("http://127.0.0.1:1/x/") == "http://127.0.0.1:1/x"  # flag wins
    prefix = fetch_weights(w, tmp_path / "w", base=fetch_mod.base_url())
    assert (prefix.parent / "model.index").read_bytes() == index
    assert [r[0] for r in server.state.requests] == ["/mirror/zipped/model.data-00000-of-00001",
                                                     "/mirror/zipped/model.index"]


@pytest.mark.shared
def test_released_prenet_fetched_from_a_mirror_is_found_without_flags(server, tmp_path,
                                                                       shared_data):
    """End to end with the real file: `benchmark weights fetch` from a mirror (the CLI,
    env var for the mirror), then `create_model("prenet")` finds it on the search path."""
    from models.registry import create_model, get_card

    real = shared_data / "prenet_official" / "PReNet6_Rain100L.pth"
    server.state.files["/m/prenet/PReNet6_Rain100L.pth"] = real.read_bytes()
    res = CliRunner().invoke(main, ["weights", "fetch", "PReNet6_Rain100L.pth",
                                    "--base-url", url_of(server, "/m")])
    assert res.exit_code == 0, res.output
    cached = tmp_path / "cache" / "prenet" / "PReNet6_Rain100L.pth"
    assert f"prenet/PReNet6_Rain100L.pth: fetched to {cached}" in res.output
    res = CliRunner().invoke(main, ["weights", "fetch", "PReNet6_Rain100L.pth",
                                    "--base-url", url_of(server, "/m")])
    assert "already present" in res.output
    model = create_model("prenet")
    info = model.info()
    assert info["weights"] == str(cached) and info["weights_released_as"] == \
        "PReNet6_Rain100L.pth" and "card order" in info["weights_from"]
    assert model.weights_sha256 == get_card("prenet").weights[1].sha256


def test_cli_fetch_errors_are_one_line(server, tmp_path):
    res = CliRunner().invoke(main, ["weights", "fetch"])
    assert res.exit_code == 2 and "NAMES or --all" in res.output
    res = CliRunner().invoke(main, ["weights", "fetch", "PReNet6_Rain100X.pth"])
    assert res.exit_code == 1
    assert res.output.strip().startswith("error: no released weights named")
    assert "PReNet6_Rain100" in res.output and len(res.output.strip().splitlines()) == 1
    res = CliRunner().invoke(main, ["weights", "fetch", "model"])
    assert res.exit_code == 1 and "ddn/model" in res.output and "sirr/model" in res.output
    res = CliRunner().invoke(main, ["weights", "fetch", "Net_JORDER.pth", "--base-url",
                                    url_of(server, "/nothing")])
    assert res.exit_code == 1
    assert res.output.splitlines()[0].startswith("umrl/Net_JORDER.pth: fetching from http://")
    (line,) = [ln for ln in res.output.splitlines() if ln.startswith("error: ")]
    assert line.startswith("error: Net_JORDER.pth: HTTP 404 Not Found from http://127.0.0.1")
    assert "/nothing/umrl/Net_JORDER.pth" in line


def test_fetch_all_goes_on_after_a_failure_and_says_how_many(server, tmp_path):
    res = CliRunner().invoke(main, ["weights", "fetch", "umrl", "--dir", str(tmp_path / "d"),
                                    "--base-url", url_of(server, "/none")])
    assert res.exit_code == 1
    errors = [ln for ln in res.output.splitlines() if ln.startswith("error: ")]
    assert len(errors) == 4 and errors[-1].startswith("error: 3 of 3 weights file(s)")


def test_no_downloadable_file_without_files_is_refused(offline, tmp_path):
    w = WeightsFile(name="a.pt", sha256="00" * 32, trained_on="", source="bundled",
                    method="x")
    with pytest.raises(DataError, match="not downloadable"):
        fetch_weights(w, tmp_path)
