"""Nothing anynn does on valid input warns; divergence is one TrainingDiverged, no warning.

The whole suite runs with warnings as errors (``filterwarnings = ["error"]`` in
pyproject.toml); these tests also force it locally, so they hold under any runner.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

import anynn as nn

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True)
def warnings_are_errors() -> Iterator[None]:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        yield


def warning_filters() -> list[str]:
    tomllib = pytest.importorskip("tomllib")  # Python 3.11+
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    filters: list[str] = config["tool"]["pytest"]["ini_options"]["filterwarnings"]
    return filters


def test_the_suite_runs_with_warnings_as_errors() -> None:
    assert warning_filters()[0] == "error"


def test_exceptions_to_the_warning_filter_are_narrow() -> None:
    for entry in warning_filters()[1:]:  # each names its warning class and its source
        action, _, rest = entry.partition(":")
        assert action == "ignore" and rest.count(":") >= 1, entry


@pytest.mark.parametrize("data_dtype", [np.float16, np.float32])
def test_narrow_data_into_a_float64_network(data_dtype: type) -> None:
    net = nn.Network(3, [4, 1], dtype="float64", seed=0)
    X = np.ones((4, 3), data_dtype)
    net.fit(X, np.ones(4, data_dtype), epochs=2, verbose=0)
    assert net.predict(X).dtype == np.float64
    assert np.isfinite(net.evaluate(X, np.ones(4)))


def test_float16_input_into_a_float32_network() -> None:
    net = nn.Network(3, [4, 1], seed=0)
    assert net.predict(np.ones((2, 3), np.float16)).shape == (2, 1)


def test_widening_a_network_or_a_file(tmp_path: Path) -> None:
    net = nn.Network(3, [(4, True, "tanh"), 1], seed=0)
    net.fit(np.ones((4, 3), np.float32), np.ones(4), epochs=1, verbose=0)
    wide = net.to(dtype="float64")
    net.save(tmp_path / "m.anynn", include_optimizer=True)
    loaded = nn.load(tmp_path / "m.anynn", dtype="float64")
    X = np.ones((2, 3), np.float32)
    np.testing.assert_allclose(wide.predict(X), loaded.predict(X))
    assert nn.gradcheck(net, np.ones((3, 3), np.float32), np.ones(3)) < 1e-6


def test_float32_memmap_into_a_float64_network(tmp_path: Path) -> None:
    data = np.lib.format.open_memmap(tmp_path / "X.npy", mode="w+", dtype=np.float32,
                                     shape=(64, 3))
    data[:] = 0.5
    net = nn.Network(3, [1], dtype="float64", seed=0)
    net.fit(data, np.ones(64), epochs=1, batch_size=16, verbose=0)
    del data


@pytest.mark.parametrize("activation", ["identity", "relu", "softmax"])
def test_divergence_is_one_error_and_no_warning(activation: str) -> None:
    X = np.random.default_rng(0).normal(size=(32, 4)) * 1e150
    y = np.arange(32) % 2
    net = nn.Network(4, [(16, True, "relu"), (2, True, activation)], dtype="float64", seed=0)
    loss = "cce" if activation == "softmax" else "mse"
    target = y if loss == "cce" else np.eye(2)[y]
    with pytest.raises(nn.TrainingDiverged, match="training diverged"):
        net.fit(X, target, epochs=3, lr=1e10, loss=loss, batch_size=8, verbose=0)
    assert all(np.isfinite(p).all() for layer in net.layers
               for p in layer.host_parameters().values())
