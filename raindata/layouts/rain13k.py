"""Rain13K: the MPRNet/Restormer training mixture, as its released folder.

MPRNet (Table 1) trains on 13,712 pairs: Rain14000's first 800 clean images x 14 (11,200;
MSPFN issue 2), Rain1800 (1,800, Yang et al.'s heavy training set), Rain800's 700
training pairs and Rain12 (12). The download (MPRNet's Google Drive, Restormer's
``download_data.py``) is one folder, ``train/Rain13K/input/NAME`` +
``train/Rain13K/target/NAME`` (Restormer's ``Deraining_Restormer.yml``: ``filename_tmpl
'{}'``, partners carry the same name); it holds **13,711** pairs, one being removed for a
wrong size (MPRNet issue 74). Its files are JPEG (third-party LMDB scripts read
``'jpg'``); their names, and so which file came from which member set, are not confirmed:
ids are the file stems. Its test sets are layouts of their own: Test100 (``rain800``),
Rain100H/L (``rain100h``/``rain100l``, restormer variant), Test1200 (``test1200``) and
Test2800 (``rain1400``).
"""

from __future__ import annotations

from raindata.layouts.naming import same_name
from raindata.layouts.spec import DatasetLayout, SplitLayout, SplitSpec, Variant

MEMBERS = (
    ("rain1400", 11200, "Rain14000: clean images 1-800, 14 rainy each"),
    ("rain100h", 1800, "Rain1800: Yang et al.'s heavy-rain training set"),
    ("rain800", 700, "Rain800 training pairs"),
    ("rain12", 12, "Rain12"),
)

RAIN13K = DatasetLayout(
    name="rain13k",
    title="Rain13K: MPRNet/Restormer training mixture (Rain14000 + Rain1800 + Rain800 + Rain12)",
    citation=(
        "S. W. Zamir, A. Arora, S. Khan, M. Hayat, F. S. Khan, M.-H. Yang, L. Shao. "
        "Multi-Stage Progressive Image Restoration. CVPR 2021."
    ),
    paired=True,
    variants=(
        Variant(
            name="restormer",
            description="MPRNet/Restormer download: train/Rain13K/input/NAME + target/NAME",
            splits=(
                SplitLayout(
                    "train", ("train/Rain13K", "Rain13K", "train/Rain13k", "Rain13k", "train"),
                    same_name("input", "target", ext="jpg"), count=13711,
                    note="13,711 in the download, 13,712 in the paper (MPRNet issue 74)",
                ),
            ),
            source="https://github.com/swz30/Restormer/blob/main/Deraining/download_data.py",
        ),
    ),
    urls=("https://github.com/swz30/MPRNet", "https://github.com/swz30/Restormer",
          "https://github.com/swz30/MPRNet/issues/74"),
    notes=(
        "A union of member sets: "
        + "; ".join(f"{n:,} from {what} (layout {name})" for name, n, what in MEMBERS)
        + ". The download holds 13,711 pairs (one removed for a wrong size), the paper "
        "13,712. Leakage to keep in mind: Rain1800 shares backgrounds with the Rain100H test "
        "set (PReNet drops 546 such images), and Rain12 is used as a test set elsewhere. "
        "File names unconfirmed (ids are stems)."
    ),
    published_splits=(SplitSpec("train", 13712, "paper; the download holds 13,711"),),
)
