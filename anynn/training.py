"""The training loop: epochs of shuffled mini-batches, one optimizer step per batch."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .errors import TrainingDiverged
from .losses import Loss
from .optimizers import Optimizer

if TYPE_CHECKING:
    from .network import Network

Array = Any


@dataclass
class History:
    """Per-epoch training record, shaped like Keras' ``History``.

    Attributes
    ----------
    history : dict of str to list of float
        ``history["loss"]`` holds the mean training loss of each epoch.
    epoch : list of int
        The epoch numbers recorded.
    """

    history: dict[str, list[float]] = field(default_factory=lambda: {"loss": []})
    epoch: list[int] = field(default_factory=list)

    def record(self, epoch: int, **values: float) -> None:
        """Append one epoch's values."""
        self.epoch.append(epoch)
        for key, value in values.items():
            self.history.setdefault(key, []).append(value)

    def __repr__(self) -> str:
        last = {k: v[-1] for k, v in self.history.items() if v}
        return f"History(epochs={len(self.epoch)}, last={last})"


@dataclass
class TrainingData:
    """Inputs and targets on the device, and how to cut them into batches."""

    X: Array
    Y: Array
    batch_size: int
    shuffle: bool

    @property
    def n_samples(self) -> int:
        return int(self.X.shape[0])

    @property
    def steps_per_epoch(self) -> int:
        return math.ceil(self.n_samples / self.batch_size)


def run_epochs(
    net: Network,
    data: TrainingData,
    loss: Loss,
    optimizer: Optimizer,
    epochs: int,
    history: History | None = None,
) -> History:
    """Train ``net`` for ``epochs`` passes over ``data``; return the history.

    Raises
    ------
    TrainingDiverged
        When an epoch's loss is not finite; the weights are rolled back to the start of
        that epoch (the last finite state).
    """
    history = History() if history is None else history
    xp = net.backend.xp
    params = net.parameters()
    fused = loss.can_fuse(net.layers[-1].activation)
    n, batch = data.n_samples, data.batch_size
    first_epoch = len(history.epoch)
    for epoch in range(first_epoch, first_epoch + epochs):
        snapshot = [xp.asarray(p.value, copy=True) for p in params]
        X, Y = data.X, data.Y
        if data.shuffle and n > 1:
            order = net.backend.from_host(net.rng.permutation(n))
            X, Y = xp.take(X, order, axis=0), xp.take(Y, order, axis=0)
        total = None
        for start in range(0, n, batch):
            xb, yb = X[start : start + batch, ...], Y[start : start + batch, ...]
            value = net.loss_and_gradients(xb, yb, loss, fused) * xb.shape[0]
            optimizer.step(params)
            total = value if total is None else total + value
        epoch_loss = float(total) / n
        if not math.isfinite(epoch_loss):
            for p, saved in zip(params, snapshot):
                p.value = saved
            raise TrainingDiverged(
                f"training diverged: the loss of epoch {epoch} is {epoch_loss} "
                f"(step {optimizer.iterations}); the weights were restored to the end of "
                "the last finite epoch. Lower the learning rate or scale the inputs.",
                epoch=epoch,
                step=optimizer.iterations,
            )
        history.record(epoch, loss=epoch_loss)
    net.clear_training_state()
    return history
