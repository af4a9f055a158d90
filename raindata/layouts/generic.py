"""Generic layouts for any folder: ``paired`` (two folders matched by file stem) and
``unpaired`` (one folder of images).

``paired``: ``rainy/`` + ``clean/``, or ``input/`` + ``target/``; a file pairs with the
one of the same stem in the other folder (extensions may differ). Either layout may
sit directly in the root (taken as split ``test`` unless the folder is named ``train``
or ``val``, or ``--split`` says otherwise) or under ``train/``, ``test/``, ``val/``.
``unpaired``: images directly in the root, or under ``train/``, ``test/``, ``val/``.
"""

from __future__ import annotations

from raindata.layouts.spec import ANY_IMAGE, DatasetLayout, Pattern, SplitLayout, Variant

SPLITS = ("test", "train", "val")


def _paired(rainy: str, clean: str) -> Variant:
    patterns = tuple(
        Pattern(
            role, f"{folder}/*", rf"{folder}/(?P<stem>[^/]+)\.{ANY_IMAGE}", f"{folder}/{{stem}}.*"
        )
        for role, folder in (("rainy", rainy), ("clean", clean))
    )
    return Variant(
        name=f"{rainy}-{clean}",
        description=f"{rainy}/NAME.* + {clean}/NAME.* (matched by file stem)",
        splits=tuple(SplitLayout(split=s, dirs=(s,), patterns=patterns) for s in SPLITS),
    )


PAIRED = DatasetLayout(
    name="paired",
    title="Any paired folder: rainy/ + clean/ (or input/ + target/), matched by file stem",
    citation="",
    paired=True,
    variants=(_paired("rainy", "clean"), _paired("input", "target")),
    public=False,
)

_ANY = (Pattern("rainy", "*", rf"(?P<stem>[^/]+)\.{ANY_IMAGE}", "{stem}.*"),)

UNPAIRED = DatasetLayout(
    name="unpaired",
    title="Any folder of rainy images (no reference)",
    citation="",
    paired=False,
    variants=(
        Variant(
            name="folder",
            description="images directly in the folder (or in train/, test/, val/)",
            splits=tuple(SplitLayout(split=s, dirs=(s,), patterns=_ANY) for s in SPLITS),
        ),
    ),
    public=False,
)
