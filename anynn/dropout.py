"""Inverted dropout: ``anynn.Dropout(rate)`` in a layer list, masks from the seeded host RNG.

Dropout is not a layer of its own in ``Network.layers`` (which holds only the dense
layers, so ``net.layers[i]`` keeps meaning "the i-th dense layer" and file formats stay
unchanged): it is a per-layer rate, ``net.dropout[i]``, applied to the *output* of dense
layer ``i`` during training only. Masks are drawn on the host from the network's seeded
generator, so the same seed gives the same masks on every backend.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .backend import Backend
from .errors import AnynnTypeError, AnynnValueError

Array = Any


def check_rate(rate: Any, where: str = "Dropout") -> float:
    """Return ``rate`` as a float in [0, 1), else raise naming ``where``."""
    if isinstance(rate, bool) or not isinstance(rate, (int, float)):
        raise AnynnTypeError(f"{where}: rate must be a number in [0, 1); got {rate!r}")
    if not 0.0 <= rate < 1.0:
        raise AnynnValueError(f"{where}: rate must lie in [0, 1); got {rate}")
    return float(rate)


class Dropout:
    """Zero each output of the previous layer with probability ``rate`` while training.

    Surviving values are scaled by ``1 / (1 - rate)`` (inverted dropout), so ``predict``
    and ``evaluate``, where dropout is inactive, need no rescaling.

    Examples
    --------
    >>> import anynn as nn
    >>> net = nn.Network(4, [(16, True, "relu"), nn.Dropout(0.2), (1, True, "sigmoid")])
    >>> net.dropout
    [0.2, 0.0]
    """

    def __init__(self, rate: float) -> None:
        self.rate = check_rate(rate)

    def __repr__(self) -> str:
        return f"Dropout({self.rate})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Dropout) and other.rate == self.rate

    __hash__ = None  # type: ignore[assignment]


class MaskSampler:
    """Draws the masks of one training step for the layers with a non-zero rate.

    Parameters
    ----------
    rates : list of float
        Per dense layer, the dropout rate on its output.
    widths : list of int
        Per dense layer, its output width.
    rng : numpy.random.Generator
        The network's seeded host generator.
    backend : Backend
        Where the masks go.
    """

    def __init__(
        self, rates: list[float], widths: list[int], rng: np.random.Generator, backend: Backend
    ) -> None:
        self.active = [(i, r, w) for i, (r, w) in enumerate(zip(rates, widths, strict=True)) if r]
        self.n_layers = len(rates)
        self.rng = rng
        self.backend = backend

    def __bool__(self) -> bool:
        return bool(self.active)

    def draw(self, n_samples: int) -> list[Array | None]:
        """One mask per dense layer (None where the rate is 0), shape ``(n, width)``."""
        masks: list[Array | None] = [None] * self.n_layers
        dtype = self.backend.dtype_name
        for i, rate, width in self.active:
            keep = self.rng.random((n_samples, width)) >= rate
            masks[i] = self.backend.from_host((keep / (1.0 - rate)).astype(dtype))
        return masks
