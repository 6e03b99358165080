"""Backends: resolution from names and modules, host round trips, dtype handling."""

from __future__ import annotations

import numpy as np
import pytest

import anynn
from anynn.backend import Backend, available_backends, cupy_available


# -- resolution ---------------------------------------------------------------------
def test_backend_from_name(backend: str) -> None:
    b = Backend(backend)
    assert b.name == backend
    assert b.dtype_name == "float32"
    assert b.dtype == b.xp.float32


def test_numpy_module_resolves_to_numpy_backend() -> None:
    b = Backend(np)
    assert b.name == "numpy"
    assert b == Backend("numpy")


def test_array_api_compat_numpy_module_resolves_to_numpy_backend() -> None:
    import array_api_compat.numpy

    assert Backend(array_api_compat.numpy).name == "numpy"


def test_array_api_strict_module_resolves() -> None:
    strict = pytest.importorskip("array_api_strict")
    b = Backend(strict)
    assert b.name == "array_api_strict"
    assert b.xp is strict
    assert b == Backend("array_api_strict")


def test_network_accepts_a_namespace_module() -> None:
    strict = pytest.importorskip("array_api_strict")
    net = anynn.Network(2, [1], backend=strict, seed=0)
    assert net.backend.name == "array_api_strict"
    assert net.backend.owns(net.predict([[1.0, 2.0]]))


def test_backend_object_is_accepted_and_keeps_its_namespace(backend: str) -> None:
    b = Backend(backend, "float64")
    net = anynn.Network(2, [1], backend=b, dtype="float64")
    assert net.backend == b


def test_with_dtype(backend: str) -> None:
    b = Backend(backend).with_dtype("float64")
    assert b.name == backend and b.dtype_name == "float64" and b.dtype == b.xp.float64


@pytest.mark.parametrize(
    "dtype",
    [
        "float64",
        np.dtype("float64"),
        np.float64,
    ],
    ids=["name", "numpy-dtype", "numpy-scalar-type"],
)
def test_dtype_given_as_name_or_dtype_object(dtype: object) -> None:
    assert Backend("numpy", dtype).dtype_name == "float64"


def test_dtype_given_as_namespace_dtype(backend: str) -> None:
    xp = Backend(backend).xp
    assert Backend(backend, xp.float64).dtype_name == "float64"


def test_available_backends_lists_what_runs_here() -> None:
    names = available_backends()
    assert names[0] == "numpy"
    assert ("cupy" in names) == cupy_available()


def test_cupy_available_returns_a_bool() -> None:
    assert isinstance(cupy_available(), bool)


# -- host round trips --------------------------------------------------------------
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_to_numpy_round_trip(backend: str, dtype: str) -> None:
    b = Backend(backend, dtype)
    host = np.random.default_rng(0).normal(size=(3, 4))
    device = b.asarray(host)
    assert b.owns(device)
    back = anynn.to_numpy(device)
    assert isinstance(back, np.ndarray)
    assert back.dtype == np.dtype(dtype)
    np.testing.assert_array_equal(back, host.astype(dtype))


def test_to_numpy_of_lists_scalars_and_numpy() -> None:
    host = np.arange(3.0)
    assert anynn.to_numpy(host) is host
    np.testing.assert_array_equal(anynn.to_numpy([1, 2]), [1, 2])
    assert anynn.to_numpy(2.5) == 2.5


def test_asarray_from_another_backend(backend: str) -> None:
    strict = pytest.importorskip("array_api_strict")
    source = strict.asarray([[1.0, 2.0]])
    b = Backend(backend, "float64")
    moved = b.asarray(source)
    assert b.owns(moved)
    np.testing.assert_array_equal(anynn.to_numpy(moved), [[1.0, 2.0]])


def test_from_host_keeps_integer_dtype(backend: str) -> None:
    b = Backend(backend)
    index = b.from_host(np.array([2, 0, 1]))
    assert index.dtype != b.dtype
    np.testing.assert_array_equal(anynn.to_numpy(index), [2, 0, 1])


# -- dtype through forward, backward and fit -----------------------------------------
def test_float32_is_the_default_and_stays_float32(backend: str) -> None:
    net = anynn.Network(
        3, [(4, True, "tanh"), (3, True, "softmax")], backend=backend, seed=0
    )
    xp, f32 = net.backend.xp, net.backend.xp.float32
    assert net.dtype == "float32"
    assert all(p.value.dtype == f32 for p in net.parameters())
    X = np.random.default_rng(0).normal(size=(8, 3))  # float64 input
    assert net.predict(X).dtype == f32
    assert net.predict(X.astype(int)).dtype == f32
    assert net.predict(xp.asarray(X.astype(np.float32))).dtype == f32
    # backward: gradients of one batch are float32 too
    Y = net.prepare_targets(np.array([0, 1, 2, 0, 1, 2, 0, 1]), anynn.losses.get("cce"), 8)
    assert Y.dtype == f32
    head = anynn.losses.LossHead(anynn.losses.get("cce"), net.layers[-1].activation)
    assert head.fused
    net.loss_and_gradients(net.backend.asarray(X), Y, head)
    assert all(p.grad.dtype == f32 for p in net.parameters())
    # fit: parameters remain float32 and the history holds Python floats
    history = net.fit(X, [0, 1, 2, 0, 1, 2, 0, 1], epochs=2, lr=0.1, batch_size=4, loss="cce")
    assert all(p.value.dtype == f32 for p in net.parameters())
    assert all(isinstance(v, float) for v in history.history["loss"])


def test_float64_on_request(backend: str) -> None:
    net = anynn.Network(2, [(3, True, "relu"), 1], backend=backend, dtype="float64", seed=0)
    f64 = net.backend.xp.float64
    assert all(p.value.dtype == f64 for p in net.parameters())
    assert net.predict(np.ones((2, 2), dtype=np.float32)).dtype == f64
    net.fit(np.ones((4, 2)), np.zeros(4), epochs=1, batch_size=2)
    assert all(p.value.dtype == f64 for p in net.parameters())


def test_float32_weights_equal_rounded_float64_weights(backend: str) -> None:
    """Initialisation draws in float64 on the host, then casts: the seed means the same."""
    w32 = anynn.to_numpy(anynn.Network(3, [5], backend=backend, seed=1).layers[0].weights)
    w64 = anynn.to_numpy(
        anynn.Network(3, [5], backend=backend, dtype="float64", seed=1).layers[0].weights
    )
    np.testing.assert_array_equal(w32, w64.astype(np.float32))
