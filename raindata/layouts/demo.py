"""The toolkit's own demo set (``raindata synth --demo``): RainDirection layout per split.

``ROOT/train`` and ``ROOT/test`` each hold ``rainy/N.png``, ``latent/N.png``,
``streak/N.png``, ``direction/direction.txt`` and ``manifest.csv``, whose
``sha256_<role>`` columns (``sha256_rainy``, ``sha256_latent``, ``sha256_streak``)
``raindata verify`` checks. Counts depend on the synthesis settings, so none is fixed.
"""

from __future__ import annotations

from raindata.layouts.raindirection import LABELS, PATTERNS
from raindata.layouts.spec import DatasetLayout, SplitLayout, Variant


def _split(name: str) -> SplitLayout:
    return SplitLayout(
        split=name,
        dirs=(name,),
        patterns=PATTERNS,
        labels=LABELS,
        labels_required=True,
        checksums="manifest.csv",
    )


DEMO = DatasetLayout(
    name="demo",
    title="Demo set synthesized by `raindata synth --demo` (bundled clean photographs)",
    citation="This toolkit (RainDirection-style synthesis).",
    paired=True,
    variants=(
        Variant(
            name="raindirection",
            description="train/ and test/, each rainy/ latent/ streak/ direction/ manifest.csv",
            splits=(_split("test"), _split("train")),
        ),
    ),
    notes="Synthesized locally; sha256 of every file is in each split's manifest.csv.",
    public=False,
)
