"""File-naming shapes that several layouts share (one definition, imported)."""

from __future__ import annotations

from raindata.layouts.spec import ANY_IMAGE, Pattern, SplitLayout, Variant


def same_name(rainy: str, clean: str, ext: str = "png") -> tuple[Pattern, Pattern]:
    """``rainy/NAME`` + ``clean/NAME``: partners carry the same file stem (any stem, any
    image suffix; ``ext`` is only the suffix shown in examples). The shape of the
    MPRNet/Restormer copies (``input/`` + ``target/``) and of RCDNet's ``small/rain/`` +
    ``small/norain/``."""
    return tuple(
        Pattern(role, f"{folder}/*", rf"{folder}/(?P<stem>[^/]+)\.{ANY_IMAGE}",
                f"{folder}/{{stem}}.{ext}")
        for role, folder in (("rainy", rainy), ("clean", clean))
    )


#: MPRNet/Restormer (and DRSformer) copies: ``input/NAME`` + ``target/NAME``.
INPUT_TARGET = same_name("input", "target")



def test_set_copies(
    split: str, name: str, count: int, files: tuple[Pattern, ...] = INPUT_TARGET,
    note: str = "", ext: str = "png",
) -> tuple[Variant, Variant]:
    """The two circulating copies of a benchmark test set named ``name`` (``Test100``):
    MPRNet/Restormer's ``name/input`` + ``target`` (``files``) and MSPFN's
    ``NAME/inputcrop`` + ``cleancrop`` (cropped at the top-left corner to sides divisible
    by 8, kuijiang94/MSPFN issue 10; ``ext`` is the suffix its examples show); both found
    as ``name``, ``test/name``, ``NAME`` or ``test_data/NAME``."""
    upper = name.upper()
    dirs = (name, f"test/{name}", upper, f"test_data/{upper}")
    mprnet = Variant(
        name="restormer",
        description=f"MPRNet/Restormer {name}: {files[0].example} + {files[1].example}",
        splits=(SplitLayout(split, dirs, files, count=count, note=note),),
        source="https://github.com/swz30/Restormer/blob/main/Deraining/download_data.py",
    )
    mspfn = Variant(
        name="mspfn",
        description=f"MSPFN {upper}: inputcrop/NAME + cleancrop/NAME, top-left crops",
        splits=(SplitLayout(split, dirs, same_name("inputcrop", "cleancrop", ext), count=count,
                            note=note),),
        source="https://github.com/kuijiang94/MSPFN",
    )
    return mprnet, mspfn
