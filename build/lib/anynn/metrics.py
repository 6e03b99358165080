"""Metrics reported per epoch by ``fit`` and ``evaluate``: accuracy, mae, mse.

A metric returns the *sum* over the samples of a batch as a 0-d backend array, so that
the epoch value is one division at the end and nothing synchronises per step.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from .errors import AnynnTypeError, AnynnValueError
from .losses import maps_into_unit_interval
from .registry import Registry

if TYPE_CHECKING:
    from .activation import Activation

Array = Any


class Metric:
    """Base class: ``batch_sum(out, y, xp)`` is the sum of the per-sample values."""

    name = "metric"
    higher_is_better = False

    def batch_sum(self, out: Array, y: Array, xp: Any) -> Array:
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class Accuracy(Metric):
    """Fraction of correct predictions: arg-max for several outputs, ``>= 0.5`` for one."""

    name = "accuracy"
    higher_is_better = True

    def batch_sum(self, out: Array, y: Array, xp: Any) -> Array:
        if out.shape[-1] == 1:
            hit = (out >= 0.5) == (y >= 0.5)
        else:
            hit = xp.argmax(out, axis=-1) == xp.argmax(y, axis=-1)
        return xp.sum(xp.astype(hit, out.dtype))


class MeanAbsoluteError(Metric):
    """Mean over outputs of ``|out - y|``, averaged over samples."""

    name = "mae"

    def batch_sum(self, out: Array, y: Array, xp: Any) -> Array:
        return xp.sum(xp.abs(out - y)) / out.shape[-1]


class MeanSquaredError(Metric):
    """Mean over outputs of ``(out - y)^2``, averaged over samples."""

    name = "mse"

    def batch_sum(self, out: Array, y: Array, xp: Any) -> Array:
        diff = out - y
        return xp.sum(diff * diff) / out.shape[-1]


METRICS: dict[str, type[Metric]] = {
    cls.name: cls for cls in (Accuracy, MeanAbsoluteError, MeanSquaredError)
}
_ALIASES = {
    "acc": "accuracy",
    "binary_accuracy": "accuracy",
    "categorical_accuracy": "accuracy",
    "mean_absolute_error": "mae",
    "mean_squared_error": "mse",
}
REGISTRY = Registry("metric", Metric, METRICS, _ALIASES)


def get(spec: str | Metric) -> Metric:
    """Return the metric named ``spec`` or ``spec`` itself.

    Raises
    ------
    AnynnValueError
        For an unknown name.
    """
    return REGISTRY.resolve(spec)


def get_list(specs: Any) -> list[Metric]:
    """Resolve ``metrics=`` (None, a name, or a list of names/objects); no duplicates."""
    if specs is None:
        return []
    if isinstance(specs, (str, Metric)):
        specs = [specs]
    if not isinstance(specs, (list, tuple)):
        raise AnynnTypeError(f"metrics must be a list of names; got {type(specs).__name__}")
    resolved = [get(s) for s in specs]
    names = [m.name for m in resolved]
    if len(set(names)) != len(names):
        raise AnynnValueError(f"metrics lists a metric twice: {names}")
    return resolved


def check_for_output(metrics: Sequence[Metric], output: Activation, width: int) -> None:
    """Refuse ``accuracy`` on one output that is not a probability (a regression output).

    One output's accuracy thresholds at 0.5, which means something only for outputs in
    [0, 1]; on an identity (regression) output it would silently report nonsense.

    Raises
    ------
    AnynnValueError
        Naming the output activation and what to use instead.
    """
    if width != 1 or not any(isinstance(m, Accuracy) for m in metrics):
        return
    if not maps_into_unit_interval(output, width):
        raise AnynnValueError(
            f"metrics: 'accuracy' on a single {output.name} output would threshold a "
            "regression output at 0.5; for a regression use 'mae' or 'mse', for two "
            "classes a sigmoid output (with loss='bce')"
        )
