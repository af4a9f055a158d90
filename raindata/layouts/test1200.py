"""Test1200: DID-Data's test set (Zhang and Patel, DID-MDN) as it circulates.

- ``didmdn``: the release, ``DID-MDN-test/N.jpg`` with ``[rainy | clean]`` side by side
  (the same split as layout ``did-data``, see :mod:`raindata.layouts.did`; each half is
  512x512 according to DID-MDN issue 22).
- ``restormer``: MPRNet/Restormer's ``Test1200/input/N.png`` + ``target/N.png``, the halves
  stored as PNG (lossless copies of the decoded JPEG halves, if nothing else was done).
  Names ``1.png`` .. ``1200.png`` in third-party test scripts; DID-MDN's own loader opens
  ``0.jpg`` .. ``1199.jpg``, so whether N+1 is the release's N is not confirmed: ids are
  the file stems.
- ``mspfn``: MSPFN's ``TEST1200/inputcrop/`` + ``cleancrop/`` (file names not confirmed).
"""

from __future__ import annotations

from raindata.layouts.did import DID_DATA
from raindata.layouts.naming import test_set_copies
from raindata.layouts.spec import DatasetLayout, Variant

_DIDMDN_TEST = DID_DATA.variant("didmdn").split("test")

TEST1200 = DatasetLayout(
    name="test1200",
    title="Test1200: DID-Data's 1200 test pairs (as released, and as PNG input/target copies)",
    citation=DID_DATA.citation,
    paired=True,
    variants=(
        Variant(
            name="didmdn",
            description="DID-MDN release: [rainy | clean] JPEG per file",
            splits=(_DIDMDN_TEST,),
            source="https://github.com/hezhangsprinter/DID-MDN",
        ),
        *test_set_copies("test", "Test1200", 1200),
    ),
    urls=("https://github.com/hezhangsprinter/DID-MDN", "https://github.com/swz30/Restormer",
          "https://github.com/kuijiang94/MSPFN"),
    notes=(
        "The test split of did-data under its common name. The release is JPEG side by side "
        "(left rainy); the input/target copies are PNG halves. Ids of the release (0..1199) "
        "and of the copies (1..1200) are not known to correspond."
    ),
)
