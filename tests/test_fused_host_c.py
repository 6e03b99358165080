"""Fused kernels the CuPy backend builds, run as host C, equal the standard path.

The standard Array API path is the reference of every fast path: here the
bias-and-activation forward kernel (and, in ``test_optimizer_kernels``, the fused
optimizer updates) are compiled as C on the host and compared with it.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from host_kernels import CC, HostKernels

from anynn import activations, fused_output, losses, optimizers
from anynn.backend import Backend
from anynn.bound_activation import bias_kernel
from anynn.layers import Parameter
from anynn.symbolic import kernel_source

pytestmark = pytest.mark.skipif(CC is None, reason="needs a C compiler")
ELEMENTWISE = sorted(n for n, a in activations.BUILTINS.items() if a.elementwise)
TOLERANCE = {"float32": 1e-5, "float64": 1e-12}


@pytest.fixture(scope="module")
def bias_kernels(tmp_path_factory: pytest.TempPathFactory) -> HostKernels:
    specs = []
    for name in ELEMENTWISE:
        form = activations.get(name).form
        for dtype in TOLERANCE:
            in_params, out_params, body = bias_kernel(kernel_source(form, "forward", dtype), dtype)
            specs.append((f"bias_{name}_{dtype}", in_params, out_params, body))
    return HostKernels(specs, tmp_path_factory.mktemp("bias"))


@pytest.mark.parametrize("dtype", sorted(TOLERANCE))
@pytest.mark.parametrize("name", ELEMENTWISE)
def test_bias_folded_into_the_activation_kernel(
    bias_kernels: HostKernels, name: str, dtype: str
) -> None:
    rng = np.random.default_rng(0)
    product = (rng.standard_normal((16, 5)) * 4).astype(dtype)
    product[0, 0] = np.nan
    bias = rng.standard_normal(5).astype(dtype)
    in_out = product.copy()
    z, out = bias_kernels(f"bias_{name}_{dtype}", bias, in_out)
    expected_z = product + bias
    np.testing.assert_array_equal(z, expected_z)
    np.testing.assert_array_equal(in_out, expected_z)  # the product became z in place
    with np.errstate(all="ignore"):
        expected = activations.get(name).compiled(np).f(expected_z)
    tol = TOLERANCE[dtype]
    np.testing.assert_allclose(out, expected, rtol=tol, atol=tol)
    assert np.isnan(out[0, 0])


def test_the_helper_runs_in_out_parameters(tmp_path: Path) -> None:
    kernels = HostKernels([("scale", "float32 a", "float32 w", "w = w * a;")], tmp_path)
    w = np.ones((2, 3), dtype=np.float32)
    kernels("scale", np.float32(3.0), w)
    np.testing.assert_array_equal(w, 3.0)


# -- optimizer updates -------------------------------------------------------------------
OPTIMIZER_CASES = {
    "sgd": lambda: optimizers.SGD(lr=0.1),
    "sgd_wd": lambda: optimizers.SGD(lr=0.1, weight_decay=0.01),
    "momentum": lambda: optimizers.SGD(lr=0.1, momentum=0.9),
    "nesterov_wd": lambda: optimizers.SGD(lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.01),
    "adam": lambda: optimizers.Adam(lr=0.01),
    "adam_wd": lambda: optimizers.Adam(lr=0.01, weight_decay=0.01),
    "adamw": lambda: optimizers.AdamW(lr=0.01),
    "rmsprop": lambda: optimizers.RMSprop(lr=0.01),
    "rmsprop_momentum_wd": lambda: optimizers.RMSprop(lr=0.01, momentum=0.9, weight_decay=0.01),
}


@pytest.fixture(scope="module")
def update_kernels(tmp_path_factory: pytest.TempPathFactory) -> HostKernels:
    specs = {}
    for make in OPTIMIZER_CASES.values():
        optimizer = make()
        for dtype in TOLERANCE:
            for spec in (optimizer.update_kernel(dtype), optimizer.outer_update_kernel(dtype)):
                if spec is not None:
                    specs[spec.name] = (spec.name, spec.in_params, spec.out_params, spec.body)
    for dtype in TOLERANCE:
        specs.update({s[0]: s for s in fused_output.kernel_sources(dtype)})
    return HostKernels(list(specs.values()), tmp_path_factory.mktemp("updates"))


@pytest.mark.parametrize("dtype", sorted(TOLERANCE))
@pytest.mark.parametrize("case", sorted(OPTIMIZER_CASES))
def test_the_fused_update_equals_the_standard_path(
    update_kernels: HostKernels, case: str, dtype: str
) -> None:
    rng = np.random.default_rng(1)
    values = [rng.standard_normal((6, 4)).astype(dtype), rng.standard_normal(4).astype(dtype)]
    reference, fused = OPTIMIZER_CASES[case](), OPTIMIZER_CASES[case]()
    params = [Parameter(v.copy(), f"p{i}") for i, v in enumerate(values)]
    weights = [v.copy() for v in values]
    reference.prepare(params)  # no backend: the standard path (numpy has a fused one)
    states = {slot: [np.zeros_like(v) for v in values] for slot in fused.slots}
    spec = fused.update_kernel(dtype)
    for _ in range(3):
        grads = [rng.standard_normal(v.shape).astype(dtype) for v in values]
        for p, g in zip(params, grads, strict=True):
            p.grad = g
        reference.step(params)
        scalars = fused.step_scalars(fused.current_lr())
        for i, g in enumerate(grads):
            update_kernels(spec.name, g, *[scalars[n] for n in spec.scalars], weights[i],
                           *[states[slot][i] for slot in fused.slots])
        fused.iterations += 1
    tol = TOLERANCE[dtype] * 10
    for p, w in zip(params, weights, strict=True):
        np.testing.assert_allclose(w, p.value, rtol=tol, atol=tol)
    for slot in fused.slots:
        for state, ref in zip(states[slot], reference._state[slot], strict=True):
            np.testing.assert_allclose(state, ref, rtol=tol, atol=tol)


@pytest.mark.parametrize("dtype", sorted(TOLERANCE))
def test_the_outer_product_sgd_update_equals_the_standard_path(
    update_kernels: HostKernels, dtype: str
) -> None:
    rng = np.random.default_rng(2)
    column, row = (rng.standard_normal((5, 1)).astype(dtype),
                   rng.standard_normal((1, 3)).astype(dtype))
    p = Parameter(rng.standard_normal((5, 3)).astype(dtype), "w")
    w = p.value.copy()
    p.set_outer_gradient(column, row)
    optimizers.SGD(lr=0.1).step([p])
    spec = optimizers.SGD(lr=0.1).outer_update_kernel(dtype)
    assert spec is not None
    update_kernels(spec.name, column, row, 0.1, w)
    np.testing.assert_allclose(w, p.value, rtol=TOLERANCE[dtype], atol=TOLERANCE[dtype])


# -- the softmax + cce output layer ---------------------------------------------------------
@pytest.mark.parametrize("dtype", sorted(TOLERANCE))
def test_the_softmax_cce_kernels_equal_the_standard_path(
    update_kernels: HostKernels, dtype: str
) -> None:
    rng = np.random.default_rng(3)
    z = (rng.standard_normal((8, 5)) * 30).astype(dtype)
    z[0] = [1000.0, -1000.0, 0.0, 3.0, -3.0]  # huge logits: the loss stays exact
    y = np.eye(5, dtype=dtype)[rng.integers(0, 5, 8)]
    a, value, delta = fused_output.SoftmaxCrossEntropy(Backend("numpy", dtype))(z, y)
    (exp_name, *_), (finish_name, *_) = fused_output.kernel_sources(dtype)
    peak = np.max(z, axis=-1, keepdims=True)
    (e,) = update_kernels(exp_name, z, peak)
    total = np.sum(e, axis=-1, keepdims=True)
    a_k, terms, delta_k = update_kernels(finish_name, z, y, e, peak, total, 1.0 / 8)
    tol = TOLERANCE[dtype]
    np.testing.assert_allclose(a_k, a, rtol=tol, atol=tol)
    np.testing.assert_allclose(delta_k, delta, rtol=tol, atol=tol)
    np.testing.assert_allclose(np.sum(terms), float(value), rtol=tol)
    reference = losses.get("cce").fused_value(z, a, y, np)
    np.testing.assert_allclose(float(value), float(reference), rtol=tol)
