"""Rain1400 / Rain12600 (Fu et al., DDN) and the Test2800 split of MSPFN/MPRNet/Restormer.

1000 clean images, each rendered with 14 rain streak types: rainy ``N_K.jpg`` (K = 1..14)
share one ground truth ``N.jpg``.

- ``prenet``: the DDN data as re-shared by PReNet (csdwren/PReNet: ``DerainDataset.py``
  reads ``Rain12600/rainy_image/{i}_{j}.jpg`` with ``ground_truth/{i}.jpg``, i = 1..900;
  ``statistic_rain1400.m`` scores ``Rain1400`` on i = 901..1000). Train 12,600, test 1,400.
  The authors' own archive's folder names are not confirmed here.
- ``restormer``: ``Test2800/input/N_K.jpg`` + ``target/N_K.jpg`` (the ground truth repeated
  under each rainy name; names ``801_1.jpg`` .. in third-party scripts, and ``926_10(1).jpg``
  in MPRNet issue 23). MSPFN built it from clean images 801..1000 (its issue 2: Rain14000
  training = the first 800), so it overlaps DDN's training images 801..900. Before
  2021-04 the download held a 2801st file ``926_10(1).jpg`` (MPRNet issue 23), which
  ``verify`` reports as an unexpected name.
- ``mspfn``: MSPFN's ``TEST2800/inputcrop/`` + ``cleancrop/`` (file names not confirmed),
  cropped at the top-left corner to sides divisible by 8 (MSPFN issue 10).

Ids are ``N-K`` in the prenet and restormer variants, so the same rainy image has the same
id in both.
"""

from __future__ import annotations

from raindata.layouts.naming import test_set_copies
from raindata.layouts.spec import DatasetLayout, Pattern, SplitLayout, SplitSpec, Variant

CITATION = (
    "X. Fu, J. Huang, D. Zeng, Y. Huang, X. Ding, J. Paisley. Removing Rain from Single "
    "Images via a Deep Detail Network. CVPR 2017."
)
HOMEPAGE = "https://xueyangfu.github.io/projects/cvpr2017.html"

_DDN_FILES = (
    Pattern("rainy", "rainy_image/*", r"rainy_image/(?P<n>\d+)_(?P<k>\d+)\.jpg",
            "rainy_image/{n}_{k}.jpg"),
    Pattern("clean", "ground_truth/*", r"ground_truth/(?P<n>\d+)\.jpg",
            "ground_truth/{n}.jpg", shared=True),
)
_TEST2800_FILES = tuple(
    Pattern(role, f"{folder}/*", rf"{folder}/(?P<n>\d+)_(?P<k>\d+)\.jpg",
            f"{folder}/{{n}}_{{k}}.jpg")
    for role, folder in (("rainy", "input"), ("clean", "target"))
)

RAIN1400 = DatasetLayout(
    name="rain1400",
    title="Rain1400 / Rain12600 (DDN): 14 rainy images per clean image; Test2800",
    citation=CITATION,
    paired=True,
    variants=(
        Variant(
            name="prenet",
            description="DDN data, PReNet's copy: rainy_image/901_1.jpg + ground_truth/901.jpg",
            splits=(
                SplitLayout("test", ("Rain1400", "test/Rain1400"), _DDN_FILES, count=1400,
                            note="clean images 901-1000, 14 rainy each"),
                SplitLayout("train", ("Rain12600", "train/Rain12600"), _DDN_FILES, count=12600,
                            note="clean images 1-900, 14 rainy each"),
            ),
            source="https://github.com/csdwren/PReNet",
        ),
        *test_set_copies("test2800", "Test2800", 2800, _TEST2800_FILES,
                         note="clean images 801-1000, 14 rainy each", ext="jpg"),
    ),
    urls=(HOMEPAGE, "https://github.com/csdwren/PReNet", "https://github.com/kuijiang94/MSPFN",
          "https://github.com/swz30/MPRNet"),
    notes=(
        "DDN's split: train = clean 1-900 (12,600), test = clean 901-1000 (1,400). "
        "MSPFN/MPRNet re-split the 14,000 pairs: Rain14000 training = clean 1-800 (11,200, in "
        "Rain13K), Test2800 = clean 801-1000, so Test2800 contains 1,400 of DDN's training "
        "pairs. JPEG throughout."
    ),
    published_splits=(
        SplitSpec("train", 12600, "clean 1-900"),
        SplitSpec("test", 1400, "clean 901-1000"),
        SplitSpec("test2800", 2800, "MSPFN/MPRNet split: clean 801-1000"),
    ),
)
