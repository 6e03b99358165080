"""``MLPRegressor``: scikit-learn's multi-layer perceptron regressor, trained by anynn."""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.base import RegressorMixin
from sklearn.metrics import r2_score
from sklearn.utils.metaestimators import available_if

from ..errors import AnynnValueError
from ._base import BaseMLP, has_stochastic_solver


class MLPRegressor(RegressorMixin, BaseMLP):
    """Multi-layer perceptron regressor: a drop-in for scikit-learn's, on any anynn backend.

    The parameters of :class:`sklearn.neural_network.MLPRegressor` keep their meaning
    (``loss="squared_error"``, or ``"poisson"`` with an ``exp`` output; ``solver`` adds
    ``"adamw"`` and ``"rmsprop"``; ``"lbfgs"`` is anynn's own L-BFGS), plus ``backend``, ``dtype``,
    ``dropout`` and ``init`` as in :class:`anynn.sklearn.MLPClassifier`. The fitted
    attributes are scikit-learn's plus ``network_``, the trained :class:`anynn.Network`.
    Single and multi-output targets.
    """

    def __init__(
        self,
        loss: str = "squared_error",
        *,
        hidden_layer_sizes: Any = (100,),
        activation: Any = "relu",
        solver: str = "adam",
        alpha: float = 1e-4,
        batch_size: int | str = "auto",
        learning_rate: str = "constant",
        learning_rate_init: float = 1e-3,
        power_t: float = 0.5,
        max_iter: int = 200,
        shuffle: bool = True,
        random_state: Any = None,
        tol: float = 1e-4,
        verbose: bool = False,
        warm_start: bool = False,
        momentum: float = 0.9,
        nesterovs_momentum: bool = True,
        early_stopping: bool = False,
        validation_fraction: float = 0.1,
        beta_1: float = 0.9,
        beta_2: float = 0.999,
        epsilon: float = 1e-8,
        n_iter_no_change: int = 10,
        max_fun: int = 15000,
        backend: str = "numpy",
        dtype: str | None = None,
        dropout: float = 0.0,
        init: str | None = None,
    ) -> None:
        super().__init__(
            hidden_layer_sizes=hidden_layer_sizes, activation=activation, solver=solver,
            alpha=alpha, batch_size=batch_size, learning_rate=learning_rate,
            learning_rate_init=learning_rate_init, power_t=power_t, max_iter=max_iter,
            shuffle=shuffle, random_state=random_state, tol=tol, verbose=verbose,
            warm_start=warm_start, momentum=momentum, nesterovs_momentum=nesterovs_momentum,
            early_stopping=early_stopping, validation_fraction=validation_fraction,
            beta_1=beta_1, beta_2=beta_2, epsilon=epsilon, n_iter_no_change=n_iter_no_change,
            max_fun=max_fun, backend=backend, dtype=dtype, dropout=dropout, init=init,
        )
        self.loss = loss

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags

    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> MLPRegressor:
        """Train on ``(X, y)`` for up to ``max_iter`` epochs; return ``self``."""
        self._check_loss()
        self._fit(X, y, sample_weight, incremental=False)
        return self

    @available_if(has_stochastic_solver)
    def partial_fit(self, X: Any, y: Any, sample_weight: Any = None) -> MLPRegressor:
        """One epoch on ``(X, y)``; return ``self``."""
        self._check_loss()
        self._fit(X, y, sample_weight, incremental=True)
        return self

    def _check_loss(self) -> None:
        if self.loss not in ("squared_error", "poisson"):
            raise AnynnValueError(
                f"loss must be 'squared_error' or 'poisson'; got {self.loss!r}"
            )

    def _encode_targets(
        self, y: np.ndarray, first: bool, classes: Any, incremental: bool
    ) -> tuple[Any, str, int]:
        targets = y.reshape(-1, 1) if y.ndim == 1 else y
        out = "exp" if self.loss == "poisson" else "identity"
        if not first and out != self.out_activation_:
            raise AnynnValueError(
                f"loss={self.loss!r} differs from the loss the network was fitted with "
                f"(output activation {self.out_activation_!r}); refit without warm_start"
            )
        if out == "exp" and targets.size and np.min(targets) < 0:
            raise AnynnValueError(
                "Some value(s) of y are negative which is not allowed for Poisson regression."
            )
        return targets.astype(np.float64, copy=False), out, targets.shape[1]

    def _validation_score(self, X: np.ndarray, y: np.ndarray, w: np.ndarray | None) -> float:
        return float(r2_score(y, self._prediction(self._output(X)), sample_weight=w))

    def _prediction(self, output: np.ndarray) -> np.ndarray:
        return output[:, 0] if output.shape[1] == 1 else output

    def predict(self, X: Any) -> np.ndarray:
        """Predicted targets: ``(n_samples,)`` for one output, else ``(n_samples, n_outputs)``."""
        return self._prediction(self._forward(X))
