"""Callbacks: hooks into ``fit``, and early stopping.

A callback sees the network as ``self.network`` and stops training by setting
``self.network.stop_training = True`` (checked after every hook). Only callbacks that
override :meth:`Callback.on_batch_end` are called per step, so the inner loop stays lean.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from ._checks import check_bool, check_choice, check_float, check_int, check_str
from .errors import AnynnTypeError, AnynnValueError

if TYPE_CHECKING:
    from .network import Network

Logs = dict[str, Any]


class Callback:
    """Base class; override the hooks you need.

    Hooks receive ``logs``: at train begin ``{"keys": [...]}`` (the history keys of this
    fit), at epoch end the epoch's values (``loss``, ``val_loss``, metrics), at batch end
    ``{"loss": <0-d backend array>, "size": n}`` (``float()`` it to read it: that
    synchronises the device).
    """

    network: Network

    def set_network(self, network: Network) -> None:
        """Called by ``fit`` before training."""
        self.network = network

    def validate(self, keys: list[str]) -> None:
        """Called before any work with the history keys of the fit; raise to refuse it."""

    def on_train_begin(self, logs: Logs) -> None:
        """Before the first epoch."""

    def on_train_end(self, logs: Logs) -> None:
        """After the last epoch (also after an early stop or an interrupt)."""

    def on_epoch_begin(self, epoch: int, logs: Logs) -> None:
        """Before each epoch."""

    def on_epoch_end(self, epoch: int, logs: Logs) -> None:
        """After each epoch, with its recorded values."""

    def on_batch_end(self, step: int, logs: Logs) -> None:
        """After each optimizer step (``step`` counts from 0 over the whole training)."""


def check_callbacks(callbacks: Any) -> list[Callback]:
    """Validate ``callbacks=`` (None or a list of :class:`Callback`)."""
    if callbacks is None:
        return []
    if isinstance(callbacks, Callback):
        return [callbacks]
    if not isinstance(callbacks, Sequence) or isinstance(callbacks, str):
        raise AnynnTypeError(
            f"callbacks must be a list of Callback objects; got {type(callbacks).__name__}"
        )
    for i, cb in enumerate(callbacks):
        if not isinstance(cb, Callback):
            raise AnynnTypeError(
                f"callbacks[{i}] must be an anynn.Callback; got {type(cb).__name__}"
            )
    return list(callbacks)


def overrides_batch_end(callback: Callback) -> bool:
    """Whether ``callback`` needs calling after every step."""
    return type(callback).on_batch_end is not Callback.on_batch_end


class EarlyStopping(Callback):
    """Stop when ``monitor`` has not improved by ``min_delta`` for ``patience`` epochs.

    Parameters
    ----------
    monitor : str
        A history key: ``"val_loss"`` (needs validation data), ``"loss"``, a metric...
    patience : int
        Epochs without improvement tolerated before stopping.
    min_delta : float
        Smallest change that counts as an improvement.
    restore_best : bool
        At the end of training, put back the weights of the best epoch.
    mode : {"auto", "min", "max"}
        Whether lower or higher is better; "auto": higher for accuracy, else lower.

    Attributes
    ----------
    best : float
        The best value seen.
    best_epoch : int or None
        Its epoch.
    stopped_epoch : int or None
        The epoch after which training stopped, or None.
    """

    def __init__(
        self,
        monitor: str = "val_loss",
        patience: int = 5,
        min_delta: float = 0.0,
        restore_best: bool = True,
        mode: str = "auto",
    ) -> None:
        self.monitor = check_str(monitor, "monitor")
        self.patience = check_int(patience, "patience", low=0)
        mode = check_choice(mode, "mode", ("auto", "min", "max"))
        self.min_delta = check_float(min_delta, "min_delta", low=0.0)
        self.restore_best = check_bool(restore_best, "restore_best")
        self.maximize = mode == "max" or (mode == "auto" and "acc" in monitor)
        self._reset()

    def _reset(self) -> None:
        self.best = float("-inf") if self.maximize else float("inf")
        self.best_epoch: int | None = None
        self.stopped_epoch: int | None = None
        self._wait = 0
        self._best_weights: list[Any] | None = None
        """The snapshot (:meth:`Network.snapshot`) of the best epoch."""

    def validate(self, keys: list[str]) -> None:
        if self.monitor not in keys:
            raise AnynnValueError(
                f"EarlyStopping(monitor={self.monitor!r}): this fit records only {keys}"
                + ("; pass validation_data= or validation_split=" if "val_" in self.monitor else "")
            )

    def on_train_begin(self, logs: Logs) -> None:
        self._reset()

    def on_epoch_end(self, epoch: int, logs: Logs) -> None:
        value = logs[self.monitor]
        better = (
            value > self.best + self.min_delta
            if self.maximize
            else value < self.best - self.min_delta
        )
        if better:
            self.best, self.best_epoch, self._wait = value, epoch, 0
            if self.restore_best:
                self._best_weights = self.network.snapshot()
            return
        self._wait += 1
        if self._wait >= self.patience:  # Keras: stop after `patience` epochs without gain
            self.stopped_epoch = epoch
            self.network.stop_training = True

    def on_train_end(self, logs: Logs) -> None:
        if self.restore_best and self._best_weights is not None:
            self.network.restore(self._best_weights)
            self._best_weights = None

    def __repr__(self) -> str:
        return (
            f"EarlyStopping(monitor={self.monitor!r}, patience={self.patience}, "
            f"min_delta={self.min_delta}, restore_best={self.restore_best})"
        )
