"""``jorder-e``: JORDER-E (Yang et al., TPAMI 2019), the released "practical" model."""

from __future__ import annotations

from typing import ClassVar

from models.cards import MethodCard, RemoteFile, WeightsFile, github_raw
from models.inference.method import NetworkMethod

PAPER = (
    "Wenhan Yang, Robby T. Tan, Jiashi Feng, Zongming Guo, Shuicheng Yan, Jiaying Liu. "
    "Joint Rain Detection and Removal from a Single Image with Contextualized Deep "
    "Networks. IEEE TPAMI 42(6), 1377-1393, 2020 (online 2019)."
)
REPO = "flyywh/JORDER-E-Deep-Image-Deraining-TPAMI-2019-Journal"
COMMIT = "ccb4a465bcb48ad8a5d3fef3ab1b950bcf8b7050"

CARD = MethodCard(
    name="jorder-e",
    title="JORDER-E practical model (TPAMI 2019; not the CVPR 2017 JORDER)",
    paper=PAPER,
    input_range="[0, 255]",
    input_colour="RGB",
    quantize="round",
    output=0,
    weights=(
        WeightsFile(
            name="model_practical.pt",
            sha256="f97df015f95c76806b0deb6c9cf8929be9bde9d1fab2afafb2f6f8bbe9f7655d",
            trained_on="not stated; the README calls it a heavy-rain-oriented streak "
                       "removal model (its test script reads a 'practical_test' set)",
            source=f"{REPO} @ ccb4a465, testing_practical/src/pretrained_model/"
                   "model_practical.pt",
            method="jorder-e",
            folder="baselines_official/jorder_e",
            files=(RemoteFile(
                name="model_practical.pt",
                sha256="f97df015f95c76806b0deb6c9cf8929be9bde9d1fab2afafb2f6f8bbe9f7655d",
                size=1_652_875,
                url=github_raw(REPO, COMMIT,
                               "testing_practical/src/pretrained_model/model_practical.pt")),),
        ),
    ),
    weights_required=True,
    weights_format="torch",
    params=406_784,
    network="models.archs.jorder_e:JORDERE",
    network_kwargs=(("features", 32), ("blocks", 3)),
    url=f"https://github.com/{REPO}",
    licence="none stated in the repository",
    notes=(
        "This is JORDER-E, the journal extension (TPAMI 2019), not JORDER (Yang et al., "
        "CVPR 2017), which UDRDR's Table 1 lists: its scores are not that table's JORDER "
        "row.",
        "Official test (testing_practical/src/test.sh -> main.py -> trainer.Trainer.test): "
        "data/srdata.py reads the image with imageio.imread (RGB, uint8), "
        "common.np2Tensor makes it float and multiplies by rgb_range / 255 = 1: RGB on "
        "[0, 255], no mean subtraction.",
        "Whole image, batch 1: test.sh sets neither --chop (the 4-patch forward_chop) nor "
        "--self_ensemble (forward_x8), and nothing pads or resizes; --scale 2 is unused "
        "by this network (no down-sampling, any size).",
        "Network: two stages of one design (G0 = 32 features, 3 context blocks of dilated "
        "3x3 convs); the second takes cat(rainy, first image) and adds the first stage's "
        "block features, rain mask and rain level to its own; each stage's image is "
        "decoder(features modulated by mask and level) + rainy. Output "
        "(image2, image1, mask2, level2): the saved image is the first (output=0). The "
        "level is trained against clean - rainy, so no rain-map output is declared.",
        "utility.quantize: clamp(0, 255).round() (torch's round, half to even; the card's "
        "'round' is half away from zero, which differs only at exact .5 values), then "
        "save_results casts with .byte() and writes a PNG with scipy.misc.imsave.",
        "The official loader is load_state_dict(strict=False); every one of the 132 keys "
        "of model_practical.pt matches the network, so ours loads it with strict=True.",
        "Checked against the official main.py run on CPU (torch 2.14.1): identical "
        "float output (max abs difference 0; tests/test_jorder_e.py). No difference "
        "from the official test.",
    ),
)


class JORDEREMethod(NetworkMethod):
    """JORDER-E (TPAMI 2019), the practical heavy-rain model released with its code."""

    card: ClassVar[MethodCard] = CARD
