"""``MLPClassifier``: scikit-learn's multi-layer perceptron classifier, trained by anynn."""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.base import ClassifierMixin
from sklearn.metrics import accuracy_score
from sklearn.utils.metaestimators import available_if
from sklearn.utils.multiclass import check_classification_targets, type_of_target, unique_labels
from sklearn.utils.validation import column_or_1d

from ..errors import AnynnValueError
from ._base import BaseMLP, has_stochastic_solver


class MLPClassifier(ClassifierMixin, BaseMLP):
    """Multi-layer perceptron classifier: a drop-in for scikit-learn's, on any anynn backend.

    The parameters of :class:`sklearn.neural_network.MLPClassifier` keep their meaning
    (``solver`` adds ``"adamw"`` and ``"rmsprop"``; ``"lbfgs"`` is anynn's own L-BFGS,
    see :mod:`anynn.sklearn._lbfgs`), plus:

    Parameters
    ----------
    backend : {"numpy", "cupy", "array_api_strict"}, default "numpy"
        Where the network trains and predicts (``"cupy"``: the GPU).
    dtype : {"float32", "float64"} or None, default None
        Computation type; None follows the input (float32 stays float32, else float64).
    dropout : float, default 0.0
        Dropout rate on every hidden layer's output while training.
    init : None, str or dict, default None
        None: scikit-learn's initialisation (weights and biases uniform in
        ``±sqrt(6 / (fan_in + fan_out))``, 2 instead of 6 for ``"logistic"``); else any
        ``anynn.Network(init=...)`` choice (``"he"``, ``"glorot_uniform"``, a dict).

    Attributes
    ----------
    classes_ : ndarray
        The class labels (for multilabel targets, ``arange(n_labels)``).
    network_ : anynn.Network
        The trained network (save it, export it, move it with ``network_.to(...)``).
    coefs_, intercepts_ : list of ndarray
        Host NumPy copies of the weights ``(n_in, n_out)`` and biases, per layer.
    loss_, best_loss_, loss_curve_, validation_scores_, best_validation_score_, t_,
    n_iter_, n_layers_, n_outputs_, out_activation_, n_features_in_, feature_names_in_
        As in scikit-learn.
    """

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_label = True
        return tags

    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> MLPClassifier:
        """Train on ``(X, y)`` for up to ``max_iter`` epochs; return ``self``."""
        self._fit(X, y, sample_weight, incremental=False)
        return self

    @available_if(has_stochastic_solver)
    def partial_fit(
        self, X: Any, y: Any, sample_weight: Any = None, classes: Any = None
    ) -> MLPClassifier:
        """One epoch on ``(X, y)``; the first call needs ``classes`` (all labels)."""
        self._fit(X, y, sample_weight, incremental=True, classes=classes)
        return self

    def _encode_targets(
        self, y: np.ndarray, first: bool, classes: Any, incremental: bool
    ) -> tuple[Any, str, int]:
        if y.ndim == 2 and y.shape[1] == 1:
            y = column_or_1d(y, warn=True)
        check_classification_targets(y)
        multilabel = type_of_target(y).startswith("multilabel")
        if multilabel:
            if first:
                self.classes_ = np.arange(y.shape[1])
            return y.astype(np.float64), "logistic", y.shape[1]
        seen = unique_labels(y)
        if incremental:
            if first and classes is None:
                raise AnynnValueError("classes must be passed on the first call to partial_fit")
            if first:
                self.classes_ = unique_labels(classes)
            elif classes is not None and not np.array_equal(unique_labels(classes), self.classes_):
                raise AnynnValueError(
                    f"classes={classes!r} differs from the classes of the first call to "
                    f"partial_fit, {self.classes_!r}"
                )
            unknown = np.setdiff1d(seen, self.classes_)
            if unknown.size:
                raise AnynnValueError(
                    f"y has classes not in classes_ {self.classes_!r}: {unknown!r}"
                )
        elif first:
            self.classes_ = seen
        elif not np.array_equal(seen, self.classes_):
            raise AnynnValueError(
                "warm_start can only be used where y has the same classes as in the previous "
                f"call to fit; previously got {self.classes_!r}, y has {seen!r}"
            )
        n_classes = self.classes_.shape[0]
        if n_classes < 2:
            raise AnynnValueError(
                f"{type(self).__name__} needs samples of at least 2 classes to learn from; "
                f"got 1 class: {self.classes_!r}"
            )
        codes = np.searchsorted(self.classes_, y)
        if n_classes == 2:
            return codes[:, None].astype(np.float64), "logistic", 1
        return codes, "softmax", n_classes

    def _stratify(self) -> bool:
        return not self._multilabel

    def _validation_score(self, X: np.ndarray, y: np.ndarray, w: np.ndarray | None) -> float:
        return float(accuracy_score(y, self._labels(self._output(X)), sample_weight=w))

    # -- prediction -----------------------------------------------------------------
    def _labels(self, output: np.ndarray) -> np.ndarray:
        """Labels from the network output (probabilities)."""
        if self.out_activation_ == "softmax":
            return self.classes_[np.argmax(output, axis=1)]
        if not self._multilabel:
            return self.classes_[(output[:, 0] > 0.5).astype(np.intp)]
        return (output > 0.5).astype(np.int64)

    @property
    def _multilabel(self) -> bool:
        return self.out_activation_ == "logistic" and self.n_outputs_ > 1

    def predict(self, X: Any) -> np.ndarray:
        """Predicted labels, in the type of ``classes_`` (an indicator matrix for multilabel)."""
        return self._labels(self._forward(X))

    def predict_proba(self, X: Any) -> np.ndarray:
        """Class probabilities ``(n_samples, n_classes)`` (per label for multilabel)."""
        output = self._forward(X)
        if not self._multilabel and self.out_activation_ == "logistic":
            return np.hstack([1.0 - output, output])
        return output

    def predict_log_proba(self, X: Any) -> np.ndarray:
        """Logarithm of :meth:`predict_proba`."""
        with np.errstate(divide="ignore"):
            return np.log(self.predict_proba(X))
