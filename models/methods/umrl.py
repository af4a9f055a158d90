"""``umrl``: UMRL (Yasarla and Patel, CVPR 2019), official DID-Data / Rain100 / Rain800 weights."""

from __future__ import annotations

from typing import ClassVar

from models.cards import MethodCard, RemoteFile, SizeRule, WeightsFile, github_raw
from models.inference.method import NetworkMethod

UMRL_PAPER = (
    "Rajeev Yasarla, Vishal M. Patel. Uncertainty Guided Multi-Scale Residual Learning-using "
    "a Cycle Spinning CNN for Single Image De-Raining. CVPR 2019."
)
UMRL_URL = "https://github.com/rajeevyasarla/UMRL--using-Cycle-Spinning"
UMRL_SOURCE = "rajeevyasarla/UMRL--using-Cycle-Spinning @ f64fd3f2, pre_trained/"
UMRL_REPO = "rajeevyasarla/UMRL--using-Cycle-Spinning"
UMRL_COMMIT = "f64fd3f2d4f75339136bbc6ff3a705a72abe3e2a"


def _weights(name: str, sha256: str, size: int, trained_on: str) -> WeightsFile:
    url = github_raw(UMRL_REPO, UMRL_COMMIT, f"pre_trained/{name}")
    return WeightsFile(name=name, sha256=sha256, trained_on=trained_on,
                       source=UMRL_SOURCE + name, method="umrl",
                       folder="baselines_official/umrl",
                       files=(RemoteFile(name=name, sha256=sha256, size=size, url=url),))


WEIGHTS: tuple[WeightsFile, ...] = (
    _weights("Net_DIDMDN.pth",
             "7e985ef46c20ca261cd1a0503c2c038af397d01217069ed905e57cb22c29c6d7", 4_003_060,
             "DID-Data (Zhang and Patel, CVPR 2018)"),
    _weights("Net_JORDER.pth",
             "4bde66db92364e14f4e33e13924f4f46df422638ddfa4f9f5879565aed47cae9", 4_003_048,
             "JORDER's Rain100 training data (Yang et al., CVPR 2017)"),
    _weights("Net_Rain800.pth",
             "59f7dd2a608ea6c7313563bd0d262841b8923087fdec2348c7a0d556696d2e54", 4_003_052,
             "Rain800 (Zhang et al., TCSVT 2019)"),
)

SIZE = SizeRule(
    mode="pad",
    multiple=16,
    min_side=32,
    pad_mode="reflect",
    note=(
        "Official: no padding, resizing or cropping; the network needs both sides to be "
        "multiples of 16 (its skip concatenations and x - residual fail otherwise, e.g. "
        "on 321x481 Rain100 images). Ours: reflect-pad bottom/right to multiples of 16, "
        "at least 32 (so that the 1/16-scale maps hold more than one pixel for the "
        "per-image batch norm), crop back; the padded pixels enter the per-image "
        "statistics, so for other sizes the result is this port's extension."
    ),
)

CARD = MethodCard(
    name="umrl",
    title="UMRL (multi-scale residual learning with confidence)",
    paper=UMRL_PAPER,
    input_range="[-1, 1]",
    input_colour="RGB",
    quantize="truncate",
    size=SIZE,
    output=1,
    output_range="[-1, 1]",
    output_norm="minmax",
    tileable=False,
    batchable=False,
    weights=WEIGHTS,
    weights_required=True,
    weights_format="torch",
    params=984_356,
    network="models.archs.umrl:UMRL",
    url=UMRL_URL,
    licence="MIT",
    notes=(
        "Official test = umrl_test.py (README 'To test UMRL'); this card follows it.",
        "Reading: datasets/pix2pix_val.py opens <valDataroot>/<i>.jpg with PIL "
        ".convert('RGB') and takes the left half as the rainy input (DID-Data's "
        "side-by-side files; the right half is the ground truth). The network sees RGB; "
        "we take the rainy image itself.",
        "Scaling: ToTensor (/255) then Normalize(mean 0.5, std 0.5), i.e. [-1, 1]; our "
        "2x/255 - 1 is the same up to float rounding.",
        "Size: the loader's Scale/CenterCrop are commented out, the image runs at its own "
        "size; see the size rule for the multiple-of-16 requirement and our padding.",
        "Multi-scale input: the script also passes the input downscaled by "
        "F.interpolate (nearest) to 1/2 and 1/4; they feed only the two small clean "
        "outputs, not the saved image. Our network makes them the same way.",
        "Batch norm: netG.train() before testing, one image per forward, so every BN layer "
        "normalises with the statistics of that image (the script's running buffers are "
        "updated but never used). Ours: per-image statistics in any mode, stored buffers "
        "untouched; hence not tileable, and not batched (batchable=False).",
        "Output: the second of the seven outputs (x_hat_val, 'clean2', tanh, [-1, 1]); "
        "no clamp before normalisation.",
        "Normalisation: norm_range(t, None) = (t - t.min()) / (t.max() - t.min()) over "
        "all channels and pixels of the image together (applied twice; the second is "
        "the identity). The engine's output_norm='minmax' computes the same on (y + 1) "
        "/ 2, equal up to float rounding (min-max is affine invariant).",
        "Saving: tensor.mul(255).clamp(0, 255).byte() (truncation), PIL PNG.",
        "Cycle spinning (umrl_cycspn_test.py, README 'To test UMRL using Cycle Spinning') "
        "is a separate test: 50-pixel cyclic shifts, each output min-max normalised and "
        "shifted back, averaged, min-max normalised again. Not used by this card; "
        "models.archs.umrl.UMRLCycleSpin reproduces it (tested against the official "
        "script).",
        "Port check (tests/test_umrl.py): against the official script's float output "
        "on tests/fixtures/baselines/rainy_64x96.png, max abs difference 6.0e-5 "
        "(DIDMDN), 2.3e-6 (JORDER), 3.9e-6 (Rain800). The network alone, given the "
        "official input arithmetic (x / 255 - 0.5) / 0.5 on one CPU thread, is bit-exact; "
        "the rest is float rounding amplified ~500x by a batch-norm channel of the "
        "confidence branch whose per-image variance (~1e-6) is below eps (CPU thread "
        "counts alone move the official output by ~3e-5).",
    ),
)


class UMRLMethod(NetworkMethod):
    """UMRL (CVPR 2019), official DID-Data, Rain100 (JORDER) and Rain800 weights."""

    card: ClassVar[MethodCard] = CARD
