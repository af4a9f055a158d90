"""Real rainy photographs without ground truth: Real3000, SIRR-Data, Real200.

- Real3000 (Liu et al., ICCV 2021): ``1.png`` .. ``3000.png`` in one folder; the test
  split is images 1705-2004 (300), training the other 2700.
- SIRR-Data (Wei et al., CVPR 2019; wwzjer/Semi-supervised-IRR): the 147 real rainy
  images ``real_input/1.jpg`` .. ``147.jpg`` (split ``test``: the set scored with
  NIQE, also the unpaired real input of training); a root that directly holds the
  numbered JPEGs is accepted too. Its synthetic validation pairs are
  ``input_val/inputX.png`` with ground truth ``label_val/norainX.png`` (the release's
  MATLAB script builds the label name from the characters after ``input``; split
  ``val``, count not published).
- Real200 (Wei et al., Semi-DerainGAN, 2020): 200 real rainy images. The file naming of
  the release could not be confirmed, so any image names are accepted (id = file stem).
"""

from __future__ import annotations

from raindata.layouts.raindirection import CITATION as UDRDR_CITATION
from raindata.layouts.raindirection import HOMEPAGE as UDRDR_HOMEPAGE
from raindata.layouts.spec import (
    ANY_IMAGE,
    DatasetLayout,
    Pattern,
    SplitLayout,
    Variant,
)

REAL3000_TEST = (1705, 2004)

_REAL3000_FILES = (Pattern("rainy", "*", r"(?P<n>\d+)\.png", "{n}.png"),)

REAL3000 = DatasetLayout(
    name="real3000",
    title="Real3000: real rainy photographs (no reference)",
    citation=UDRDR_CITATION,
    paired=False,
    variants=(
        Variant(
            name="released",
            description="1.png .. 3000.png in one folder; test = 1705-2004",
            splits=(
                SplitLayout(
                    split="test",
                    dirs=(".", "Real3000"),
                    patterns=_REAL3000_FILES,
                    count=300,
                    id_range=REAL3000_TEST,
                    note="images 1705-2004",
                ),
                SplitLayout(
                    split="train",
                    dirs=(".", "Real3000"),
                    patterns=_REAL3000_FILES,
                    count=2700,
                    id_range=REAL3000_TEST,
                    outside_range=True,
                    note="images 1-1704 and 2005-3000",
                ),
            ),
            source=UDRDR_HOMEPAGE,
        ),
    ),
    urls=(UDRDR_HOMEPAGE,),
    notes="No ground truth: no-reference scoring (NIQE) only.",
)

SIRR = DatasetLayout(
    name="sirr",
    title="SIRR-Data: 147 real rainy images (+ synthetic validation pairs)",
    citation=(
        "W. Wei, D. Meng, Q. Zhao, Z. Xu, Y. Wu. Semi-supervised Transfer Learning for "
        "Image Rain Removal. CVPR 2019."
    ),
    paired=False,
    variants=(
        Variant(
            name="released",
            description="rainy_image_dataset/real_input/N.jpg; input_val/ + label_val/",
            splits=(
                SplitLayout(
                    split="test",
                    dirs=("real_input", "rainy_image_dataset/real_input"),
                    patterns=(Pattern("rainy", "*", r"(?P<n>\d+)\.jpg", "{n}.jpg"),),
                    count=147,
                    note="real rainy images, no ground truth",
                ),
                SplitLayout(
                    split="val",
                    dirs=(".", "rainy_image_dataset"),
                    patterns=(
                        Pattern(
                            "rainy", "input_val/*", r"input_val/input(?P<stem>[^/]+)\.png",
                            "input_val/input{stem}.png",
                        ),
                        Pattern(
                            "clean", "label_val/*", r"label_val/norain(?P<stem>[^/]+)\.png",
                            "label_val/norain{stem}.png",
                        ),
                    ),
                    note="synthetic pairs; count not published",
                ),
            ),
            source="https://github.com/wwzjer/Semi-supervised-IRR",
        ),
    ),
    urls=("https://github.com/wwzjer/Semi-supervised-IRR",),
    notes="The real images have no ground truth; only the val split is paired.",
)

REAL200 = DatasetLayout(
    name="real200",
    title="Real200: 200 real rainy images (no reference)",
    citation=(
        "Y. Wei, Z. Zhang, H. Zhang, J. Qin, M. Zhao. Semi-DerainGAN: A New Semi-supervised "
        "Single Image Deraining Network. arXiv 2020."
    ),
    paired=False,
    variants=(
        Variant(
            name="folder",
            description="one folder of 200 images; naming unconfirmed, any image name accepted",
            splits=(
                SplitLayout(
                    split="test",
                    dirs=("Real200", "test"),
                    patterns=(
                        Pattern("rainy", "*", rf"(?P<stem>[^/]+)\.{ANY_IMAGE}", "{stem}.*"),
                    ),
                    count=200,
                ),
            ),
        ),
    ),
    notes="File naming of the release is not confirmed; ids are the file stems.",
)
