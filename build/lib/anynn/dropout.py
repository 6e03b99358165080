"""Inverted dropout: ``anynn.Dropout(rate)`` in a layer list, masks from the seeded host RNG.

Dropout is not a layer of its own in ``Network.layers`` (which holds only the dense
layers, so ``net.layers[i]`` keeps meaning "the i-th dense layer" and file formats stay
unchanged): it is a per-layer rate, ``net.dropout[i]``, applied to the *output* of dense
layer ``i`` during training only. Masks are drawn on the host from the network's seeded
generator, so the same seed gives the same masks on every backend.
"""

from __future__ import annotations

from typing import Any

from ._checks import check_float


def check_rate(rate: Any, where: str = "Dropout") -> float:
    """Return ``rate`` as a float in [0, 1), else raise naming ``where``."""
    return check_float(rate, f"{where}: rate", low=0, high=1, open_high=True)


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
