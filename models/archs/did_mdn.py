"""DID-MDN (Zhang and Patel, CVPR 2018): the bare ``nn.Module``s, no training code.

The official test (``test.py``) runs three networks, each released as its own file:

1. :class:`ResidueNet` (official ``derain_residual.Dense_rain_residual``, 182,947
   parameters, ``residual_heavy/netG_epoch_6.pth``) estimates the rain residual with the
   density label 0;
2. :class:`DensityClassifier` (official ``derain_dense.vgg19ca``, 65,501,084 parameters,
   ``classification/netG_epoch_9.pth``) classifies ``input - residue_net(input)`` into
   four classes; the label given to the generator is ``argmax(softmax) + 1``;
3. :class:`DenseRain` (official ``derain_dense.Dense_rain``, the deraining generator,
   372,839 parameters, ``pre_trained/netG_epoch_9.pth``) takes the image and the label
   (as 8 constant channels) and returns ``(residual, clean)``; ``clean`` is the result.

:class:`DIDMDN` chains them as the test does. Parameter names follow the official classes
so that each released file loads with ``strict=True`` into its part. Facts of the
official code kept here:

- every network runs in training mode (the README: "use netG.train() for testing"), so
  batch norm uses the statistics of the image itself (:class:`ImageStatsBatchNorm2d`);
- the classifier's first linear layer takes 24 x 73 x 73 features: inputs are 512 x 512;
- layers that the official forwards never use (``batchnorm20``, ``conv21``..``conv61``,
  the branches' ``conv_refin``/``refine3``, the residue net's own ``dense_block*``) are
  kept, frozen, so that the files load.

Differences: the official generator builds its label planes as W x W and so fails on
non-square inputs; here they take the input's size. Labels may differ per image of a batch.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from models.archs.dense import DenseLayer, ImageStatsBatchNorm2d, Transition

LEAK = 0.2
"""Negative slope of the official LeakyReLUs."""

CLASSIFIER_SIDE = 512
"""Input side the density classifier's linear layer is built for."""

POOLS = (32, 16, 8, 4)
"""Average-pool sizes of the pyramid before ``refine3`` (``conv1010``..``conv1040``)."""


Stage = tuple[int, int, int, str]
"""(input channels, growth, transition output channels, resample) of one dense stage."""


def _freeze(*modules: nn.Module) -> None:
    for m in modules:
        m.requires_grad_(False)


class Branch(nn.Module):
    """Six dense stages (``dense_block{k}`` + ``trans_block{k}``) with the skips of the
    official ``Dense_base_down*``: stage 4's output is joined to stage 2's and stage 5's
    to stage 1's (``cat``: concatenated; ``add``: summed).

    With ``side`` (input channels of ``conv11``..``conv61``), the output is stage 6's,
    five copies of ``lrelu(conv11(stage 1))`` upsampled, and the input, concatenated (the
    official forward computes ``conv11`` five times; ``conv21``..``conv61`` are unused).
    ``extras`` adds the unused ``conv_refin``, ``refine3``, ``batchnorm20``/``1`` (and
    ``conv1010``..``conv1040`` with ``pool_convs``) of the official class.
    """

    def __init__(self, stages: Sequence[Stage], kernel: int, join: str,
                 side: Sequence[int] = (), extras: bool = False,
                 pool_convs: bool = False) -> None:
        super().__init__()
        if len(stages) != 6 or join not in ("cat", "add"):
            raise ValueError("a branch has six stages and joins by 'cat' or 'add'")
        self.join = join
        for k, (cin, growth, cout, resample) in enumerate(stages, 1):
            self.add_module(f"dense_block{k}", DenseLayer(cin, growth, kernel))
            self.add_module(f"trans_block{k}", Transition(cin + growth, cout, resample))
        unused: list[nn.Module] = []
        if extras:
            self.conv_refin = nn.Conv2d(11, 20, 3, padding=1)
            unused.append(self.conv_refin)
        for k, c in enumerate(side, 1):
            self.add_module(f"conv{k}1", nn.Conv2d(c, 1, 3, padding=1))
            if k > 1:
                unused.append(getattr(self, f"conv{k}1"))
        self.side = bool(side)
        if pool_convs:
            for k in range(1, len(POOLS) + 1):
                self.add_module(f"conv10{k}0", nn.Conv2d(20, 1, 1))
                unused.append(getattr(self, f"conv10{k}0"))
        if extras:
            self.refine3 = nn.Conv2d(24, 3, 3, padding=1)
            self.batchnorm20 = ImageStatsBatchNorm2d(20)
            self.batchnorm1 = ImageStatsBatchNorm2d(1)
            unused += [self.refine3, self.batchnorm20, self.batchnorm1]
        _freeze(*unused)

    def _stage(self, k: int, x: torch.Tensor) -> torch.Tensor:
        return getattr(self, f"trans_block{k}")(getattr(self, f"dense_block{k}")(x))

    def _join(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        return torch.cat([a, b], 1) if self.join == "cat" else a + b

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x1 = self._stage(1, x)
        x2 = self._stage(2, x1)
        x4 = self._stage(4, self._stage(3, x2))
        x5 = self._stage(5, self._join(x4, x2))
        x6 = self._stage(6, self._join(x5, x1))
        if not self.side:
            return x6
        side = F.leaky_relu(self.conv11(x1), LEAK)
        side = F.interpolate(side, size=x6.shape[-2:], mode="nearest")
        return torch.cat([x6, *[side] * 5, x], 1)


def _label_planes(x: torch.Tensor, label: torch.Tensor, channels: int) -> torch.Tensor:
    """``channels`` constant planes per image holding its label (as a float)."""
    n, _, h, w = x.shape
    value = label.to(device=x.device, dtype=x.dtype).reshape(-1, 1, 1, 1).expand(n, 1, 1, 1)
    return value.expand(n, channels, h, w)


class _PyramidHead(nn.Module):
    """``conv_refin`` then four average-pooled 1x1 convs upsampled back (``conv1010``..)
    concatenated to it, ``refine3`` and tanh: the residual shared by both dense nets."""

    def _pyramid(self, x: torch.Tensor) -> torch.Tensor:
        x9 = F.leaky_relu(self.conv_refin(x), LEAK)
        size = x9.shape[-2:]
        levels = [
            F.interpolate(F.leaky_relu(getattr(self, f"conv10{k}0")(F.avg_pool2d(x9, p)), LEAK),
                          size=size, mode="nearest")
            for k, p in enumerate(POOLS, 1)
        ]
        return torch.tanh(self.refine3(torch.cat([*levels, x9], 1)))

    def _add_pyramid(self, channels: int, inner: int, per_level: int) -> None:
        """Register ``conv_refin`` (channels -> inner), ``conv1010``..``conv1040`` (inner ->
        per_level) and ``refine3`` (inner + 4 per_level -> 3), in the official order."""
        self.conv_refin = nn.Conv2d(channels, inner, 3, padding=1)
        for k in range(1, len(POOLS) + 1):
            self.add_module(f"conv10{k}0", nn.Conv2d(inner, per_level, 1))
        self.refine3 = nn.Conv2d(inner + len(POOLS) * per_level, 3, 3, padding=1)


GENERATOR_BRANCHES: tuple[tuple[tuple[Stage, ...], int], ...] = (
    (((3, 5, 4, "down"), (4, 8, 12, "same"), (12, 4, 12, "same"), (12, 4, 12, "same"),
      (24, 8, 4, "same"), (8, 8, 4, "up")), 3),
    (((3, 13, 8, "down"), (8, 16, 16, "down"), (16, 16, 16, "same"), (16, 16, 16, "same"),
      (32, 8, 8, "up"), (16, 8, 4, "up")), 5),
    (((3, 13, 8, "down"), (8, 16, 16, "down"), (16, 16, 16, "down"), (16, 16, 16, "up"),
      (32, 8, 8, "up"), (16, 8, 4, "up")), 7),
)
"""Stages and kernel of the generator's ``dense0`` / ``dense1`` / ``dense2``."""

GENERATOR_SIDES = ((4, 12, 12, 24, 8, 8), (8, 16, 16, 32, 16, 8), (8, 16, 16, 32, 16, 8))
"""Input channels of ``conv11``..``conv61`` in ``dense0`` / ``dense1`` / ``dense2``."""

RESIDUE_BRANCHES: tuple[tuple[Stage, ...], ...] = (
    ((3, 5, 4, "same"), (4, 8, 12, "same"), (12, 4, 12, "same"), (12, 4, 12, "same"),
     (12, 8, 4, "same"), (4, 8, 2, "same")),
    ((3, 13, 8, "down"), (8, 16, 16, "same"), (16, 16, 16, "same"), (16, 16, 16, "same"),
     (16, 8, 8, "same"), (8, 8, 2, "up")),
    ((3, 13, 8, "down"), (8, 16, 16, "down"), (16, 16, 16, "same"), (16, 16, 16, "same"),
     (16, 8, 8, "up"), (8, 8, 2, "up")),
)
"""Stages (3x3 kernels) of the residue net's ``dense0`` / ``dense1`` / ``dense2``."""

RESIDUE_OWN_STAGES: tuple[Stage, ...] = (
    (3, 13, 8, "same"), (8, 16, 16, "same"), (16, 32, 16, "same"), (16, 16, 16, "same"),
    (16, 8, 8, "same"), (8, 8, 4, "same"),
)
"""The residue net's own ``dense_block1..6`` / ``trans_block1..6`` (built, never used)."""


class DenseRain(_PyramidHead):
    """The DID-MDN generator (official ``Dense_rain``, 372,839 parameters): image in
    [-1, 1] and density label -> ``(residual, clean)``, both in [-1, 1]."""

    LABEL_CHANNELS = 8

    def __init__(self) -> None:
        super().__init__()
        self._add_pyramid(47, 47, 2)
        self.refineclean1 = nn.Conv2d(3, 8, 7, padding=3)
        self.refineclean2 = nn.Conv2d(8, 3, 3, padding=1)
        self.batchnorm20 = ImageStatsBatchNorm2d(20)
        self.batchnorm1 = ImageStatsBatchNorm2d(1)
        _freeze(self.batchnorm20, self.batchnorm1)
        for k, ((stages, kernel), side) in enumerate(zip(GENERATOR_BRANCHES, GENERATOR_SIDES,
                                                         strict=True)):
            self.add_module(f"dense{k}", Branch(stages, kernel, "cat", side, extras=k > 0))

    def forward(self, x: torch.Tensor, label: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``label``: one value per image (the official test gives 1..4)."""
        x3, x2, x1 = self.dense2(x), self.dense1(x), self.dense0(x)
        planes = _label_planes(x, label, self.LABEL_CHANNELS)
        residual = self._pyramid(torch.cat([x1, x, x2, x3, planes], 1))
        clean = F.leaky_relu(self.refineclean1(x - residual), LEAK)
        return residual, torch.tanh(self.refineclean2(clean))


class ResidueNet(_PyramidHead):
    """The rain-residual estimator that feeds the density classifier (official
    ``Dense_rain_residual``, 182,947 parameters): image in [-1, 1] -> residual."""

    LABEL_CHANNELS = 4

    def __init__(self) -> None:
        super().__init__()
        for k, (cin, growth, cout, resample) in enumerate(RESIDUE_OWN_STAGES, 1):
            self.add_module(f"dense_block{k}", DenseLayer(cin, growth))
            self.add_module(f"trans_block{k}", Transition(cin + growth, cout, resample))
            _freeze(getattr(self, f"dense_block{k}"), getattr(self, f"trans_block{k}"))
        self._add_pyramid(13, 20, 1)
        self.batchnorm20 = ImageStatsBatchNorm2d(20)
        self.batchnorm1 = ImageStatsBatchNorm2d(1)
        _freeze(self.batchnorm20, self.batchnorm1)
        for k, stages in enumerate(RESIDUE_BRANCHES):
            self.add_module(f"dense{k}", Branch(stages, 3, "add", extras=k > 0,
                                                pool_convs=k > 0))

    def forward(self, x: torch.Tensor, label: torch.Tensor) -> torch.Tensor:
        """``label``: one value per image (the official test gives 0)."""
        x3, x2, x1 = self.dense2(x), self.dense1(x), self.dense0(x)
        planes = _label_planes(x, label, self.LABEL_CHANNELS)
        return self._pyramid(torch.cat([x1, x, x2, x3, planes], 1))


class DensityClassifier(nn.Module):
    """The rain-density classifier (official ``vgg19ca``, 65,501,084 parameters): the
    first conv-BN-ReLU of VGG-19-BN, a 3x3 conv to 24 channels, ReLU, 7x7 average pool,
    two linear layers -> 4 logits. Takes 512 x 512 inputs only."""

    def __init__(self) -> None:
        super().__init__()
        self.feature = nn.Sequential(nn.Conv2d(3, 64, 3, padding=1),
                                     ImageStatsBatchNorm2d(64), nn.ReLU())
        self.conv16 = nn.Conv2d(64, 24, 3, padding=1)
        side = CLASSIFIER_SIDE // 7
        self.dense_classifier = nn.Linear(24 * side * side, 512)
        self.dense_classifier1 = nn.Linear(512, 4)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.shape[-2:] != (CLASSIFIER_SIDE, CLASSIFIER_SIDE):
            raise ValueError(f"the density classifier takes {CLASSIFIER_SIDE} x "
                             f"{CLASSIFIER_SIDE} inputs, got {tuple(x.shape[-2:])}")
        out = F.relu(self.conv16(self.feature(x)))
        out = F.avg_pool2d(out, 7).flatten(1)
        return self.dense_classifier1(F.relu(self.dense_classifier(out)))


class DIDMDN(nn.Module):
    """The official test-time chain: residue net (label 0) -> classifier on ``x -
    residue`` -> label ``argmax + 1`` -> generator; returns the generator's ``(residual,
    clean)``. With ``label`` (1..4) the estimator is left out and every image gets that
    label (not the official test; the generator alone: 372,839 parameters)."""

    def __init__(self, label: int | None = None) -> None:
        super().__init__()
        if label is not None and label not in (1, 2, 3, 4):
            raise ValueError(f"label must be 1, 2, 3 or 4 (or None), got {label!r}")
        self.label = label
        self.generator = DenseRain()
        if label is None:
            self.residue_net = ResidueNet()
            self.classifier = DensityClassifier()
            # reached only through an argmax: no gradient flows into the estimator
            _freeze(self.residue_net, self.classifier)

    def density_logits(self, x: torch.Tensor) -> torch.Tensor:
        """The classifier's four logits for ``x`` (in [-1, 1], 512 x 512)."""
        zero = torch.zeros(x.shape[0], device=x.device)
        return self.classifier(x - self.residue_net(x, zero))

    def density_label(self, x: torch.Tensor) -> torch.Tensor:
        """The label the official test gives the generator: ``argmax(softmax) + 1``."""
        if self.label is not None:
            return torch.full((x.shape[0],), self.label, device=x.device)
        with torch.no_grad():
            return self.density_logits(x).softmax(1).argmax(1) + 1

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return self.generator(x, self.density_label(x))
