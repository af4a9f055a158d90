"""``derainnet``: DerainNet (Fu et al., TIP 2017), the paper's "Clear", official weights."""

from __future__ import annotations

from typing import Any, ClassVar

from models.cards import MethodCard, WeightsFile
from models.inference.method import NetworkMethod
from models.methods.ddn import FU_CODE, TF_JPEG_NOTE, fu_checkpoint, hwio_to_oihw

WEIGHTS: tuple[WeightsFile, ...] = (
    WeightsFile(
        name="model",
        sha256="6e1a0f3260102771d6c5e6b8801cf7cb6b2504f370ff72e32d13ffff62ae9262",
        trained_on="not stated in the zip (its readme points to the authors' CVPR 2017 "
                   "synthetic rain set)",
        source=f"{FU_CODE}, paper/2017/tip/TIP17_training_code.zip: model/trained/model",
        method="derainnet",
        folder="baselines_official/derainnet",
        files=fu_checkpoint(
            "paper/2017/tip/TIP17_training_code.zip", "TIP17_training_code",
            ("6e1a0f3260102771d6c5e6b8801cf7cb6b2504f370ff72e32d13ffff62ae9262", 3_018_764),
            ("99407b9f312e9bb8ea62ad31bca781198a3f0eaef360016960d65079a8a25543", 342)),
    ),
)

_NAMES = {
    "DerainNet/conv2d/kernel": "net.conv1.weight",
    "DerainNet/conv2d/bias": "net.conv1.bias",
    "DerainNet/conv2d_1/kernel": "net.conv2.weight",
    "DerainNet/conv2d_1/bias": "net.conv2.bias",
    "DerainNet/conv2d_transpose/kernel": "net.deconv.weight",
    "DerainNet/conv2d_transpose/bias": "net.deconv.bias",
}

CARD = MethodCard(
    name="derainnet",
    title='DerainNet ("Clear" in the UDRDR paper)',
    paper="Xueyang Fu, Jiabin Huang, Xinghao Ding, Yinghao Liao, John Paisley. Clearing "
          "the Skies: A Deep Network Architecture for Single-Image Rain Removal. IEEE "
          "Transactions on Image Processing 26(6):2944-2956, 2017.",
    input_range="[0, 1]",
    input_colour="RGB",
    quantize="truncate",
    tileable=True,
    batchable=True,
    weights=WEIGHTS,
    weights_required=True,
    weights_format="tf1",
    params=754_691,
    network="models.archs.derainnet:DerainNet",
    url="https://xueyangfu.github.io/projects/tip2017.html",
    licence="non-commercial use only (readme.txt of the code zip)",
    notes=(
        "Official test = testing.py of TIP17_training_code.zip (a TensorFlow 1 "
        "re-implementation by the first author, not the paper's MATLAB code): read with "
        "tf.image.decode_jpeg(channels=3), RGB, float32 / 255; batch of one.",
        "Size handling: tf.pad by 10 pixels per side, SYMMETRIC (mirror with the edge "
        "repeated); training.inference on the padded image: base = guided filter (r 15, "
        "eps 1, DDN's GuidedFilter.py), detail = padded - base; conv 16x16 valid (512, "
        "ReLU), conv 1x1 (512, ReLU), transposed conv 8x8 valid (3): the detail estimate "
        "is 12 pixels larger than the input per direction; crop 6 per side of it and 10 "
        "per side of the base, so both have the input's size: the official output IS "
        "full-size (the 10-pixel crop removes only the padding) and the benchmark gets "
        "it as it is, with no border of ours.",
        "Output: tf.clip_by_value(base + detail, 0, 1), np.uint8(derained * 255.) "
        "(truncation), saved as PNG with skimage.io.imsave, RGB.",
        "Weights: DerainNet/conv2d, conv2d_1 (HWIO -> OIHW) and conv2d_transpose (TF "
        "[H, W, out, in] -> ConvTranspose2d [in, out, H, W], no kernel flip) kernels and "
        "biases; the checkpoint holds nothing else.",
        "Our port: models.archs.derainnet.DerainNet does the padding, split, network and "
        "crops inside the module; max abs difference to the official output 7e-6 on the "
        "64x96 fixture, 4.6e-5 on Rain100L norain-1 (481x321) (float32 sums of 768 and "
        "32,768 products in another order). Difference: sides < 12 run too (mirroring "
        "repeated, box windows cut at both ends) where the official code fails.",
        TF_JPEG_NOTE,
    ),
)


class DerainNetMethod(NetworkMethod):
    """DerainNet (TIP 2017), the authors' TensorFlow weights; full-size output."""

    card: ClassVar[MethodCard] = CARD

    @classmethod
    def convert_state(cls, state: dict[str, Any]) -> dict[str, Any]:
        """The six ``DerainNet/*`` variables onto ``net.conv1``, ``net.conv2`` and
        ``net.deconv`` (kernels to PyTorch's layouts); other names kept, so that a foreign
        file is reported as not fitting."""
        out: dict[str, Any] = {}
        for key, value in state.items():
            if key in _NAMES:
                out[_NAMES[key]] = hwio_to_oihw(value) if key.endswith("/kernel") else value
            else:
                out[key] = value
        return out
