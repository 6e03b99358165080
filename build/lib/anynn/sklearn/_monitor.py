"""scikit-learn's per-epoch bookkeeping as an anynn callback.

After every epoch it records ``loss_curve_``, ``n_iter_`` and ``t_`` on the estimator,
applies the ``tol`` / ``n_iter_no_change`` stopping rule (on the training loss, or on the
validation score with ``early_stopping``), keeps the best weights for ``early_stopping``,
and updates the learning rate of ``learning_rate="invscaling"``/``"adaptive"`` (SGD), all
as scikit-learn's ``MLPClassifier``/``MLPRegressor`` do.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..callbacks import Callback
from ..optimizers import Optimizer

_SMALLEST_ADAPTIVE_LR = 1e-6


class SklearnMonitor(Callback):
    """Epoch-end bookkeeping of a scikit-learn MLP estimator.

    Parameters
    ----------
    estimator : BaseMLP
        Receives ``loss_``, ``loss_curve_``, ``n_iter_``, ``t_``, ``best_loss_`` or
        ``validation_scores_``/``best_validation_score_``.
    optimizer : Optimizer
        Its learning rate follows ``learning_rate`` (SGD only).
    n_train : int
        Training samples per epoch (added to ``t_``).
    validation_score : callable, optional
        ``() -> float``: the score on the held-out data (``early_stopping``).
    """

    def __init__(
        self,
        estimator: Any,
        optimizer: Optimizer,
        n_train: int,
        validation_score: Callable[[], float] | None = None,
    ) -> None:
        self.estimator = estimator
        self.optimizer = optimizer
        self.n_train = n_train
        self.validation_score = validation_score
        self.best_parameters: list[Any] | None = None
        self.converged = False

    def on_epoch_end(self, epoch: int, logs: dict[str, Any]) -> None:
        est = self.estimator
        est.n_iter_ += 1
        est.t_ += self.n_train
        est.loss_ = float(logs["loss"])
        est.loss_curve_.append(est.loss_)
        if est.verbose:
            print(f"Iteration {est.n_iter_}, loss = {est.loss_:.8f}")
        if self.validation_score is not None:
            self._track_validation(self.validation_score())
        else:
            self._track_loss(est.loss_)
        schedule = est.learning_rate if est.solver == "sgd" else "constant"
        if schedule == "invscaling":
            self._set_lr(est.learning_rate_init / (est.t_ + 1) ** est.power_t)
        if est._no_improvement_count > est.n_iter_no_change:
            lr = self.optimizer.current_lr()
            if schedule == "adaptive" and lr > _SMALLEST_ADAPTIVE_LR:
                self._set_lr(lr / 5.0)
                est._no_improvement_count = 0
                if est.verbose:
                    print(f"Setting learning rate to {lr / 5.0:f}")
                return
            self.converged = True
            self.network.stop_training = True
            if est.verbose:
                what = "Validation score" if self.validation_score else "Training loss"
                print(
                    f"{what} did not improve more than tol={est.tol:f} for "
                    f"{est.n_iter_no_change} consecutive epochs. Stopping."
                )

    def _set_lr(self, lr: float) -> None:
        change = getattr(self.optimizer, "change_learning_rate", None)
        if change is not None:
            change(lr)
        else:
            self.optimizer.lr = lr

    def _track_loss(self, loss: float) -> None:
        est = self.estimator
        if loss > est.best_loss_ - est.tol:
            est._no_improvement_count += 1
        else:
            est._no_improvement_count = 0
        est.best_loss_ = min(est.best_loss_, loss)

    def _track_validation(self, score: float) -> None:
        est = self.estimator
        est.validation_scores_.append(score)
        if est.verbose:
            print(f"Validation score: {score:f}")
        if score < est.best_validation_score_ + est.tol:
            est._no_improvement_count += 1
        else:
            est._no_improvement_count = 0
        if score > est.best_validation_score_:
            est.best_validation_score_ = score
            self.best_parameters = self.network.snapshot()

    def restore_best(self) -> None:
        """Put back the weights of the best validation score (``early_stopping``)."""
        if self.best_parameters is not None:
            self.network.restore(self.best_parameters)
