"""fit validates everything before any work: clear anynn errors, weights untouched."""

from __future__ import annotations

import numpy as np
import pytest

import anynn as nn
from anynn.backend import to_numpy


def _net(backend: str = "numpy", outputs: int = 1, act: str = "sigmoid") -> nn.Network:
    return nn.Network(3, [(4, True, "tanh"), (outputs, True, act)], backend=backend, seed=0)


def _data(n: int = 8) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    return rng.standard_normal((n, 3)), (rng.random(n) > 0.5).astype(float)


BAD = {
    "mismatched lengths": (lambda X, y: (X, y[:-1], {}), "same number of samples"),
    "wrong feature count": (lambda X, y: (X[:, :2], y, {}), "feature"),
    "nan in X": (lambda X, y: (np.where(X > 1, np.nan, X), y, {}), "non-finite"),
    "inf in y": (lambda X, y: (X, np.where(y > 0, np.inf, y), {}), "non-finite"),
    "bce target > 1": (lambda X, y: (X, y * 2, {"loss": "bce"}), r"\[0, 1\]"),
    "empty": (lambda X, y: (X[:0], y[:0], {}), "empty"),
    "batch_size 0": (lambda X, y: (X, y, {"batch_size": 0}), "batch_size"),
    "epochs < 0": (lambda X, y: (X, y, {"epochs": -1}), "epochs"),
    "unknown optimizer": (lambda X, y: (X, y, {"optimizer": "adagrad"}), "unknown optimizer"),
    "unknown loss": (lambda X, y: (X, y, {"loss": "hinge"}), "unknown loss"),
    "unknown metric": (lambda X, y: (X, y, {"metrics": ["f1"]}), "unknown metric"),
    "bad split": (lambda X, y: (X, y, {"validation_split": 1.0}), "validation_split"),
    "split and data": (
        lambda X, y: (X, y, {"validation_split": 0.5, "validation_data": (X, y)}),
        "not both",
    ),
    "val wrong features": (
        lambda X, y: (X, y, {"validation_data": (X[:, :2], y)}),
        "val_X",
    ),
    "val nan": (
        lambda X, y: (X, y, {"validation_data": (X, np.full_like(y, np.nan))}),
        "val_y",
    ),
    "negative sample_weight": (
        lambda X, y: (X, y, {"sample_weight": -np.ones(len(y))}),
        "sample_weight",
    ),
    "short sample_weight": (
        lambda X, y: (X, y, {"sample_weight": np.ones(2)}),
        "sample_weight",
    ),
    "class_weight key": (lambda X, y: (X, y, {"class_weight": {5: 1.0}}), "class_weight"),
    "clip_norm <= 0": (lambda X, y: (X, y, {"clip_norm": 0.0}), "clip_norm"),
    "clip_backprop": (lambda X, y: (X, y, {"clip_backprop": -1.0}), "clip_backprop"),
    "verbose": (lambda X, y: (X, y, {"verbose": 3}), "verbose"),
    "data_on_device": (lambda X, y: (X, y, {"data_on_device": "maybe"}), "data_on_device"),
    "object with lr": (
        lambda X, y: (X, y, {"optimizer": nn.optimizers.Adam(), "lr": 0.1}),
        "own lr",
    ),
    "callbacks type": (lambda X, y: (X, y, {"callbacks": [print]}), "Callback"),
    "early stopping without validation": (
        lambda X, y: (X, y, {"early_stopping": nn.EarlyStopping()}),
        "validation",
    ),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_input_raises_before_any_work(case: str, backend: str) -> None:
    make, pattern = BAD[case]
    X, y = _data()
    X, y, kwargs = make(X, y)
    net = _net(backend)
    before = [to_numpy(p.value).copy() for p in net.parameters()]
    rng_state = net.rng.bit_generator.state
    with pytest.raises(nn.AnynnError, match=pattern):
        net.fit(X, y, **{"epochs": 2, "verbose": 0, **kwargs})
    for b, p in zip(before, net.parameters(), strict=True):
        np.testing.assert_array_equal(b, to_numpy(p.value))
    assert net.rng.bit_generator.state == rng_state
    assert net.optimizer is None and net.history.epoch == []


def test_cce_labels_out_of_range(backend: str) -> None:
    X, _ = _data()
    net = _net(backend, outputs=3, act="softmax")
    with pytest.raises(nn.AnynnValueError, match=r"\[0, 3\)"):
        net.fit(X, np.array([0, 1, 2, 3, 0, 1, 2, 0]), loss="cce", verbose=0)
    with pytest.raises(nn.AnynnValueError, match=r"\[0, 3\)"):
        net.fit(X, -np.ones(8), loss="cce", verbose=0)


def test_epochs_zero_validates_and_does_nothing() -> None:
    X, y = _data()
    net = _net()
    history = net.fit(X, y, epochs=0)
    assert history.epoch == [] and net.optimizer is None
