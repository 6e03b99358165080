"""Shared cases of the ONNX export tests: activations, sweep inputs, the comparison."""

from __future__ import annotations

from typing import Any

import numpy as np
import sympy

from anynn.stability import PROBE_POINTS

x = sympy.Symbol("x", real=True)

USER_EXPRESSIONS = {
    "quick_gelu": x / (1 + sympy.exp(-1.702 * x)),
    "naive_mish": x * sympy.tanh(sympy.log(1 + sympy.exp(x))),
    "naive_softplus": sympy.log(1 + sympy.exp(x)),
    "scaled_softplus": sympy.log(1 + sympy.exp(2 * x)) / 2,
    "softplus_minus_log2": sympy.log(1 + sympy.exp(x)) - sympy.log(2),
    "naive_elu": sympy.Piecewise((x, x > 0), (sympy.exp(x) - 1, True)),
    "piecewise_log": sympy.Piecewise((sympy.log(1 + x), x > 0), (x, True)),
    "piecewise_three": sympy.Piecewise((1, x > 1), (x, x >= -1), (-1, True)),
    "erf_gelu": x / 2 * (1 + sympy.erf(x / sympy.sqrt(2))),
    "erfc": sympy.erfc(x),
    "abs": sympy.Abs(x),
    "max_leaky": sympy.Max(x, x / 10),
    "hardtanh": sympy.Min(sympy.Max(x, -1), 1),
    "hardswish": x * sympy.Min(sympy.Max(x + 3, 0), 6) / 6,
    "relu6": sympy.Min(sympy.Max(x, 0), 6),
    "softsign": x / (1 + sympy.Abs(x)),
    "symlog": sympy.sign(x) * sympy.log(1 + sympy.Abs(x)),
    "heaviside_ramp": x * sympy.Heaviside(x),
    "gaussian": sympy.exp(-(x**2)),
    "sine": sympy.sin(x),
    "x_atan": x * sympy.atan(x),
    "asinh": sympy.asinh(x),
    "cube_root_like": x / (1 + x**2) ** sympy.Rational(1, 3),
    "power_of_two": 2**-x * x,
}
"""User-written activations (each must pass anynn's own stability verification)."""


def sweep(dtype: type) -> np.ndarray:
    """Pre-activations from 0 to +-1e4 and beyond (+-1e30, +-inf) and NaN."""
    extra = np.array([0.0, 1e5, -1e5, 1e30, -1e30, np.inf, -np.inf, np.nan])
    return np.concatenate([PROBE_POINTS, extra]).astype(dtype)


RTOL = {np.dtype(np.float32): 1e-5, np.dtype(np.float64): 1e-12}
FLOOR = 2.0**-6
"""Absolute floor of the comparison, relative to the magnitude scale (as in the
stability probe of :mod:`anynn.stability`): values far below it count as equal."""


def mismatches(actual: np.ndarray, expected: np.ndarray, scale: Any = 1.0) -> list[str]:
    """Where ``actual`` differs from ``expected``: non-finite pattern or
    ``|a - e| > rtol * (|e| + FLOOR * scale)``.

    ``scale`` (a number or an array broadcasting against the values) is the magnitude
    the output's rounding errors scale with: ``max(1, |z|)`` for an activation of ``z``
    (``x/2 * (1 + tanh(u))`` near ``-5`` loses all digits of ``1 + tanh(u)`` in float32,
    in NumPy as in onnxruntime, whose ``tanh`` differ by an ulp).
    """
    assert actual.dtype == expected.dtype, (actual.dtype, expected.dtype)
    rtol = RTOL[expected.dtype]
    a = actual.astype(np.float64)
    e = expected.astype(np.float64)
    problems = []
    same_nan = np.isnan(a) == np.isnan(e)
    same_inf = (np.isinf(a) == np.isinf(e)) & np.where(np.isinf(e), np.sign(a) == np.sign(e), True)
    for index in np.flatnonzero(~(same_nan & same_inf)):
        problems.append(f"#{index}: {a.flat[index]!r} vs {e.flat[index]!r} (non-finite)")
    finite = np.isfinite(a) & np.isfinite(e)
    with np.errstate(all="ignore"):
        floor = FLOOR * np.asarray(scale, dtype=np.float64)
        bad = finite & (np.abs(a - e) > rtol * (np.abs(e) + floor))
    for index in np.flatnonzero(bad)[:5]:
        problems.append(f"#{index}: {a.flat[index]!r} vs {e.flat[index]!r}")
    return problems
