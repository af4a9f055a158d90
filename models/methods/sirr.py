"""``sirr``: SIRR (Wei et al., CVPR 2019), semi-supervised transfer of DDN, official weights."""

from __future__ import annotations

import re
from typing import Any, ClassVar

from models.cards import MethodCard, RemoteFile, WeightsFile, github_raw
from models.inference.method import NetworkMethod
from models.methods.ddn import TF1_DATA, hwio_to_oihw

SIRR_REPO = "wwzjer/Semi-supervised-IRR"
SIRR_COMMIT = "dca2a894142de69e2697ab11d7645581b22d54f8"

WEIGHTS: tuple[WeightsFile, ...] = (
    WeightsFile(
        name="model",
        sha256="d517f00242279c059c535eb9a2b16d5be7fd206ae340314d222ee339ee03f6ee",
        trained_on="DDN's synthetic rain set (supervised) and real rainy photographs "
                   "(unsupervised), per the repository's README",
        source="wwzjer/Semi-supervised-IRR @ dca2a894, model/model",
        method="sirr",
        folder="baselines_official/sirr",
        files=tuple(
            RemoteFile(name=name, sha256=sha, size=size,
                       url=github_raw(SIRR_REPO, SIRR_COMMIT, f"model/{name}"))
            for name, sha, size in (
                (TF1_DATA, "d517f00242279c059c535eb9a2b16d5be7fd206ae340314d222ee339ee03f6ee",
                 702_944),
                ("model.index",
                 "0a1f6517cf92c84783268ccc07c21b3faa09e997e1ceac76e49c5f9f52cd0628", 16_614))),
    ),
)

_KEY = re.compile(r"conv_(\d+)/(weights|biases|scale|beta)_(\d+)")
_NAMES = {"weights": "conv.{}.weight", "biases": "conv.{}.bias", "scale": "norm.{}.weight",
          "beta": "norm.{}.bias"}
_IGNORED = re.compile(r"conv_\d+_1/.*|.*/Adam(_1)?|beta[12]_power")
"""The unsupervised branch's copies (``conv_k_1/*``), Adam slots and Adam's counters."""

CARD = MethodCard(
    name="sirr",
    title="SIRR (semi-supervised DDN)",
    paper="Wei Wei, Deyu Meng, Qian Zhao, Zongben Xu, Ying Wu. Semi-Supervised Transfer "
          "Learning for Image Rain Removal. CVPR 2019.",
    input_range="[0, 1]",
    input_colour="RGB",
    quantize="truncate",
    tileable=False,
    batchable=False,
    weights=WEIGHTS,
    weights_required=True,
    weights_format="tf1",
    params=57_369,
    network="models.archs.ddn:DDN",
    network_kwargs=(("norm", "image"), ("guide_dtype", "float64")),
    url="https://github.com/wwzjer/Semi-supervised-IRR",
    licence="none stated in the repository",
    notes=(
        "Official test = testing.py: read ./test-image/input.png with "
        "matplotlib.image.imread (a PNG gives RGB float32 = uint8 / 255; note that the "
        "same call gives uint8 0..255 for a JPEG, which the script does not handle), then "
        "np.double; one image, any size (no padding or resizing).",
        "Base = guided filter per channel in float64 with numpy/OpenCV (radius 15, eps 1, "
        "cv2.boxFilter unnormalised with a constant border, divided by the window "
        "counts), detail = input - base, both fed as float32 to training.inference(image, "
        "detail): DDN's 26 conv 3x3 'SAME' layers with bias, each followed by "
        "tf.nn.moments over batch, rows and columns and tf.nn.batch_normalization "
        "(scale, beta, epsilon 1e-5) - the statistics of the test image itself, in "
        "training and test alike, so the method is neither tileable nor batchable; "
        "output = image + last layer.",
        "Output: values < 0 set to 0 and > 1 to 1, saved with plt.imsave (float -> "
        "(x * 255).astype(uint8), truncation); its PSNR print also uses np.uint8(255 * x).",
        "Weights: the test graph's variables are conv_k/weights_k, biases_k, scale_k, "
        "beta_k (HWIO kernels -> OIHW). The checkpoint also holds conv_k_1/biases_k, "
        "scale_k, beta_k: training built the network twice (supervised and real-image "
        "branch) with tf.Variable, so the second branch got its own biases and norm "
        "parameters while sharing the kernels; the official test does not use them, "
        "nor the Adam slots and beta1_power/beta2_power - all ignored here.",
        "Our port: models.archs.ddn.DDN(norm='image') with the guided filter in float64 "
        "as the official; max abs difference to the official output 8e-7 on the 64x96 "
        "fixture, 1.7e-5 on Rain100L norain-1 (481x321). No difference in procedure.",
    ),
)


class SIRRMethod(NetworkMethod):
    """SIRR (CVPR 2019), official TensorFlow weights, per-image normalisation."""

    card: ClassVar[MethodCard] = CARD

    @classmethod
    def convert_state(cls, state: dict[str, Any]) -> dict[str, Any]:
        """``conv_k/{weights,biases,scale,beta}_k`` onto ``net.conv.{k-1}`` and
        ``net.norm.{k-1}`` (kernels HWIO -> OIHW); ``conv_k_1/*``, Adam slots and counters
        dropped; other names kept, so that a foreign file is reported as not fitting."""
        out: dict[str, Any] = {}
        for key, value in state.items():
            m = _KEY.fullmatch(key)
            if m is not None and m[1] == m[3]:
                i = int(m[1]) - 1
                out["net." + _NAMES[m[2]].format(i)] = (hwio_to_oihw(value)
                                                        if m[2] == "weights" else value)
            elif not _IGNORED.fullmatch(key):
                out[key] = value
        return out
