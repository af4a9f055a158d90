"""``ddn``: DDN (Fu et al., CVPR 2017), the authors' TensorFlow re-implementation and weights."""

from __future__ import annotations

import re
from typing import Any, ClassVar

from models.cards import MethodCard, RemoteFile, WeightsFile, github_raw
from models.inference.method import NetworkMethod

FU_CODE = "xueyangfu/xueyangfu.github.io @ 5cd918be"
FU_REPO = "xueyangfu/xueyangfu.github.io"
FU_COMMIT = "5cd918be695654e2048ba3e7ed1b86e3b5474259"
TF1_DATA = "model.data-00000-of-00001"


def fu_checkpoint(zip_path: str, top: str, data: tuple[str, int],
                  index: tuple[str, int]) -> tuple[RemoteFile, RemoteFile]:
    """The checkpoint ``model`` inside one of the authors' code zips (``zip_path`` in
    FU_REPO at FU_COMMIT; members ``<top>/model/trained/model.*``): its data shard and its
    ``.index``, each as (sha256, bytes)."""
    url = github_raw(FU_REPO, FU_COMMIT, zip_path)
    return tuple(RemoteFile(name=name, sha256=sha, size=size, url=url,
                            member=f"{top}/model/trained/{name}")
                 for name, (sha, size) in ((TF1_DATA, data), ("model.index", index)))


WEIGHTS: tuple[WeightsFile, ...] = (
    WeightsFile(
        name="model",
        sha256="0a1b3fab590369026ff857cd9450e381d37e1beecc4a1457c275ce1355cec3df",
        trained_on="not stated in the zip (its readme points to the authors' CVPR 2017 "
                   "synthetic rain set)",
        source=f"{FU_CODE}, paper/2017/cvpr/CVPR17_training_code.zip: model/trained/model",
        method="ddn",
        folder="baselines_official/ddn",
        files=fu_checkpoint(
            "paper/2017/cvpr/CVPR17_training_code.zip", "CVPR17_training_code",
            ("0a1b3fab590369026ff857cd9450e381d37e1beecc4a1457c275ce1355cec3df", 232_700),
            ("fb2f3189dd84095fe16a86d6455a9817122b45ff68b732d6a4722fc91b87bfb4", 5_437)),
    ),
)

TF_JPEG_NOTE = (
    "The official script decodes JPEG inputs with TensorFlow's decode_jpeg, whose default "
    "is the fast integer IDCT: it differs from OpenCV/PIL decoding (the toolkit's reader) "
    "by up to 4 grey levels on JPEG files; PNG files decode identically."
)

_KEY = re.compile(r"layer_(\d+)/(conv|bn)_(\d+)/(kernel|bias|gamma|beta|moving_mean|"
                  r"moving_variance)")
_NAMES = {"kernel": "conv.{}.weight", "bias": "conv.{}.bias", "gamma": "norm.{}.weight",
          "beta": "norm.{}.bias", "moving_mean": "norm.{}.running_mean",
          "moving_variance": "norm.{}.running_var"}


def hwio_to_oihw(kernel: Any) -> Any:
    """A TensorFlow conv kernel [H, W, in, out] (or a transposed conv's [H, W, out, in])
    as PyTorch's [out, in, H, W] (``ConvTranspose2d``: [in, out, H, W]); a torch tensor.
    Other ranks are returned as they are (the loader then reports the shape)."""
    return kernel.permute(3, 2, 0, 1).contiguous() if kernel.ndim == 4 else kernel


CARD = MethodCard(
    name="ddn",
    title="DDN (deep detail network)",
    paper="Xueyang Fu, Jiabin Huang, Delu Zeng, Yue Huang, Xinghao Ding, John Paisley. "
          "Removing Rain from Single Images via a Deep Detail Network. CVPR 2017.",
    input_range="[0, 1]",
    input_colour="RGB",
    quantize="truncate",
    tileable=True,
    batchable=True,
    weights=WEIGHTS,
    weights_required=True,
    weights_format="tf1",
    params=57_369,
    network="models.archs.ddn:DDN",
    network_kwargs=(("norm", "running"),),
    url="https://xueyangfu.github.io/projects/cvpr2017.html",
    licence="non-commercial use only (readme.txt of the code zip)",
    notes=(
        "Official test = testing.py of CVPR17_training_code.zip (a TensorFlow 1 "
        "re-implementation by the first author, not the paper's Caffe/MATLAB code): read "
        "with tf.image.decode_jpeg(channels=3), RGB, cast to float32 and divided by 255; "
        "batch of one; any size (no padding, no resizing) but DDN's guided filter asserts "
        "both sides > 31.",
        "training.inference(rain, is_training=False): base = guided_filter(x, x, r=15, "
        "eps=1) per channel (GuidedFilter.py: cumulative-sum box filter, windows cut at "
        "the border), detail = x - base; 26 conv 3x3 'same' + batch norm layers (moving "
        "statistics, epsilon 1e-3), ReLU after the first 25, a shortcut every 2 layers; "
        "output = x + last layer (the negative residual).",
        "Output: tf.clip_by_value(out, 0, 1), then np.uint8(derained * 255.) (truncation) "
        "saved as PNG with skimage.io.imsave, RGB.",
        "Our port: the same network (models.archs.ddn) with the weights read from the "
        "checkpoint (layer_k/conv_k/kernel HWIO -> OIHW, bias; layer_k/bn_k/gamma, beta, "
        "moving_mean, moving_variance -> BatchNorm weight, bias, running_mean, "
        "running_var); max abs difference to the official TensorFlow output 3e-7 on the "
        "64x96 fixture, 2.2e-6 on Rain100L norain-1 (481x321). Difference: sides <= 31 "
        "run too (the box windows cut at both ends, as OpenCV's border-constant box "
        "filter gives) where the official code stops with an assertion.",
        TF_JPEG_NOTE,
    ),
)


class DDNMethod(NetworkMethod):
    """DDN (CVPR 2017), the authors' TensorFlow weights."""

    card: ClassVar[MethodCard] = CARD

    @classmethod
    def convert_state(cls, state: dict[str, Any]) -> dict[str, Any]:
        """``layer_k/conv_k/*`` and ``layer_k/bn_k/*`` onto ``net.conv.{k-1}`` and
        ``net.norm.{k-1}`` (kernels HWIO -> OIHW; a zero ``num_batches_tracked`` per
        norm); other names are kept, so that a foreign file is reported as not fitting."""
        import torch

        out: dict[str, Any] = {}
        for key, value in state.items():
            m = _KEY.fullmatch(key)
            if m is None or m[1] != m[3]:
                out[key] = value
                continue
            i = int(m[1]) - 1
            out["net." + _NAMES[m[4]].format(i)] = (hwio_to_oihw(value) if m[4] == "kernel"
                                                    else value)
            if m[4] == "moving_mean":
                out[f"net.norm.{i}.num_batches_tracked"] = torch.zeros((), dtype=torch.long)
        return out
