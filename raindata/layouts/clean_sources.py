"""Clean-image sources for ``raindata synth --clean DIR``: DIV2K and Flickr2K (HR images).

No rain and no pairs: every sample is a clean image (``Sample.clean``; ``Sample.rainy`` is
None). ``verify`` checks the counts and the zero-padded numbering; point ``synth --clean``
at the folder itself (``DIV2K_train_HR``). The low-resolution folders of both releases
(``DIV2K_train_LR_bicubic/X2/0001x2.png``, ``Flickr2K_LR_bicubic/X2/000001x2.png``) are not
part of these layouts.

- DIV2K: ``DIV2K_train_HR/0001.png`` .. ``0800.png`` and ``DIV2K_valid_HR/0801.png`` ..
  ``0900.png`` (the release's zips; split ``val`` is DIV2K's "valid").
- Flickr2K: ``Flickr2K/Flickr2K_HR/000001.png`` .. ``002650.png`` (EDSR's tar; the HR names
  follow the LR ones, ``000001x2.png``, seen in third-party scripts).
"""

from __future__ import annotations

from raindata.layouts.spec import DatasetLayout, Pattern, SplitLayout, Variant

DIV2K_URL = "https://data.vision.ee.ethz.ch/cvl/DIV2K/"
FLICKR2K_URL = "https://cv.snu.ac.kr/research/EDSR/Flickr2K.tar"


def _numbered(digits: int) -> tuple[Pattern, ...]:
    return (Pattern("clean", "*", rf"(?P<n>\d{{{digits}}})\.png", f"{{n:0{digits}d}}.png"),)


DIV2K = DatasetLayout(
    name="div2k",
    title="DIV2K HR images (clean, no rain): a source for raindata synth",
    citation=(
        "E. Agustsson, R. Timofte. NTIRE 2017 Challenge on Single Image Super-Resolution: "
        "Dataset and Study. CVPR Workshops 2017."
    ),
    paired=False,
    variants=(
        Variant(
            name="released",
            description="DIV2K_train_HR/0001.png .. 0800.png, DIV2K_valid_HR/0801.png .. 0900.png",
            splits=(
                SplitLayout("train", ("DIV2K_train_HR", "DIV2K/DIV2K_train_HR"), _numbered(4),
                            count=800, note="images 0001-0800"),
                SplitLayout("val", ("DIV2K_valid_HR", "DIV2K/DIV2K_valid_HR"), _numbered(4),
                            count=100, note="images 0801-0900"),
            ),
            source=DIV2K_URL,
        ),
    ),
    urls=(DIV2K_URL,),
    notes="Clean 2K images only (no rain): use a folder as raindata synth --clean. The HR "
          "images of DIV2K's test split (0901-1000) are not public.",
)

FLICKR2K = DatasetLayout(
    name="flickr2k",
    title="Flickr2K HR images (clean, no rain): a source for raindata synth",
    citation=(
        "B. Lim, S. Son, H. Kim, S. Nah, K. M. Lee. Enhanced Deep Residual Networks for Single "
        "Image Super-Resolution. CVPR Workshops 2017."
    ),
    paired=False,
    variants=(
        Variant(
            name="released",
            description="Flickr2K/Flickr2K_HR/000001.png .. 002650.png",
            splits=(
                SplitLayout("train", ("Flickr2K_HR", "Flickr2K/Flickr2K_HR"), _numbered(6),
                            count=2650),
            ),
            source=FLICKR2K_URL,
        ),
    ),
    urls=(FLICKR2K_URL,),
    notes="Clean 2K images only (no rain): use the folder as raindata synth --clean.",
)
