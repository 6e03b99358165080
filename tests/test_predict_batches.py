"""predict works in batches: bounded memory, the same result as one pass."""

from __future__ import annotations

import tracemalloc
from pathlib import Path

import numpy as np
import pytest

import anynn as nn
from anynn.network import PREDICT_BATCH


def wide_net(backend: str = "numpy") -> nn.Network:
    return nn.Network(10, [(256, True, "tanh"), (3, True, "sigmoid")], backend=backend, seed=0)


def test_batches_give_the_result_of_one_pass(backend: str) -> None:
    X = np.random.default_rng(0).normal(size=(2 * PREDICT_BATCH + 123, 10)).astype(np.float32)
    net = wide_net(backend)
    one_pass = nn.to_numpy(net.predict(X, batch_size=None))
    # BLAS may round a row in a smaller product differently: equal to float32's last bits
    np.testing.assert_allclose(nn.to_numpy(net.predict(X)), one_pass, rtol=2e-6, atol=1e-7)
    np.testing.assert_allclose(nn.to_numpy(net.predict(X, batch_size=7)), one_pass, rtol=2e-6,
                               atol=1e-7)
    np.testing.assert_array_equal(nn.to_numpy(net.predict(X[:PREDICT_BATCH])),
                                  one_pass[:PREDICT_BATCH])  # the first batch: the same product
    on_device = net.backend.asarray(X)
    np.testing.assert_allclose(nn.to_numpy(net.predict(on_device, batch_size=1000)), one_pass,
                               rtol=2e-6, atol=1e-7)
    assert nn.to_numpy(net.predict(X[0], batch_size=1)).shape == (3,)


def test_a_memmap_is_predicted_in_bounded_memory(tmp_path: Path) -> None:
    n = 200_000
    X = np.lib.format.open_memmap(tmp_path / "X.npy", mode="w+", dtype=np.float32,
                                  shape=(n, 10))
    X[:] = 0.1
    X.flush()
    net = wide_net()
    one_pass_hidden = n * 256 * 4  # what a single pass would hold for one hidden layer
    tracemalloc.start()
    try:
        out = net.predict(X)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert out.shape == (n, 3)
    assert peak < one_pass_hidden / 4, f"peak {peak / 2**20:.1f} MiB"
    del X


@pytest.mark.parametrize("batch_size,error", [(0, nn.AnynnValueError), (2.5, nn.AnynnTypeError),
                                              (True, nn.AnynnTypeError)])
def test_a_bad_batch_size_is_refused(batch_size: object, error: type) -> None:
    with pytest.raises(error, match="batch_size"):
        wide_net().predict(np.zeros((2, 10)), batch_size=batch_size)  # type: ignore[arg-type]


def test_a_non_finite_row_is_named_by_its_position() -> None:
    X = np.zeros((30, 10))
    X[25, 3] = np.nan
    with pytest.raises(nn.AnynnValueError, match=r"X \(rows 20 to 29\).*\(5, 3\)"):
        wide_net().predict(X, batch_size=10)
