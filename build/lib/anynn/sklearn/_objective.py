"""scikit-learn's MLP objective on top of anynn's losses and optimizers.

scikit-learn's ``MLPClassifier``/``MLPRegressor`` minimise, per mini-batch, the loss summed
over the outputs and averaged over the samples *weighted by their sample weights*
(``sum(w * l) / sum(w)``; half the squared error for regression), plus the L2 penalty
``alpha / 2 * sum(||W||^2) / sum(w)`` on the weight matrices only (not the biases).
:class:`SampleMeanLoss` rescales an anynn loss to that objective and
:func:`penalized_optimizer` adds the penalty's gradient before each update, so a
``learning_rate_init`` or an ``alpha`` means what it means in scikit-learn, and integer
sample weights equal repeated rows.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import sympy

from .. import optimizers
from ..activations import Activation, from_expression
from ..errors import AnynnValueError
from ..layers import Parameter
from ..losses import Loss

Array = Any


class SampleMeanLoss(Loss):
    """An anynn loss rescaled to scikit-learn's per-batch objective, plus the L2 penalty.

    Parameters
    ----------
    base : Loss
        ``mse``, ``bce`` or ``cce``; its targets, output checks and fused forms are used.
    per_output : bool
        Whether ``base`` averages over the outputs (``mse``, ``bce``) rather than summing.
    value_factor, gradient_factor : float
        Extra factors on the reported value and on the gradient (scikit-learn reports
        half the *mean* squared error over outputs but differentiates half the *sum*).
    alpha : float
        L2 penalty coefficient on ``weights``.
    weights : list of Parameter
        The weight matrices the penalty applies to.
    xp : namespace
        The network's array namespace.
    """

    def __init__(
        self,
        base: Loss,
        *,
        per_output: bool,
        value_factor: float,
        gradient_factor: float,
        alpha: float,
        weights: list[Parameter],
        xp: Any,
    ) -> None:
        self.base = base
        self.name = base.name
        self.fuses_with = base.fuses_with
        self.needs_probabilities = base.needs_probabilities
        self.per_output = per_output
        self.value_factor = value_factor
        self.gradient_factor = gradient_factor
        self.alpha = alpha
        self.weights = weights
        self.xp = xp
        self.batch_total: Array | float = 1.0
        """Sum of the sample weights of the last batch (its sample count when unweighted)."""

    def __repr__(self) -> str:
        return f"SampleMeanLoss({self.base!r}, alpha={self.alpha!r})"

    def can_fuse(self, activation: Activation) -> bool:
        return self.base.can_fuse(activation)

    def check_output(self, activation: Activation, width: int) -> None:
        self.base.check_output(activation, width)

    def prepare_targets(self, y: Any, n_outputs: int, what: str = "y") -> Any:
        return self.base.prepare_targets(y, n_outputs, what)

    def _rescale(self, a: Array, weights: Array | None) -> Array | float:
        """Factor turning ``base``'s mean over ``count`` into a mean over ``sum(w)``."""
        count = a.shape[0] * (a.shape[1] if self.per_output else 1)
        if weights is None:
            self.batch_total = a.shape[0]
        else:  # a batch whose weights are all zero contributes nothing (not 0 / 0)
            xp = self.xp
            total = xp.sum(weights)
            self.batch_total = xp.where(total > 0, total, xp.full_like(total, math.inf))
        return count / self.batch_total

    def _penalty(self) -> Array | float:
        xp = self.xp
        squares = sum(xp.sum(p.value * p.value) for p in self.weights)
        return (0.5 * self.alpha) * squares / self.batch_total

    def add_penalty_gradient(self) -> None:
        """Add the L2 gradient ``alpha * W / sum(w)`` of the last batch to each weight."""
        if self.alpha:
            scale = self.alpha / self.batch_total
            for p in self.weights:
                p.grad = p.grad + scale * p.value

    def _objective_value(self, mean: Array, a: Array, weights: Array | None) -> Array:
        """``mean`` (``base``'s value) rescaled, plus the penalty; no work for a factor 1."""
        factor = self._rescale(a, weights) * self.value_factor
        value = mean if isinstance(factor, float) and factor == 1.0 else mean * factor
        return value + self._penalty() if self.alpha else value

    def _rescaled(self, gradient: Array, a: Array, weights: Array | None) -> Array:
        factor = self._rescale(a, weights) * self.gradient_factor
        return gradient if isinstance(factor, float) and factor == 1.0 else gradient * factor

    def value(self, a: Array, y: Array, xp: Any, weights: Array | None = None) -> Array:
        return self._objective_value(self.base.value(a, y, xp, weights), a, weights)

    def gradient(self, a: Array, y: Array, xp: Any, weights: Array | None = None) -> Array:
        return self._rescaled(self.base.gradient(a, y, xp, weights), a, weights)

    def fused_value(
        self, z: Array, a: Array, y: Array, xp: Any, weights: Array | None = None
    ) -> Array:
        return self._objective_value(self.base.fused_value(z, a, y, xp, weights), a, weights)

    def fused_delta(self, a: Array, y: Array, weights: Array | None = None) -> Array:
        return self._rescaled(self.base.fused_delta(a, y, weights), a, weights)


def exp_activation() -> Activation:
    """The output activation of Poisson regression (scikit-learn's log link)."""
    x = sympy.Symbol("x")
    return from_expression(sympy.exp(x), x)


class PoissonDeviance(Loss):
    """Half the Poisson deviance, ``y log(y / a) - y + a``, summed over outputs and
    averaged over samples, for an ``exp`` output (``a = exp(z)``, so ``dL/dz = a - y``)."""

    name = "poisson"

    def can_fuse(self, activation: Activation) -> bool:
        expr = activation.expr
        return expr is not None and expr == sympy.exp(activation.symbol)

    def prepare_targets(self, y: np.ndarray, n_outputs: int, what: str = "y") -> np.ndarray:
        y = super().prepare_targets(y, n_outputs, what)
        if y.size and np.min(y) < 0:
            raise AnynnValueError(
                f"Poisson regression needs targets ({what}) >= 0; got minimum {np.min(y)}"
            )
        return y

    @staticmethod
    def _y_log_y(y: Array, xp: Any) -> Array:
        positive = y > 0
        return xp.where(positive, y * xp.log(xp.where(positive, y, xp.ones_like(y))),
                        xp.zeros_like(y))

    def _mean(self, per_element: Array, weights: Array | None, xp: Any) -> Array:
        weighted = per_element if weights is None else per_element * weights
        return xp.sum(weighted) / per_element.shape[0]

    def value(self, a: Array, y: Array, xp: Any, weights: Array | None = None) -> Array:
        log_a = xp.log(xp.maximum(a, xp.full_like(a, 1e-300)))
        return self._mean(self._y_log_y(y, xp) - y * log_a - y + a, weights, xp)

    def gradient(self, a: Array, y: Array, xp: Any, weights: Array | None = None) -> Array:
        grad = (1.0 - y / a) / a.shape[0]
        return grad if weights is None else grad * weights

    def fused_value(
        self, z: Array, a: Array, y: Array, xp: Any, weights: Array | None = None
    ) -> Array:
        return self._mean(self._y_log_y(y, xp) - y * z - y + a, weights, xp)

    def fused_delta(self, a: Array, y: Array, weights: Array | None = None) -> Array:
        delta = (a - y) * (1.0 / a.shape[0])
        return delta if weights is None else delta * weights


class _Penalized:
    """Mixin: add the L2 penalty's gradient ``alpha * W / sum(w)`` before each update.

    It defines no ``__init__``, so the optimizer's configuration and saved state are
    those of its base class (a saved network reloads with the plain optimizer).
    """

    objective: SampleMeanLoss | None = None

    def step(self, params: list[Parameter]) -> None:
        if self.objective is not None:
            self.objective.add_penalty_gradient()
        super().step(params)  # type: ignore[misc]

    def change_learning_rate(self, lr: float) -> None:
        """Set a new constant learning rate as scikit-learn's SGD experiences it.

        scikit-learn's velocity accumulates ``lr * g``; anynn's (PyTorch's) momentum
        buffer accumulates ``g`` and is multiplied by the current ``lr``. Scaling the
        buffer by ``old / new`` keeps the two identical across a change of ``lr``.
        """
        optimizer: Any = self
        old = optimizer.current_lr()
        state = optimizer._state  # the base class's per-parameter slots
        if old > 0 and lr > 0:
            for buffer in state.get("momentum_buffer", []):
                buffer *= old / lr
        optimizer.lr = lr


_PENALIZED: dict[type[optimizers.Optimizer], type[optimizers.Optimizer]] = {
    cls: type(f"Penalized{cls.__name__}", (_Penalized, cls), {})
    for cls in optimizers.OPTIMIZERS.values()
}


def new_optimizer(name: str, **hyperparameters: Any) -> optimizers.Optimizer:
    """A fresh optimizer ``name`` (``"sgd"``, ``"adam"``, ...) that adds the L2 gradient."""
    return _PENALIZED[optimizers.OPTIMIZERS[name]](**hyperparameters)


def penalized_optimizer(
    optimizer: optimizers.Optimizer, objective: SampleMeanLoss, backend: Any
) -> optimizers.Optimizer:
    """``optimizer`` (state included) as one that adds ``objective``'s L2 gradient.

    A network reloaded from a file or a pickle holds the plain optimizer; its state is
    moved into the penalized class of the same name.
    """
    if not isinstance(optimizer, _Penalized):
        converted = _PENALIZED[type(optimizer)]()
        converted.load_state_dict(optimizer.state_dict(), backend)
        optimizer = converted
    optimizer.objective = objective  # type: ignore[attr-defined]
    return optimizer


def detach(optimizer: optimizers.Optimizer) -> None:
    """Stop adding a fit's penalty: a later plain ``network.fit`` reuses the optimizer."""
    if isinstance(optimizer, _Penalized):
        optimizer.objective = None
