"""Validation of the estimators' constructor parameters (done in ``fit``, never in ``__init__``).

Every bad value raises an anynn error (a ``ValueError``/``TypeError``) naming the
parameter, what it accepts and what it got, before any work starts.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from .. import activations, initializers
from .._checks import check_float, check_int
from ..errors import AnynnTypeError, AnynnValueError

SOLVERS = ("adam", "sgd", "adamw", "rmsprop", "lbfgs")
LEARNING_RATES = ("constant", "invscaling", "adaptive")
DTYPES = ("float32", "float64")


@dataclass(frozen=True)
class Hyperparameters:
    """The checked constructor parameters of one ``fit``."""

    hidden: tuple[int, ...]
    activation: activations.Activation
    solver: str
    alpha: float
    batch_size: int | None
    """None: ``"auto"``, ``min(200, n_samples)``."""
    max_iter: int
    tol: float
    n_iter_no_change: int
    dtype: str | None
    """None: follow the input (float32 stays float32, anything else is float64)."""
    dropout: float


def _choice(value: Any, name: str, options: tuple[str, ...]) -> str:
    if not isinstance(value, str) or value not in options:
        expected = ", ".join(map(repr, options))
        raise AnynnValueError(f"{name} must be one of {expected}; got {value!r}")
    return value


def _flag(value: Any, name: str) -> bool:
    if not isinstance(value, (bool, np.bool_)):
        raise AnynnTypeError(f"{name} must be True or False; got {value!r}")
    return bool(value)


def _fraction(value: Any, name: str, *, allow_zero: bool = True) -> float:
    """A float in ``[0, 1)`` (``(0, 1)`` without ``allow_zero``)."""
    return check_float(value, name, low=0.0, high=1.0, open_low=not allow_zero, open_high=True)


def _positive(value: Any, name: str) -> float:
    return check_float(value, name, low=0.0, open_low=True)


def _non_negative(value: Any, name: str) -> float:
    return check_float(value, name, low=0.0)


def _hidden_sizes(value: Any) -> tuple[int, ...]:
    sizes = [value] if isinstance(value, (int, np.integer)) else value
    try:
        sizes = list(sizes)
    except TypeError:
        raise AnynnTypeError(
            f"hidden_layer_sizes must be an int or a sequence of ints; got {value!r}"
        ) from None
    return tuple(check_int(s, f"hidden_layer_sizes[{i}]", low=1) for i, s in enumerate(sizes))


def check_hyperparameters(est: Any) -> Hyperparameters:
    """Check every constructor parameter of ``est``; return the ones ``fit`` computes with.

    Raises
    ------
    AnynnValueError, AnynnTypeError
        For the first bad parameter.
    """
    solver = _choice(est.solver, "solver", SOLVERS)
    _choice(est.learning_rate, "learning_rate", LEARNING_RATES)
    if est.init is not None:
        initializers.layer_init(est.init, "init")
    batch_size = est.batch_size
    if not (isinstance(batch_size, str) and batch_size == "auto"):
        batch_size = check_int(batch_size, "batch_size (an int or 'auto')", low=1)
    else:
        batch_size = None
    if est.dtype is not None:
        _choice(est.dtype, "dtype (or None: follow the input)", DTYPES)
    for name in ("shuffle", "verbose", "warm_start", "nesterovs_momentum", "early_stopping"):
        _flag(getattr(est, name), name)
    _positive(est.learning_rate_init, "learning_rate_init")
    _non_negative(est.power_t, "power_t")
    check_float(est.momentum, "momentum", low=0.0, high=1.0)
    _positive(est.epsilon, "epsilon")
    _fraction(est.beta_1, "beta_1")
    _fraction(est.beta_2, "beta_2")
    _fraction(est.validation_fraction, "validation_fraction", allow_zero=False)
    check_int(est.max_fun, "max_fun", low=1)
    if not isinstance(est.backend, str):
        raise AnynnTypeError(
            f"backend must be a backend name such as 'numpy', 'cupy' or 'array_api_strict'; "
            f"got {est.backend!r}"
        )
    try:
        activation = activations.get(est.activation)
    except (ValueError, TypeError) as error:
        raise AnynnValueError(f"activation={est.activation!r}: {error}") from error
    return Hyperparameters(
        hidden=_hidden_sizes(est.hidden_layer_sizes),
        activation=activation,
        solver=solver,
        alpha=_non_negative(est.alpha, "alpha"),
        batch_size=batch_size,
        max_iter=check_int(est.max_iter, "max_iter", low=1),
        tol=_non_negative(est.tol, "tol"),
        n_iter_no_change=check_int(est.n_iter_no_change, "n_iter_no_change", low=1),
        dtype=est.dtype,
        dropout=_fraction(est.dropout, "dropout"),
    )


def optimizer_settings(est: Any, solver: str, alpha: float) -> dict[str, Any]:
    """Keyword arguments of the anynn optimizer for ``solver`` from scikit-learn's names."""
    lr = float(est.learning_rate_init)
    if solver == "sgd":
        momentum = float(est.momentum)
        return {"lr": lr, "momentum": momentum,
                "nesterov": bool(est.nesterovs_momentum) and momentum > 0}
    if solver in ("adam", "adamw"):
        settings = {"lr": lr, "beta1": float(est.beta_1), "beta2": float(est.beta_2),
                    "eps": float(est.epsilon)}
        # AdamW's decay is decoupled from the gradient: alpha is its coefficient
        return {**settings, "weight_decay": alpha} if solver == "adamw" else settings
    return {"lr": lr, "eps": float(est.epsilon)}
