"""bench/baselines.py: the jobs it runs, sharded and tiled as documented (no network run)."""

from __future__ import annotations

import sys

import pytest


@pytest.fixture
def baselines(bench_script):
    return bench_script("baselines")


def test_sirr_jobs_one_per_method_cheapest_first_derainnet_tiled(baselines):
    sirr = [j for j in baselines.jobs(None) if j.dataset == "sirr"]
    methods = [j.method for j in sirr]
    assert len(methods) == len(set(methods))  # one weights file per method
    assert methods == sorted(methods, key=baselines.SIRR_ORDER.index)
    for job in sirr:
        cmd = job.command()
        assert ("--tile" in cmd) == (job.method == "derainnet"), job.name
    derainnet = next(j for j in sirr if j.method == "derainnet").command()
    assert derainnet[derainnet.index("--tile") + 1] == "1440"
    rain100 = next(j for j in baselines.jobs(["derainnet"]) if j.dataset == "rain100l")
    assert "--tile" not in rain100.command()  # Rain100 images run whole


def test_run_jobs_splits_every_run_into_shards(baselines, bench_script, tmp_path, monkeypatch):
    started: list[list[str]] = []

    class Done:
        returncode = 0

        def __init__(self, cmd, **kwargs):
            started.append(cmd)
            assert kwargs["env"]["OMP_NUM_THREADS"] == "1"

        def poll(self):
            return 0

    lanes = bench_script("lanes")
    monkeypatch.setattr(baselines, "RESULTS", tmp_path)
    monkeypatch.setattr(lanes.subprocess, "Popen", Done)
    monkeypatch.setattr(lanes.time, "sleep", lambda s: None)
    todo = [j for j in baselines.jobs(["umrl"]) if j.dataset == "sirr"]
    baselines.run_jobs(todo, lanes=2, shards=2)
    assert [c[c.index("--shard") + 1] for c in started] == ["0/2", "1/2"]
    assert all(c[:-2] == todo[0].command() for c in started)  # the same run otherwise
    started.clear()
    baselines.run_jobs(todo, lanes=2)
    assert started == [todo[0].command()] and "--shard" not in started[0]


def test_lanes_append_output_to_each_log_and_name_the_failures(bench_script, tmp_path, capsys):
    lanes = bench_script("lanes")
    py = sys.executable
    tasks = [("ok", [py, "-c", "print('fine')"], tmp_path / "logs" / "ok.log"),
             ("bad", [py, "-c", "import sys; sys.exit('broken')"], tmp_path / "logs" / "bad.log")]
    (tmp_path / "logs").mkdir()
    (tmp_path / "logs" / "ok.log").write_text("earlier\n")
    assert lanes.run_in_lanes(tasks, lanes=2, cwd=tmp_path, poll_s=0.01) == ["bad"]
    assert (tmp_path / "logs" / "ok.log").read_text() == "earlier\nfine\n"
    assert "broken" in (tmp_path / "logs" / "bad.log").read_text()  # stderr goes there too
    out = capsys.readouterr().out
    assert "done ok in" in out and "FAILED (1) bad in" in out
