"""Rain100H and Rain100L (Yang et al., CVPR 2017), original version, in three layouts.

The same 100 test pairs circulate in three layouts (issue 5):

- ``prenet``: the original release as re-shared by PReNet (csdwren/PReNet):
  test ``rainy/rain-001.png`` with ground truth ``norain-001.png`` beside the
  ``rainy`` folder; training sets RainTrainH/RainTrainL flat ``rain-N.png`` +
  ``norain-N.png`` (N without zero padding), RainTrainL also ``rainstreak-N.png``.
  PReNet's RainTrainH drops 546 of the 1800 rainy images that share backgrounds with
  the test set (its README), so unpaired ``norain``/``rainstreak`` files are allowed
  there and no count is enforced.
- ``rcdnet``: RCDNet/JORDER-E (hongwang01/RCDNet): ``small/rain/norain-N.png`` (the
  rainy image carries its ground truth's name) + ``small/norain/norain-N.png``, N not
  zero padded, under ``train/`` and ``test/``.
- ``restormer``: Restormer/MPRNet test sets: ``input/N.png`` + ``target/N.png``.

Ids are the image numbers without zero padding, so all three variants share ids.
"""

from __future__ import annotations

from raindata.layouts.naming import INPUT_TARGET
from raindata.layouts.spec import (
    DatasetLayout,
    Pattern,
    SplitLayout,
    SplitSpec,
    Variant,
)

CITATION = (
    "W. Yang, R. T. Tan, J. Feng, J. Liu, Z. Guo, S. Yan. Deep Joint Rain Detection and "
    "Removal from a Single Image. CVPR 2017."
)
URLS = (
    "http://www.icst.pku.edu.cn/struct/Projects/joint_rain_removal.html",
    "https://github.com/csdwren/PReNet",
    "https://github.com/hongwang01/RCDNet",
    "https://github.com/swz30/Restormer",
)


def _prenet(letter: str) -> Variant:
    heavy = letter == "H"
    test = SplitLayout(
        split="test",
        dirs=(f"Rain100{letter}", f"test/Rain100{letter}"),
        patterns=(
            Pattern("rainy", "rainy/*", r"rainy/rain-(?P<n>\d+)\.png", "rainy/rain-{n:03d}.png"),
            Pattern("clean", "*", r"norain-(?P<n>\d+)\.png", "norain-{n:03d}.png"),
        ),
        count=100,
    )
    train = SplitLayout(
        split="train",
        dirs=(f"RainTrain{letter}", f"train/RainTrain{letter}"),
        patterns=(
            Pattern("rainy", "*", r"rain-(?P<n>\d+)\.png", "rain-{n}.png"),
            Pattern("clean", "*", r"norain-(?P<n>\d+)\.png", "norain-{n}.png", orphans_ok=heavy),
            Pattern(
                "streak", "*", r"rainstreak-(?P<n>\d+)\.png", "rainstreak-{n}.png",
                required=False, orphans_ok=heavy,
            ),
        ),
        count=None if heavy else 200,
        note=(
            "PReNet's RainTrainH keeps 1254 of 1800 rainy images (546 share test backgrounds)"
            if heavy else ""
        ),
    )
    return Variant(
        name="prenet",
        description="original release as shared by PReNet: rainy/rain-001.png + norain-001.png",
        splits=(test, train),
        source="https://github.com/csdwren/PReNet",
    )


def _rcdnet(letter: str) -> Variant:
    def split(name: str, count: int | None) -> SplitLayout:
        return SplitLayout(
            split=name,
            dirs=(name,),
            patterns=(
                Pattern(
                    "rainy", "small/rain/*", r"small/rain/norain-(?P<n>\d+)\.png",
                    "small/rain/norain-{n}.png",
                ),
                Pattern(
                    "clean", "small/norain/*", r"small/norain/norain-(?P<n>\d+)\.png",
                    "small/norain/norain-{n}.png",
                ),
            ),
            count=count,
        )

    return Variant(
        name="rcdnet",
        description="RCDNet/JORDER-E: small/rain/norain-N.png + small/norain/norain-N.png",
        splits=(split("test", 100), split("train", 200 if letter == "L" else None)),
        source="https://github.com/hongwang01/RCDNet",
    )


def _restormer(letter: str) -> Variant:
    test = SplitLayout(
        split="test",
        dirs=("test", f"test/Rain100{letter}", f"Rain100{letter}"),
        patterns=INPUT_TARGET,
        count=100,
    )
    return Variant(
        name="restormer",
        description="Restormer/MPRNet test sets: input/N.png + target/N.png",
        splits=(test,),
        source="https://github.com/swz30/Restormer",
    )


def _rain100(letter: str) -> DatasetLayout:
    heavy = letter == "H"
    return DatasetLayout(
        name=f"rain100{letter.lower()}",
        title=f"Rain100{letter} ({'heavy' if heavy else 'light'} rain), original version",
        citation=CITATION,
        paired=True,
        variants=(_prenet(letter), _rcdnet(letter), _restormer(letter)),
        urls=URLS,
        notes=(
            "Original version (100 test pairs); the later re-release with 200 test pairs is a "
            "different set. Variant detection: prenet, rcdnet or restormer layout."
        ),
        published_splits=(
            SplitSpec("test", 100),
            SplitSpec("train", 1800 if heavy else 200,
                      "PReNet's copy keeps 1254 pairs" if heavy else ""),
        ),
    )


RAIN100H = _rain100("H")
RAIN100L = _rain100("L")
