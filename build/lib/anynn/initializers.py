"""Initial values of a layer's parameters: named schemes or a callable ``(rng, shape)``.

A scheme is drawn on the host from the network's seeded generator, in float64, so the
same seed gives the same initial weights on every backend. With ``fan_in, fan_out =
shape`` (a 1-D shape ``(n,)`` has ``fan_in = fan_out = n``):

=====================  ===============================================================
``"he"``               normal, std ``sqrt(2 / fan_in)`` (alias ``"he_normal"``)
``"he_uniform"``       uniform in ``±sqrt(6 / fan_in)``
``"glorot"``           normal, std ``sqrt(2 / (fan_in + fan_out))`` (``"glorot_normal"``,
                       ``"xavier"``, ``"xavier_normal"``)
``"glorot_uniform"``   uniform in ``±sqrt(6 / (fan_in + fan_out))`` (``"xavier_uniform"``)
``"lecun"``            normal, std ``sqrt(1 / fan_in)`` (``"lecun_normal"``)
``"lecun_uniform"``    uniform in ``±sqrt(3 / fan_in)``
``"zeros"``            all zeros (the biases' default)
=====================  ===============================================================

A callable is called as ``init(rng, shape)`` with the network's
``numpy.random.Generator`` and the parameter's shape tuple, and returns an array-like
of that shape with finite real values. A layer's choice is written to model files by
name (``"custom"`` for a callable, which cannot be stored).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from .errors import AnynnTypeError, AnynnValueError
from .validation import check_finite, host_array

Draw = Callable[[np.random.Generator, tuple[int, ...]], Any]


def _fans(shape: tuple[int, ...]) -> tuple[int, int]:
    return (shape[0], shape[-1]) if len(shape) > 1 else (shape[0], shape[0])


def _normal(variance: Callable[[int, int], float]) -> Draw:
    def draw(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
        return rng.standard_normal(shape) * math.sqrt(variance(*_fans(shape)))

    return draw


def _uniform(variance: Callable[[int, int], float]) -> Draw:
    def draw(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
        limit = math.sqrt(3.0 * variance(*_fans(shape)))  # a uniform's variance: limit²/3
        return rng.uniform(-limit, limit, size=shape)

    return draw


def _zeros(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    return np.zeros(shape)


def _he(fan_in: int, fan_out: int) -> float:
    return 2.0 / fan_in


def _glorot(fan_in: int, fan_out: int) -> float:
    return 2.0 / (fan_in + fan_out)


def _lecun(fan_in: int, fan_out: int) -> float:
    return 1.0 / fan_in


SCHEMES: dict[str, Draw] = {
    "he": _normal(_he),
    "he_uniform": _uniform(_he),
    "glorot": _normal(_glorot),
    "glorot_uniform": _uniform(_glorot),
    "lecun": _normal(_lecun),
    "lecun_uniform": _uniform(_lecun),
    "zeros": _zeros,
}
"""The named schemes (see the module docstring)."""

ALIASES = {"he_normal": "he", "glorot_normal": "glorot", "xavier": "glorot",
           "xavier_normal": "glorot", "xavier_uniform": "glorot_uniform",
           "lecun_normal": "lecun"}

CUSTOM = "custom"
"""The stored name of a callable initialiser."""


@dataclass(frozen=True)
class Initializer:
    """One parameter's initialisation: a scheme name, or a callable.

    Attributes
    ----------
    name : str
        The scheme's name, or ``"custom"`` for a callable.
    function : callable or None
        ``function(rng, shape)``; None for a ``"custom"`` read from a file (it cannot
        draw: the file holds the drawn values).
    """

    name: str
    function: Draw | None

    def draw(self, rng: np.random.Generator, shape: tuple[int, ...], what: str) -> np.ndarray:
        """A float64 host array of ``shape``, checked (shape, real, finite).

        Raises
        ------
        AnynnValueError, AnynnTypeError
            If a callable fails or returns something else; ``what`` names the parameter.
        """
        if self.function is None:
            raise AnynnValueError(
                f"{what}: a custom initialiser read from a file cannot draw new values"
            )
        try:
            values = self.function(rng, shape)
        except Exception as exc:  # the user's code: say which parameter it was drawing
            raise AnynnValueError(
                f"{what}: the initialiser {self.name!r} raised {type(exc).__name__}: {exc}"
            ) from exc
        host = host_array(values, f"{what} (from the initialiser {self.name!r})")
        if tuple(host.shape) != shape:
            raise AnynnValueError(
                f"{what}: the initialiser {self.name!r} must return shape {shape}; got "
                f"{tuple(host.shape)}"
            )
        check_finite(host, f"{what} (from the initialiser {self.name!r})")
        return np.asarray(host, dtype=np.float64)


def get(init: Any, what: str = "init") -> Initializer:
    """An :class:`Initializer` from a scheme name, a callable or an Initializer.

    Raises
    ------
    AnynnValueError
        For an unknown name.
    AnynnTypeError
        For anything that is not a str, a callable or an Initializer.
    """
    if isinstance(init, Initializer):
        return init
    if isinstance(init, str):
        key = ALIASES.get(init.lower(), init.lower())
        if key not in SCHEMES:
            raise AnynnValueError(
                f"{what}: unknown initialisation {init!r}; expected one of "
                f"{', '.join(SCHEMES)} (or {', '.join(ALIASES)}), or a callable (rng, shape)"
            )
        return Initializer(key, SCHEMES[key])
    if callable(init):
        return Initializer(CUSTOM, init)
    raise AnynnTypeError(
        f"{what} must be a scheme name or a callable (rng, shape) -> array; got "
        f"{type(init).__name__}: {init!r:.80}"
    )


@dataclass(frozen=True)
class LayerInit:
    """How a layer's weights and biases start.

    Attributes
    ----------
    weights : Initializer or None
        None: chosen by the activation (``"he"`` for ReLU-like ones, else ``"glorot"``).
    biases : Initializer
        ``"zeros"`` unless chosen.
    """

    weights: Initializer | None = None
    biases: Initializer = Initializer("zeros", _zeros)

    @property
    def chosen(self) -> bool:
        """Whether anything differs from the defaults (only then is it stored)."""
        return self.weights is not None or self.biases.name != "zeros"

    def names(self) -> dict[str, str | None]:
        """The stored form: ``{"weights": name or None, "biases": name}``."""
        return {"weights": None if self.weights is None else self.weights.name,
                "biases": self.biases.name}


def layer_init(init: Any, what: str = "init") -> LayerInit:
    """A :class:`LayerInit` from ``None`` (defaults), a weights scheme (name or callable),
    a mapping ``{"weights": ..., "biases": ...}`` or a LayerInit.

    A name read from a file may be ``"custom"``: it then records a callable that was
    used, and cannot draw.

    Raises
    ------
    AnynnValueError, AnynnTypeError
        For an unknown name, an unknown key or a value of the wrong type.
    """
    if init is None:
        return LayerInit()
    if isinstance(init, LayerInit):
        return init
    if isinstance(init, Mapping):
        unknown = set(init) - {"weights", "biases"}
        if unknown:
            raise AnynnValueError(
                f"{what}: unknown key(s) {sorted(map(str, unknown))}; allowed: 'weights', "
                "'biases'"
            )
        weights, biases = init.get("weights"), init.get("biases", "zeros")
        return LayerInit(None if weights is None else _stored(weights, f"{what}['weights']"),
                         _stored(biases, f"{what}['biases']"))
    return LayerInit(get(init, what))


def _stored(init: Any, what: str) -> Initializer:
    if isinstance(init, str) and init == CUSTOM:
        return Initializer(CUSTOM, None)
    return get(init, what)
