"""Method cards: what a deraining method expects, how its output becomes an image, its weights.

Plain metadata, no torch. The fields that differ between methods are data the inference
engine (:mod:`models.inference`) reads - input range and colour order, the size rule,
which network output is the image, the output range and convention - so that a method's
file holds a card and, at most, a few lines of its own pre/post-processing. A card is also
what ``benchmark`` records beside every score, so that a result can be traced to a paper,
a weights file (by sha256) and an output convention.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

QUANTIZE_CONVENTIONS: tuple[str, ...] = ("truncate", "round")
"""How a float output in [0, 1] becomes uint8.

``truncate``: clip to [0, 1], then ``uint8(255 * out)`` cast toward zero (numpy/PyTorch
``astype(uint8)``), as in the PReNet test scripts. ``round``: clip to [0, 1], then round
``255 * out`` half away from zero, as MATLAB ``uint8()``/``im2uint8`` do.
"""

RANGES: tuple[str, ...] = ("[0, 1]", "[-1, 1]", "[0, 255]")
"""Value ranges a network may take or give: ``uint8 / 255``, ``2 * uint8 / 255 - 1``, ``uint8``."""

COLOURS: tuple[str, ...] = ("RGB", "BGR")
"""Channel orders a network may take (BGR: the order ``cv2.imread`` gives)."""

OUTPUT_NORMS: tuple[str, ...] = ("none", "minmax")
"""What the official test does to the output before saving, besides clipping:
``none``; ``minmax``: ``(y - min(y)) / (max(y) - min(y))`` over the whole image."""

WEIGHTS_FORMATS: tuple[str, ...] = ("none", "torch", "tf1", "udrdr-f3", "udrdr-train")
"""``torch``: a ``torch.save`` state dict; ``tf1``: a TensorFlow 1 checkpoint (``.index`` +
``.data-*``); ``udrdr-f3``: the F3 file of ``udrdr train``; ``udrdr-train``: a UDRDR
training checkpoint (F1, F2, F3)."""

SIZE_MODES: tuple[str, ...] = ("any", "pad", "resize")
PAD_MODES: tuple[str, ...] = ("reflect", "replicate", "constant")


GITHUB = "https://github.com/"


def sha256_matches(expected: str, digest: str) -> bool:
    """Whether a file's hex sha256 ``digest`` is ``expected`` (a full hex digest, or a
    prefix of one as torchvision checks its files)."""
    return bool(expected) and digest.lower().startswith(expected.lower())


def github_raw(repo: str, commit: str, path: str) -> str:
    """The download URL of ``path`` in GitHub repository ``repo`` ("owner/name") at the
    full 40-hex ``commit``: ``https://github.com/<repo>/raw/<commit>/<path>``."""
    if len(commit) != 40:
        raise ValueError(f"github_raw: expected a full 40-hex commit, got {commit!r}")
    return f"{GITHUB}{repo}/raw/{commit}/{path}"


@dataclass(frozen=True)
class RemoteFile:
    """One file ``benchmark weights fetch`` downloads (and verifies) for a weights file."""

    name: str
    """File name on disk (for a TensorFlow checkpoint ``model.index``, ``model.data-...``)."""
    sha256: str
    """Hex sha256 of the file; a shorter hex string is a prefix (torchvision's files carry
    only the first 8 hex digits in their name, and torchvision checks only those)."""
    size: int
    """Size in bytes (0: not known exactly)."""
    url: str
    """Official URL: of the file itself, or of the zip archive holding it (``member``)."""
    member: str = ""
    """Path of the file inside the zip archive at ``url`` ('' when ``url`` is the file)."""

    def __post_init__(self) -> None:
        if not self.sha256 or any(c not in "0123456789abcdef" for c in self.sha256) \
                or len(self.sha256) > 64:
            raise ValueError(f"{self.name}: sha256 must be lower-case hex (a prefix at "
                             f"most 64 long), got {self.sha256!r}")

    @property
    def page(self) -> str:
        """A page to get the file (or its archive) by hand: GitHub's page of the blob for
        a ``github.com/<repo>/raw/<commit>/<path>`` URL, else the URL itself."""
        if self.url.startswith(GITHUB) and "/raw/" in self.url:
            return self.url.replace("/raw/", "/blob/", 1)
        return self.url


@dataclass(frozen=True)
class WeightsFile:
    """One released weights file of a method (or of a metric: LPIPS's AlexNet)."""

    name: str
    """File name as distributed (what users pass to ``--weights``); for a TensorFlow
    checkpoint, the checkpoint prefix (e.g. ``model``)."""
    sha256: str
    """Hex sha256 of the released file (TensorFlow: of its ``.data-00000-of-00001``); a
    shorter hex string is a prefix (torchvision's files: see :class:`RemoteFile`)."""
    trained_on: str
    """Training data, in words."""
    source: str
    """Where the file comes from (repository @ commit, path)."""
    method: str
    """Registry name of the method whose network this file belongs to."""
    folder: str = ""
    """Sub-folder of ``../shared/data`` holding it in this project's test data ('' if none)."""
    files: tuple[RemoteFile, ...] = ()
    """What ``benchmark weights fetch`` downloads into ``DIR/<method>/``, in this order
    (a TensorFlow checkpoint: the data shard, then the ``.index``, so that the checkpoint
    is complete once it is visible). Empty: not downloadable (bundled with the toolkit)."""
    licence: str = ""
    """Licence note of the file ('': the method card's ``licence``)."""

    def __post_init__(self) -> None:
        if self.files and not any(f.sha256 == self.sha256 for f in self.files):
            raise ValueError(f"weights {self.key}: none of its files has its sha256 "
                             f"{self.sha256}")

    @property
    def key(self) -> str:
        """``<method>/<name>``: unique over every registered method and metric, and the
        path of the file (or checkpoint prefix) under a weights folder or mirror."""
        return f"{self.method}/{self.name}"

    @property
    def size(self) -> int:
        """Bytes of all its files together (0 when not known)."""
        return 0 if any(f.size == 0 for f in self.files) else sum(f.size for f in self.files)

    @property
    def urls(self) -> tuple[str, ...]:
        """The official URLs of its files (an archive's once)."""
        return tuple(dict.fromkeys(f.url for f in self.files))

    @property
    def page(self) -> str:
        """The page to get it from by hand (GitHub's page of the file or its archive)."""
        return self.files[0].page if self.files else ""


@dataclass(frozen=True)
class SizeRule:
    """Which image sizes the network takes, and what the engine does about others.

    ``mode``: ``any`` (every size as it is); ``pad`` (pad the bottom and right edges
    with ``pad_mode`` until both sides are multiples of ``multiple`` and at least
    ``min_side``, and square when ``square``; the output is cropped back); ``resize``
    (the official test resizes the whole image to ``resize_to`` = (height, width);
    the output is resized back bicubically; tiles would change the result, so such a
    method is not tileable). ``note`` says what the official test script does.
    """

    mode: str = "any"
    multiple: int = 1
    min_side: int = 0
    square: bool = False
    pad_mode: str = "reflect"
    resize_to: tuple[int, int] | None = None
    note: str = ""

    def __post_init__(self) -> None:
        if self.mode not in SIZE_MODES:
            raise ValueError(f"size rule mode must be one of {SIZE_MODES}, got {self.mode!r}")
        if self.pad_mode not in PAD_MODES:
            raise ValueError(f"size rule pad_mode must be one of {PAD_MODES}, "
                             f"got {self.pad_mode!r}")
        if self.multiple < 1 or self.min_side < 0:
            raise ValueError(f"size rule: multiple >= 1 and min_side >= 0, got "
                             f"{self.multiple}, {self.min_side}")
        if (self.mode == "resize") != (self.resize_to is not None):
            raise ValueError("size rule: resize_to is given exactly when mode is 'resize'")
        if self.mode == "any" and (self.multiple != 1 or self.min_side or self.square):
            raise ValueError("size rule: mode 'any' takes no multiple, min_side or square")

    def padded_size(self, height: int, width: int) -> tuple[int, int]:
        """The size the network sees for an ``height x width`` input under ``pad``/``any``."""
        if self.mode == "resize":
            assert self.resize_to is not None
            return self.resize_to
        if self.mode == "any":
            return height, width
        h, w = max(height, self.min_side), max(width, self.min_side)
        if self.square:
            h = w = max(h, w)
        m = self.multiple
        return -(-h // m) * m, -(-w // m) * m

    def describe(self) -> str:
        """One phrase for tables, e.g. ``pad to x16 (reflect)``."""
        if self.mode == "any":
            return "any size"
        if self.mode == "resize":
            assert self.resize_to is not None
            return f"resize to {self.resize_to[1]}x{self.resize_to[0]}"
        parts = []
        if self.multiple > 1:
            parts.append(f"x{self.multiple}")
        if self.min_side:
            parts.append(f">= {self.min_side} px")
        if self.square:
            parts.append("square")
        return f"pad to {', '.join(parts)} ({self.pad_mode})"


ANY_SIZE = SizeRule()


@dataclass(frozen=True)
class MethodCard:
    """Metadata of one registered method; the engine reads the I/O fields.

    ``network`` is a ``"module:attr"`` builder of the test-time ``nn.Module`` (the
    released network, wrapped with the method's own pre/post-processing when its
    official test has any; None for methods without one) and ``network_kwargs`` the
    arguments that give the released architecture; ``params`` is the parameter count of
    that network (0 without one). ``output`` picks the image from a network that returns
    several tensors (an index into a tuple/list, or a key of a dict; None: the output is
    the image); ``rain_map_output`` likewise picks an estimated rain map, for methods
    whose network gives one (saved by ``udrdr derain --rain-maps``). ``output_range``
    defaults to ``input_range``. ``tileable``: whether
    running overlapping tiles is allowed (False when the official test processes the
    whole image at once in a way tiles would change: resizing, per-image statistics);
    ``batchable``: whether images of equal size may share a forward pass (False when
    the network normalises with the statistics of its batch).
    """

    name: str
    title: str
    paper: str
    input_range: str = "[0, 1]"
    input_colour: str = "RGB"
    quantize: str = "round"
    size: SizeRule = ANY_SIZE
    output: int | str | None = None
    rain_map_output: int | str | None = None
    output_range: str | None = None
    output_norm: str = "none"
    tileable: bool = True
    batchable: bool = True
    weights: tuple[WeightsFile, ...] = ()
    weights_required: bool = False
    weights_format: str = "none"
    params: int = 0
    network: str | None = None
    network_kwargs: tuple[tuple[str, object], ...] = ()
    url: str = ""
    licence: str = ""
    notes: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        checks = (("quantize", self.quantize, QUANTIZE_CONVENTIONS),
                  ("input_range", self.input_range, RANGES),
                  ("input_colour", self.input_colour, COLOURS),
                  ("output_norm", self.output_norm, OUTPUT_NORMS),
                  ("weights_format", self.weights_format, WEIGHTS_FORMATS))
        for field_name, value, allowed in checks:
            if value not in allowed:
                raise ValueError(f"card {self.name!r}: {field_name} must be one of {allowed}, "
                                 f"got {value!r}")
        if self.output_range is not None and self.output_range not in RANGES:
            raise ValueError(f"card {self.name!r}: output_range must be one of {RANGES}, "
                             f"got {self.output_range!r}")
        if self.size.mode == "resize" and self.tileable:
            raise ValueError(f"card {self.name!r}: a method that resizes the whole image "
                             "cannot be tileable")
        if self.network is not None and self.weights_format == "none":
            raise ValueError(f"card {self.name!r}: a network needs a weights_format")

    @property
    def needs_weights(self) -> bool:
        """Whether ``create_model`` needs ``weights=`` (alias of ``weights_required``)."""
        return self.weights_required

    @property
    def out_range(self) -> str:
        """The range of the network's image output (``output_range`` or ``input_range``)."""
        return self.output_range or self.input_range

    @property
    def weights_file_names(self) -> tuple[str, ...]:
        """Names of the released weights files of this method."""
        return tuple(w.name for w in self.weights)

    def known_weights(self, sha256: str) -> WeightsFile | None:
        """The released file with this sha256, or None."""
        for w in self.weights:
            if w.sha256 == sha256.lower():
                return w
        return None

    def missing_fields(self) -> list[str]:
        """Names of fields a complete card must fill but this one leaves empty."""
        required = ("name", "title", "paper", "input_range", "input_colour", "quantize", "notes")
        missing = [f for f in required if not getattr(self, f)]
        if self.network is not None and self.params <= 0:
            missing.append("params")
        return missing

    def io_summary(self) -> str:
        """One line of the I/O facts, e.g. ``RGB [0, 1], any size, output truncate``."""
        parts = [f"{self.input_colour} {self.input_range}", self.size.describe()]
        if self.out_range != self.input_range:
            parts.append(f"output {self.out_range}")
        if self.output_norm != "none":
            parts.append(f"output {self.output_norm}-normalised")
        parts.append(f"saved by {self.quantize}")
        return ", ".join(parts)

    def to_dict(self) -> dict:
        """JSON-ready form for run records."""
        d = dataclasses.asdict(self)
        d["network_kwargs"] = dict(self.network_kwargs)
        d["weights"] = [dataclasses.asdict(w) for w in self.weights]
        d["notes"] = list(self.notes)
        d["size"] = dataclasses.asdict(self.size)
        return d
