"""Run commands a few at a time (the bench drivers' lanes), one torch thread each."""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Sequence
from pathlib import Path


def run_in_lanes(tasks: Sequence[tuple[str, list[str], Path]], lanes: int, cwd: Path,
                 poll_s: float = 5.0) -> list[str]:
    """Run each ``(name, command, log)`` with ``OMP_NUM_THREADS=1``, ``lanes`` at a time,
    in order; stdout and stderr are appended to ``log`` (closed when the process ends).
    Prints a line when each starts and ends; returns the names of those that failed."""
    todo = list(tasks)
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    active: list[tuple[str, subprocess.Popen, object, float]] = []
    failed: list[str] = []
    while todo or active:
        while todo and len(active) < lanes:
            name, cmd, log_path = todo.pop(0)
            log_path.parent.mkdir(parents=True, exist_ok=True)
            log = open(log_path, "a")  # noqa: SIM115 - closed when the process ends
            print(f"start {name}: {' '.join(cmd)}", flush=True)
            proc = subprocess.Popen(cmd, cwd=cwd, stdout=log, stderr=subprocess.STDOUT, env=env)
            active.append((name, proc, log, time.time()))
        time.sleep(poll_s)
        for item in list(active):
            name, proc, log, started = item
            if proc.poll() is None:
                continue
            active.remove(item)
            log.close()
            status = "done" if proc.returncode == 0 else f"FAILED ({proc.returncode})"
            print(f"{status} {name} in {(time.time() - started) / 60:.1f} min", flush=True)
            if proc.returncode:
                failed.append(name)
    return failed
