"""Layer specifications: the forms a user may write, normalised to one named tuple."""

from __future__ import annotations

import numbers
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, NamedTuple

from .errors import AnynnTypeError, AnynnValueError
from .layers import Dense


class LayerSpecNB(NamedTuple):
    """A layer given by its length and whether it has a bias."""

    length: int
    bias: bool


class LayerSpecNBF(NamedTuple):
    """A layer given by its length, bias flag and activation ``fn``."""

    length: int
    bias: bool
    fn: Any


LayerSpec = int | LayerSpecNB | LayerSpecNBF | tuple[Any, ...] | Mapping[str, Any]

_SPEC_KEYS = {"length", "bias", "fn", "activation", "dropout", "init"}


@dataclass(frozen=True)
class LayerPlan:
    """One dense layer to build: its spec, dropout, initialisation and source.

    Attributes
    ----------
    spec : LayerSpecNBF
        Length, bias flag and activation.
    dropout : float
        Training-time dropout rate on the layer's output.
    init : object
        The spec's ``init`` (None: the network's default).
    source : Dense or None
        An existing layer whose parameters and activation are copied.
    """

    spec: LayerSpecNBF
    dropout: float = 0.0
    init: Any = None
    source: Dense | None = None


def _check_length(length: Any, index: int) -> int:
    if isinstance(length, bool) or not isinstance(length, numbers.Integral):
        raise AnynnTypeError(
            f"layers[{index}]: length must be an int; got {type(length).__name__}: {length!r}"
        )
    if length < 1:
        raise AnynnValueError(f"layers[{index}]: length must be >= 1; got {length}")
    return int(length)


def _check_bias(bias: Any, index: int) -> bool:
    if not isinstance(bias, bool):
        raise AnynnTypeError(
            f"layers[{index}]: bias must be True or False; got {type(bias).__name__}: {bias!r}"
        )
    return bias


def parse_layer_spec(spec: Any, default_fn: Any, index: int) -> LayerSpecNBF:
    """Normalise one layer spec to :class:`LayerSpecNBF`.

    Parameters
    ----------
    spec : int, tuple, LayerSpecNB, LayerSpecNBF or dict
        ``length``; ``(length, bias)``; ``(length, bias, fn)``; or a dict with the keys
        ``length`` (required), ``bias`` (default True) and ``fn`` (or ``activation``);
        the ``dropout`` and ``init`` keys are read by :func:`parse_layers`.
    default_fn : object
        The activation used when the spec names none.
    index : int
        Position of the spec, for error messages.
    """
    if isinstance(spec, Mapping):
        unknown = set(spec) - _SPEC_KEYS
        if unknown:
            raise AnynnValueError(
                f"layers[{index}]: unknown key(s) {sorted(unknown)}; "
                f"allowed: {sorted(_SPEC_KEYS)}"
            )
        if "length" not in spec:
            raise AnynnValueError(f"layers[{index}]: the dict needs a 'length' key")
        fn = spec.get("fn", spec.get("activation", default_fn))
        return LayerSpecNBF(
            _check_length(spec["length"], index),
            _check_bias(spec.get("bias", True), index),
            fn,
        )
    if isinstance(spec, tuple):
        if len(spec) not in (2, 3):
            raise AnynnValueError(
                f"layers[{index}]: a tuple spec is (length, bias) or (length, bias, fn); "
                f"got {len(spec)} items"
            )
        fn = spec[2] if len(spec) == 3 else default_fn
        return LayerSpecNBF(_check_length(spec[0], index), _check_bias(spec[1], index), fn)
    if isinstance(spec, numbers.Integral) and not isinstance(spec, bool):
        return LayerSpecNBF(_check_length(spec, index), True, default_fn)
    raise AnynnTypeError(
        f"layers[{index}]: a layer spec must be an int, a tuple, LayerSpecNB, LayerSpecNBF, "
        f"a dict or a Dense layer; got {type(spec).__name__}: {spec!r}"
    )


def parse_layers(layer_specs: Any, default_fn: Any) -> list[LayerPlan]:
    """Turn a layer list into one :class:`LayerPlan` per dense layer.

    Entries are layer specs or existing :class:`anynn.Dense` layers (copied, as the
    original article's ``Network`` takes ``Layer`` objects). An :class:`anynn.Dropout`
    entry applies to the output of the dense layer before it; a dict spec's ``dropout``
    key to its own output. The output layer takes no dropout.
    """
    from .dropout import Dropout, check_rate

    plans: list[LayerPlan] = []
    for index, spec in enumerate(layer_specs):
        if isinstance(spec, Dropout):
            if not plans or plans[-1].dropout:
                raise AnynnValueError(
                    f"layers[{index}]: a Dropout must follow a dense layer spec (one Dropout "
                    "per layer); input dropout is not supported"
                )
            last = plans[-1]
            plans[-1] = LayerPlan(last.spec, spec.rate, last.init, last.source)
            continue
        if isinstance(spec, Dense):
            plans.append(LayerPlan(LayerSpecNBF(spec.n_out, spec.has_bias, spec.activation),
                                   init=spec.init, source=spec))
            continue
        parsed = parse_layer_spec(spec, default_fn, index)
        is_dict = isinstance(spec, Mapping)
        rate = check_rate(spec.get("dropout", 0.0) if is_dict else 0.0,
                          f"layers[{index}] dropout")
        plans.append(LayerPlan(parsed, rate, spec.get("init") if is_dict else None))
    if not plans:
        raise AnynnValueError("layers must hold at least one dense layer spec")
    if plans[-1].dropout:
        raise AnynnValueError(
            f"the output layer cannot take dropout (rate {plans[-1].dropout}): dropout goes "
            "between layers"
        )
    return plans
