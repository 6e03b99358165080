"""Bad inputs refused before any work; class weights never weight the validation loss."""

from __future__ import annotations

import numpy as np
import pytest

import anynn as nn


def test_a_scalar_y_is_a_clear_error() -> None:
    net = nn.Network(3, [1], seed=0)
    with pytest.raises(nn.AnynnValueError, match=r"y must hold one target per sample.*scalar 0.5"):
        net.fit(np.zeros((1, 3)), 0.5, verbose=0)
    with pytest.raises(nn.AnynnValueError, match=r"y must hold one target per sample.*scalar 5.0"):
        net.evaluate(np.zeros((2, 3)), 5.0)
    assert net.history.epoch == []


def test_class_weight_never_weights_the_validation_loss() -> None:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 2))
    y = (X[:, 0] + 0.3 * rng.normal(size=200) > 0).astype(float)

    def fit(rows: int, **validation: object) -> dict[str, float]:
        net = nn.Network(2, [(4, True, "tanh"), (1, True, "sigmoid")], seed=0)
        net.fit(X[:rows], y[:rows], epochs=2, loss="bce", class_weight={1: 100.0},
                shuffle=False, verbose=0, **validation)
        return net.history.last()

    by_split = fit(200, validation_split=0.5)
    by_data = fit(100, validation_data=(X[100:], y[100:]))
    assert by_split["loss"] == by_data["loss"]  # the same training rows
    assert by_split["val_loss"] == pytest.approx(by_data["val_loss"], rel=1e-6)
    net = nn.Network(2, [(4, True, "tanh"), (1, True, "sigmoid")], seed=0)
    net.fit(X[:100], y[:100], epochs=2, loss="bce", class_weight={1: 100.0}, shuffle=False,
            verbose=0)
    assert by_split["val_loss"] == pytest.approx(net.evaluate(X[100:], y[100:]), rel=1e-6)
    assert by_split["loss"] > 5 * by_split["val_loss"]  # the training loss is weighted
