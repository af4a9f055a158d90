"""``rain-over-me``: Rain O'er Me (Lin et al., TIP 2020), the three released generators."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from models.cards import MethodCard, RemoteFile, WeightsFile, github_raw
from models.inference.method import NetworkMethod, refuse_foreign

PAPER = (
    "Huangxing Lin, Yanlong Li, Xueyang Fu, Xinghao Ding, Yue Huang, John Paisley. "
    "Rain O'er Me: Synthesizing Real Rain to Derain With Data Distillation. IEEE "
    "Transactions on Image Processing 29, 7668-7680, 2020."
)
REPO = "HuangxingLin123/Rain-Over-Me @ 81e0e793"
GITHUB_REPO = "HuangxingLin123/Rain-Over-Me"
COMMIT = "81e0e7933ad9c4a3bd1d5343475471675df93bdf"
FOLDER = "baselines_official/rain_over_me"


def _weights(tag: str, sha256: str, size: int, trained_on: str) -> WeightsFile:
    name = f"latest_net_G_{tag}.pth"
    path = f"code_for_{tag}/checkpoints/pretrained/latest_net_G.pth"
    return WeightsFile(
        name=name,
        sha256=sha256,
        trained_on=trained_on,
        source=f"{REPO}, {path}",
        method="rain-over-me",
        folder=FOLDER,
        files=(RemoteFile(name=name, sha256=sha256, size=size,
                          url=github_raw(GITHUB_REPO, COMMIT, path)),),
    )


DISTILLED = ("rainy training images of {}, each with a filtered ('blurred') soft label, "
             "plus unpaired clean images (the paper's data distillation; no rain/clean pairs)")

WEIGHTS: tuple[WeightsFile, ...] = (
    _weights("Rain200L", "838b45ca8e5adcaf8c214d3a5542f1abdf72ded82445abf6a0d0094f5a9bb2e9",
             229_022, DISTILLED.format("Rain200L")),
    _weights("Rain1400", "7859923451765d9b87b891f73728c58bf1767598bda92accad8774ffc971f29c",
             229_022, DISTILLED.format("Rain1400")),
    _weights("DID_data", "1c228b0c5cd5e9e02441b1e00fd31efbd55c0844e8f730ecf602036495197390",
             219_427, DISTILLED.format("DID-Data") + "; 2-conv detail branch (52,726 parameters)"),
)

CARD = MethodCard(
    name="rain-over-me",
    title="Rain O'er Me (derainnet, 16 features)",
    paper=PAPER,
    input_range="[0, 1]",
    input_colour="RGB",
    quantize="truncate",
    output=1,
    rain_map_output=0,
    weights=WEIGHTS,
    weights_required=True,
    weights_format="torch",
    params=55_046,
    network="models.archs.rain_over_me:RainOverMeTest",
    network_kwargs=(("features", 16), ("detail_convs", 3)),
    url="https://github.com/HuangxingLin123/Rain-Over-Me",
    licence="none stated in the repository",
    notes=(
        "Official test (test.py of each code_for_<set>/, identical in all three): "
        "data/aligned_dataset.py reads each image with cv2.imread (BGR) and converts it "
        "to RGB, then torchvision ToTensor: RGB float in [0, 1], no normalisation.",
        "Whole image at its own size, batch 1, no padding, resizing or cropping (the "
        "network has no down-sampling); the model is not put in eval mode (it has no "
        "batch norm or dropout, so this changes nothing).",
        "The network returns (res, input - res, res2, input - res2); the only visual "
        "saved at test time is Y_hat = input - res (output=1). res, the tanh rain layer, "
        "is our rain map (rain_map_output=0). res2 and input - res2 come from the "
        "'detail enhancement' branch out2, used only by the training losses; our "
        "test-time network skips it.",
        "util.util.tensor2im: 255 * Y_hat, np.clip(0, 255), astype(uint8), a truncation "
        "(quantize='truncate'); saved as PNG by PIL in RGB.",
        "Variants: the out2 branch of code_for_DID_data/models/networks.py is "
        "conv(3->16)-ReLU-conv(16->3)-ReLU (52,726 parameters), the other two sets "
        "conv-ReLU-conv(16->16)-ReLU-conv (55,046); no option selects it, the files "
        "differ. The method picks the variant from the weights file's keys; it does not "
        "affect the saved image. The Rain200L and Rain1400 code differs only in training "
        "loss schedules, DID-Data's also in a random rain scaling during training.",
        "Checked against the official test.py run on CPU (torch 2.14.1) with all three "
        "files: max abs difference below 1e-6 on the [0, 1] scale "
        "(tests/test_rain_over_me.py). No difference from the official test.",
    ),
)


class RainOverMeMethod(NetworkMethod):
    """Rain O'er Me (TIP 2020) with the Rain200L, Rain1400 or DID-Data generator."""

    card: ClassVar[MethodCard] = CARD

    def load_network(self, path: Path):
        """The generator variant the file was saved with (out2 depth), loaded strictly."""
        from models.archs.rain_over_me import RainOverMeTest, detail_convs_of
        from models.io import read_weights, weights_digest
        from models.io.torch_state import fit_report
        from raindata.errors import DataError

        refuse_foreign(self.card, weights_digest(path), path)
        state, digest, read = read_weights(path, self.card.weights_format)
        kwargs = {**dict(self.card.network_kwargs), "detail_convs": detail_convs_of(state)}
        net = RainOverMeTest(**kwargs)
        problems = fit_report(net, state)
        if problems:
            raise DataError(f"{path}: does not fit {self.card.title} ({problems})")
        net.load_state_dict(state, strict=True)
        return net, digest, read
