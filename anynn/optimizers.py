"""Optimizers: update rules applied to a network's parameters, state on the device."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .errors import AnynnTypeError, AnynnValueError
from .layers import Parameter


def _check_positive(value: Any, name: str, allow_zero: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise AnynnTypeError(f"{name} must be a number; got {type(value).__name__}: {value!r}")
    value = float(value)
    if not (value >= 0.0 if allow_zero else value > 0.0) or value != value:
        bound = ">= 0" if allow_zero else "> 0"
        raise AnynnValueError(f"{name} must be {bound}; got {value}")
    return value


class Optimizer:
    """Base class: ``step(params)`` updates each :class:`Parameter` from its ``grad``.

    Parameters
    ----------
    lr : float
        Learning rate.
    """

    name = "optimizer"

    def __init__(self, lr: float = 0.01) -> None:
        self.lr = _check_positive(lr, "lr")
        self.iterations = 0

    def step(self, params: Sequence[Parameter]) -> None:
        """Apply one update to every parameter that has a gradient."""
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"{type(self).__name__}(lr={self.lr})"


class SGD(Optimizer):
    """Plain stochastic gradient descent: ``w <- w - lr * g``."""

    name = "sgd"

    def step(self, params: Sequence[Parameter]) -> None:
        lr = self.lr
        for p in params:
            p.value -= lr * p.grad
        self.iterations += 1


OPTIMIZERS: dict[str, type[Optimizer]] = {"sgd": SGD}


def get(spec: str | Optimizer, lr: float = 0.01) -> Optimizer:
    """Return an optimizer from a name (built with ``lr``) or an optimizer object.

    Raises
    ------
    AnynnValueError
        For an unknown name.
    """
    if isinstance(spec, Optimizer):
        return spec
    if isinstance(spec, str) and spec.lower() in OPTIMIZERS:
        return OPTIMIZERS[spec.lower()](lr)
    raise AnynnValueError(
        f"unknown optimizer {spec!r}; expected one of {', '.join(OPTIMIZERS)} or an "
        "Optimizer object"
    )
