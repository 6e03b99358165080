"""scikit-learn's weight initialisation, the estimators' default (``init=None``).

scikit-learn draws every layer's weights *and* biases uniformly in ``±sqrt(6 / (fan_in +
fan_out))`` (``±sqrt(2 / (fan_in + fan_out))`` when the hidden activation is
``"logistic"``), with the layer's fans for both. anynn draws them from the network's
seeded generator (other numbers than scikit-learn's, the same distribution).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass(frozen=True)
class Uniform:
    """An initialiser ``(rng, shape) -> uniform(-bound, bound, shape)``."""

    bound: float

    def __call__(self, rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
        return rng.uniform(-self.bound, self.bound, size=shape)


def sklearn_layer_init(fan_in: int, fan_out: int, activation: Any) -> dict[str, Uniform]:
    """The ``init`` of one layer spec: scikit-learn's bound for weights and biases."""
    factor = 2.0 if activation == "logistic" else 6.0
    draw = Uniform(math.sqrt(factor / (fan_in + fan_out)))
    return {"weights": draw, "biases": draw}
