"""Rain200H and Rain200L (Yang et al.): the re-released Rain100H/L, 1800 + 200 pairs each.

The JORDER project page replaced the original Rain100H/L (100 test pairs, see
:mod:`raindata.layouts.rain100`) with a "new version" of 1800 training and 200 test pairs
per set (nnUyi/DerainZoo DerainDatasets.md; PReNet's and AIDNet's dataset READMEs), later
called Rain200H/L (JORDER-E, DRSformer). Two layouts circulate:

- ``jorder``: the project page's archives ``rain_data_{train,test}_{Heavy,Light}``, each
  ``rain/X2/norain-Nx2.png`` (the rainy image carries its ground truth's name with the
  ``x2`` of the JORDER-E code base's super-resolution loader) + ``norain/norain-N.png``.
  Read from third-party loaders (``rain/X2/norain-' + N + 'x2.png``, ``norain/norain-N``,
  N = 1..200 for test) and a MindSpore dataset README that lists the four archive folders;
  one third-party loader reads the rainy images straight from ``rain/`` (no ``X2/``), so
  both are accepted. The test archives also appear with an inner ``rain_heavy_test`` /
  ``rain_light_test`` folder (third-party paths; not confirmed against the archive).
- ``drsformer``: DRSformer's copies ``{train,test}/Rain200H/input/N.png`` +
  ``target/N.png`` (sample files in cschenxiang/DRSformer@e77bbb4, full 481x321 PNGs).
  Whether its N is the release's N is not confirmed, so ids are the file stems.
"""

from __future__ import annotations

from raindata.layouts.naming import INPUT_TARGET
from raindata.layouts.spec import DatasetLayout, Pattern, SplitLayout, SplitSpec, Variant

CITATION = (
    "W. Yang, R. T. Tan, J. Feng, Z. Guo, S. Yan, J. Liu. Joint Rain Detection and Removal "
    "from a Single Image with Contextualized Deep Networks. IEEE TPAMI 42(6), 2020 "
    "(data: the updated Rain100H/L of Yang et al., CVPR 2017)."
)
HOMEPAGE = "http://www.icst.pku.edu.cn/struct/Projects/joint_rain_removal.html"
URLS = (
    HOMEPAGE,
    "https://github.com/nnUyi/DerainZoo/blob/master/DerainDatasets.md",
    "https://github.com/flyywh/JORDER-E-Deep-Image-Deraining-TPAMI-2019-Journal",
    "https://github.com/cschenxiang/DRSformer",
)

_JORDER_FILES = (
    Pattern("rainy", "rain/**/*", r"rain/(?:X2/)?norain-(?P<n>\d+)x2\.png",
            "rain/X2/norain-{n}x2.png"),
    Pattern("clean", "norain/*", r"norain/norain-(?P<n>\d+)\.png", "norain/norain-{n}.png"),
)


def _jorder(letter: str) -> Variant:
    level = "Heavy" if letter == "H" else "Light"
    low = level.lower()
    test = SplitLayout(
        split="test",
        dirs=(f"rain_data_test_{level}", f"rain_data_test_{low}",
              f"rain_data_test_{level}/rain_{low}_test", f"rain_data_test_{low}/rain_{low}_test",
              f"rain_{low}_test", f"Rain200{letter}/test", "test"),
        patterns=_JORDER_FILES,
        count=200,
    )
    train = SplitLayout(
        split="train",
        dirs=(f"rain_data_train_{level}", f"rain_data_train_{low}", f"Rain200{letter}/train",
              "train"),
        patterns=_JORDER_FILES,
        count=1800,
    )
    return Variant(
        name="jorder",
        description="project-page release: rain/X2/norain-1x2.png + norain/norain-1.png",
        splits=(test, train),
        source=HOMEPAGE,
    )


def _drsformer(letter: str) -> Variant:
    name = f"Rain200{letter}"
    return Variant(
        name="drsformer",
        description="DRSformer copy: input/N.png + target/N.png (ids: file stems)",
        splits=(
            SplitLayout("test", (f"test/{name}", name, "test"), INPUT_TARGET, count=200),
            SplitLayout("train", (f"train/{name}", "train"), INPUT_TARGET, count=1800),
        ),
        source="https://github.com/cschenxiang/DRSformer",
    )


def _rain200(letter: str) -> DatasetLayout:
    heavy = letter == "H"
    return DatasetLayout(
        name=f"rain200{letter.lower()}",
        title=f"Rain200{letter} ({'heavy' if heavy else 'light'} rain): the re-released "
              f"Rain100{letter}, 200 test pairs",
        citation=CITATION,
        paired=True,
        variants=(_jorder(letter), _drsformer(letter)),
        urls=URLS,
        notes=(
            f"Not the original Rain100{letter} (100 test pairs, layout rain100"
            f"{letter.lower()}): papers before about 2020 report on that one. Which of the "
            "200 test pairs, if any, are the old 100 is not documented (RESCAN's README "
            "gives separate test100/test200 scores). The project page is the only source of "
            "the archives; the jorder naming is read from third-party loaders, not from the "
            "archives themselves."
        ),
        published_splits=(SplitSpec("test", 200), SplitSpec("train", 1800)),
    )


RAIN200H = _rain200("H")
RAIN200L = _rain200("L")
