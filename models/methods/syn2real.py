"""``syn2real``: Syn2Real (Yasarla, Sindagi and Patel, CVPR 2020); the user brings the weights."""

from __future__ import annotations

from typing import ClassVar

from models.cards import MethodCard, SizeRule
from models.inference.method import NetworkMethod

SIZE = SizeRule(
    mode="pad",
    multiple=16,
    pad_mode="reflect",
    note=(
        "The official val_data.ValData RESIZES instead: the longer side is first capped at "
        "1024 (the other scaled, ceil), then each side is rounded up to a multiple of 16, "
        "with PIL Image.ANTIALIAS (Lanczos), and the result is scored and saved at that "
        "size. The engine pads to a multiple of 16 and crops back, so the output stays "
        "aligned with the input; both agree when the sides are multiples of 16 and at most "
        "1024."
    ),
)

CARD = MethodCard(
    name="syn2real",
    title="Syn2Real (DeRain_v2, trained with Gaussian processes)",
    paper=(
        "Rajeev Yasarla, Vishwanath A. Sindagi, Vishal M. Patel. Syn2Real Transfer "
        "Learning for Image Deraining using Gaussian Processes. CVPR 2020."
    ),
    input_range="[-1, 1]",
    input_colour="RGB",
    quantize="round",
    size=SIZE,
    output=0,
    output_range="[0, 1]",
    weights=(),
    weights_required=True,
    weights_format="torch",
    params=2_618_294,
    network="models.archs.syn2real:Syn2RealNet",
    url="https://github.com/rajeevyasarla/Syn2Real",
    licence="MIT (LICENSE in the repository)",
    notes=(
        "Weights (not bundled; pass --weights): the repository holds <exp>/derain_best for "
        "DDN_SIRR_withGP (labelled DDN synthetic pairs, unlabelled real SIRR images) and "
        "for DIDMDN_DDN_withGP, DIDMDN_JORDER200L_withGP, DIDMDN_Rain800_withGP (labelled "
        "DID-MDN data as source, the named set as unlabelled target), stored as large "
        "files.",
        "Checkpoint format: torch.save(net.state_dict()) of nn.DataParallel(DeRain_v2()): "
        "a plain state dict whose 510 keys carry 'module.' (dropped by the loader); the "
        "file has no extension (derain_best).",
        "Architecture = model.py DeRain_v2 as test.py builds it (no options); batch norm "
        "on stored statistics (net.eval()).",
        "Reading: val_data.ValData, PIL Image.open without convert (RGB files), names "
        "from a list file (SIRR_test.txt in the README).",
        "Size: see the size rule's note (official: Lanczos resize to multiples of 16; "
        "here: reflect padding).",
        "Scaling: ToTensor then Normalize((0.5,)*3, (0.5,)*3): RGB in [-1, 1].",
        "Output: net(x) returns (clean, z); the image is clean (output 0), a sigmoid, in "
        "[0, 1]; z is the 1/8-scale latent used by the Gaussian process in training.",
        "Saving: torchvision.utils.save_image, i.e. 255 * x + 0.5 clamped to [0, 255] and "
        "cast to uint8 (card quantize 'round'), PNG at the resized size. PSNR/SSIM in "
        "test.py are computed on the float output against the resized ground truth.",
    ),
)


class Syn2RealMethod(NetworkMethod):
    """Syn2Real (CVPR 2020): DeRain_v2; weights from the official repository."""

    card: ClassVar[MethodCard] = CARD
