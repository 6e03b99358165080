"""The training front of :class:`~anynn.Network`: ``fit`` and its variants, ``evaluate``.

``Network`` inherits these user-facing methods; each one only forwards to
:func:`anynn.training.fit` / :func:`anynn.training.evaluate`, which validate everything
(:class:`~anynn.training.FitConfig`) before any work. Keeping them here leaves
``network.py`` to the model itself.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, cast

from .. import losses, optimizers
from .. import metrics as metrics_module
from ..callbacks import Callback, EarlyStopping
from ..errors import AnynnValueError
from ..history import History
from . import distributed
from .evaluation import evaluate
from .loop import fit

if TYPE_CHECKING:
    from ..network import Network


class FitMethods:
    """Mixin of :class:`~anynn.Network`: training and evaluation on user data."""

    def _network(self) -> Network:
        return cast("Network", self)

    def fit(
        self, X: Any, y: Any, *, epochs: int = 1, lr: optimizers.LearningRate | None = None,
        batch_size: int = 32, loss: str | losses.Loss = "mse",
        optimizer: str | optimizers.Optimizer | None = None, shuffle: bool = True,
        validation_data: tuple[Any, ...] | None = None, validation_split: float = 0.0,
        metrics: Sequence[str | metrics_module.Metric] | None = None,
        callbacks: Sequence[Callback] | None = None, early_stopping: EarlyStopping | None = None,
        verbose: int | str | bool = "auto", sample_weight: Any = None,
        class_weight: dict[int, float] | None = None, clip_value: float | None = None,
        clip_norm: float | None = None, clip_backprop: float | None = None,
        data_on_device: bool | str = "auto", comm: Any = None, sharded: bool = False,
    ) -> History:
        """Train on ``(X, y)`` with mini-batch gradient descent.

        Every argument is validated before any work starts.

        Parameters
        ----------
        X : array-like, shape (n_samples, inputs)
            Inputs: a list, a NumPy array (``np.memmap`` included) or a backend array.
        y : array-like, shape (n_samples, outputs) or (n_samples,)
            Targets; integer class labels are accepted with ``loss="cce"``.
        epochs : int
            Passes over the data (0: validate only).
        lr : float or callable, optional
            Learning rate (or schedule ``step -> lr``) of an optimizer given by name, or
            the new rate of the reused ``net.optimizer``; default: the optimizer's own
            default (SGD: 0.01). Not allowed with an optimizer object (which uses its
            own ``lr``).
        batch_size : int
            Samples per update; the last partial batch is used.
        loss : {"mse", "bce", "cce"} or Loss
            Loss to minimise.
        optimizer : {"sgd", "adam", "adamw", "rmsprop"}, Optimizer or None
            None (default) continues with ``net.optimizer``, the optimizer of the previous
            fit (state included, so training resumes exactly), or starts SGD when there
            is none; a name builds a fresh optimizer with ``lr``; an object is used as is.
            The optimizer used becomes ``net.optimizer``.
        shuffle : bool
            Reshuffle the samples every epoch (from the network's seeded generator).
        validation_data : (X_val, y_val) or (X_val, y_val, sample_weight_val), optional
            Evaluated after every epoch: ``val_loss`` and ``val_<metric>``.
        validation_split : float
            Instead of ``validation_data``: hold out this fraction of the samples, taken
            from the end of ``(X, y)`` before shuffling (as Keras does).
        metrics : list of {"accuracy", "mae", "mse"}, optional
            Reported per epoch (training values are averaged over the epoch's batches).
        callbacks : list of Callback, optional
            Hooks; a callback stops training by setting ``net.stop_training = True``.
        early_stopping : EarlyStopping, optional
            Shorthand for adding it to ``callbacks``.
        verbose : {"auto", 0, 1, 2, False, True}
            0 (False): silent; 1 (True): a progress bar (tqdm) over epochs; 2: one line
            per epoch; "auto": 1 when stdout is a terminal, else 0.
        sample_weight : array-like, shape (n_samples,), optional
            Non-negative weight of each sample's loss term.
        class_weight : dict of int to float, optional
            Weight per class (arg-max of one-hot targets, or 0/1 for one output),
            multiplied with ``sample_weight``. It weights the training loss only: the
            validation loss is never weighted by class (as in Keras), whether it comes
            from ``validation_split`` or ``validation_data``.
        clip_value, clip_norm : float, optional
            Clip each gradient element to ``[-clip_value, clip_value]`` / scale the
            gradients to a global norm of at most ``clip_norm`` (before each step).
        clip_backprop : float, optional
            Clamp the gradient passed between layers to ``[-clip_backprop, clip_backprop]``
            (the original article's backpropagation used 1.0); off by default.
        data_on_device : {"auto", True, False}
            Move host data to the device once (True), stream it batch by batch (False),
            or decide from its size ("auto", see :mod:`anynn.training.data`). Same results.
        comm : mpi4py communicator, optional
            Train data-parallel over the processes of ``comm`` (e.g. ``MPI.COMM_WORLD``
            under ``mpiexec -n P``): each global batch of ``batch_size`` is split among
            them and one allreduce per step sums the gradients, so the result equals one
            process's to float rounding (see :mod:`anynn.training.distributed`). Every
            process makes the same call; only rank 0 prints.
        sharded : bool
            With ``comm``: each process passes its own rows (the run equals one process
            on the concatenation of the shards in rank order); by default every process
            passes the same ``X``, ``y`` (an array or an ``np.memmap``) and reads only
            its rows of each batch.

        Returns
        -------
        History
            ``net.history``: every epoch trained so far, ``history.history["loss"]`` etc.

        Raises
        ------
        TrainingDiverged
            When the loss becomes non-finite (weights of the last finite epoch kept).
        DistributedError
            With ``comm``, on every other process when one process fails.

        Notes
        -----
        Ctrl-C stops training at the end of the current step and returns the history.
        """
        arguments = {k: v for k, v in locals().items() if k not in ("self", "X", "y")}
        run = fit if comm is None else distributed.fit
        return run(self._network(), X, y, **arguments)

    def partial_fit(self, X: Any, y: Any, **kwargs: Any) -> History:
        """One pass over new data (``fit`` with ``epochs=1``, ``verbose=0`` by default)."""
        if "epochs" in kwargs:
            raise AnynnValueError("partial_fit makes exactly one pass; use fit(epochs=...)")
        kwargs.setdefault("verbose", 0)
        return self.fit(X, y, epochs=1, **kwargs)

    def train(
        self, X: Any, y: Any, epochs: int = 1000, lr: float | None = 0.1, **kwargs: Any
    ) -> History:
        """The original article's call: :meth:`fit` with one sample per update.

        ``lr`` applies to an optimizer given by name or to the default SGD; it is ignored
        when ``optimizer=`` is an object (which has its own ``lr``).
        """
        kwargs.setdefault("batch_size", 1)
        if isinstance(kwargs.get("optimizer"), optimizers.Optimizer):
            lr = None
        return self.fit(X, y, epochs=epochs, lr=lr, **kwargs)

    def evaluate(
        self, X: Any, y: Any, *, loss: str | losses.Loss | None = None,
        metrics: Sequence[str | metrics_module.Metric] | None = None, sample_weight: Any = None,
    ) -> float | dict[str, float]:
        """Mean ``loss`` of the network on ``(X, y)`` (dropout inactive).

        ``loss`` and ``metrics`` default to those of the last ``fit`` (``net.loss``,
        ``net.metrics``, saved in model files), as a Keras model evaluates with its
        compiled loss; a network never fitted uses ``"mse"`` and no metrics.

        Returns
        -------
        float or dict
            The loss as a Python float; with metrics (given or remembered), a dict
            ``{"loss": ..., name: ...}``.
        """
        net = self._network()
        if metrics is None and loss is None and net.metrics:
            metrics = list(net.metrics)
        if loss is None:
            loss = net.loss if net.loss is not None else "mse"
        result = evaluate(net, X, y, loss, metrics, sample_weight)
        return result if metrics is not None else result["loss"]
