"""``rcdnet``: RCDNet (Wang et al., CVPR 2020), 17 stages; the user brings the weights."""

from __future__ import annotations

from typing import ClassVar

from models.cards import MethodCard
from models.inference.method import NetworkMethod

CARD = MethodCard(
    name="rcdnet",
    title="RCDNet (17 stages)",
    paper=(
        "Hong Wang, Qi Xie, Qian Zhao, Deyu Meng. A Model-driven Deep Neural Network for "
        "Single Image Rain Removal. CVPR 2020."
    ),
    input_range="[0, 255]",
    input_colour="RGB",
    quantize="round",
    output=0,
    rain_map_output=1,
    weights=(),
    weights_required=True,
    weights_format="torch",
    params=3_166_355,
    network="models.archs.rcdnet:RCDNet",
    network_kwargs=(("stages", 17), ("num_maps", 32), ("num_dual", 32)),
    url="https://github.com/hongwang01/RCDNet",
    licence="none stated in the repository",
    notes=(
        "Weights (not bundled; pass --weights): the repository's folder 'Pretrained Model/' "
        "holds model_best.pt for rain100L (trained on RainTrainL, 200 pairs), rain100H "
        "(RainTrainH, 1,800 pairs), rain1400 (12,600 pairs) and SPA-Data (638,492 pairs), "
        "stored as large files; the README says its real-image results use the Rain100H "
        "model. Derained results are on a Baidu NetDisk linked from the README.",
        "Checkpoint format: torch.save(model.state_dict()) of Mainnet itself (DataParallel "
        "is unwrapped before saving), a plain state dict of 2,098 tensors with the "
        "batch-norm buffers; the official loader is non-strict, ours strict.",
        "Architecture = model/rcdnet.py Mainnet with stage=17, num_M=32, num_Z=32 (the "
        "defaults of option.py and the README commands); BN runs on stored statistics "
        "(model.eval() in Trainer.test).",
        "Reading: data/srdata.py with --ext img, imageio.imread of rain/*.png: RGB uint8.",
        "Scaling: common.np2Tensor multiplies by rgb_range / 255 with rgb_range = 255: "
        "the network takes RGB in [0, 255], no mean shift.",
        "Size: the whole image as it is (9x9 kernels padded by 4, 3x3 convs padded by 1); "
        "no padding, cropping or chopping (--chop and --self_ensemble are off).",
        "Output: the forward returns (B0, ListB, ListCM); the image is ListB[-1], the "
        "background refined by fxnet after the last stage (card output 0 = that image, "
        "rain_map_output 1 = ListCM[-1], the rain layer of the last stage, in [0, 255]).",
        "Saving: utility.quantize clamps to [0, 255] and rounds; save_results writes "
        ".byte() of it with scipy.misc.imsave as <name>_x2_SR.png (card quantize "
        "'round'). The paper's PSNR/SSIM come from Performance_evaluation/*.m on the Y "
        "channel.",
    ),
)


class RCDNetMethod(NetworkMethod):
    """RCDNet (CVPR 2020), 17 stages; weights from the official repository."""

    card: ClassVar[MethodCard] = CARD
