"""CuPy fused kernels: source generation (no GPU needed) and agreement on a GPU."""

from __future__ import annotations

import re
import warnings
from typing import Any

import numpy as np
import pytest
from activation_corpus import CORPUS

from anynn import activations
from anynn.errors import ActivationError, ActivationWarning
from anynn.symbolic import kernel_params, kernel_source

BUILTIN_NAMES = sorted(n for n, a in activations.BUILTINS.items() if a.elementwise)
SPECS: dict[str, Any] = {n: n for n in BUILTIN_NAMES}
SPECS.update({f"corpus_{n}": e for n, e, expected in CORPUS if expected != "refused"})
ELEMENTWISE = sorted(SPECS)
"""Every elementwise built-in and every accepted corpus expression."""


def get(name: str) -> activations.Activation:
    """The activation of a built-in name or a corpus entry (vanishing-derivative warnings
    of corpus entries silenced)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ActivationWarning)
        return activations.get(SPECS[name])
DOUBLE_LITERAL = re.compile(r"(?<![\w.])\d+\.\d*(?:e[+-]?\d+)?(?![\w.])", re.IGNORECASE)
DOUBLE_FUNCTIONS = re.compile(r"\b(exp|log|log1p|expm1|tanh|erf|erfc|sqrt|pow|fabs)\(")


def directions(name: str) -> list[str]:
    form = get(name).form
    found = ["forward", "backward"]
    return found + (["backward_from_output"] if form.df_from_output is not None else [])


@pytest.mark.parametrize("name", ELEMENTWISE)
def test_float_variant_has_no_double_literals_or_functions(name: str) -> None:
    for direction in directions(name):
        source = kernel_source(get(name).form, direction, "float32")
        assert not DOUBLE_LITERAL.search(source), source
        assert not DOUBLE_FUNCTIONS.search(source), source
        assert "double" not in source and "M_PI" not in source


@pytest.mark.parametrize("name", ELEMENTWISE)
def test_double_variant_has_no_float_suffixes(name: str) -> None:
    for direction in directions(name):
        source = kernel_source(get(name).form, direction, "float64")
        assert not re.search(r"\d[Ff]\b", source) and "float" not in source
        assert source.rstrip().endswith(";") and "out = " in source


def test_backward_multiplies_the_incoming_gradient() -> None:
    assert "out = g * (" in kernel_source(activations.tanh.form, "backward", "float32")
    assert kernel_source(activations.sigmoid.form, "backward_from_output", "float32") == (
        "out = g * (y*(1.0F - y));"
    )
    assert kernel_params("backward_from_output", "float32") == (
        "float32 g, float32 y",
        "float32 out",
    )


def test_nan_propagating_max_and_steps() -> None:
    relu_forward = kernel_source(activations.relu.form, "forward", "float32")
    assert "fmax" not in relu_forward and "!=" in relu_forward
    leaky_back = kernel_source(activations.leaky_relu.form, "backward", "float32")
    assert "isnan(x)" in leaky_back


def test_constants_are_folded_and_powers_expanded() -> None:
    source = kernel_source(activations.gelu_tanh.form, "forward", "float32")
    assert "pow" not in source and "((x)*(x)*(x))" in source
    assert "sqrt" not in source and "M_PI" not in source


def test_bad_direction_and_dtype() -> None:
    with pytest.raises(ActivationError, match="direction"):
        kernel_source(activations.tanh.form, "sideways", "float32")
    with pytest.raises(ActivationError, match="dtype"):
        kernel_source(activations.tanh.form, "forward", "float16")
    with pytest.raises(ActivationError, match="no verified derivative"):
        kernel_source(activations.silu.form, "backward_from_output", "float32")


@pytest.mark.gpu
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name", ELEMENTWISE)
def test_kernels_agree_with_standard_path(name: str, dtype: str) -> None:
    cupy = pytest.importorskip("cupy")
    import array_api_compat.cupy as cxp

    from anynn.backend import Backend
    from anynn.bound_activation import bind

    act = get(name)
    kernels = bind(act, Backend("cupy", dtype))
    assert kernels.fused_forward and kernels.path == "fused"
    host = np.concatenate([np.linspace(-100, 100, 2001), [-1e4, 1e4, 0.0, np.nan]])
    z = cupy.asarray(host, dtype=dtype)
    g = cupy.asarray(np.linspace(-1.0, 2.0, host.size), dtype=dtype)
    compiled = act.compiled(cxp)
    y_ref = compiled.f(z)
    dz_ref = g * compiled.df(z)
    y = kernels.forward(z)
    dz = kernels.backward(g, z, y)
    assert y.dtype == z.dtype and dz.dtype == z.dtype
    rtol = 1e-5 if dtype == "float32" else 1e-12
    np.testing.assert_allclose(cupy.asnumpy(y), cupy.asnumpy(y_ref), rtol=rtol, atol=rtol)
    np.testing.assert_allclose(cupy.asnumpy(dz), cupy.asnumpy(dz_ref), rtol=rtol, atol=rtol)
    assert np.isnan(cupy.asnumpy(y)[-1]) and np.isnan(cupy.asnumpy(dz)[-1])


@pytest.mark.gpu
def test_dense_layer_uses_fused_kernels_on_cupy() -> None:
    import anynn

    net = anynn.Network(3, [(4, True, "sigmoid"), (1, True, "tanh")], backend="cupy")
    assert net.layers[0].bound_activation.path == "fused"


@pytest.mark.parametrize("name", ELEMENTWISE)
def test_kernel_locals_avoid_cupy_reserved_names(name: str) -> None:
    # CuPy reserves `n`, `i` and every name starting with an underscore in kernel bodies.
    for direction in directions(name):
        for dtype in ("float32", "float64"):
            source = kernel_source(get(name).form, direction, dtype)
            declared = re.findall(r"const \w+ (\w+) =", source)
            assert not [v for v in declared if v.startswith("_") or v in ("n", "i")], source
