"""The method registry shared by ``models`` and ``benchmark``: name -> ``"module:attr"``.

One explicit line per method in :data:`BUILTIN_METHODS`; nothing is imported until a
method is asked for, so ``import models.registry`` stays light (no torch). The target of a
method is a class with a ``card`` attribute (:class:`MethodCard`), one module per method
in :mod:`models.methods`; calling it with the user's options gives an object following
:class:`models.inference.method.Method`.
"""

from __future__ import annotations

import difflib
import importlib
import inspect
from collections.abc import Iterable
from typing import Any

from models.cards import MethodCard
from raindata.errors import DataError

BUILTIN_METHODS: tuple[tuple[str, str], ...] = (
    ("input", "models.methods.input:InputMethod"),
    ("derainnet", "models.methods.derainnet:DerainNetMethod"),
    ("ddn", "models.methods.ddn:DDNMethod"),
    ("jorder-e", "models.methods.jorder_e:JORDEREMethod"),
    ("did-mdn", "models.methods.did_mdn:DIDMDNMethod"),
    ("umrl", "models.methods.umrl:UMRLMethod"),
    ("prenet", "models.methods.prenet:PReNetMethod"),
    ("prenet-real", "models.methods.prenet_real:PReNetRealMethod"),
    ("sirr", "models.methods.sirr:SIRRMethod"),
    ("rain-over-me", "models.methods.rain_over_me:RainOverMeMethod"),
    ("syn2real", "models.methods.syn2real:Syn2RealMethod"),
    ("rcdnet", "models.methods.rcdnet:RCDNetMethod"),
    ("udrdr", "models.methods.udrdr:UDRDRMethod"),
    ("udrdr-teacher", "models.methods.udrdr_teacher:UDRDRTeacherMethod"),
)
"""Every built-in method, one line each, in the order of the paper's comparisons."""


def load_target(target: str) -> Any:
    """Import ``"module:attr"`` and return the attribute."""
    module, _, attr = target.partition(":")
    obj = importlib.import_module(module)
    for part in attr.split("."):
        obj = getattr(obj, part)
    return obj


class Registry:
    """An explicit name -> ``"module:attr"`` map: duplicates refused, typos answered."""

    def __init__(self, kind: str, entries: Iterable[tuple[str, str]] = ()) -> None:
        self.kind = kind
        self._targets: dict[str, str] = {}
        for name, target in entries:
            self.register(name, target)

    def register(self, name: str, target: str) -> None:
        """Add ``name``; ValueError when it is taken or ``target`` is not ``module:attr``."""
        if name in self._targets:
            raise ValueError(
                f"{self.kind} {name!r} is already registered as {self._targets[name]!r}; "
                f"refusing {target!r}"
            )
        module, sep, attr = target.partition(":")
        if not (module and sep and attr):
            raise ValueError(f"{self.kind} {name!r}: expected target 'module:attr', got {target!r}")
        self._targets[name] = target

    def names(self) -> list[str]:
        """Registered names, in registration order."""
        return list(self._targets)

    def target(self, name: str) -> str:
        """The ``"module:attr"`` of ``name``; DataError with close matches when unknown."""
        try:
            return self._targets[name]
        except KeyError:
            pass
        close = difflib.get_close_matches(name, self.names(), n=3, cutoff=0.5)
        hint = f"; did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
        raise DataError(f"unknown {self.kind} {name!r}{hint} (known: {', '.join(self.names())})")

    def load(self, name: str) -> Any:
        """Import and return the factory registered as ``name``."""
        return load_target(self.target(name))

    def __contains__(self, name: object) -> bool:
        return name in self._targets


METHODS = Registry("method", BUILTIN_METHODS)
"""The registry ``benchmark`` and ``udrdr`` use."""


def list_methods() -> list[str]:
    """Names of every registered method (``input`` first)."""
    return METHODS.names()


def register_method(name: str, target: str) -> None:
    """Register one more method (plugins; the built-ins are in :data:`BUILTIN_METHODS`)."""
    METHODS.register(name, target)


def get_card(name: str) -> MethodCard:
    """The card of method ``name`` (imports its module, builds nothing)."""
    card = getattr(METHODS.load(name), "card", None)
    if not isinstance(card, MethodCard):
        raise TypeError(f"method {name!r} ({METHODS.target(name)}) has no MethodCard `card`")
    return card


def create_model(name: str, **overrides: Any) -> Any:
    """Build method ``name`` for inference, e.g. ``create_model("prenet", weights=P)``.

    ``overrides`` are the factory's options (``weights``, ``device``, ``channels_last``,
    ``precision`` for the built-ins); an option the method does not take is a DataError
    that lists the accepted ones.
    """
    factory = METHODS.load(name)
    _check_options(name, factory, overrides)
    return factory(**overrides)


def create_network(name: str, **overrides: Any) -> Any:
    """The test-time ``nn.Module`` of method ``name`` with random weights.

    Card ``network_kwargs`` updated by ``overrides``.
    """
    card = get_card(name)
    if card.network is None:
        raise DataError(f"method {name!r} has no network")
    builder = load_target(card.network)
    kwargs = {**dict(card.network_kwargs), **overrides}
    _check_options(name, builder, kwargs)
    return builder(**kwargs)


def _check_options(name: str, factory: Any, options: dict[str, Any]) -> None:
    params = inspect.signature(factory).parameters
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values()):
        return
    accepted = [
        n
        for n, p in params.items()
        if p.kind in (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
    ]
    bad = [k for k in options if k not in accepted]
    if bad:
        raise DataError(
            f"method {name!r} does not take option(s) {', '.join(bad)} "
            f"(accepted: {', '.join(accepted) or 'none'})"
        )
