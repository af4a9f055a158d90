"""Rain12 (Li et al., layer priors / GMM, CVPR 2016): 12 test pairs.

- ``released``: the authors' ``li_cvpr16_rain.zip``: ``001_in.png`` + ``001_GT.png`` in one
  folder. The names are read from a third-party test script (``%03d_in.png`` /
  ``%03d_GT.png``), not from the archive itself: unconfirmed.
- ``prenet``: PReNet's copy: ``rainy/N.png`` + ``groundtruth/N.png``, N = 1..12
  (``statistic_rain12.m`` reads ``groundtruth/%d.png`` and the results, which PReNet saves
  under the rainy file's name, as ``%d.png``; the ``rainy`` folder is named in a
  ``test_Rain12.sh`` of a PReNet fork).
"""

from __future__ import annotations

from raindata.layouts.spec import DatasetLayout, Pattern, SplitLayout, Variant

RAIN12 = DatasetLayout(
    name="rain12",
    title="Rain12 (Li et al.): 12 synthetic test pairs",
    citation=(
        "Y. Li, R. T. Tan, X. Guo, J. Lu, M. S. Brown. Rain Streak Removal Using Layer "
        "Priors. CVPR 2016."
    ),
    paired=True,
    variants=(
        Variant(
            name="released",
            description="authors' zip (unconfirmed): 001_in.png + 001_GT.png",
            splits=(
                SplitLayout(
                    "test", ("Rain12", "rain12"),
                    (
                        Pattern("rainy", "*", r"(?P<n>\d+)_in\.png", "{n:03d}_in.png"),
                        Pattern("clean", "*", r"(?P<n>\d+)_GT\.png", "{n:03d}_GT.png"),
                    ),
                    count=12,
                ),
            ),
            source="http://yu-li.github.io/paper/li_cvpr16_rain.zip",
        ),
        Variant(
            name="prenet",
            description="PReNet copy: rainy/1.png + groundtruth/1.png",
            splits=(
                SplitLayout(
                    "test", ("Rain12", "test/Rain12"),
                    (
                        Pattern("rainy", "rainy/*", r"rainy/(?P<n>\d+)\.png", "rainy/{n}.png"),
                        Pattern("clean", "groundtruth/*", r"groundtruth/(?P<n>\d+)\.png",
                                "groundtruth/{n}.png"),
                    ),
                    count=12,
                ),
            ),
            source="https://github.com/csdwren/PReNet",
        ),
    ),
    urls=("http://yu-li.github.io/paper/li_cvpr16_rain.zip", "https://github.com/csdwren/PReNet"),
    notes=(
        "No training split: PReNet scores it with its Rain100L model. The 12 pairs are also "
        "part of the Rain13K training mixture (MPRNet), so a Rain13K-trained model has "
        "seen them. The released naming is unconfirmed."
    ),
)
