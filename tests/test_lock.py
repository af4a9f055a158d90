"""One writer per output (issue 11, item 4 and 6): the lock file, stale locks, and every
command that writes a folder or a file refusing (or, `benchmark run`, waiting for) a
second writer. Other writers are real processes: a helper that holds a lock, or the
command itself run in a subprocess and slowed down so that the two overlap."""

from __future__ import annotations

import contextlib
import errno
import json
import os
import signal
import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from raindata.errors import DataError
from raindata.imageio import write_png

PROJECT = Path(__file__).resolve().parents[1]

HOLD = textwrap.dedent("""
    import sys, time
    from raindata.lock import lock_file, lock_folder
    kind, path, seconds = sys.argv[1], sys.argv[2], float(sys.argv[3])
    with (lock_folder if kind == "folder" else lock_file)(path):
        print("held", flush=True)
        time.sleep(seconds)
""")


def _python(code: str, *args: str, stdout=subprocess.PIPE) -> subprocess.Popen:
    """A Python subprocess running ``code`` with this checkout's packages."""
    env = {**os.environ, "PYTHONPATH": str(PROJECT), "OMP_NUM_THREADS": "1"}
    return subprocess.Popen([sys.executable, "-c", code, *args], cwd=PROJECT, env=env,
                            stdout=stdout, stderr=subprocess.PIPE, text=True)


def _stop(proc: subprocess.Popen) -> None:
    """Kill ``proc`` (if still running), reap it and close its pipes."""
    proc.kill()
    proc.communicate()


@contextlib.contextmanager
def held_elsewhere(path: Path, kind: str = "folder", seconds: float = 120):
    """Another process holding the lock of ``path`` while the block runs."""
    proc = _python(HOLD, kind, str(path), str(seconds))
    try:
        line = proc.stdout.readline().strip()
        assert line == "held", proc.stderr.read()
        yield proc
    finally:
        _stop(proc)


def _killed_holder(path: Path, kind: str = "folder") -> int:
    """Take the lock of ``path`` in a process, kill -9 it; returns its pid."""
    with held_elsewhere(path, kind) as proc:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        return proc.pid


def _refusal(make_lock) -> str:
    """The message of the LockedError that acquiring ``make_lock()`` raises."""
    from raindata.lock import LockedError

    with pytest.raises(LockedError) as info:
        make_lock().acquire()
    return str(info.value)


def _one_error(output: str) -> str:
    lines = [ln for ln in output.strip().splitlines() if ln.strip()]
    errors = [ln for ln in lines if ln.startswith("error: ")]
    assert len(errors) == 1 and "Traceback" not in output, output
    return errors[0]


# -- the lock itself ----------------------------------------------------------------------


def test_lock_file_names_the_owner_and_goes_away_on_release(tmp_path):
    from raindata.lock import LOCK_NAME, lock_folder, read_holder

    out = tmp_path / "a" / "b"
    with lock_folder(out) as lock:
        holder = read_holder(out / LOCK_NAME)
        assert holder.pid == os.getpid() and holder.host == socket.gethostname()
        assert holder.since[:4].isdigit() and lock.stale is None
    assert not (out / LOCK_NAME).exists()
    assert not (tmp_path / "a").exists()  # folders made for the lock alone are removed
    with pytest.raises(ZeroDivisionError), lock_folder(out):
        raise ZeroDivisionError
    assert not (tmp_path / "a").exists()  # released on exceptions too


def test_second_writer_is_refused_naming_the_holder(tmp_path):
    from raindata.lock import LockedError, lock_folder

    out = tmp_path / "out"
    with held_elsewhere(out) as proc, pytest.raises(LockedError) as info:
        lock_folder(out).acquire()
    msg = str(info.value)
    assert msg.startswith(f"{out}: in use by pid {proc.pid} on {socket.gethostname()}, since ")
    assert "\n" not in msg


def test_stale_lock_of_a_killed_process_is_taken_over(tmp_path):
    from raindata.lock import LOCK_NAME, lock_folder

    out = tmp_path / "out"
    dead = _killed_holder(out)
    assert json.loads((out / LOCK_NAME).read_text())["pid"] == dead  # left behind
    with lock_folder(out) as lock:
        assert lock.stale is not None and lock.stale.pid == dead
    assert not (out / LOCK_NAME).exists()


def test_without_flock_the_pid_decides(tmp_path, monkeypatch):
    """On a filesystem without flock: a dead pid on this host is stale, a live one holds."""
    import raindata.lock as lockmod

    def no_flock(fd, op):
        raise OSError(errno.ENOLCK, "no locks available")

    out = tmp_path / "out"
    dead = _killed_holder(out)
    monkeypatch.setattr(lockmod.fcntl, "flock", no_flock)
    with lockmod.lock_folder(out) as lock:
        assert lock.stale.pid == dead
    with held_elsewhere(tmp_path / "other") as proc:
        assert f"pid {proc.pid}" in _refusal(lambda: lockmod.lock_folder(tmp_path / "other"))


def test_wait_mode_waits_for_the_holder(tmp_path):
    from raindata.lock import lock_folder

    out = tmp_path / "out"
    seen = []
    with held_elsewhere(out, seconds=1.5) as proc:
        t0 = time.perf_counter()
        with lock_folder(out, wait=True, on_wait=seen.append):
            waited = time.perf_counter() - t0
    assert [h.pid for h in seen] == [proc.pid] and waited > 0.3


# -- raindata synth -----------------------------------------------------------------------


@pytest.fixture
def clean(tmp_path) -> Path:
    folder = tmp_path / "clean"
    rng = np.random.default_rng(0)
    for i in (1, 2, 3):
        write_png(folder / f"img{i}.png", rng.integers(0, 256, (40, 48, 3), dtype=np.uint8))
    return folder


GATE = textwrap.dedent("""
    import time
    from pathlib import Path
    def wait_for(path, timeout=120):
        end = time.time() + timeout
        while not Path(path).exists() and time.time() < end:
            time.sleep(0.02)
""")
"""``wait_for(path)``: how a slowed-down first writer waits until the test lets it finish."""

SLOW_SYNTH = GATE + textwrap.dedent("""
    import sys
    from raindata.synth import SynthConfig, synthesize
    synthesize(sys.argv[1], sys.argv[2], SynthConfig(count=12, seed=1),
               progress=lambda k: wait_for(sys.argv[3]))
""")


def test_two_synth_processes_into_one_out(clean, tmp_path):
    """A second `raindata synth` (another seed) while the first runs is refused, naming it;
    the folder holds the first run's files only."""
    out = tmp_path / "out"
    go = tmp_path / "go"
    first = _python(SLOW_SYNTH, str(clean), str(out), str(go))
    try:
        deadline = time.time() + 60
        while not (out / ".synth-journal.jsonl").exists():  # the first one is working
            assert first.poll() is None and time.time() < deadline, first.stderr.read()
            time.sleep(0.05)
        second = _python("import sys; from raindata.cli import main; main()", "synth",
                         "--clean", str(clean), "--out", str(out), "--count", "12",
                         "--seed", "2")
        _, err = second.communicate(timeout=120)  # reaps it and closes its pipes
        assert second.returncode == 1
        assert f"in use by pid {first.pid} on {socket.gethostname()}" in _one_error(err)
        go.touch()
        assert first.wait(timeout=120) == 0, first.stderr.read()
    finally:
        _stop(first)
    meta = json.loads((out / "synth.json").read_text())
    assert meta["config"]["seed"] == 1 and meta["summary"]["count"] == 12
    assert len(list((out / "rainy").glob("*.png"))) == 12
    assert not (out / ".lock").exists()


def test_synth_refused_while_locked_and_stale_lock_taken_over(clean, tmp_path):
    from raindata.cli import main

    out = tmp_path / "out"
    args = ["synth", "--clean", str(clean), "--out", str(out), "--count", "2"]
    with held_elsewhere(out) as proc:
        res = CliRunner().invoke(main, args)
    assert res.exit_code == 1 and f"in use by pid {proc.pid}" in _one_error(res.output)
    assert not (out / "synth.json").exists()
    _killed_holder(out)
    res = CliRunner().invoke(main, args)
    assert res.exit_code == 0, res.output
    assert sorted(p.name for p in out.iterdir()) == [
        "direction", "latent", "manifest.csv", "rainy", "streak", "synth.json"]


# -- raindata pack ------------------------------------------------------------------------


def _pack_tree(root: Path) -> None:
    rng = np.random.default_rng(1)
    for i in (1, 2):
        img = rng.integers(0, 256, (32, 32, 3), dtype=np.uint8)
        write_png(root / "rainy" / f"{i}.png", img)
        write_png(root / "clean" / f"{i}.png", img // 2)


def test_pack_lock_and_stale_temp_files(tmp_path):
    """A second pack of the same file is refused, and a live writer's temp file is left
    alone; the temp file of a killed pack (kill -9) is removed by the next pack."""
    from raindata.cli import main

    root = tmp_path / "data"
    _pack_tree(root)
    out = tmp_path / "c.h5"
    args = ["pack", "paired", str(root), "--out", str(out), "--patch", "16"]
    live_tmp = tmp_path / ".c.h5.ab12cd34.tmp.h5"
    with held_elsewhere(out, kind="file") as proc:
        live_tmp.write_bytes(b"\0" * 1000)  # what the holder is writing
        res = CliRunner().invoke(main, args)
        assert res.exit_code == 1 and f"in use by pid {proc.pid}" in _one_error(res.output)
        assert live_tmp.exists() and not out.exists()
    # the holder is gone (as after kill -9): its temp file is stale now
    other = tmp_path / ".d.h5.ab12cd34.tmp.h5"  # another target's: not ours to remove
    other.write_bytes(b"x")
    res = CliRunner().invoke(main, args)
    assert res.exit_code == 0, res.output
    assert out.is_file() and not live_tmp.exists() and other.exists()
    assert not (tmp_path / ".c.h5.lock").exists()


def test_pack_killed_mid_write_leaves_a_temp_the_next_run_removes(tmp_path):
    """kill -9 of a real `raindata pack` in the middle of its write."""
    from raindata.cli import main

    root = tmp_path / "data"
    _pack_tree(root)
    out = tmp_path / "c.h5"
    code = textwrap.dedent("""
        import sys, time
        import raindata.pack as pack
        real = pack.load_checked_pair
        def slow(sample):
            print("writing", flush=True)
            time.sleep(60)
        pack.load_checked_pair = slow
        from raindata.cli import main
        main()
    """)
    proc = _python(code, "pack", "paired", str(root), "--out", str(out), "--patch", "16")
    try:
        assert proc.stdout.readline().strip() == "writing", proc.stderr.read()
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    finally:
        _stop(proc)
    temps = list(tmp_path.glob(".c.h5.*.tmp.h5"))
    assert len(temps) == 1 and (tmp_path / ".c.h5.lock").exists()
    res = CliRunner().invoke(main, ["pack", "paired", str(root), "--out", str(out),
                                    "--patch", "16"])
    assert res.exit_code == 0, res.output
    assert not temps[0].exists() and out.is_file()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c.h5", "data"]


# -- udrdr train --------------------------------------------------------------------------


SLOW_TRAIN = GATE + textwrap.dedent("""
    import sys
    from models.train import trainer
    from models.train.config import load_config
    real = trainer.Trainer.update
    def slow(self, *a):
        wait_for(sys.argv[2])
        return real(self, *a)
    trainer.Trainer.update = slow
    trainer.train(load_config(sys.argv[1], ["run.max_steps=12"]), echo=lambda s: None)
""")


def _train_config(data: Path, out: Path, path: Path, seed: int) -> Path:
    from test_trainer import tiny

    from models.train.config import dump_toml

    path.write_text(dump_toml(tiny(data, out, **{"run.seed": seed})), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def train_data(tmp_path_factory) -> Path:
    from test_trainer import _make_data

    root = tmp_path_factory.mktemp("lock_train_data")
    _make_data(root)
    return root


def test_second_train_into_one_run_out_is_refused(train_data, tmp_path):
    """Two `udrdr train` runs (other seeds) into one run.out: the second is refused while
    the first runs, and the first's log holds its own 12 rows only."""
    from models.cli import main as udrdr
    from models.train.log import read_log

    out = tmp_path / "run"
    go = tmp_path / "go"
    first = _python(SLOW_TRAIN, str(_train_config(train_data, out, tmp_path / "a.toml", 1)),
                    str(go))
    try:
        deadline = time.time() + 120
        while not (out / "train_log.csv").exists():
            assert first.poll() is None and time.time() < deadline, first.stderr.read()
            time.sleep(0.05)
        cfg_b = _train_config(train_data, out, tmp_path / "b.toml", 2)
        res = CliRunner().invoke(udrdr, ["train", "--config", str(cfg_b),
                                         "--set", "run.max_steps=12"])
        assert res.exit_code == 1
        assert f"{out}: in use by pid {first.pid}" in _one_error(res.output)
        go.touch()
        assert first.wait(timeout=300) == 0, first.stderr.read()
    finally:
        _stop(first)
    rows = read_log(out / "train_log.csv")
    assert [r["step"] for r in rows] == [str(i) for i in range(1, 13)]
    assert not (out / ".lock").exists()


def test_train_takes_over_a_stale_lock_and_removes_stale_temps(train_data, tmp_path):
    from test_trainer import tiny

    from models.train import checkpoint as ckpt
    from models.train.trainer import train

    out = tmp_path / "run"
    _killed_holder(out)
    (out / "checkpoints").mkdir()
    stale = out / "checkpoints" / ".step-00000001.pt.x1y2z3w4.tmp"
    stale.write_bytes(b"half a checkpoint")
    result = train(tiny(train_data, out, **{"run.max_steps": 1}), echo=lambda s: None)
    assert result.step == 1 and not stale.exists() and not (out / ".lock").exists()
    assert [s for s, _ in ckpt.list_checkpoints(out)] == [1]


# -- udrdr derain and benchmark run ------------------------------------------------------


def test_derain_refused_while_its_out_is_locked(tmp_path):
    from models.cli import main as udrdr

    write_png(tmp_path / "in" / "a.png", np.zeros((16, 16, 3), np.uint8))
    out = tmp_path / "out"
    with held_elsewhere(out) as proc:
        res = CliRunner().invoke(udrdr, ["derain", str(tmp_path / "in"), "--out", str(out)])
    assert res.exit_code == 1 and f"{out}: in use by pid {proc.pid}" in _one_error(res.output)
    assert not (out / "a.png").exists()


SLOW_RUN = GATE + textwrap.dedent("""
    import sys
    from benchmark import scoring
    from benchmark.runner import RunRequest, run_one
    real = scoring.Scorer.score
    def slow(self, *a):
        print("scoring", flush=True)
        wait_for(sys.argv[3])
        return real(self, *a)
    scoring.Scorer.score = slow
    run_one(RunRequest(method="input", dataset="paired", data_root=sys.argv[1],
                       results=Path(sys.argv[2]), metrics=("psnr",)), log=lambda m: None)
""")


def test_identical_benchmark_runs_at_once_do_the_work_once(tmp_path):
    """The second of two identical `benchmark run`s waits for the first, then has nothing
    left to do; the scores are the same as one run's."""
    from benchmark.runner import RunRequest, run_one

    root = tmp_path / "data"
    _pack_tree(root)
    for i in (3, 4, 5):
        write_png(root / "rainy" / f"{i}.png", np.full((32, 32, 3), 9 * i, np.uint8))
        write_png(root / "clean" / f"{i}.png", np.full((32, 32, 3), 10 * i, np.uint8))
    res = tmp_path / "res"
    go = tmp_path / "go"
    first = _python(SLOW_RUN, str(root), str(res), str(go))
    try:
        assert first.stdout.readline().strip() == "scoring", first.stderr.read()
        notes: list[str] = []

        def log(message: str) -> None:  # the second run waits: let the first one finish
            notes.append(message)
            go.touch()

        out = run_one(RunRequest(method="input", dataset="paired", data_root=str(root),
                                 results=res, metrics=("psnr",)), log=log)
        go.touch()
        assert first.wait(timeout=120) == 0, first.stderr.read()
    finally:
        _stop(first)
    assert any(f"by pid {first.pid}" in n and "waiting" in n for n in notes), notes
    assert out.attempted == 0 and out.newly_scored == 0
    assert out.record.status == "complete" and len(out.rows) == 5
    assert not (out.folder / ".lock").exists()


def test_lock_on_a_file_path_refused(tmp_path):
    from raindata.lock import lock_folder

    (tmp_path / "f").write_text("x")
    with pytest.raises(DataError, match="is not a folder"):
        lock_folder(tmp_path / "f")
