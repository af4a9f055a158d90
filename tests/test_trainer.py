"""UDRDR trainer: one step, logging, resume, DDP on CPU, non-finite stop, ablations, CLI.

All runs use a tiny net on 40x40 images generated here in the RainDirection layout
(``train/rainy/N.png``, ``latent/``, ``streak/``, ``direction/direction.txt``) plus a
folder of unpaired "real" images.
"""

from __future__ import annotations

import os
import socket
from pathlib import Path

import numpy as np
import pytest
import torch
from click.testing import CliRunner

from models import losses as L
from models.archs.udrdr import UDRDR
from models.cli import main as udrdr
from models.io.f3 import load_f3
from models.train import checkpoint as ckpt
from models.train.config import TrainConfig, config_from_dict
from models.train.log import read_log
from models.train.trainer import NonFiniteLoss, train
from raindata.errors import DataError
from raindata.imageio import write_png

N_PAIRS = 8
SIZE = 40


def _make_data(root: Path, labels: bool = True) -> None:
    rng = np.random.default_rng(7)
    lines = []
    for i in range(1, N_PAIRS + 1):
        clean = rng.integers(0, 200, (SIZE, SIZE, 3), dtype=np.uint8)
        streak = np.zeros((SIZE, SIZE), np.uint8)
        streak[:, i % 4::4] = 40 + 10 * (i % 3)  # vertical streaks: 90 degrees
        rainy = np.clip(clean.astype(np.int16) + streak[..., None], 0, 255).astype(np.uint8)
        if labels:
            write_png(root / "train" / "rainy" / f"{i}.png", rainy)
            write_png(root / "train" / "latent" / f"{i}.png", clean)
            write_png(root / "train" / "streak" / f"{i}.png", np.dstack([streak] * 3))
            lines.append(f"{i} 90")
        else:  # the generic paired layout: no direction labels
            write_png(root / "rainy" / f"{i}.png", rainy)
            write_png(root / "clean" / f"{i}.png", clean)
    if labels:
        (root / "train" / "direction").mkdir(parents=True)
        (root / "train" / "direction" / "direction.txt").write_text("\n".join(lines) + "\n")
    for i in range(5):
        img = rng.integers(0, 256, (SIZE + 6, SIZE, 3), dtype=np.uint8)
        write_png(root / "real" / f"r{i}.png", img)


@pytest.fixture(scope="module")
def data_root(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("udrdr_data")
    _make_data(root)
    return root


def tiny(root: Path, out: Path, **overrides) -> TrainConfig:
    """4 steps per epoch (8 pairs, batch 2), lr halved every epoch to exercise StepLR."""
    raw = {
        "model": {"n_blocks": 1, "f1_feats": 4, "f2_feats": 4, "f3_feats": 4},
        "optim": {"batch_size": 2, "epochs": 3, "lr_step_epochs": 1},
        "data": {"patch_size": 16, "workers": 0,
                 "synthetic": {"name": "raindirection", "root": str(root / "train")},
                 "real": {"name": "unpaired", "root": str(root / "real"), "split": ""}},
        "run": {"out": str(out), "checkpoint_every": 0, "progress": False},
    }
    return config_from_dict(raw).replace(**overrides)


def quiet(_: str) -> None:
    return None


def initial_net(cfg: TrainConfig) -> UDRDR:
    torch.manual_seed(cfg.run.seed)
    return UDRDR(cfg.model)


def same(a: torch.nn.Module, b: torch.nn.Module) -> bool:
    sa, sb = a.state_dict(), b.state_dict()
    return sa.keys() == sb.keys() and all(torch.equal(sa[k], sb[k]) for k in sa)


def test_one_step_trains_all_nets_and_logs_every_term(data_root: Path, tmp_path: Path) -> None:
    cfg = tiny(data_root, tmp_path / "run", **{"run.max_steps": 1})
    result = train(cfg, echo=quiet)
    init = initial_net(cfg)
    for name in ("f1", "f2", "f3"):
        assert not same(getattr(init, name), getattr(result.model, name)), name
    rows = read_log(tmp_path / "run" / "train_log.csv")
    assert len(rows) == 1 and rows[0]["step"] == "1" and rows[0]["epoch"] == "0"
    assert float(rows[0]["lr_teacher"]) == float(rows[0]["lr_student"]) == 8e-4
    terms = {t: float(rows[0][t]) for t in L.TERM_NAMES}
    assert all(np.isfinite(v) and v > 0 for v in terms.values()), terms
    assert float(rows[0]["total"]) == pytest.approx(sum(terms.values()))
    # checkpoint (weights_only) and F3 export hold the trained weights
    state = ckpt.load_checkpoint(result.checkpoint)
    assert state["step"] == 1 and set(state["optimizers"]) == {"teacher", "student"}
    assert all(torch.equal(v, result.model.f3.state_dict()[k])
               for k, v in state["models"]["f3"].items())
    f3, info = load_f3(result.f3)
    assert same(f3, result.model.f3) and info.meta["step"] == 1
    for name in ("config.toml", "provenance.json"):
        assert (tmp_path / "run" / name).is_file()


def test_resume_equals_uninterrupted(data_root: Path, tmp_path: Path) -> None:
    """6 steps straight vs. a run killed after step 3 (last checkpoint at 2) + --resume.

    Steps cross an epoch boundary (4 steps per epoch) with lr halving every epoch.
    """
    straight = train(tiny(data_root, tmp_path / "a", **{"run.max_steps": 6}), echo=quiet)
    out = tmp_path / "b"
    first = train(tiny(data_root, out, **{"run.max_steps": 3, "run.checkpoint_every": 2}),
                  echo=quiet)
    assert first.step == 3
    ckpt.checkpoint_path(out, 3).unlink()  # as if killed between checkpoints
    messages: list[str] = []
    resumed = train(tiny(data_root, out, **{"run.max_steps": 6, "run.checkpoint_every": 2}),
                    resume=True, echo=messages.append)
    assert any("step 2" in m for m in messages)
    assert resumed.step == 6
    assert same(straight.model, resumed.model)
    a, b = read_log(tmp_path / "a" / "train_log.csv"), read_log(out / "train_log.csv")
    assert [r["step"] for r in b] == [str(i) for i in range(1, 7)]
    for ra, rb in zip(a, b, strict=True):
        for col in (*L.TERM_NAMES, "lr_teacher", "lr_student", "epoch"):
            assert ra[col] == rb[col], (ra["step"], col)
    assert float(b[-1]["lr_teacher"]) == 4e-4  # epoch 1
    state = ckpt.load_checkpoint(resumed.checkpoint)
    assert state["schedulers"]["teacher"]["last_epoch"] == 1


def test_fresh_run_refuses_existing_checkpoints(data_root: Path, tmp_path: Path) -> None:
    cfg = tiny(data_root, tmp_path / "run", **{"run.max_steps": 1})
    train(cfg, echo=quiet)
    with pytest.raises(DataError, match="--resume"):
        train(cfg, echo=quiet)
    with pytest.raises(DataError, match=r"config differs in loss\.phi"):
        train(cfg.replace(**{"loss.phi": 1.0, "run.max_steps": 2}), resume=True, echo=quiet)


def test_nonfinite_loss_stops_and_keeps_last_good_checkpoint(
    data_root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = {"n": 0}
    real = L.recons_loss

    def nan_at_step_3(y, y_gt):
        calls["n"] += 1
        value = real(y, y_gt)
        return value * float("nan") if calls["n"] == 3 else value

    monkeypatch.setattr(L, "recons_loss", nan_at_step_3)
    out = tmp_path / "run"
    cfg = tiny(data_root, out, **{"run.max_steps": 6, "run.checkpoint_every": 1})
    with pytest.raises(NonFiniteLoss) as info:
        train(cfg, echo=quiet)
    msg = str(info.value)
    assert "step 3" in msg and "'recons'" in msg and "step-00000002.pt" in msg
    assert "\n" not in msg and info.value.step == 3 and info.value.term == "recons"
    assert [s for s, _ in ckpt.list_checkpoints(out)] == [1, 2]
    assert not (out / "udrdr_f3.pt").exists()
    rows = read_log(out / "train_log.csv")
    assert [r["step"] for r in rows] == ["1", "2", "3"] and rows[2]["recons"] == "nan"


def test_lambda_zero_never_computes_the_direction_term(
    data_root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def forbidden(*args, **kwargs):
        raise AssertionError("direction_loss called with loss.direction = 0")

    monkeypatch.setattr(L, "direction_loss", forbidden)
    cfg = tiny(data_root, tmp_path / "run", **{"run.max_steps": 1, "loss.direction": 0.0})
    train(cfg, echo=quiet)
    row = read_log(tmp_path / "run" / "train_log.csv")[0]
    assert row["direction"] == "" and float(row["content"]) > 0


def test_no_distillation_leaves_f3_untouched(data_root: Path, tmp_path: Path) -> None:
    cfg = tiny(data_root, tmp_path / "run", **{"run.max_steps": 2, "loss.distill": 0.0})
    result = train(cfg, echo=quiet)
    init = initial_net(cfg)
    assert same(init.f3, result.model.f3)
    assert not same(init.f1, result.model.f1)
    assert result.f3 is None and not (tmp_path / "run" / "udrdr_f3.pt").exists()
    state = ckpt.load_checkpoint(result.checkpoint)
    assert set(state["optimizers"]) == {"teacher"}
    row = read_log(tmp_path / "run" / "train_log.csv")[0]
    assert row["distill"] == "" and row["lr_student"] == ""


def test_single_optimizer_and_estimated_angles(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Unlabelled pairs (generic ``paired`` layout) with missing_angle = "estimate"."""
    root = tmp_path / "nolabels"
    _make_data(root, labels=False)
    import models.train.trainer as T

    seen = []
    real_estimate = T.estimate_angles

    def spy(z):
        angles = real_estimate(z)
        seen.append(angles)
        return angles

    monkeypatch.setattr(T, "estimate_angles", spy)
    cfg = tiny(root, tmp_path / "run", **{
        "data.synthetic.name": "paired", "data.synthetic.root": str(root),
        "data.synthetic.split": "test", "data.real.root": str(root / "real"),
        "loss.missing_angle": "estimate", "optim.separate": False, "run.max_steps": 1})
    result = train(cfg, echo=quiet)
    assert len(seen) == 1 and seen[0].shape == (2,)
    # vertical streaks (90 deg), possibly transposed by the augmentation (0 deg)
    assert all(min(abs(a - 90), abs(a), abs(a - 180)) < 5 for a in seen[0].tolist())
    assert set(ckpt.load_checkpoint(result.checkpoint)["optimizers"]) == {"all"}
    assert not same(initial_net(cfg).f3, result.model.f3)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _ddp_worker(rank: int, world: int, port: int, raw: dict, out: str) -> None:
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port), RANK=str(rank),
                      WORLD_SIZE=str(world), LOCAL_RANK=str(rank))
    torch.set_num_threads(1)
    result = train(config_from_dict(raw), echo=quiet)
    torch.save(result.model.state_dict(), Path(out) / f"rank{rank}.pt")


@pytest.mark.slow
def test_ddp_two_cpu_processes_agree(data_root: Path, tmp_path: Path) -> None:
    """gloo, 2 processes, 3 steps: identical weights on both ranks, equal (to float
    rounding) to one process with the same global batch; only rank 0 writes."""
    cfg = tiny(data_root, tmp_path / "ddp", **{"run.max_steps": 3})
    torch.multiprocessing.spawn(_ddp_worker, args=(2, _free_port(), cfg.to_dict(),
                                                   str(tmp_path)), nprocs=2, join=True)
    r0 = torch.load(tmp_path / "rank0.pt", weights_only=True)
    r1 = torch.load(tmp_path / "rank1.pt", weights_only=True)
    assert all(torch.equal(r0[k], r1[k]) for k in r0)
    single = train(cfg.replace(**{"run.out": str(tmp_path / "single")}), echo=quiet)
    ref = single.model.state_dict()
    worst = max((r0[k] - ref[k]).abs().max().item() for k in ref)
    assert worst < 1e-5, worst
    init = initial_net(cfg).state_dict()
    assert any(not torch.equal(r0[k], init[k]) for k in init)
    assert len(read_log(tmp_path / "ddp" / "train_log.csv")) == 3
    import json

    sessions = json.loads((tmp_path / "ddp" / "provenance.json").read_text())["sessions"]
    assert len(sessions) == 1 and sessions[0]["world_size"] == 2


def test_cli_help_and_run(data_root: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(udrdr, ["train", "--help"])
    assert result.exit_code == 0
    for word in ("--config", "--set", "--resume", "loss.direction=0", "torchrun"):
        assert word in result.output
    from models.train.config import dump_toml

    cfg_path = tmp_path / "tiny.toml"
    cfg_path.write_text(dump_toml(tiny(data_root, tmp_path / "run")), encoding="utf-8")
    ok = runner.invoke(udrdr, ["train", "--config", str(cfg_path), "--set", "run.max_steps=1"])
    assert ok.exit_code == 0, ok.output
    assert (tmp_path / "run" / "udrdr_f3.pt").is_file()
    bad = runner.invoke(udrdr, ["train", "--config", str(cfg_path), "--set", "loss.lamda=0"])
    assert bad.exit_code == 1
    assert "error:" in bad.output and "unknown key 'loss.lamda'" in bad.output


def test_f2_losses_can_be_kept_from_f1():
    """``loss.f2_losses_train_f1 = false``: recons reaches F2 but not F1 (Sec. 3.4, literally)."""
    import torch

    from models.archs.udrdr import UDRDR, UDRDRConfig
    from models.train.trainer import _Teacher

    for joint in (True, False):
        torch.manual_seed(0)
        net = UDRDR(UDRDRConfig.tiny())
        _z, y = _Teacher(net, f2_trains_f1=joint)(torch.rand(1, 3, 12, 12))
        y.abs().mean().backward()
        f1_grad = sum(p.grad.abs().sum() for p in net.f1.parameters() if p.grad is not None)
        f2_grad = sum(p.grad.abs().sum() for p in net.f2.parameters() if p.grad is not None)
        assert f2_grad > 0
        assert (f1_grad > 0) == joint
