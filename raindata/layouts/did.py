"""DID-Data (Zhang and Patel, CVPR 2018): side-by-side JPEGs, left rainy, right clean.

Naming follows the DID-MDN code (hezhangsprinter/DID-MDN): training images
``DID-MDN-training/Rain_{Heavy,Medium,Light}/train2018new/N.jpg`` (its loaders draw
N from 0..3999 per density level, 12000 in all) and test images
``DID-MDN-test/N.jpg`` (1200, "Test1200"; its validation loader opens ``N.jpg`` by
index from 0). The test folder name varies between copies (``DID-MDN-test``,
``testing_fu``, ``test``), so all three are accepted, as is a root that directly
holds the numbered files. Each file is ``[rainy | clean]``: the loaders crop the left
half as input and the right half as target. Ids: ``Heavy-0`` .. for training, ``0``
.. for test.
"""

from __future__ import annotations

from raindata.layouts.spec import DatasetLayout, Pattern, SplitLayout, Variant

DID_DATA = DatasetLayout(
    name="did-data",
    title="DID-Data (Rain1200): rain-density labelled pairs, side by side",
    citation=(
        "H. Zhang, V. M. Patel. Density-aware Single Image De-raining using a Multi-stream "
        "Dense Network. CVPR 2018."
    ),
    paired=True,
    variants=(
        Variant(
            name="didmdn",
            description="DID-MDN release: [rainy | clean] JPEG per file",
            splits=(
                SplitLayout(
                    split="test",
                    dirs=("DID-MDN-test", "testing_fu", "test"),
                    patterns=(Pattern("rainy", "*", r"(?P<n>\d+)\.jpg", "{n}.jpg"),),
                    count=1200,
                    side_by_side=True,
                ),
                SplitLayout(
                    split="train",
                    dirs=("DID-MDN-training", "train"),
                    patterns=(
                        Pattern(
                            "rainy",
                            "Rain_*/train2018new/*",
                            r"Rain_(?P<level>Heavy|Medium|Light)/train2018new/(?P<n>\d+)\.jpg",
                            "Rain_{level}/train2018new/{n}.jpg",
                        ),
                    ),
                    count=12000,
                    side_by_side=True,
                    note="4000 per density level (Rain_Heavy, Rain_Medium, Rain_Light)",
                ),
            ),
            source="https://github.com/hezhangsprinter/DID-MDN",
        ),
    ),
    urls=("https://github.com/hezhangsprinter/DID-MDN",),
    notes=(
        "Each JPEG holds the rainy image (left half) and its ground truth (right half); "
        "the paper scores it on RGB. Test folder naming differs between copies."
    ),
)
