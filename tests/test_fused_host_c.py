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

from anynn import activations
from anynn.bound_activation import bias_kernel
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
