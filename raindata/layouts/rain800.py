"""Rain800 (Zhang, Sindagi and Patel, ID-CGAN) and its Test100 copies.

- ``idcgan``: the release (hezhangsprinter/ID-CGAN, pix2pix-style): one JPEG per pair,
  ``[clean | rainy]`` side by side. The order is read from the code: ``loadImage`` crops
  the left half as A and the right half as B, and the README trains and tests with
  ``which_direction=BtoA`` (input B = right = rainy). Training folder ``training/``
  (``phase = 'training'`` in train.lua, 700 pairs); the synthetic test folder is
  ``test_syn/`` in third-party loaders (100 pairs; not confirmed against the archive,
  which is no longer online, see the README). File names are not confirmed (the loader
  takes every image of the folder), so ids are the file stems.
- ``restormer``: MPRNet/Restormer's ``Test100/input/N.png`` + ``target/N.png`` with **98**
  pairs: "we follow MSPFN and use 98 images" (swz30/MPRNet issue 23). Names ``1.png`` ..
  ``98.png`` in third-party test scripts; which two Rain800 test pairs are left out, and
  whether N follows the release order, is not documented.
- ``mspfn``: MSPFN's ``TEST100/inputcrop/`` + ``cleancrop/`` (its test script's folder;
  file names not confirmed), cropped at the top-left corner to sides divisible by 8.
- ``rain-norain``: ``rain/rain-001.png`` + ``norain/norain-001.png`` (100), seen only in
  third-party test scripts; where that copy comes from is not known.
"""

from __future__ import annotations

from raindata.layouts.naming import test_set_copies
from raindata.layouts.spec import (
    ANY_IMAGE,
    DatasetLayout,
    Pattern,
    SplitLayout,
    SplitSpec,
    Variant,
)

ANY_JPEG_NAME = (Pattern("rainy", "*", rf"(?P<stem>[^/]+)\.{ANY_IMAGE}", "{stem}.jpg"),)


def _side_by_side(split: str, dirs: tuple[str, ...], count: int) -> SplitLayout:
    return SplitLayout(split, dirs, ANY_JPEG_NAME, count=count, side_by_side=True,
                       clean_left=True, note="[clean | rainy] in one JPEG")


RAIN800 = DatasetLayout(
    name="rain800",
    title="Rain800 (ID-CGAN): 700 training + 100 synthetic test pairs; Test100 copies",
    citation=(
        "H. Zhang, V. Sindagi, V. M. Patel. Image De-raining Using a Conditional Generative "
        "Adversarial Network. IEEE TCSVT 30(11), 2020 (arXiv:1701.05957, 2017)."
    ),
    paired=True,
    variants=(
        Variant(
            name="idcgan",
            description="ID-CGAN release: [clean | rainy] JPEG per pair (left clean!)",
            splits=(
                _side_by_side("train", ("training", "train"), 700),
                _side_by_side("test", ("test_syn", "testing", "test"), 100),
            ),
            source="https://github.com/hezhangsprinter/ID-CGAN",
        ),
        *test_set_copies("test", "Test100", 98,
                         note="98 of the 100 test pairs (MSPFN's choice)"),
        Variant(
            name="rain-norain",
            description="third-party copy: rain/rain-001.png + norain/norain-001.png",
            splits=(
                SplitLayout(
                    "test", ("test", "Rain800/test"),
                    (
                        Pattern("rainy", "rain/*", r"rain/rain-(?P<n>\d+)\.png",
                                "rain/rain-{n:03d}.png"),
                        Pattern("clean", "norain/*", r"norain/norain-(?P<n>\d+)\.png",
                                "norain/norain-{n:03d}.png"),
                    ),
                    count=100,
                ),
            ),
        ),
    ),
    urls=(
        "https://github.com/hezhangsprinter/ID-CGAN",
        "https://github.com/kuijiang94/MSPFN",
        "https://github.com/swz30/MPRNet",
    ),
    notes=(
        "The release puts the clean image on the LEFT ([clean | rainy], unlike DID-Data); "
        "some third-party loaders read it the other way round. Test100 = the 100 test "
        "pairs as re-shared by MSPFN/MPRNet/Restormer, of which those copies keep 98. "
        "MSPFN: the first 700 pairs train, the rest test; Rain13K trains on the 700."
    ),
    published_splits=(
        SplitSpec("train", 700),
        SplitSpec("test", 100, "Test100 copies (MSPFN, MPRNet, Restormer) hold 98"),
    ),
)
