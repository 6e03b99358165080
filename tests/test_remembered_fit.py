"""The network remembers how it was trained: evaluate's defaults, saved in the file."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import anynn as nn

rng = np.random.default_rng(0)
X = rng.normal(size=(60, 4))
LABELS = (X[:, 0] > 0).astype(int) + (X[:, 1] > 0).astype(int)
ONE_HOT = np.eye(3)[LABELS]


def classifier() -> nn.Network:
    net = nn.Network(4, [(8, True, "tanh"), (3, True, "softmax")], seed=0)
    net.fit(X, LABELS, epochs=3, loss="cce", metrics=["accuracy"], verbose=0)
    return net


def test_evaluate_uses_the_loss_and_metrics_of_the_last_fit() -> None:
    net = classifier()
    assert net.loss is not None and net.loss.name == "cce"
    assert [m.name for m in net.metrics] == ["accuracy"]
    remembered = net.evaluate(X, ONE_HOT)
    assert remembered == net.evaluate(X, ONE_HOT, loss="cce", metrics=["accuracy"])
    assert isinstance(remembered, dict)
    assert remembered["loss"] != net.evaluate(X, ONE_HOT, loss="mse")  # not the MSE
    assert net.evaluate(X, ONE_HOT, loss="mse") == pytest.approx(
        float(np.mean((nn.to_numpy(net.predict(X)) - ONE_HOT) ** 2)), rel=1e-5)
    assert nn.gradcheck(net, X[:5], LABELS[:5]) < 1e-4  # gradcheck too: the cce gradient


def test_a_network_never_fitted_evaluates_the_mse() -> None:
    net = nn.Network(4, [1], seed=0)
    y = np.ones(60)
    assert net.loss is None and net.metrics == []
    expected = float(np.mean((nn.to_numpy(net.predict(X))[:, 0] - 1.0) ** 2))
    assert net.evaluate(X, y) == pytest.approx(expected, rel=1e-5)
    net.fit(X, y, epochs=0, loss="mse", verbose=0)  # validation only: nothing remembered
    assert net.loss is None


def test_the_choice_is_saved_in_the_file(tmp_path: Path) -> None:
    net = classifier()
    net.save(tmp_path / "m.anynn")
    assert b'\\"fit\\":{\\"loss\\":\\"cce\\"' in (tmp_path / "m.anynn").read_bytes()
    loaded = nn.load(tmp_path / "m.anynn")
    assert loaded.loss is not None and loaded.loss.name == "cce"
    assert [m.name for m in loaded.metrics] == ["accuracy"]
    assert loaded.evaluate(X, ONE_HOT) == pytest.approx(net.evaluate(X, ONE_HOT), rel=1e-6)
    fresh = nn.Network(4, [1], seed=0)
    fresh.save(tmp_path / "fresh.anynn")
    assert b'\\"fit\\"' not in (tmp_path / "fresh.anynn").read_bytes()
    assert nn.load(tmp_path / "fresh.anynn").loss is None


def test_accuracy_on_a_regression_output_is_refused() -> None:
    net = nn.Network(4, [8, 1], seed=0)  # identity output: a regressor
    y = X[:, 0]
    with pytest.raises(nn.AnynnValueError, match="'accuracy' on a single identity output"):
        net.fit(X, y, epochs=1, loss="mse", metrics=["accuracy"], verbose=0)
    with pytest.raises(nn.AnynnValueError, match="'mae' or 'mse'"):
        net.evaluate(X, y, metrics=["accuracy"])
    assert net.history.epoch == []
    binary = nn.Network(4, [8, (1, True, "sigmoid")], seed=0)  # a probability: allowed
    binary.fit(X, (y > 0).astype(float), epochs=1, loss="mse", metrics=["accuracy"], verbose=0)
    assert 0.0 <= binary.history["accuracy"][-1] <= 1.0


def test_one_sigmoid_output_with_cce_suggests_bce() -> None:
    net = nn.Network(4, [8, (1, True, "sigmoid")], seed=0)
    with pytest.raises(nn.AnynnValueError, match=r"loss='cce' needs one output per class.*"
                                                  r"use loss='bce' with 1 sigmoid output"):
        net.fit(X, (X[:, 0] > 0).astype(int), epochs=1, loss="cce", verbose=0)
