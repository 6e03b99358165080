"""A second Ctrl-C reaches the caller with whole updates; one fit per network at a time."""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Sequence
from typing import Any

import numpy as np
import pytest

import anynn as nn
from anynn import optimizers

pytestmark = pytest.mark.skipif(not hasattr(signal, "SIGINT"), reason="no SIGINT")

rng = np.random.default_rng(0)
X = rng.normal(size=(64, 3))
Y = X @ np.array([[1.0], [-2.0], [0.5]])
FIT: dict[str, Any] = {"batch_size": 8, "shuffle": False, "verbose": 0}


def make_net() -> nn.Network:
    return nn.Network(3, [(5, True, "tanh"), 1], dtype="float64", seed=0)


def weights(net: nn.Network) -> list[np.ndarray]:
    return [nn.to_numpy(p.value) for p in net.parameters()]


def after_steps(steps: int) -> list[np.ndarray]:
    """The weights after ``steps`` whole SGD steps of the same plan."""

    class StopAt(nn.Callback):
        def on_batch_end(self, step: int, logs: dict[str, Any]) -> None:
            if step == steps - 1:
                self.network.stop_training = True

    net = make_net()
    net.fit(X, Y, epochs=5, optimizer=optimizers.SGD(0.01), callbacks=[StopAt()], **FIT)
    return weights(net)


def ctrl_c() -> None:
    os.kill(os.getpid(), signal.SIGINT)


class TwiceAt(nn.Callback):
    def __init__(self, step: int) -> None:
        self.step = step

    def on_batch_end(self, step: int, logs: dict[str, Any]) -> None:
        if step == self.step:
            ctrl_c()
            ctrl_c()


def test_a_second_ctrl_c_raises_to_the_caller() -> None:
    net = make_net()
    with pytest.raises(KeyboardInterrupt):
        net.fit(X, Y, epochs=5, optimizer=optimizers.SGD(0.01), callbacks=[TwiceAt(3)], **FIT)
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    assert net.history.epoch == []
    for a, b in zip(weights(net), after_steps(4), strict=True):
        np.testing.assert_array_equal(a, b)


class InterruptedSGD(optimizers.SGD):
    """Sends Ctrl-C twice in the middle of the update of one step."""

    at_step = 10

    def update_kernel(self, dtype: str) -> None:  # type: ignore[override]
        return None  # no fused update (NumPy has one): every step runs _update below

    def _update(self, params: Sequence[nn.Parameter], lr: float) -> None:
        if self.iterations != self.at_step:
            super()._update(params, lr)
            return
        super()._update(params[:1], lr)
        ctrl_c()
        ctrl_c()
        super()._update(params[1:], lr)


def test_an_update_is_applied_whole_when_ctrl_c_lands_inside_it() -> None:
    net = make_net()
    with pytest.raises(KeyboardInterrupt):
        net.fit(X, Y, epochs=5, optimizer=InterruptedSGD(0.01), **FIT)
    assert net.optimizer is not None and net.optimizer.iterations == 11
    for a, b in zip(weights(net), after_steps(11), strict=True):
        np.testing.assert_array_equal(a, b)
    assert net.history.epoch == [0]  # the epoch cut short is not recorded


def test_a_second_concurrent_fit_is_refused() -> None:
    net = make_net()
    started, release = threading.Event(), threading.Event()
    errors: list[BaseException] = []

    class Hold(nn.Callback):
        def on_epoch_begin(self, epoch: int, logs: dict[str, Any]) -> None:
            started.set()
            release.wait(30)

    def train() -> None:
        try:
            net.fit(X, Y, epochs=1, callbacks=[Hold()], **FIT)
        except BaseException as exc:  # noqa: BLE001 (reported to the main thread)
            errors.append(exc)

    worker = threading.Thread(target=train)
    worker.start()
    try:
        assert started.wait(30)
        with pytest.raises(nn.NetworkBusyError, match="already being trained"):
            net.fit(X, Y, epochs=1, **FIT)
        with pytest.raises(nn.NetworkBusyError):
            net.partial_fit(X, Y)
        before = net.predict(X[:4])  # prediction stays allowed while it trains
        np.testing.assert_array_equal(nn.to_numpy(net.predict(X[:4])), nn.to_numpy(before))
    finally:
        release.set()
        worker.join(30)
    assert errors == [] and net.history.epoch == [0]
    net.fit(X, Y, epochs=1, **FIT)  # free again
    assert net.history.epoch == [0, 1]


def test_a_fit_from_inside_a_callback_is_refused() -> None:
    net = make_net()
    seen: list[BaseException] = []

    class Nested(nn.Callback):
        def on_epoch_end(self, epoch: int, logs: dict[str, Any]) -> None:
            try:
                self.network.fit(X, Y, epochs=1, **FIT)
            except nn.NetworkBusyError as exc:
                seen.append(exc)

    net.fit(X, Y, epochs=2, callbacks=[Nested()], **FIT)
    assert len(seen) == 2 and net.history.epoch == [0, 1]
