"""Functions ONNX lacks (or lacks in float64 on onnxruntime's CPU), from elementary ops.

ONNX has no ``Log1p``, ``Expm1`` or ``Erfc`` operator, and onnxruntime's CPU provider has
no float64 kernel for ``Erf``, ``Tan``, ``Atan``, ``Asin``, ``Acos``, ``Sinh``, ``Cosh``,
``Asinh``, ``Acosh``, ``Atanh``. Each function here is
written against the Array API standard with an explicit namespace ``xp``, so it runs on
NumPy (where the tests compare it with NumPy's own function) and on the ONNX tracing
namespace (:mod:`anynn.onnx.graph_builder`), which turns it into graph nodes. Only
``Exp``, ``Log``, ``Sqrt``, ``Sin``, ``Cos``, arithmetic, comparisons and ``Where`` are
used: every one has float32 and float64 kernels. All keep NaN as NaN and agree with
the libm functions to a few units in the last place, infinities included.

``minimum``/``maximum`` take the constant first: onnxruntime before 1.16 returns the
second operand of ``Min``/``Max`` when a comparison with NaN fails (measured with
1.15.1), so a NaN second operand still comes out NaN there.
"""

from __future__ import annotations

import math
from typing import Any

from ..backend import special

Array = Any

LN2 = math.log(2.0)
BIG = 1e8
"""Beyond this magnitude ``asinh``/``acosh`` use ``log(|x|) + log 2`` (``x*x`` would
overflow for float64 beyond 1e154; the dropped term is below 1e-16 relative)."""
ATAN_HALVINGS = 3
ATAN_TERMS = 10


def log1p(xp: Any, u: Array) -> Array:
    """``log(1 + u)`` accurate near 0 (Kahan: ``log(w) * u / (w - 1)`` with ``w = 1 + u``)."""
    w = 1.0 + u
    d = w - 1.0
    ratio = xp.where(d == 0.0, 1.0, u / xp.where(d == 0.0, 1.0, d))
    value = xp.where(d == 0.0, u, xp.log(w) * ratio)
    return xp.where(xp.isinf(u), xp.log(w), value)


def expm1(xp: Any, u: Array) -> Array:
    """``exp(u) - 1`` accurate near 0 (Kahan: ``(w - 1) * u / log(w)`` with ``w = exp(u)``)."""
    w = xp.exp(u)
    d = w - 1.0
    log_w = xp.log(w)
    exact = (d == 0.0) | (d == -1.0) | xp.isinf(w)
    value = d * (u / xp.where(exact, 1.0, log_w))
    return xp.where(d == 0.0, u, xp.where(exact, d, value))


def _half_exp(xp: Any, a: Array) -> Array:
    """``exp(a) / 2`` as ``(exp(a/2) / 2) * exp(a/2)``: it overflows only where the result
    does (``exp(a)`` alone overflows first), within 3 ulp (``exp(a - log 2)`` would add
    the rounding error of ``a - log 2``, ``|a|`` ulp)."""
    root = xp.exp(0.5 * a)
    return (0.5 * root) * root


def _with_sign_of(xp: Any, x: Array, magnitude: Array) -> Array:
    return xp.where(x < 0.0, -magnitude, magnitude)


def sinh(xp: Any, x: Array) -> Array:
    """Hyperbolic sine: ``expm1`` near 0, ``exp(|x|)/2 - exp(-|x|)/2`` beyond."""
    a = xp.abs(x)
    m = expm1(xp, xp.minimum(1.0, a))
    small = 0.5 * (m + m / (m + 1.0))
    h = _half_exp(xp, a)
    return _with_sign_of(xp, x, xp.where(a < 1.0, small, h - 0.25 / h))


def cosh(xp: Any, x: Array) -> Array:
    """Hyperbolic cosine: ``exp(|x|)/2 + exp(-|x|)/2``."""
    h = _half_exp(xp, xp.abs(x))
    return h + 0.25 / h


def tan(xp: Any, x: Array) -> Array:
    """Tangent as ``sin(x) / cos(x)``."""
    return xp.sin(x) / xp.cos(x)


def atan(xp: Any, x: Array) -> Array:
    """Arctangent: ``1/|x|`` above 1, three argument halvings, then the Taylor series.

    ``atan(r) = 2 atan(r / (1 + sqrt(1 + r^2)))``; after the halvings ``|r| <= tan(pi/32)``
    and ten terms of the series are exact to float64 rounding.
    """
    a = xp.abs(x)
    inverted = a > 1.0
    r = xp.where(inverted, 1.0 / xp.where(inverted, a, 1.0), a)
    for _ in range(ATAN_HALVINGS):
        r = r / (1.0 + xp.sqrt(1.0 + r * r))
    square = r * r
    series = 1.0 / (2 * ATAN_TERMS - 1) * (-1.0) ** (ATAN_TERMS - 1)
    for n in range(ATAN_TERMS - 2, -1, -1):
        series = (-1.0) ** n / (2 * n + 1) + square * series
    angle = (2.0**ATAN_HALVINGS) * (r * series)
    return _with_sign_of(xp, x, xp.where(inverted, math.pi / 2 - angle, angle))


def asin(xp: Any, x: Array) -> Array:
    """Arcsine as ``atan(x / sqrt((1 - x)(1 + x)))`` (NaN outside [-1, 1])."""
    return atan(xp, x / xp.sqrt((1.0 - x) * (1.0 + x)))


def acos(xp: Any, x: Array) -> Array:
    """Arccosine as ``2 atan(sqrt((1 - x) / (1 + x)))`` (NaN outside [-1, 1])."""
    return 2.0 * atan(xp, xp.sqrt((1.0 - x) / (1.0 + x)))


def asinh(xp: Any, x: Array) -> Array:
    """Inverse hyperbolic sine: ``log1p(a + a^2 / (1 + sqrt(1 + a^2)))`` for ``a = |x|``."""
    a = xp.abs(x)
    moderate = xp.minimum(BIG, a)
    near = log1p(xp, moderate + moderate * moderate / (1.0 + xp.sqrt(1.0 + moderate * moderate)))
    far = xp.log(xp.maximum(BIG, a)) + LN2
    return _with_sign_of(xp, x, xp.where(a > BIG, far, near))


def acosh(xp: Any, x: Array) -> Array:
    """Inverse hyperbolic cosine: ``log1p(t + sqrt(2t + t^2))`` for ``t = x - 1``."""
    t = xp.minimum(BIG, xp.maximum(1.0, x)) - 1.0
    near = log1p(xp, t + xp.sqrt(t * (t + 2.0)))
    far = xp.log(xp.maximum(BIG, x)) + LN2
    return xp.where(x < 1.0, math.nan, xp.where(x > BIG, far, near))


def atanh(xp: Any, x: Array) -> Array:
    """Inverse hyperbolic tangent: ``log1p(2a / (1 - a)) / 2`` for ``a = |x|``, signed."""
    a = xp.abs(x)
    return _with_sign_of(xp, x, 0.5 * log1p(xp, 2.0 * a / (1.0 - a)))


def erf(xp: Any, x: Array) -> Array:
    """The error function by :func:`anynn.backend.special.erf` (series and continued fraction,
    about 3e-15 relative in float64), exact at ``+-inf``.

    This is the float64 ``erf`` of exported models: onnxruntime has no float64 ``Erf``
    kernel, and a float32 ``Erf`` between two ``Cast`` nodes would lose 9 digits.
    """
    return xp.where(xp.isinf(x), xp.sign(x), special.erf(x))


def erfc(xp: Any, x: Array) -> Array:
    """The complementary error function by :func:`anynn.backend.special.erfc`, computed in
    float64 whatever the dtype of ``x`` (its ``1 - erf`` part loses 8 bits near
    ``|x| = 2``, too many in float32), exact at ``+-inf``."""
    wide = x if x.dtype == xp.float64 else xp.astype(x, xp.float64)
    value = xp.where(xp.isinf(wide), 1.0 - xp.sign(wide), special.erfc(wide))
    return value if x.dtype == xp.float64 else xp.astype(value, x.dtype)


def heaviside(xp: Any, x: Array, *_: Array) -> Array:
    """The step, 0 at 0 (see :func:`anynn.symbolic.canonical_steps`), NaN kept."""
    return xp.maximum(xp.sign(x), 0.0)


def not_equal(xp: Any, x1: Array, x2: Array) -> Array:
    """``x1 != x2``."""
    return x1 != x2
