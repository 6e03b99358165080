"""``from_sklearn``: a fitted scikit-learn MLP as an anynn estimator and network."""

from __future__ import annotations

import inspect
from typing import Any

import numpy as np
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted

from ..errors import AnynnTypeError, AnynnValueError
from ..network import Network
from ._base import BaseMLP, output_activation
from ._classifier import MLPClassifier
from ._regressor import MLPRegressor

_ACTIVATIONS = {"identity": "identity", "logistic": "sigmoid", "tanh": "tanh", "relu": "relu"}
"""scikit-learn's hidden activation names -> anynn's built-ins."""
_FITTED = ("n_features_in_", "feature_names_in_", "n_outputs_", "n_layers_", "out_activation_",
           "n_iter_", "t_", "loss_", "best_loss_", "validation_scores_",
           "best_validation_score_")


def _estimator_class(fitted: Any) -> type[BaseMLP]:
    from sklearn.neural_network import MLPClassifier as SkClassifier
    from sklearn.neural_network import MLPRegressor as SkRegressor

    if isinstance(fitted, SkClassifier):
        return MLPClassifier
    if isinstance(fitted, SkRegressor):
        return MLPRegressor
    raise AnynnTypeError(
        "from_sklearn needs a fitted sklearn.neural_network.MLPClassifier or MLPRegressor; "
        f"got {type(fitted).__name__}"
    )


def from_sklearn(fitted: Any, *, backend: str = "numpy", dtype: str | None = None) -> BaseMLP:
    """A fitted scikit-learn MLP as an anynn estimator whose ``network_`` holds its weights.

    The result predicts what ``fitted`` predicts (to float rounding), on any backend;
    ``result.network_`` is the :class:`anynn.Network` to save (``.anynn``), export or move.

    Parameters
    ----------
    fitted : sklearn.neural_network.MLPClassifier or MLPRegressor
        A fitted estimator.
    backend : str, default "numpy"
        Backend of the network (``"cupy"`` for the GPU).
    dtype : {"float32", "float64"} or None
        Computation type; None keeps the type of ``fitted``'s weights.

    Returns
    -------
    anynn.sklearn.MLPClassifier or anynn.sklearn.MLPRegressor
        Fitted, with scikit-learn's constructor parameters and fitted attributes; it
        keeps training with ``partial_fit`` (or ``fit`` with ``warm_start=True``).

    Raises
    ------
    AnynnTypeError, AnynnValueError
        For another kind of object or an unfitted one.
    """
    cls = _estimator_class(fitted)
    check_is_fitted(fitted)
    out = fitted.out_activation_
    if out not in ("softmax", "logistic", "identity", "exp"):
        raise AnynnValueError(f"from_sklearn: unknown output activation {out!r}")
    coefs, intercepts = fitted.coefs_, fitted.intercepts_
    dtype = dtype or ("float32" if coefs[0].dtype == np.float32 else "float64")
    accepted = inspect.signature(cls.__init__).parameters
    params = {k: v for k, v in fitted.get_params().items() if k in accepted}
    est = cls(**params, backend=backend, dtype=dtype)
    hidden = [(c.shape[1], True, _ACTIVATIONS[fitted.activation]) for c in coefs[:-1]]
    output = (coefs[-1].shape[1], True, output_activation(out))
    net = Network(coefs[0].shape[0], [*hidden, output], backend=backend, dtype=dtype)
    for layer, weight, bias in zip(net.layers, coefs, intercepts, strict=True):
        layer.weights = weight
        layer.biases = bias
    est.network_ = net
    if hasattr(fitted, "classes_"):
        est.classes_ = np.asarray(fitted.classes_)
    for name in _FITTED:
        if hasattr(fitted, name):
            setattr(est, name, getattr(fitted, name))
    est.loss_curve_ = list(getattr(fitted, "loss_curve_", []))
    if not est.early_stopping:  # the lbfgs solver records neither
        est.best_loss_ = getattr(fitted, "best_loss_", None) or np.inf
        est.validation_scores_ = est.best_validation_score_ = None
    est._no_improvement_count = 0
    est._random_state = check_random_state(fitted.random_state)
    return est
