"""RainDirection (Liu et al., ICCV 2021): synthetic rain with a direction label per image.

Released layout: ``RainDirection2920train/{rainy,latent,streak}/N.png`` with
``direction/direction.txt`` (one ``N angle_degrees`` line per image) and
``RainDirection430test/{rainy,latent,streak}/N.png`` (no labels), N = 1..count.
``latent`` is the clean image and ``streak`` the rain layer that was added.
"""

from __future__ import annotations

from raindata.layouts.spec import DatasetLayout, Pattern, SplitLayout, Variant

CITATION = (
    "Y. Liu, Z. Yue, J. Pan, Z. Su. Unpaired Learning for Deep Image Deraining with Rain "
    "Direction Regularizer. ICCV 2021."
)
HOMEPAGE = "https://lewisyangliu.github.io/projects/UDRDR"

PATTERNS = (
    Pattern("rainy", "rainy/*", r"rainy/(?P<n>\d+)\.png", "rainy/{n}.png"),
    Pattern("clean", "latent/*", r"latent/(?P<n>\d+)\.png", "latent/{n}.png"),
    Pattern("streak", "streak/*", r"streak/(?P<n>\d+)\.png", "streak/{n}.png"),
)
LABELS = "direction/direction.txt"

RAINDIRECTION = DatasetLayout(
    name="raindirection",
    title="RainDirection: direction-labelled synthetic rain (DIV2K/Flickr2K backgrounds)",
    citation=CITATION,
    paired=True,
    variants=(
        Variant(
            name="released",
            description="rainy/N.png + latent/N.png + streak/N.png (+ direction/direction.txt)",
            splits=(
                SplitLayout(
                    split="test",
                    dirs=("RainDirection430test", "test"),
                    patterns=PATTERNS,
                    count=430,
                    labels=LABELS,
                ),
                SplitLayout(
                    split="train",
                    dirs=("RainDirection2920train", "train"),
                    patterns=PATTERNS,
                    count=2920,
                    labels=LABELS,
                    labels_required=True,
                ),
            ),
            source=HOMEPAGE,
        ),
    ),
    urls=(HOMEPAGE,),
    notes="direction.txt: one 'N angle_degrees' line per training image; test has no labels.",
)
