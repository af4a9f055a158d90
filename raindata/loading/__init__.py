"""torch Datasets for training: paired synthetic pairs, unpaired real images, seeding.

Importing this subpackage imports torch (``import raindata`` alone does not).
"""

from raindata.loading.paired import PairedDataset
from raindata.loading.seeding import SharedEpoch, sample_rng, worker_init_fn
from raindata.loading.transforms import Window, apply_window, sample_window, transform_angle
from raindata.loading.unpaired import UnpairedDataset

__all__ = [
    "PairedDataset",
    "SharedEpoch",
    "UnpairedDataset",
    "Window",
    "apply_window",
    "sample_rng",
    "sample_window",
    "transform_angle",
    "worker_init_fn",
]
