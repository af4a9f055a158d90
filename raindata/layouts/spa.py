"""SPA-Data (Wang et al., SPANet, CVPR 2019): real rain, paired with a clean image that was
estimated from the video it was cut from.

- ``spanet``: the authors' release (stevewongv/SPANet; Train_Dataset_README.md gives the
  training naming). Training: patches ``real_world/VVV/VVV-F/VVV-F_X_Y.png`` (video VVV,
  frame F, position X, Y) whose ground truth ``real_world_gt/VVV/VVV_X_Y.png`` serves every
  frame of that position (many rainy patches, one clean patch); the pairs used are listed
  in ``real_world.txt`` (638,492 lines according to RCDNet's README; ~44 GB, split in
  ``real_world.zip.00``-``.11``). The ground truth naming is read from a third-party script,
  which also skips video 274 frame 14 for a wrong folder structure. Test:
  ``real_test_1000/rain/NNN.png`` + ``real_test_1000/gt/NNNgt.png`` (NNN = 000..999, from a
  third-party test script; the release's ``real_test_1000.txt`` lists the pairs), 1000 pairs
  of 512x512.
- ``rcdnet``: RCDNet's test copy ``test/small/rain/NAME.png`` + ``test/small/norain/NAME.png``
  (its README; partners share the file name, which is not confirmed).
- ``drsformer``: DRSformer's "fully paired" copy ``input/NAME`` + ``target/NAME`` (its
  README; sample ground truths ``1.png`` .. at 512x512). Its training copy's size and names
  are not confirmed.
"""

from __future__ import annotations

from raindata.layouts.naming import INPUT_TARGET, same_name
from raindata.layouts.spec import DatasetLayout, Pattern, SplitLayout, SplitSpec, Variant

CITATION = (
    "T. Wang, X. Yang, K. Xu, S. Chen, Q. Zhang, R. W. H. Lau. Spatial Attentive "
    "Single-Image Deraining with a High Quality Real Rain Dataset. CVPR 2019."
)
HOMEPAGE = "https://stevewongv.github.io/derain-project.html"

_TRAIN_FILES = (
    Pattern(
        "rainy", "real_world/*/*/*",
        r"real_world/(?P<v>\d+)/(?P=v)-(?P<f>\d+)/(?P=v)-(?P=f)_(?P<x>\d+)_(?P<y>\d+)\.png",
        "real_world/{v:03d}/{v:03d}-{f}/{v:03d}-{f}_{x}_{y}.png",
    ),
    Pattern(
        "clean", "real_world_gt/*/*",
        r"real_world_gt/(?P<v>\d+)/(?P=v)_(?P<x>\d+)_(?P<y>\d+)\.png",
        "real_world_gt/{v:03d}/{v:03d}_{x}_{y}.png", shared=True,
    ),
)
_TEST_FILES = (
    Pattern("rainy", "rain/*", r"rain/(?P<n>\d+)\.png", "rain/{n:03d}.png"),
    Pattern("clean", "gt/*", r"gt/(?P<n>\d+)gt\.png", "gt/{n:03d}gt.png"),
)
_TEST_DIRS = ("real_test_1000", "Testing/real_test_1000", "real_test_1000/real_test_1000",
              "Testing/real_test_1000/real_test_1000", "testing/real_test_1000")

SPA_DATA = DatasetLayout(
    name="spa-data",
    title="SPA-Data (SPANet): real rainy video patches paired with estimated clean images",
    citation=CITATION,
    paired=True,
    variants=(
        Variant(
            name="spanet",
            description="release: real_world/V/V-F/V-F_X_Y.png + real_world_gt/V/V_X_Y.png",
            splits=(
                SplitLayout("test", _TEST_DIRS, _TEST_FILES, count=1000,
                            note="rain/000.png + gt/000gt.png"),
                SplitLayout("train", (".", "Training/real_world", "training", "Training"),
                            _TRAIN_FILES,
                            note="one clean patch per video position serves all its frames"),
            ),
            source="https://github.com/stevewongv/SPANet",
        ),
        Variant(
            name="rcdnet",
            description="RCDNet test copy: small/rain/NAME.png + small/norain/NAME.png",
            splits=(SplitLayout("test", ("test", "for_spa/data/test"),
                                same_name("small/rain", "small/norain"), count=1000),),
            source="https://github.com/hongwang01/RCDNet",
        ),
        Variant(
            name="drsformer",
            description="DRSformer copy: input/NAME + target/NAME",
            splits=(
                SplitLayout("test", ("test/SPA-Data", "SPA-Data", "test"), INPUT_TARGET,
                            count=1000),
                SplitLayout("train", ("train/SPA-Data", "train"), INPUT_TARGET,
                            note="size not confirmed"),
            ),
            source="https://github.com/cschenxiang/DRSformer",
        ),
    ),
    urls=(HOMEPAGE, "https://github.com/stevewongv/SPANet", "https://github.com/hongwang01/RCDNet",
          "https://github.com/cschenxiang/DRSformer"),
    notes=(
        "Real rain: the ground truth is estimated from the video, not captured. The release "
        "pairs many rainy frames with one clean patch; copies that duplicate the clean "
        "patch per frame (DRSformer: 'fully paired') are otherwise the same data. The "
        "training count is not enforced: real_world.txt lists 638,492 pairs (RCDNet's "
        "README), whether every file on disk is listed is not confirmed. The test package "
        "also holds Real_Internet (real rainy images without ground truth), not part of this "
        "layout."
    ),
    published_splits=(
        SplitSpec("test", 1000),
        SplitSpec("train", 638492, "pairs in real_world.txt (RCDNet README); not enforced"),
    ),
)
