"""Loss functions: value, gradient, and the fused logits form for sigmoid/softmax outputs.

Conventions (PyTorch/Keras): ``mse`` is the mean over all elements of ``(a - y)^2``;
``bce`` the mean over all elements of the binary cross-entropy; ``cce`` the mean over
samples of the categorical cross-entropy with one-hot targets.
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Callable
from typing import Any

import numpy as np

from .activation import Activation
from .backend import Backend, clip
from .errors import AnynnTypeError, AnynnValueError
from .fused_output import SoftmaxCrossEntropy
from .registry import Registry

Array = Any

_PROBABILITY_FLOOR = 1e-7  # keeps log() and 1/a finite in the unfused forms


def _count(a: Array) -> int:
    """Number of elements (``a.size`` is a method on torch tensors, so use the shape)."""
    return math.prod(a.shape)


_PROBE_MAGNITUDES = np.concatenate([[0.0], np.logspace(-3.0, 4.0, 141)])


def maps_into_unit_interval(activation: Activation, width: int) -> bool:
    """Whether ``activation`` keeps every output in [0, 1], checked on a float64 grid.

    Built-in sigmoid and softmax are known to; others are evaluated over inputs from
    -1e4 to 1e4 (a random spread over the ``width`` outputs for non-elementwise ones).
    """
    if activation.builtin in ("sigmoid", "softmax"):
        return True
    grid = np.concatenate([-_PROBE_MAGNITUDES[::-1], _PROBE_MAGNITUDES])
    if activation.elementwise:
        z = grid[:, None]
    else:
        spread = np.random.default_rng(0).standard_normal((grid.size, width))
        z = spread * np.abs(grid)[:, None]
    with np.errstate(all="ignore"):
        out = np.asarray(activation(z), dtype=np.float64)
    finite = out[np.isfinite(out)]
    return bool(finite.size) and float(finite.min()) >= 0.0 and float(finite.max()) <= 1.0


def _weighted(values: Array, weights: Array | None) -> Array:
    """``values`` times the per-sample ``(n, 1)`` weights, if any."""
    return values if weights is None else values * weights


def _weighted_sum(xp: Any, values: Array, weights: Array | None) -> Array:
    """Sum of ``values`` weighted per sample (0-d array)."""
    return xp.sum(_weighted(values, weights))


class Loss:
    """A loss ``L(a, y)`` averaged over a batch.

    Subclasses implement :meth:`value` and :meth:`gradient`; those that can fuse with an
    output activation override :meth:`fused_value` and :meth:`fused_delta`.
    """

    name = "loss"
    fuses_with: str | None = None
    """Name of the output activation whose delta simplifies to ``(a - y) / count``."""

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"

    needs_probabilities = False
    """Whether outputs must lie in [0, 1] (cross-entropies take the log of them)."""

    def can_fuse(self, activation: Activation) -> bool:
        """Whether the loss fuses with this output activation."""
        return self.fuses_with is not None and activation.builtin == self.fuses_with

    def check_output(self, activation: Activation, width: int) -> None:
        """Refuse an output activation this loss cannot train (before any work).

        Raises
        ------
        AnynnValueError
            For a cross-entropy whose output activation leaves [0, 1] (an identity or
            tanh output would get meaningless, huge gradients).
        """
        if self.needs_probabilities and not maps_into_unit_interval(activation, width):
            raise AnynnValueError(
                f"loss={self.name!r} needs outputs in [0, 1], but the output activation "
                f"{activation.name} leaves that range; use a sigmoid or softmax output "
                "layer (anynn then uses the stable logits form), or loss='mse'"
            )

    def prepare_targets(self, y: np.ndarray, n_outputs: int, what: str = "y") -> np.ndarray:
        """Validate host targets and bring them to shape ``(n, n_outputs)``."""
        if y.ndim == 1 and n_outputs == 1:
            y = y[:, None]
        if y.ndim != 2 or y.shape[1] != n_outputs:
            raise AnynnValueError(
                f"{what} must have shape (n_samples, {n_outputs}) for a network with "
                f"{n_outputs} output(s); got {y.shape}"
            )
        return y

    def value(self, a: Array, y: Array, xp: Any, weights: Array | None = None) -> Array:
        """Mean loss of outputs ``a`` against targets ``y`` (0-d array).

        ``weights``, shape ``(n, 1)``, scales each sample's term (Keras' ``sample_weight``:
        the mean stays over the batch, not over the weights).
        """
        raise NotImplementedError

    def gradient(self, a: Array, y: Array, xp: Any, weights: Array | None = None) -> Array:
        """``dL/da`` (of the weighted loss when ``weights`` is given)."""
        raise NotImplementedError

    def fused_value(
        self, z: Array, a: Array, y: Array, xp: Any, weights: Array | None = None
    ) -> Array:
        """Mean loss computed from the logits ``z`` (only when :meth:`can_fuse`)."""
        raise NotImplementedError

    def fused_delta(self, a: Array, y: Array, weights: Array | None = None) -> Array:
        """``dL/dz`` for the fused output activation: ``(a - y) / count``."""
        raise NotImplementedError


class MeanSquaredError(Loss):
    """Mean over all elements of ``(a - y)^2``."""

    name = "mse"

    def value(self, a: Array, y: Array, xp: Any, weights: Array | None = None) -> Array:
        diff = a - y
        return _weighted_sum(xp, diff * diff, weights) / _count(diff)

    def gradient(self, a: Array, y: Array, xp: Any, weights: Array | None = None) -> Array:
        return _weighted((a - y) * (2.0 / _count(a)), weights)


class BinaryCrossEntropy(Loss):
    """Mean over all elements of ``-(y log a + (1 - y) log(1 - a))``; targets in [0, 1]."""

    name = "bce"
    fuses_with = "sigmoid"
    needs_probabilities = True

    def prepare_targets(self, y: np.ndarray, n_outputs: int, what: str = "y") -> np.ndarray:
        y = super().prepare_targets(y, n_outputs, what)
        if y.size and (np.min(y) < 0.0 or np.max(y) > 1.0):
            raise AnynnValueError(
                f"bce targets ({what}) must lie in [0, 1]; got values in "
                f"[{np.min(y)}, {np.max(y)}]"
            )
        return y

    def value(self, a: Array, y: Array, xp: Any, weights: Array | None = None) -> Array:
        p = clip(xp, a, _PROBABILITY_FLOOR, 1.0 - _PROBABILITY_FLOOR)
        per_element = y * xp.log(p) + (1.0 - y) * xp.log(1.0 - p)
        return -_weighted_sum(xp, per_element, weights) / _count(a)

    def gradient(self, a: Array, y: Array, xp: Any, weights: Array | None = None) -> Array:
        p = clip(xp, a, _PROBABILITY_FLOOR, 1.0 - _PROBABILITY_FLOOR)
        return _weighted((p - y) / (p * (1.0 - p) * _count(a)), weights)

    def fused_value(
        self, z: Array, a: Array, y: Array, xp: Any, weights: Array | None = None
    ) -> Array:
        # log(1 + exp(-|z|)) + max(z, 0) - z*y: finite for every z.
        per_element = xp.maximum(z, 0.0) - z * y + xp.log1p(xp.exp(-xp.abs(z)))
        return _weighted_sum(xp, per_element, weights) / _count(z)

    def fused_delta(self, a: Array, y: Array, weights: Array | None = None) -> Array:
        return _weighted((a - y) * (1.0 / _count(a)), weights)


class CategoricalCrossEntropy(Loss):
    """Mean over samples of ``-sum_k y_k log a_k``; one-hot or integer class targets."""

    name = "cce"
    fuses_with = "softmax"
    needs_probabilities = True

    def check_output(self, activation: Activation, width: int) -> None:
        """Also refuse a single output: one class is no distribution (two classes are
        one sigmoid output with ``bce``, or two softmax outputs with ``cce``)."""
        if width == 1:
            raise AnynnValueError(
                f"loss='cce' needs one output per class, but the network has 1 output "
                f"({activation.name}); for two classes use loss='bce' with 1 sigmoid output, "
                "or 2 softmax outputs with loss='cce'"
            )
        super().check_output(activation, width)

    def prepare_targets(self, y: np.ndarray, n_outputs: int, what: str = "y") -> np.ndarray:
        if y.ndim == 1 or (y.ndim == 2 and y.shape[1] == 1 and n_outputs > 1):
            labels = y.reshape(-1)
            if labels.size and (
                np.any(labels != np.round(labels))
                or labels.min() < 0
                or labels.max() >= n_outputs
            ):
                raise AnynnValueError(
                    f"cce class labels ({what}) must be integers in [0, {n_outputs}); got "
                    f"values in [{labels.min()}, {labels.max()}]"
                )
            one_hot = np.zeros((labels.size, n_outputs))
            one_hot[np.arange(labels.size), labels.astype(np.int64)] = 1.0
            return one_hot
        y = super().prepare_targets(y, n_outputs, what)
        if y.size and (np.min(y) < 0.0 or np.max(y) > 1.0):
            raise AnynnValueError(
                f"cce targets ({what}) must be one-hot or probabilities in [0, 1]; got "
                f"values in [{np.min(y)}, {np.max(y)}]"
            )
        row_sums = np.sum(y, axis=1)
        off = np.flatnonzero(np.abs(row_sums - 1.0) > 1e-6)
        if off.size:  # the fused softmax delta (a - y) / n assumes distributions
            raise AnynnValueError(
                f"cce targets ({what}) must be distributions whose rows sum to 1; row "
                f"{int(off[0])} sums to {row_sums[off[0]]}"
            )
        return y

    def value(self, a: Array, y: Array, xp: Any, weights: Array | None = None) -> Array:
        p = xp.maximum(a, _PROBABILITY_FLOOR)
        return -_weighted_sum(xp, y * xp.log(p), weights) / a.shape[0]

    def gradient(self, a: Array, y: Array, xp: Any, weights: Array | None = None) -> Array:
        p = xp.maximum(a, _PROBABILITY_FLOOR)
        return _weighted(-y / (p * a.shape[0]), weights)

    def fused_value(
        self, z: Array, a: Array, y: Array, xp: Any, weights: Array | None = None
    ) -> Array:
        # log-sum-exp shifted by the row maximum: finite for every z.
        peak = xp.max(z, axis=-1, keepdims=True)
        log_norm = xp.log(xp.sum(xp.exp(z - peak), axis=-1, keepdims=True)) + peak
        return _weighted_sum(xp, y * (log_norm - z), weights) / z.shape[0]

    def fused_delta(self, a: Array, y: Array, weights: Array | None = None) -> Array:
        return _weighted((a - y) * (1.0 / a.shape[0]), weights)


_ARRAYS = {"value": 3, "gradient": 3, "fused_value": 4, "fused_delta": 2}
"""Positional arguments of each loss method before ``weights``."""


def _weighted_form(method: Callable[..., Array]) -> Callable[..., Array]:
    """``method`` itself if it accepts ``weights`` after its arrays, else an adapter.

    User losses may be written without ``weights``; the adapter refuses weights.
    """
    parameters = inspect.signature(method).parameters
    n_arrays = _ARRAYS[method.__name__]
    if "weights" in parameters or len(parameters) > n_arrays:
        return method

    def unweighted(*args: Array) -> Array:
        if args[n_arrays] is not None:
            raise AnynnTypeError(f"{method.__qualname__} takes no per-sample weights")
        return method(*args[:n_arrays])

    unweighted.takes_weights = False  # type: ignore[attr-defined]
    return unweighted


class LossHead:
    """A loss bound once to a network's output activation.

    Whether the loss uses its fused logits form (``bce`` with a sigmoid output, ``cce``
    with a softmax output) is decided here, once; the training loop, ``evaluate`` and
    ``gradcheck`` all go through a head.

    Parameters
    ----------
    loss : Loss
        The loss.
    output : Activation
        The activation of the network's output layer.
    backend : Backend, optional
        Where training runs: a softmax output under the built-in cce then computes its
        output, loss and gradient in one pass (:attr:`fused_output`).

    Attributes
    ----------
    fused : bool
        Whether the value is computed from the logits and ``dL/dz`` is ``(a - y) / count``.
    fused_output : SoftmaxCrossEntropy or None
        ``z, y, weights -> (a, value, dL/dz)`` for the output layer of a training step, or
        None (then the layer's activation, :meth:`value` and :meth:`output_delta`).
    """

    def __init__(self, loss: Loss, output: Activation, backend: Backend | None = None) -> None:
        self.loss = loss
        self.output = output
        self.fused = loss.can_fuse(output)
        self.fused_output = (
            SoftmaxCrossEntropy(backend)
            if backend is not None and self.fused and type(loss) is CategoricalCrossEntropy
            else None
        )
        # bound once (the step never asks again): value and dL/dz of the chosen form
        forms = (loss.fused_value, loss.fused_delta) if self.fused else (loss.value, loss.gradient)
        self._value, self._delta = (_weighted_form(method) for method in forms)
        self.takes_weights = not any(
            hasattr(method, "takes_weights") for method in (self._value, self._delta)
        )
        """Whether the loss accepts per-sample weights (user losses may be written without)."""

    @classmethod
    def checked(
        cls, spec: str | Loss, output: Activation, width: int, backend: Backend | None = None
    ) -> LossHead:
        """The head of the loss ``spec`` (a name or a Loss) on an output of ``width`` units.

        Raises
        ------
        AnynnValueError
            For an unknown loss name or an output activation the loss cannot train.
        """
        loss = get(spec)
        loss.check_output(output, width)
        return cls(loss, output, backend)

    def value(self, z: Array, a: Array, y: Array, xp: Any, weights: Array | None = None) -> Array:
        """Mean loss of outputs ``a`` (pre-activations ``z``) against targets ``y`` (0-d)."""
        if self.fused:
            return self._value(z, a, y, xp, weights)
        return self._value(a, y, xp, weights)

    def output_delta(
        self,
        a: Array,
        y: Array,
        xp: Any,
        through_activation: Callable[[Array], Array],
        weights: Array | None = None,
    ) -> Array:
        """``dL/dz`` of the output layer; ``through_activation`` maps ``dL/da`` to it."""
        if self.fused:
            return self._delta(a, y, weights)
        return through_activation(self._delta(a, y, xp, weights))

    def __repr__(self) -> str:
        return f"LossHead({self.loss!r}, {self.output.name}, fused={self.fused})"


LOSSES: dict[str, type[Loss]] = {
    "mse": MeanSquaredError,
    "bce": BinaryCrossEntropy,
    "cce": CategoricalCrossEntropy,
}
_ALIASES = {
    "mean_squared_error": "mse",
    "binary_crossentropy": "bce",
    "binary_cross_entropy": "bce",
    "categorical_crossentropy": "cce",
    "categorical_cross_entropy": "cce",
    "sparse_categorical_crossentropy": "cce",
    "cross_entropy": "cce",
}
REGISTRY = Registry("loss", Loss, LOSSES, _ALIASES)


def get(spec: str | Loss) -> Loss:
    """Return the loss named ``spec`` (``"mse"``, ``"bce"``, ``"cce"``) or ``spec`` itself.

    Raises
    ------
    AnynnValueError
        For an unknown name.
    """
    return REGISTRY.resolve(spec)

