"""UDRDR training config: TOML loading, --set overrides, type checks, unknown keys."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from models.archs.udrdr import UDRDRConfig
from models.losses import LossWeights
from models.train.config import (
    TrainConfig,
    config_from_dict,
    diff_keys,
    dump_toml,
    load_config,
    parse_override,
)
from raindata.errors import DataError

REPO = Path(__file__).resolve().parents[1]


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "c.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults_are_the_paper_settings() -> None:
    """Sec. 3.4 and 4.2 of the paper (batch 12, Adam 0.9/0.999/1e-4, lr 8e-4, ...)."""
    cfg = TrainConfig()
    assert cfg.model == UDRDRConfig.paper()
    assert LossWeights(**{k: getattr(cfg.loss, k) for k in LossWeights.field_names()}) == \
        LossWeights()
    o = cfg.optim
    assert (o.lr, o.betas, o.eps, o.lr_step_epochs, o.lr_gamma, o.epochs, o.batch_size) == \
        (8e-4, (0.9, 0.999), 1e-4, 40, 0.5, 200, 12)


def test_shipped_configs_load(tmp_path: Path) -> None:
    paper = load_config(REPO / "configs" / "paper.toml")
    assert paper.model == UDRDRConfig.paper()
    assert paper.optim == TrainConfig().optim
    assert (paper.loss.direction, paper.loss.distill, paper.loss.phi) == (1.2, 1.0, 10.0)
    assert paper.data.synthetic.name == "raindirection"
    assert paper.data.real.name == "real3000"
    demo = load_config(REPO / "configs" / "demo.toml")
    assert demo.data.synthetic.name == "demo"
    assert demo.model.f3_feats < paper.model.f3_feats


def test_load_toml_and_overrides(tmp_path: Path) -> None:
    path = write(tmp_path, '[model]\nn_blocks = 2\n[optim]\nlr = 1e-3\n'
                           '[data.real]\nname = "unpaired"\nroot = "x"\n')
    cfg = load_config(path, ["optim.betas=[0.5, 0.9]", "loss.direction=0",
                             "run.out=runs/with space", 'data.real.root="a/b"',
                             "run.amp=false", "optim.lr=2"])
    assert cfg.model.n_blocks == 2 and cfg.model.f1_feats == 64
    assert cfg.optim.betas == (0.5, 0.9)
    assert cfg.optim.lr == 2.0 and isinstance(cfg.optim.lr, float)  # int accepted for float
    assert cfg.loss.direction == 0.0 and cfg.loss.recons == 1.0
    assert cfg.run.out == "runs/with space"  # bare strings need no quotes
    assert cfg.data.real.root == "a/b" and cfg.data.real.name == "unpaired"
    assert cfg.run.amp is False


@pytest.mark.parametrize(("text", "needle"), [
    ("[model]\nn_block = 2\n", "did you mean n_blocks"),
    ("[optimizer]\nlr = 1\n", "did you mean optim"),
    ("[data.reel]\nroot = 'x'\n", "did you mean real"),
])
def test_unknown_keys_are_refused_with_close_matches(tmp_path: Path, text, needle) -> None:
    with pytest.raises(DataError, match=needle) as info:
        load_config(write(tmp_path, text))
    assert "c.toml" in str(info.value) and "\n" not in str(info.value)


@pytest.mark.parametrize(("override", "needle"), [
    ("model.n_blocks=2.5", "model.n_blocks: expected an integer"),
    ("model.n_blocks=true", "model.n_blocks: expected an integer"),
    ("run.amp=1", "run.amp: expected true or false"),
    ("optim.lr=fast", "optim.lr: expected a number"),
    ("optim.betas=[0.9]", "optim.betas: expected an array of 2"),
    ("data.patch_size=0", "data.patch_size: expected a number >= 1"),
    ("optim.lr=-1", "optim.lr: expected a number > 0"),
    ("run.device=gpu", "run.device: expected cpu, cuda or cuda:N"),
    ("loss.missing_angle=guess", "missing_angle"),
    ("data=3", "data: expected a table"),
    ("optim.lr.x=1", "'lr' is a value"),
])
def test_type_and_range_errors_name_the_key(override, needle) -> None:
    with pytest.raises(DataError, match=needle):
        load_config(None, [override])


def test_bad_override_syntax_and_missing_file(tmp_path: Path) -> None:
    for bad in ("noequals", "=3", "a..b=1"):
        with pytest.raises(DataError, match="--set"):
            load_config(None, [bad])
    with pytest.raises(DataError, match="config file not found"):
        load_config(tmp_path / "missing.toml")
    with pytest.raises(DataError, match="not valid TOML"):
        load_config(write(tmp_path, "[model\n"))


def test_parse_override_uses_toml_values() -> None:
    assert parse_override("a.b=1") == ("a.b", 1)
    assert parse_override("a=1.5") == ("a", 1.5)
    assert parse_override("a=[1, 2]") == ("a", [1, 2])
    assert parse_override('a="1"') == ("a", "1")
    assert parse_override("a = data/x y") == ("a", "data/x y")


def test_dump_round_trips(tmp_path: Path) -> None:
    cfg = load_config(None, ["model.n_blocks=3", "run.out=a\"b\\c", "optim.betas=[0.8, 0.95]",
                             "data.real.split="])
    text = dump_toml(cfg, "header line")
    assert text.startswith("# header line\n")
    tomllib.loads(text)
    assert load_config(write(tmp_path, text)) == cfg
    assert config_from_dict(cfg.to_dict()) == cfg


def test_replace_and_diff_keys() -> None:
    cfg = TrainConfig()
    other = cfg.replace(**{"run.max_steps": 3, "loss.phi": 5.0})
    assert diff_keys(cfg.to_dict(), other.to_dict()) == ["loss.phi", "run.max_steps"]
    with pytest.raises(KeyError, match="did you mean max_steps"):
        cfg.replace(**{"run.max_step": 3})
