"""The decompositions of anynn.onnx.elementary: on NumPy against NumPy's functions, and
traced into ONNX graphs run by onnxruntime (float64, where the operators lack kernels)."""

from __future__ import annotations

import math

import numpy as np
import pytest

onnx = pytest.importorskip("onnx")

from anynn.backend import Backend  # noqa: E402
from anynn.onnx import elementary  # noqa: E402

HOST_XP = Backend("numpy").xp  # NumPy, or array-api-compat's wrapper before NumPy 2.1

FUNCTIONS = {
    "log1p": (elementary.log1p, np.log1p),
    "expm1": (elementary.expm1, np.expm1),
    "sinh": (elementary.sinh, np.sinh),
    "cosh": (elementary.cosh, np.cosh),
    "tan": (elementary.tan, np.tan),
    "atan": (elementary.atan, np.arctan),
    "asin": (elementary.asin, np.arcsin),
    "acos": (elementary.acos, np.arccos),
    "asinh": (elementary.asinh, np.arcsinh),
    "acosh": (elementary.acosh, np.arccosh),
    "atanh": (elementary.atanh, np.arctanh),
    "erf": (elementary.erf, np.vectorize(math.erf)),
    "erfc": (elementary.erfc, np.vectorize(math.erfc)),
}
ULPS = {np.dtype(np.float32): 8, np.dtype(np.float64): 8}
FLOAT64_ULPS = {"erf": 16, "erfc": 1024}
"""anynn.special's documented accuracy: erf ~3e-15, erfc ~1e-13 relative (float64)."""


def points(dtype: type) -> np.ndarray:
    grid = np.concatenate([
        np.linspace(-2, 2, 801), np.geomspace(1e-30, 1e30, 241), -np.geomspace(1e-30, 1e30, 241),
        [0.0, 1.0, -1.0, 700.0, 709.5, 710.0, 710.4, 711.0, 88.0, 89.0, 1e8, 2e8,
         np.inf, -np.inf, np.nan],
    ])
    return grid.astype(dtype)


def reference(name: str, x: np.ndarray) -> np.ndarray:
    with np.errstate(all="ignore"):
        return np.asarray(FUNCTIONS[name][1](x), dtype=x.dtype)


def check(
    got: np.ndarray, expected: np.ndarray, name: str, condition: np.ndarray | None = None
) -> None:
    """``got`` within ``ULPS`` ulp of ``expected`` (times ``condition`` where given)."""
    assert np.array_equal(np.isnan(got), np.isnan(expected)), name
    assert np.array_equal(np.isinf(got), np.isinf(expected)), name
    finite = np.isfinite(expected)
    eps = float(np.finfo(expected.dtype).eps)
    tiny = float(np.finfo(expected.dtype).tiny)
    error = np.abs(got[finite].astype(float) - expected[finite].astype(float))
    ulps = FLOAT64_ULPS.get(name, 8) if expected.dtype == np.float64 else ULPS[expected.dtype]
    bound = ulps * eps * np.abs(expected[finite].astype(float)) + tiny
    if condition is not None:
        bound = bound * condition[finite]
    worst = np.argmax(error / bound)
    assert (error <= bound).all(), (name, points(expected.dtype.type)[finite][worst])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_decomposition_matches_numpy(name: str, dtype: type) -> None:
    decomposed = FUNCTIONS[name][0]
    if name in ("tan", "erf") and dtype == np.float32:
        pytest.skip("float32 graphs use the operator")
    x = points(dtype)
    with np.errstate(all="ignore"):
        got, expected = decomposed(HOST_XP, x), reference(name, x)
    assert got.dtype == expected.dtype
    check(got, expected, name)


@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_traced_decomposition_runs_in_onnxruntime(name: str) -> None:
    ort = pytest.importorskip("onnxruntime")
    from onnx import helper

    from anynn.onnx.graph_builder import NAMESPACE, GraphBuilder, Traced

    builder = GraphBuilder(np.dtype(np.float64), 17)
    out = FUNCTIONS[name][0](NAMESPACE, Traced(builder, "X"))
    builder.op("Identity", out, output="Y")
    graph = helper.make_graph(
        builder.nodes, "f", [helper.make_tensor_value_info("X", builder.tensor_type, ["N"])],
        [helper.make_tensor_value_info("Y", builder.tensor_type, ["N"])],
        initializer=builder.initializers,
    )
    opsets = [helper.make_opsetid("", 17)]
    model = helper.make_model(graph, opset_imports=opsets)
    model.ir_version = 8
    onnx.checker.check_model(model, full_check=True)
    session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    x = points(np.float64)
    # onnxruntime's float64 Sin and Cos are accurate in absolute terms only (1e-16): near
    # a zero or a pole of tan, sin/cos inherits that error relative to sin x or cos x
    # (2e-9 relative at x = 1.5707963).
    with np.errstate(all="ignore"):
        condition = 1 / np.abs(np.cos(x)) + 1 / np.abs(np.sin(x)) if name == "tan" else None
        check(session.run(None, {"X": x})[0], reference(name, x), name, condition)

