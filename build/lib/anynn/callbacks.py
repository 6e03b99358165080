"""Callbacks: hooks into ``fit``, early stopping and checkpoints.

A callback sees the network as ``self.network`` and stops training by setting
``self.network.stop_training = True`` (checked after every hook). Only callbacks that
override :meth:`Callback.on_batch_end` are called per step, so the inner loop stays lean.
"""

from __future__ import annotations

import os
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


def maximizes(monitor: str, mode: str) -> bool:
    """Whether higher values of ``monitor`` are better ("auto": for accuracies)."""
    return mode == "max" or (mode == "auto" and "acc" in monitor)


def improves(value: float, best: float, maximize: bool, min_delta: float = 0.0) -> bool:
    """Whether ``value`` beats ``best`` by more than ``min_delta``."""
    return value > best + min_delta if maximize else value < best - min_delta


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
        self.maximize = maximizes(monitor, mode)
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
        if improves(value, self.best, self.maximize, self.min_delta):
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


class ModelCheckpoint(Callback):
    """Save the network during ``fit``, as Keras's ``ModelCheckpoint`` does.

    Files are written atomically (:meth:`Network.save`), with the optimizer, random
    generator and history by default, so that ``anynn.load(path)`` followed by ``fit``
    (without a new optimizer) continues the run exactly. In a data-parallel fit only
    rank 0 writes; every process keeps the same ``best``.

    Parameters
    ----------
    path : str or os.PathLike
        The file; ``str.format`` fields ``{epoch}`` (1-based) and any history key
        (``{val_loss:.4f}``) are filled in. Missing folders are created.
    monitor : str
        The history key compared when ``save_best_only``.
    save_best_only : bool
        Save only when ``monitor`` improves on the best value so far.
    mode : {"auto", "min", "max"}
        Whether lower or higher is better; "auto": higher for accuracy, else lower.
    every : int
        Consider saving every ``every`` epochs (epochs ``every``, ``2 * every``... of
        the network's history).
    include_optimizer : bool
        Store the training state too (needed to resume exactly).

    Attributes
    ----------
    best : float
        The best ``monitor`` value seen (with ``save_best_only``), kept over successive
        ``fit`` calls, as in Keras.
    saved : list of str
        The paths written by this process, in order.
    """

    def __init__(
        self, path: str | os.PathLike[str], monitor: str = "val_loss", save_best_only: bool = False,
        mode: str = "auto", every: int = 1, include_optimizer: bool = True,
    ) -> None:
        if not isinstance(path, (str, os.PathLike)):
            raise AnynnTypeError(f"path must be a str or os.PathLike; got {type(path).__name__}")
        self.path = os.fspath(path)
        self.monitor = check_str(monitor, "monitor")
        self.save_best_only = check_bool(save_best_only, "save_best_only")
        self.maximize = maximizes(monitor, check_choice(mode, "mode", ("auto", "min", "max")))
        self.every = check_int(every, "every", low=1)
        self.include_optimizer = check_bool(include_optimizer, "include_optimizer")
        self.best = float("-inf") if self.maximize else float("inf")
        self.saved: list[str] = []
        self._writes = True

    def validate(self, keys: list[str]) -> None:
        if self.save_best_only and self.monitor not in keys:
            raise AnynnValueError(
                f"ModelCheckpoint(monitor={self.monitor!r}, save_best_only=True): this fit "
                f"records only {keys}"
            )
        try:
            self.path.format(epoch=1, **dict.fromkeys(keys, 0.0))
        except (KeyError, IndexError, ValueError) as exc:
            raise AnynnValueError(
                f"ModelCheckpoint path {self.path!r} has a field that is neither {{epoch}} "
                f"nor a history key of this fit ({keys}): {exc!r}"
            ) from exc

    def on_train_begin(self, logs: Logs) -> None:
        self._writes = logs.get("rank", 0) == 0

    def on_epoch_end(self, epoch: int, logs: Logs) -> None:
        if (epoch + 1) % self.every:
            return
        if self.save_best_only:
            if not improves(logs[self.monitor], self.best, self.maximize):
                return
            self.best = logs[self.monitor]
        if not self._writes:
            return
        path = self.path.format(epoch=epoch + 1, **logs)
        folder = os.path.dirname(path)
        if folder:
            os.makedirs(folder, exist_ok=True)
        self.network.save(path, include_optimizer=self.include_optimizer)
        self.saved.append(path)

    def __repr__(self) -> str:
        return (
            f"ModelCheckpoint({self.path!r}, monitor={self.monitor!r}, "
            f"save_best_only={self.save_best_only}, every={self.every})"
        )
