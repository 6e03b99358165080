"""Any Array API namespace works: PyTorch (CPU) through array-api-compat, when installed."""

from __future__ import annotations

import numpy as np
import pytest

import anynn
from anynn import to_numpy

torch = pytest.importorskip("torch")

X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float64)
y = np.array([0.0, 1.0, 1.0, 0.0])


def xor_net(backend: object) -> anynn.Network:
    return anynn.Network(
        2, [(4, True, "tanh"), (1, True, "sigmoid")], backend=backend, dtype="float64", seed=0
    )


def test_torch_namespace_trains_like_numpy() -> None:
    on_torch, on_numpy = xor_net(torch), xor_net("numpy")
    assert on_torch.backend.name == "torch"
    h_torch = on_torch.fit(X, y, epochs=50, lr=0.5, batch_size=2, loss="bce", verbose=0)
    h_numpy = on_numpy.fit(X, y, epochs=50, lr=0.5, batch_size=2, loss="bce", verbose=0)
    np.testing.assert_allclose(h_torch.history["loss"], h_numpy.history["loss"], rtol=1e-10)
    np.testing.assert_allclose(
        to_numpy(on_torch.predict(X)), to_numpy(on_numpy.predict(X)), rtol=1e-10
    )


def test_torch_namespace_gradients_and_files(tmp_path: object) -> None:
    net = xor_net(torch)
    assert anynn.gradcheck(net, X, y, loss="bce") < 1e-7
    path = f"{tmp_path}/xor.anynn"
    net.save(path)
    np.testing.assert_allclose(  # different matmul kernels: rounding-level differences
        to_numpy(anynn.load(path, backend="numpy", dtype="float64").predict(X)),
        to_numpy(net.predict(X)),
        rtol=1e-12,
    )


@pytest.mark.parametrize("where", ["numpy", "torch"])
def test_a_tensor_that_requires_grad_is_a_clear_error(where: str) -> None:
    net = xor_net(torch if where == "torch" else where)
    tracked = torch.ones(2, 2, dtype=torch.float64, requires_grad=True)
    with pytest.raises(anynn.AnynnTypeError, match="X is a tensor that requires grad.*detach"):
        net.predict(tracked)
    with pytest.raises(anynn.AnynnTypeError, match="requires grad"):
        net.fit(tracked, np.ones(2), epochs=1, verbose=0)
    assert to_numpy(net.predict(tracked.detach())).shape == (2, 1)
