"""Callbacks: hook order, stopping, EarlyStopping with best-weight restore."""

from __future__ import annotations

import numpy as np
import pytest

import anynn as nn
from anynn.backend import to_numpy


def data() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(1)
    X = rng.standard_normal((24, 3))
    return X, (X.sum(axis=1) > 0).astype(float)


def net(backend: str = "numpy") -> nn.Network:
    return nn.Network(
        3, [(6, True, "tanh"), (1, True, "sigmoid")], backend=backend, dtype="float64", seed=0
    )


class Recorder(nn.Callback):
    def __init__(self) -> None:
        self.events: list[str] = []

    def on_train_begin(self, logs):
        self.events.append(f"train_begin:{logs['keys']}")

    def on_epoch_begin(self, epoch, logs):
        self.events.append(f"epoch_begin:{epoch}")

    def on_batch_end(self, step, logs):
        assert float(logs["loss"]) >= 0 and logs["size"] > 0
        self.events.append(f"batch:{step}")

    def on_epoch_end(self, epoch, logs):
        self.events.append(f"epoch_end:{epoch}:{sorted(logs)}")

    def on_train_end(self, logs):
        self.events.append("train_end")


def test_hook_order(backend: str) -> None:
    X, y = data()
    rec = Recorder()
    net(backend).fit(X, y, epochs=2, batch_size=12, loss="bce", callbacks=[rec], verbose=0)
    assert rec.events == [
        "train_begin:['loss']",
        "epoch_begin:0",
        "batch:0",
        "batch:1",
        "epoch_end:0:['loss']",
        "epoch_begin:1",
        "batch:2",
        "batch:3",
        "epoch_end:1:['loss']",
        "train_end",
    ]


def test_callback_stops_training() -> None:
    class StopAfter(nn.Callback):
        def on_epoch_end(self, epoch, logs):
            if epoch == 2:
                self.network.stop_training = True

    X, y = data()
    history = net().fit(X, y, epochs=10, loss="bce", callbacks=[StopAfter()], verbose=0)
    assert history.epoch == [0, 1, 2]


def test_batch_callback_stops_mid_epoch() -> None:
    class StopAtStep(nn.Callback):
        def on_batch_end(self, step, logs):
            if step == 1:
                self.network.stop_training = True

    X, y = data()
    model = net()
    history = model.fit(
        X, y, epochs=10, batch_size=8, loss="bce", callbacks=[StopAtStep()], verbose=0
    )
    assert history.epoch == [0] and model.optimizer.iterations == 2


def test_early_stopping_stops_and_restores_best(backend: str) -> None:
    X, y = data()
    model = net(backend)
    best_weights = {}

    class Spy(nn.Callback):
        def on_epoch_end(self, epoch, logs):
            best_weights[epoch] = [to_numpy(p.value).copy() for p in self.network.parameters()]

    stopper = nn.EarlyStopping(monitor="val_loss", patience=2, restore_best=True)
    # A huge learning rate makes the validation loss get worse quickly.
    history = model.fit(
        X,
        y,
        epochs=50,
        lr=50.0,
        loss="bce",
        validation_data=(X, 1 - y),
        early_stopping=stopper,
        callbacks=[Spy()],
        verbose=0,
    )
    assert stopper.stopped_epoch is not None and len(history.epoch) < 50
    assert stopper.stopped_epoch - stopper.best_epoch == 2  # patience epochs without gain
    assert stopper.best == min(history["val_loss"])
    for a, p in zip(best_weights[stopper.best_epoch], model.parameters(), strict=True):
        np.testing.assert_array_equal(a, to_numpy(p.value))


def test_early_stopping_mode_and_validation() -> None:
    assert nn.EarlyStopping(monitor="val_accuracy").maximize
    assert not nn.EarlyStopping().maximize
    with pytest.raises(nn.AnynnValueError):
        nn.EarlyStopping(patience=-1)
    with pytest.raises(nn.AnynnValueError):
        nn.EarlyStopping(mode="best")
    X, y = data()
    with pytest.raises(nn.AnynnValueError, match="records only"):
        net().fit(X, y, loss="bce", early_stopping=nn.EarlyStopping(monitor="accuracy"))
