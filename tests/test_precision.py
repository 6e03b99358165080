"""Precision is the user's choice: full float32 by default, TF32 only through
``Backend("cupy", tf32=True)``, scoped to anynn's own products, never the environment."""

from __future__ import annotations

import ast
import os
import pickle
import sys
from pathlib import Path
from types import ModuleType, SimpleNamespace
from typing import Any

import numpy as np
import pytest

import anynn
from anynn.backend import Backend, CupyBackend, cupy_available
from anynn.errors import AnynnTypeError, AnynnValueError

PACKAGE = Path(anynn.__file__).parent


def test_tf32_is_off_by_default_and_refused_where_it_means_nothing() -> None:
    assert Backend("numpy").tf32 is False
    with pytest.raises(AnynnValueError, match=r"tf32=True needs backend='cupy'.*'numpy'"):
        Backend("numpy", tf32=True)
    with pytest.raises(AnynnTypeError, match="tf32 must be True or False; got 'yes'"):
        Backend("numpy", tf32="yes")  # type: ignore[arg-type]


def test_anynn_never_sets_cuda_math_modes_in_the_environment() -> None:
    """No module writes os.environ (CUPY_TF32 would change every GEMM of the program)."""
    for path in sorted(PACKAGE.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Attribute) and node.attr in ("environ", "putenv"):
                parent = node.value
                assert not (isinstance(parent, ast.Name) and parent.id == "os"), path


class _ComputeTypes(ModuleType):
    """A stand-in for ``cupy._core._routines_linalg``'s compute-type table."""

    COMPUTE_TYPE_DEFAULT = 1
    COMPUTE_TYPE_TF32 = 7

    def __init__(self) -> None:
        super().__init__("cupy._core._routines_linalg")
        self.table = {"float32": self.COMPUTE_TYPE_DEFAULT}
        self.seen_during_products: list[int] = []

    def get_compute_type(self, dtype: Any) -> int:
        return self.table[np.dtype(dtype).name]

    def set_compute_type(self, dtype: Any, compute_type: int) -> None:
        self.table[np.dtype(dtype).name] = compute_type


def _fake_cupy(monkeypatch: pytest.MonkeyPatch, capability: str) -> _ComputeTypes:
    table = _ComputeTypes()
    cupy = ModuleType("cupy")
    cupy.float32 = np.float32  # type: ignore[attr-defined]
    cupy.__version__ = "14.2.0"  # type: ignore[attr-defined]
    cupy.cuda = SimpleNamespace(  # type: ignore[attr-defined]
        Device=lambda: SimpleNamespace(compute_capability=capability)
    )
    monkeypatch.setitem(sys.modules, "cupy", cupy)
    monkeypatch.setitem(sys.modules, "cupy._core", ModuleType("cupy._core"))
    monkeypatch.setitem(sys.modules, "cupy._core._routines_linalg", table)
    return table


class _Recording:
    """A matrix that records the compute type in force when it is multiplied."""

    def __init__(self, table: _ComputeTypes) -> None:
        self.table = table

    def __matmul__(self, other: Any) -> str:
        self.table.seen_during_products.append(self.table.table["float32"])
        return "product"


def test_tf32_is_scoped_to_each_product_and_restored(monkeypatch: pytest.MonkeyPatch) -> None:
    table = _fake_cupy(monkeypatch, "90")
    environment = dict(os.environ)
    b = CupyBackend("numpy", tf32=True)  # CuPy's logic on the host namespace
    assert b.tf32 and repr(b).endswith("tf32=True)")
    assert b.matmul(_Recording(table), None) == "product"
    assert table.seen_during_products == [table.COMPUTE_TYPE_TF32]
    assert table.table["float32"] == table.COMPUTE_TYPE_DEFAULT  # the user's GEMMs: untouched
    assert dict(os.environ) == environment
    plain = CupyBackend("numpy")
    assert plain.matmul(_Recording(table), None) == "product"
    assert table.seen_during_products[-1] == table.COMPUTE_TYPE_DEFAULT
    # copies keep the choice where it applies; float64 has no TF32
    assert Backend(b).tf32 and not b.with_dtype("float64").tf32
    assert b != plain and Backend(b) == b


def test_tf32_before_ampere_keeps_full_float32(monkeypatch: pytest.MonkeyPatch) -> None:
    table = _fake_cupy(monkeypatch, "75")
    b = CupyBackend("numpy", tf32=True)
    b.matmul(_Recording(table), None)
    assert table.seen_during_products == [table.COMPUTE_TYPE_DEFAULT]


def test_a_pickled_backend_keeps_its_precision() -> None:
    b = Backend("numpy")
    assert pickle.loads(pickle.dumps(b)) == b


# -- on a GPU ------------------------------------------------------------------------------
def _nets(dtype: str, tf32: bool = False) -> dict[str, anynn.Network]:
    layers = [(64, True, "tanh"), (32, True, "relu"), (4, True, "softmax")]
    backends = {"numpy": Backend("numpy", dtype), "cupy": Backend("cupy", dtype, tf32)}
    return {name: anynn.Network(20, layers, backend=b, seed=3) for name, b in backends.items()}


TOLERANCES = {("float64", False): 1e-12, ("float32", False): 2e-5, ("float32", True): 2e-2}
"""Relative tolerance of CuPy against NumPy for one forward pass, by precision in force:
float64 and full float32 differ only by summation order; TF32 keeps a 10-bit mantissa."""


@pytest.mark.gpu
@pytest.mark.skipif(not cupy_available(), reason="needs CuPy and a CUDA GPU")
@pytest.mark.parametrize(("dtype", "tf32"), sorted(TOLERANCES))
def test_cupy_matches_numpy_at_the_precision_in_force(dtype: str, tf32: bool) -> None:
    X = np.random.default_rng(0).standard_normal((256, 20))
    nets = _nets(dtype, tf32)
    expected = anynn.to_numpy(nets["numpy"].predict(X))
    got = anynn.to_numpy(nets["cupy"].predict(X))
    tol = TOLERANCES[(dtype, tf32)]
    np.testing.assert_allclose(got, expected, rtol=tol, atol=tol)
    y = np.argmax(X[:, :4], axis=1)
    losses = {
        name: net.fit(X, y, epochs=3, batch_size=32, loss="cce", verbose=0).history["loss"]
        for name, net in nets.items()
    }
    np.testing.assert_allclose(losses["cupy"], losses["numpy"], rtol=10 * tol)


@pytest.mark.gpu
@pytest.mark.skipif(not cupy_available(), reason="needs CuPy and a CUDA GPU")
@pytest.mark.parametrize("optimizer", ["sgd", "momentum", "adam", "adamw", "rmsprop"])
@pytest.mark.parametrize("batch", [1, 16])
def test_the_fused_cupy_step_equals_the_standard_numpy_step(optimizer: str, batch: int) -> None:
    """Every fused kernel of a step (bias + activation, softmax + cce, the update) against
    the standard path, in float64 where both should agree to rounding."""
    from anynn import optimizers

    makers = {
        "sgd": lambda: optimizers.SGD(lr=0.05),
        "momentum": lambda: optimizers.SGD(lr=0.05, momentum=0.9, nesterov=True),
        "adam": lambda: optimizers.Adam(lr=0.01, weight_decay=0.01),
        "adamw": lambda: optimizers.AdamW(lr=0.01),
        "rmsprop": lambda: optimizers.RMSprop(lr=0.01, momentum=0.5),
    }
    X = np.random.default_rng(1).standard_normal((64, 20))
    y = np.argmax(X[:, :4], axis=1)
    nets = _nets("float64")
    for net in nets.values():
        net.fit(X, y, epochs=2, batch_size=batch, loss="cce", optimizer=makers[optimizer](),
                verbose=0)
    assert nets["cupy"].layers[0].bound_activation.forward_with_bias is not None
    assert nets["cupy"].optimizer is not None and nets["cupy"].optimizer.fused_update
    for ours, reference in zip(nets["cupy"].layers, nets["numpy"].layers, strict=True):
        np.testing.assert_allclose(anynn.to_numpy(ours.weights),
                                   anynn.to_numpy(reference.weights), rtol=1e-9, atol=1e-10)
    np.testing.assert_allclose(nets["cupy"].history.history["loss"],
                               nets["numpy"].history.history["loss"], rtol=1e-9)
