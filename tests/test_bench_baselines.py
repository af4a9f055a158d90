"""bench/baselines.py: the jobs it runs, sharded and tiled as documented (no network run)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "bench" / "baselines.py"


@pytest.fixture(scope="module")
def baselines():
    spec = importlib.util.spec_from_file_location("bench_baselines", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    try:
        spec.loader.exec_module(module)
        yield module
    finally:
        sys.modules.pop(spec.name, None)


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


def test_run_jobs_splits_every_run_into_shards(baselines, tmp_path, monkeypatch):
    started: list[list[str]] = []

    class Done:
        returncode = 0

        def __init__(self, cmd, **kwargs):
            started.append(cmd)
            assert kwargs["env"]["OMP_NUM_THREADS"] == "1"

        def poll(self):
            return 0

    monkeypatch.setattr(baselines, "RESULTS", tmp_path)
    monkeypatch.setattr(baselines.subprocess, "Popen", Done)
    monkeypatch.setattr(baselines.time, "sleep", lambda s: None)
    todo = [j for j in baselines.jobs(["umrl"]) if j.dataset == "sirr"]
    baselines.run_jobs(todo, lanes=2, shards=2)
    assert [c[c.index("--shard") + 1] for c in started] == ["0/2", "1/2"]
    assert all(c[:-2] == todo[0].command() for c in started)  # the same run otherwise
    started.clear()
    baselines.run_jobs(todo, lanes=2)
    assert started == [todo[0].command()] and "--shard" not in started[0]
