"""Backends: resolution, host round trips, dtypes, the picklable spec, device abilities."""

from __future__ import annotations

import copy
import importlib
import math
import pickle
import sys
import warnings
from types import ModuleType, SimpleNamespace

import numpy as np
import pytest

import anynn
from anynn.backend import (
    Backend,
    CupyBackend,
    Kernel,
    NamespaceSpec,
    available_backends,
    cupy_available,
)
from anynn.errors import BackendUnavailableError, KernelUnavailableWarning


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


# -- the picklable description --------------------------------------------------------
@pytest.fixture
def generic_namespace() -> ModuleType:
    """``tests/strict_namespace.py``: array_api_strict re-exported under another name."""
    pytest.importorskip("array_api_strict")
    return importlib.import_module("strict_namespace")


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_spec_round_trip_of_a_named_backend(backend: str, dtype: str) -> None:
    b = Backend(backend, dtype)
    assert b.spec() == backend
    assert Backend(b.spec(), dtype) == b
    assert pickle.loads(pickle.dumps(b)) == b
    assert copy.deepcopy(b) == b


def test_spec_round_trip_of_a_generic_namespace_module(generic_namespace: ModuleType) -> None:
    b = Backend(generic_namespace, "float64")
    assert b.name == "strict_namespace" and b.xp is generic_namespace
    spec = b.spec()
    assert spec == NamespaceSpec("strict_namespace")
    assert pickle.loads(pickle.dumps(spec)) == spec
    again = pickle.loads(pickle.dumps(b))
    assert again == b and again.xp is generic_namespace and again.dtype_name == "float64"
    assert copy.deepcopy(b) == b
    np.testing.assert_array_equal(anynn.to_numpy(again.asarray([[1.0, 2.0]])), [[1.0, 2.0]])


def test_spec_of_a_module_not_importable_by_name_is_refused() -> None:
    strict = pytest.importorskip("array_api_strict")
    made = ModuleType("made_in_memory")
    made.__dict__.update({k: getattr(strict, k) for k in dir(strict) if not k.startswith("_")})
    made.__array_api_version__ = strict.__array_api_version__  # type: ignore[attr-defined]
    b = Backend(made)
    with pytest.raises(BackendUnavailableError, match="made_in_memory"):
        b.spec()


def test_module_spec_of_a_missing_module_is_refused() -> None:
    with pytest.raises(BackendUnavailableError, match="no_such_namespace_module"):
        Backend(NamespaceSpec("no_such_namespace_module"))


def test_torch_by_name_and_spec() -> None:
    pytest.importorskip("torch")
    b = Backend("torch", "float64")
    assert b.name == "torch" and b.spec() == "torch"
    assert pickle.loads(pickle.dumps(b)) == b


# -- device abilities ----------------------------------------------------------------
def test_namespace_of_is_cached_per_array_type(backend: str) -> None:
    b = Backend(backend)
    xp = b.namespace_of(b.asarray([1.0]))
    assert xp is b.namespace_of(b.asarray([2.0]))
    assert hasattr(xp, "__array_api_version__")


def test_special_functions_match_math_erf(backend: str) -> None:
    b = Backend(backend, "float64")
    erf, erfc = b.special_functions()
    points = [-3.0, -0.5, 0.0, 1.0, 2.5]
    z = b.asarray(points)
    np.testing.assert_allclose(anynn.to_numpy(erf(z)), [math.erf(v) for v in points], rtol=1e-14)
    np.testing.assert_allclose(anynn.to_numpy(erfc(z)), [math.erfc(v) for v in points], rtol=1e-13)


def test_host_backends_fit_anything_and_have_no_kernels(backend: str) -> None:
    b = Backend(backend)
    assert b.fits_in_memory(10**15) and b.fits_in_memory(0, 0.5)
    assert not b.compiles_kernels
    assert b.elementwise_kernel("float32 x", "float32 out", "out = x;", "anynn_copy") is None


def _fake_cupy(free: int, kernel_class: type) -> ModuleType:
    """A stand-in for the cupy module: memGetInfo, ElementwiseKernel, ones, streams."""
    cupy = ModuleType("cupy")
    runtime = SimpleNamespace(memGetInfo=lambda: (free, 4 * free))
    stream = SimpleNamespace(synchronize=lambda: None)
    cupy.cuda = SimpleNamespace(  # type: ignore[attr-defined]
        runtime=runtime, get_current_stream=lambda: stream
    )
    cupy.ElementwiseKernel = kernel_class  # type: ignore[attr-defined]
    cupy.ones = np.ones  # type: ignore[attr-defined]
    return cupy


class _RecordingKernel:
    built: list[tuple[str, ...]] = []

    def __init__(self, in_params: str, out_params: str, body: str, name: str) -> None:
        self.built.append((in_params, out_params, body, name))

    def __call__(self, *arrays: np.ndarray) -> np.ndarray:
        return arrays[0] * 2


def test_cupy_backend_is_registered_for_cupy() -> None:
    from anynn.backend import base

    assert base._SUBCLASSES["cupy"] is CupyBackend
    assert issubclass(CupyBackend, Backend) and CupyBackend.compiles_kernels


def test_cupy_backend_memory_and_kernels_with_a_stand_in_cupy(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "cupy", _fake_cupy(1000, _RecordingKernel))
    b = CupyBackend("numpy")  # CuPy's logic on the host namespace
    assert b.fits_in_memory(500, 0.5) and not b.fits_in_memory(501, 0.5)
    assert b.fits_in_memory(1000) and not b.fits_in_memory(1001)
    _RecordingKernel.built.clear()
    params = ("float64 g, float64 x", "float64 out", "out = g * x;", "anynn_seam_test_ok")
    kernel = b.elementwise_kernel(*params)
    assert isinstance(kernel, _RecordingKernel)
    assert b.elementwise_kernel(*params) is kernel  # built and compiled once
    assert _RecordingKernel.built == [params]


class _FailingCompiler(Backend):
    """A backend whose kernels never compile (as a CUDA compile error would)."""

    compiles_kernels = True
    attempts = 0

    def _compile_kernel(self, in_params: str, out_params: str, body: str, name: str) -> Kernel:
        type(self).attempts += 1
        raise RuntimeError("nvrtc: error: identifier 'erfcxf' is undefined")


def test_a_kernel_that_fails_to_compile_warns_once_and_gives_none() -> None:
    b = _FailingCompiler("numpy")
    params = ("float32 x", "float32 out", "out = erfcxf(x);", "anynn_seam_test_fails")
    with pytest.warns(KernelUnavailableWarning, match=r"my_activation.*erfcxf.*standard"):
        assert b.elementwise_kernel(*params, description="my_activation") is None
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert b.elementwise_kernel(*params, description="my_activation") is None
    assert _FailingCompiler.attempts == 1


def test_subclasses_construct_directly_and_backend_dispatches(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from anynn.backend import base

    assert type(_FailingCompiler("numpy")) is _FailingCompiler
    monkeypatch.setitem(base._SUBCLASSES, "numpy", _FailingCompiler)
    assert type(Backend("numpy")) is _FailingCompiler
    assert type(Backend(np)) is _FailingCompiler
