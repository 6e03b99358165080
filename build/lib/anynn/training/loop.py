"""The training loop: epochs of (shuffled) batches, one optimizer step per batch.

:class:`Trainer` receives the network, its validated :class:`~.config.FitConfig` and the
data, nothing else. Everything that can be decided once per ``fit`` (loss fusion, in the
config's :class:`~anynn.losses.LossHead`; clipping; dropout; which callbacks need
per-step calls) is decided in its constructor; the per-step loop only computes. The
loss is read from the device once per epoch.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Iterable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from typing import TYPE_CHECKING, Any, NoReturn

import numpy as np

from ..backend import to_numpy
from ..callbacks import overrides_batch_end
from ..errors import AnynnValueError, NetworkBusyError, TrainingDiverged
from ..history import History
from .config import FitConfig
from .data import Dataset, fit_datasets
from .evaluation import dataset_sums, mean_logs
from .interrupt import Interrupt, deferred_sigint
from .progress import progress_callback
from .regularization import MaskSampler, gradient_clipper

if TYPE_CHECKING:
    from ..network import Network

Array = Any


def all_finite(xp: Any, arrays: list[Array]) -> bool:
    """Whether every element of every array is finite (one host read)."""
    checks = [xp.all(xp.isfinite(a)) for a in arrays]
    combined = checks[0]
    for check in checks[1:]:
        combined = xp.logical_and(combined, check)
    return bool(combined)


class Trainer:
    """One ``fit``: a network, its validated configuration and its data.

    The step is split into hooks that :class:`~anynn.training.distributed.DistributedTrainer`
    overrides: :meth:`_batches` (what each step trains on), :meth:`_gradients` (forward,
    backward and, there, the gradient allreduce), :meth:`_epoch_sums` (the epoch's metric
    and validation sums) and :meth:`_collective` (a section every process must finish).

    Parameters
    ----------
    net : Network
        The network trained in place.
    config : FitConfig
        Every argument of the fit, validated.
    train : Dataset
        The training data.
    validation : Dataset, optional
        Evaluated at the end of every epoch (``val_`` keys).

    Raises
    ------
    AnynnValueError
        When a callback refuses the history keys of this fit (before any work).
    """

    def __init__(
        self, net: Network, config: FitConfig, train: Dataset, validation: Dataset | None
    ) -> None:
        self.net = net
        self.config = config
        self.train = train
        self.validation = validation
        self.head = config.head
        self.optimizer = config.optimizer
        self.metrics = list(config.metrics)
        self.callbacks = list(config.callbacks)
        reporter = progress_callback(config.verbose, config.epochs)
        if reporter is not None:
            self.callbacks.append(reporter)
        for cb in self.callbacks:
            cb.validate(self.history_keys())
        self.batch_callbacks = [cb for cb in self.callbacks if overrides_batch_end(cb)]
        self.clipper = gradient_clipper(net.backend.xp, config.clip_value, config.clip_norm)
        self.mask_sampler = MaskSampler(
            net.dropout, [layer.n_out for layer in net.layers], net.rng, net.backend
        )
        self._snapshots: tuple[tuple[int, list[Array]] | None, ...] = (None,)
        self.interrupt = Interrupt()
        self.rank = 0
        """This process's rank; callbacks see it as ``logs["rank"]`` at train begin."""
        self._metric_sums: list[Any] = []
        n, batch_size = self.n_samples, config.batch_size
        self.sizes = [min(batch_size, n - s) for s in range(0, n, batch_size)]

    @property
    def n_samples(self) -> int:
        """Training samples per epoch (over every process)."""
        return self.train.n_samples

    def history_keys(self) -> list[str]:
        """The keys this fit records per epoch."""
        names = ["loss"] + [m.name for m in self.metrics]
        return names + ([f"val_{k}" for k in names] if self.validation is not None else [])

    def run(self) -> History:
        """Train for ``config.epochs`` epochs, appending to ``net.history``; return it.

        The optimizer (given ``config.new_lr`` when reused) is bound to the parameters
        and becomes ``net.optimizer``.

        Raises
        ------
        TrainingDiverged
            When an epoch's loss is not finite; the weights are those of the end of the
            last finite epoch and the optimizer state is reset.
        """
        net, epochs, history = self.net, self.config.epochs, self.net.history
        if self.config.new_lr is not None:
            self.optimizer.lr = self.config.new_lr
        self.optimizer.prepare(net.parameters(), net.backend)
        net.optimizer = self.optimizer
        net.stop_training = False
        first = history.epoch[-1] + 1 if history.epoch else 0
        for cb in self.callbacks:
            cb.set_network(net)
        begin = {
            "keys": self.history_keys(), "first_epoch": first, "epochs": epochs, "rank": self.rank
        }
        with self._collective():
            for cb in self.callbacks:
                cb.on_train_begin(begin)
        flag = self.interrupt
        try:
            with deferred_sigint(flag), net.backend.overflow_allowed(invalid=True):
                for epoch in range(first, first + epochs):
                    with self._collective():
                        for cb in self.callbacks:
                            cb.on_epoch_begin(epoch, {})
                    logs = self._epoch(epoch, flag)
                    if logs is None:  # interrupted
                        break
                    with self._collective():
                        history.record(epoch, **logs)
                        for cb in self.callbacks:
                            cb.on_epoch_end(epoch, logs)
                    if net.stop_training:
                        break
                self._check_last_update(history, net.parameters())
        finally:
            net.clear_training_state()
            for cb in self.callbacks:
                cb.on_train_end(history.last())
        return history

    def _epoch(self, epoch: int, flag: Interrupt) -> dict[str, float] | None:
        """One pass over the data; the epoch's values, or None when interrupted."""
        net, optimizer = self.net, self.optimizer
        params = net.parameters()
        self._snapshots = (self._snapshots[-1], (epoch, net.snapshot()))
        n, batch_size = self.n_samples, self.config.batch_size
        # one batch covering the data needs no shuffle: its gradient is order-free
        order = net.rng.permutation(n) if self.config.shuffle and n > batch_size else None
        clipper, batch_callbacks = self.clipper, self.batch_callbacks
        values: list[Array] = []
        self._metric_sums = [0.0] * len(self.metrics)
        first_step = optimizer.iterations
        try:
            for batch in self._batches(order):
                value = self._gradients(batch)
                if clipper is not None:
                    clipper(params)
                flag.updating = True  # a second Ctrl-C now waits for the whole update
                try:
                    optimizer.step(params)
                finally:
                    flag.updating = False
                if flag.aborted:
                    raise KeyboardInterrupt
                values.append(value)
                if batch_callbacks:
                    step_logs = {"loss": value, "size": self.sizes[len(values) - 1]}
                    with self._collective():
                        for cb in batch_callbacks:
                            cb.on_batch_end(optimizer.iterations - 1, step_logs)
                    if net.stop_training:
                        break
                if self._stop_requested():
                    raise KeyboardInterrupt
        except KeyboardInterrupt:
            if flag.aborted:  # the second Ctrl-C: to the caller
                raise
            warnings.warn(
                f"training interrupted in epoch {epoch} after step {optimizer.iterations}; "
                "the weights are those of the last completed step",
                RuntimeWarning,
                stacklevel=4,
            )
            net.stop_training = True
            return None
        return self._epoch_logs(epoch, values, first_step)

    # -- the hooks of one step and one epoch -------------------------------------------
    def _batches(self, order: np.ndarray | None) -> Iterable[Any]:
        """What each step of the epoch trains on, in ``order`` (a permutation or None)."""
        return self.train.batches(self.config.batch_size, order)

    def _gradients(self, batch: Any) -> Array:
        """Forward and backward on one batch: every ``grad`` set, the batch's mean loss
        returned (0-d), the metric sums of the epoch advanced."""
        xb, yb, wb = batch
        masks = self.mask_sampler.draw(xb.shape[0]) if self.mask_sampler else None
        value = self.net.loss_and_gradients(
            xb, yb, self.head, weights=wb, masks=masks, clip_backprop=self.config.clip_backprop
        )
        self._add_metrics(yb)
        return value

    def _add_metrics(self, yb: Array) -> None:
        """Add the metrics of the last training forward pass to the epoch's sums."""
        xp, out = self.net.backend.xp, self.net.layers[-1].last_output
        for i, metric in enumerate(self.metrics):
            self._metric_sums[i] = self._metric_sums[i] + metric.batch_sum(out, yb, xp)

    def _epoch_sums(self) -> tuple[list[float], list[float] | None]:
        """The epoch's training metric sums and the validation sums (:func:`dataset_sums`)."""
        train = [float(total) for total in self._metric_sums]
        if self.validation is None:
            return train, None
        return train, dataset_sums(self.net, self.validation, self.head, self.metrics)

    def _validation_samples(self) -> int:
        """Validation samples (over every process)."""
        return 0 if self.validation is None else self.validation.n_samples

    def _stop_requested(self) -> bool:
        """Whether Ctrl-C asks to stop after the step just taken."""
        return self.interrupt.requested

    def _collective(self) -> AbstractContextManager[Any]:
        """A section that every process finishes or all fail (one process: nothing)."""
        return nullcontext()

    def _epoch_logs(self, epoch: int, values: list[Array], first_step: int) -> dict[str, float]:
        """The epoch's record: mean loss (checked finite), metrics, validation values."""
        logs = {"loss": self._mean_loss(values, epoch, first_step)}
        seen = sum(self.sizes[: len(values)])  # fewer than n when a callback stopped early
        train, validation = self._epoch_sums()
        for metric, total in zip(self.metrics, train, strict=True):
            logs[metric.name] = total / seen
        if validation is not None:
            logs.update(mean_logs(validation, self._validation_samples(), self.metrics, "val_"))
        return logs

    def _mean_loss(
        self, values: list[Array], epoch: int, first_step: int
    ) -> float:
        """The epoch's mean loss (one read); roll back and raise if it is not finite."""
        xp = self.net.backend.xp
        if len(values) == 1:
            stacked = values[0]
            total = float(values[0])
        else:
            stacked = xp.stack(values)
            sizes = self.sizes[: len(values)]
            total = float(xp.sum(stacked * self.net.backend.asarray(sizes))) / sum(sizes)
        if math.isfinite(total):
            return total
        finite = np.reshape(to_numpy(xp.isfinite(stacked)), (-1,))
        step = first_step + int(np.argmin(finite))
        self._diverged(f"the loss became {total} at step {step}", epoch, step)

    def _check_last_update(self, history: History, params: list[Any]) -> None:
        """After the last epoch: its final update is seen by no loss, so check the weights.

        Non-finite weights are rolled back like a diverged epoch, and that epoch's
        record is dropped from ``history``.
        """
        if not history.epoch or all_finite(self.net.backend.xp, [p.value for p in params]):
            return
        epoch, step = history.epoch[-1], self.optimizer.iterations - 1
        history.drop_last()
        self._diverged(
            f"the weights became non-finite in the update of step {step}", epoch, step
        )

    def _diverged(self, cause: str, epoch: int, step: int) -> NoReturn:
        restored = self._restore_finite()
        self.optimizer.reset()
        raise TrainingDiverged(
            f"training diverged: {cause} of epoch {epoch}; the weights were restored to "
            f"{restored} and the optimizer state was reset. Lower the learning rate, clip "
            "the gradients (clip_norm=) or scale the inputs.",
            epoch=epoch,
            step=step,
        )

    def _restore_finite(self) -> str:
        """Put back the newest all-finite snapshot (the last step of an epoch may be the
        one that overflowed); return a description of what was restored."""
        xp = self.net.backend.xp
        for saved in reversed(self._snapshots):
            if saved is None:
                continue
            epoch, arrays = saved
            if all_finite(xp, arrays):
                self.net.restore(arrays)
                return f"their state at the start of epoch {epoch}"
        return "their state at the start of the epoch (no finite state was kept)"


def fit(net: Network, X: Any, y: Any, **kwargs: Any) -> History:
    """Train ``net`` in place on ``(X, y)``; ``kwargs`` are those of :meth:`Network.fit`.

    Every argument and the data are validated before any work; ``epochs=0`` stops there.
    """
    with exclusive(net):
        config = FitConfig.from_fit_args(net, **kwargs)
        if config.comm is not None:
            raise AnynnValueError("comm= is trained by anynn.training.distributed.fit")
        train, validation = fit_datasets(net, X, y, config)
        if config.epochs == 0:
            return net.history
        remember(net, config)
        return Trainer(net, config, train, validation).run()


@contextmanager
def exclusive(net: Network) -> Iterator[None]:
    """Hold ``net``'s fit lock for one fit.

    Raises
    ------
    NetworkBusyError
        If another fit of ``net`` is running (another thread, or a callback's fit).
    """
    if not net.fit_lock.acquire(blocking=False):
        raise NetworkBusyError(
            "this network is already being trained (a fit or partial_fit running in "
            "another thread, or the fit whose callback called this one); train one "
            "network from one thread at a time (predicting from several threads is fine)"
        )
    try:
        yield
    finally:
        net.fit_lock.release()


def remember(net: Network, config: FitConfig) -> None:
    """Keep the fit's loss and metrics as ``net.evaluate``'s defaults."""
    net.loss, net.metrics = config.head.loss, list(config.metrics)
