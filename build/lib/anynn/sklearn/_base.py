"""The machinery shared by :class:`MLPClassifier` and :class:`MLPRegressor`.

Constructor parameters are stored unchanged and checked in ``fit`` (scikit-learn's
contract); a fit validates the data with scikit-learn's public helpers, builds an
:class:`anynn.Network` from ``random_state``, and trains it with ``Network.fit`` under
scikit-learn's objective (:mod:`._objective`) and stopping rules (:mod:`._monitor`).
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted, validate_data

from .. import losses
from ..backend import to_numpy
from ..errors import AnynnValueError
from ..network import Network
from ._init import sklearn_layer_init
from ._lbfgs import fit_lbfgs
from ._monitor import SklearnMonitor
from ._objective import (
    PoissonDeviance,
    SampleMeanLoss,
    detach,
    exp_activation,
    new_optimizer,
    penalized_optimizer,
)
from ._params import Hyperparameters, check_hyperparameters, optimizer_settings

Array = Any

_OUTPUT_LOSS = {"softmax": "cce", "logistic": "bce", "identity": "mse"}
"""scikit-learn's output activation -> the anynn loss it is trained with (and ``exp``:
:class:`PoissonDeviance`)."""
_AUTO_BATCH = 200


def checked_sample_weight(sample_weight: Any, n_samples: int) -> np.ndarray | None:
    """``sample_weight`` as a new float64 ``(n_samples,)`` array (a scalar is broadcast).

    Raises
    ------
    AnynnValueError
        For a wrong shape, non-finite or negative weights, or weights that are all zero.
    """
    if sample_weight is None:
        return None
    weights = np.array(sample_weight, dtype=np.float64)
    if weights.ndim == 0:
        weights = np.full(n_samples, float(weights))
    if weights.shape != (n_samples,):
        raise AnynnValueError(
            f"sample_weight must have shape ({n_samples},), one weight per sample; got "
            f"{weights.shape}"
        )
    if not np.all(np.isfinite(weights)) or np.any(weights < 0):
        raise AnynnValueError("sample_weight must hold finite numbers >= 0")
    if n_samples and not np.any(weights):
        raise AnynnValueError("sample_weight is zero for every sample: nothing to learn from")
    return weights


def output_activation(name: str) -> Any:
    """The anynn activation of scikit-learn's output activation ``name``."""
    if name == "exp":
        return exp_activation()
    return "sigmoid" if name == "logistic" else name


def has_stochastic_solver(estimator: Any) -> bool:
    """Whether ``partial_fit`` exists: every solver but ``"lbfgs"`` (as in scikit-learn)."""
    return bool(estimator.solver != "lbfgs")


def _dense(X: Any) -> np.ndarray:
    """A dense NumPy array of ``X`` (scipy sparse matrices are densified)."""
    return np.asarray(X.toarray() if hasattr(X, "toarray") else X)


class BaseMLP(BaseEstimator):
    """Base of the anynn scikit-learn estimators (see :class:`MLPClassifier`)."""

    def __init__(
        self,
        hidden_layer_sizes: Any = (100,),
        activation: Any = "relu",
        *,
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
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.solver = solver
        self.alpha = alpha
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.learning_rate_init = learning_rate_init
        self.power_t = power_t
        self.max_iter = max_iter
        self.shuffle = shuffle
        self.random_state = random_state
        self.tol = tol
        self.verbose = verbose
        self.warm_start = warm_start
        self.momentum = momentum
        self.nesterovs_momentum = nesterovs_momentum
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.n_iter_no_change = n_iter_no_change
        self.max_fun = max_fun
        self.backend = backend
        self.dtype = dtype
        self.dropout = dropout
        self.init = init

    # -- scikit-learn protocol ------------------------------------------------------
    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags

    def __sklearn_is_fitted__(self) -> bool:
        return hasattr(self, "network_")

    @property
    def coefs_(self) -> list[np.ndarray]:
        """Weight matrices ``(n_in, n_out)`` per layer, as host NumPy copies."""
        return [np.array(to_numpy(layer.weights)) for layer in self._fitted_network().layers]

    @property
    def intercepts_(self) -> list[np.ndarray]:
        """Bias vectors ``(n_out,)`` per layer, as host NumPy copies."""
        return [np.array(to_numpy(layer.biases)) for layer in self._fitted_network().layers]

    def _fitted_network(self) -> Network:
        if "network_" not in vars(self):
            raise AttributeError(f"this {type(self).__name__} is not fitted yet")
        net: Network = self.network_
        return net

    # -- subclass hooks -------------------------------------------------------------
    def _encode_targets(
        self, y: np.ndarray, first: bool, classes: Any, incremental: bool
    ) -> tuple[Any, str, int]:
        """Host targets for the network, the output activation and the output width."""
        raise NotImplementedError

    def _validation_score(self, X: np.ndarray, y: np.ndarray, w: np.ndarray | None) -> float:
        """The score used by ``early_stopping`` (accuracy or R²) on validated data."""
        raise NotImplementedError

    # -- fitting --------------------------------------------------------------------
    def _fit(self, X: Any, y: Any, sample_weight: Any, *, incremental: bool,
             classes: Any = None) -> BaseMLP:
        hp = check_hyperparameters(self)
        if incremental and self.early_stopping:
            raise AnynnValueError("partial_fit does not support early_stopping=True")
        if hp.solver == "lbfgs" and hp.dropout:
            raise AnynnValueError(
                "dropout needs a stochastic solver ('adam', 'sgd', 'adamw', 'rmsprop'); "
                "solver='lbfgs' trains on the whole data set at once"
            )
        first = "network_" not in vars(self) or not (self.warm_start or incremental)
        X, y = validate_data(
            self, X, y, accept_sparse=["csr", "csc"], multi_output=True,
            dtype=(np.float64, np.float32), reset=first,
        )
        weights = checked_sample_weight(sample_weight, X.shape[0])
        targets, out_activation, width = self._encode_targets(y, first, classes, incremental)
        X = _dense(X)
        if first:
            self._initialize(hp, X.shape[1], X.dtype, out_activation, width)
        elif width != self.network_.outputs:
            raise AnynnValueError(
                f"y has {width} output(s); the fitted network has {self.network_.outputs}"
            )
        net = self.network_
        X = X.astype(net.dtype, copy=False)
        if hp.solver == "lbfgs":
            result = fit_lbfgs(net, self._objective(hp, net), X, targets, weights,
                               max_iter=hp.max_iter, max_fun=self.max_fun, tol=hp.tol)
            self.n_iter_, self.loss_ = result.n_iter, result.fun
            self.t_ += X.shape[0]
            if not result.converged:
                warnings.warn(
                    f"lbfgs failed to converge after {result.n_iter} iteration(s) and "
                    f"{result.n_fun} loss evaluation(s); increase max_iter (or max_fun) or "
                    "scale the data.",
                    ConvergenceWarning,
                    stacklevel=3,
                )
            return self
        validation = None
        if self.early_stopping:
            X, targets, weights, validation = self._split(X, y, targets, weights)
        objective = self._objective(hp, net)
        if incremental:
            optimizer = penalized_optimizer(net.optimizer or self._new_optimizer(hp),
                                            objective, net.backend)
        else:
            optimizer = penalized_optimizer(self._new_optimizer(hp), objective, net.backend)
        score = None if validation is None else (lambda: self._validation_score(*validation))
        monitor = SklearnMonitor(self, optimizer, X.shape[0], score)
        self.n_iter_ = 0
        n = X.shape[0]
        try:
            net.fit(
                X, targets, epochs=1 if incremental else hp.max_iter,
                batch_size=min(_AUTO_BATCH, n) if hp.batch_size is None else hp.batch_size,
                loss=objective, optimizer=optimizer, shuffle=bool(self.shuffle),
                callbacks=[monitor], verbose=0, sample_weight=weights,
            )
        finally:
            detach(optimizer)
        monitor.restore_best()
        if not incremental and not monitor.converged and self.n_iter_ == hp.max_iter:
            warnings.warn(
                f"Stochastic Optimizer: Maximum iterations ({hp.max_iter}) reached and the "
                "optimization hasn't converged yet.",
                ConvergenceWarning,
                stacklevel=3,
            )
        return self

    def _initialize(self, hp: Hyperparameters, n_features: int, input_dtype: Any,
                    out_activation: str, width: int) -> None:
        """A new network from ``random_state`` and fresh training records."""
        rng = check_random_state(self.random_state)
        self._random_state = rng
        seed = int(rng.randint(np.iinfo(np.int32).max))
        widths = [n_features, *hp.hidden, width]
        specs: list[dict[str, Any]] = [
            {"length": h, "bias": True, "fn": hp.activation, "dropout": hp.dropout}
            for h in hp.hidden
        ]
        specs.append({"length": width, "bias": True, "fn": output_activation(out_activation)})
        if self.init is None:  # scikit-learn's scheme, per layer
            for spec, fan_in, fan_out in zip(specs, widths[:-1], widths[1:], strict=True):
                spec["init"] = sklearn_layer_init(fan_in, fan_out, self.activation)
        dtype = hp.dtype or ("float32" if input_dtype == np.float32 else "float64")
        self.network_ = Network(n_features, specs, init=self.init, backend=self.backend,
                                dtype=dtype, seed=seed)
        self.n_outputs_ = width
        self.n_layers_ = len(hp.hidden) + 2
        self.out_activation_ = out_activation
        self.t_ = 0
        self.loss_curve_: list[float] = []
        self._no_improvement_count = 0
        if self.early_stopping:
            self.validation_scores_: list[float] | None = []
            self.best_validation_score_: float | None = -np.inf
            self.best_loss_: float | None = None
        else:
            self.validation_scores_ = None
            self.best_validation_score_ = None
            self.best_loss_ = np.inf

    def _objective(self, hp: Hyperparameters, net: Network) -> SampleMeanLoss:
        out = self.out_activation_
        regression = out == "identity"
        alpha = 0.0 if hp.solver == "adamw" else hp.alpha  # AdamW decays the weights itself
        base = PoissonDeviance() if out == "exp" else losses.get(_OUTPUT_LOSS[out])
        return SampleMeanLoss(
            base,
            per_output=out not in ("softmax", "exp"),
            value_factor=0.5 / net.outputs if regression else 1.0,
            gradient_factor=0.5 if regression else 1.0,
            alpha=alpha,
            weights=[layer.weight for layer in net.layers],
            xp=net.backend.xp,
        )

    def _new_optimizer(self, hp: Hyperparameters) -> Any:
        return new_optimizer(hp.solver, **optimizer_settings(self, hp.solver, hp.alpha))

    def _split(self, X: np.ndarray, y: np.ndarray, targets: Any, weights: np.ndarray | None
               ) -> tuple[np.ndarray, Any, np.ndarray | None, tuple[Any, ...]]:
        """Hold out ``validation_fraction`` of the samples (stratified for one label)."""
        stratify = y if self._stratify() else None
        train, val = train_test_split(
            np.arange(X.shape[0]), random_state=self._random_state,
            test_size=self.validation_fraction, stratify=stratify,
        )
        if val.shape[0] < 2:
            raise AnynnValueError(
                "The validation set is too small. Increase 'validation_fraction' or the size "
                "of your dataset."
            )
        w_val = None if weights is None else weights[val]
        w_train = None if weights is None else weights[train]
        return X[train], targets[train], w_train, (X[val], y[val], w_val)

    def _stratify(self) -> bool:
        return False

    # -- prediction -----------------------------------------------------------------
    def _forward(self, X: Any) -> np.ndarray:
        """Network output on host for raw ``X`` (validated against the fitted features)."""
        check_is_fitted(self)
        X = validate_data(self, X, accept_sparse=["csr", "csc"], reset=False,
                          dtype=(np.float64, np.float32))
        return self._output(_dense(X))

    def _output(self, X: np.ndarray) -> np.ndarray:
        """Network output on host for validated dense ``X``."""
        net = self.network_
        return np.asarray(to_numpy(net.predict(X.astype(net.dtype, copy=False))))
