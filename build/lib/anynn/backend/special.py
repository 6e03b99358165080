"""erf and erfc for every Array API namespace.

NumPy uses ``scipy.special`` when SciPy is installed, CuPy uses ``cupyx.scipy.special``;
every other namespace (and NumPy without SciPy) uses :func:`erf` / :func:`erfc` below,
written with standard Array API calls only, so the values never leave the device.

The pure implementation uses, for ``|x| <= 2``, the positive-term series

    erf(x) = 2/sqrt(pi) * exp(-x^2) * sum_n 2^n x^(2n+1) / (1 * 3 * ... * (2n+1))

(no cancellation), and for ``|x| > 2`` the continued fraction

    erfc(x) = exp(-x^2)/sqrt(pi) / (x + (1/2)/(x + 1/(x + (3/2)/(x + ...))))

with ``exp(-x^2)`` split as ``exp(-h^2) exp(-(x-h)(x+h))`` (``h`` is ``x`` rounded to
1/16, so ``h^2`` is exact). In float64 erf is accurate to about 3e-15 relative everywhere
and erfc to about 1e-13 relative (``1 - erf`` near ``|x| = 2``, the continued fraction
deep in the tail).
"""

from __future__ import annotations

import importlib
import math
from collections.abc import Callable
from types import ModuleType
from typing import Any

from .namespaces import known_name, namespace_of

Array = Any
ArrayFunction = Callable[[Array], Array]

SERIES_LIMIT = 2.0
"""``|x|`` up to which the series is used; the continued fraction beyond."""
SERIES_TERMS = 40
CONTINUED_FRACTION_TERMS = 60
_TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)
_ONE_OVER_SQRT_PI = 1.0 / math.sqrt(math.pi)


def _exp_minus_square(xp: ModuleType, x: Array) -> Array:
    """``exp(-x^2)`` without the rounding error of ``x * x`` for large ``x``."""
    head = xp.floor(x * 16.0) / 16.0
    return xp.exp(-(head * head)) * xp.exp(-((x - head) * (x + head)))


def _erf_series(xp: ModuleType, x: Array) -> Array:
    """erf by the positive-term series (accurate for ``|x| <= SERIES_LIMIT``)."""
    square = x * x
    term = x
    total = x
    for n in range(SERIES_TERMS):
        term = term * (2.0 / (2 * n + 3)) * square
        total = total + term
    return _TWO_OVER_SQRT_PI * xp.exp(-square) * total


def _erfc_continued_fraction(xp: ModuleType, x: Array) -> Array:
    """erfc by the continued fraction (accurate for ``x >= SERIES_LIMIT``)."""
    denominator = x
    for k in range(CONTINUED_FRACTION_TERMS, 0, -1):
        denominator = x + (0.5 * k) / denominator
    return _ONE_OVER_SQRT_PI * _exp_minus_square(xp, x) / denominator


def _parts(x: Array) -> tuple[ModuleType, Array, Array, Array]:
    """Namespace, the mask ``|x| <= SERIES_LIMIT``, the series value and erfc(|x|)."""
    xp = namespace_of(x)
    magnitude = xp.abs(x)
    small = magnitude <= SERIES_LIMIT
    series = _erf_series(xp, xp.minimum(xp.maximum(x, -SERIES_LIMIT), SERIES_LIMIT))
    # erfc(|x|) is 0 in float64 beyond 27; clamping at 40 keeps inf out (inf/inf is NaN)
    tail = _erfc_continued_fraction(xp, xp.minimum(xp.maximum(magnitude, SERIES_LIMIT), 40.0))
    return xp, small, series, tail


def erf(x: Array) -> Array:
    """The error function, elementwise, with Array API calls only."""
    xp, small, series, tail = _parts(x)
    large = xp.where(x < 0.0, tail - 1.0, 1.0 - tail)
    return xp.where(small, series, xp.where(xp.isnan(x), x, large))


def erfc(x: Array) -> Array:
    """The complementary error function, elementwise, with Array API calls only."""
    xp, small, series, tail = _parts(x)
    large = xp.where(x < 0.0, 2.0 - tail, tail)
    return xp.where(small, 1.0 - series, xp.where(xp.isnan(x), x, large))


def _scipy_special() -> tuple[ArrayFunction, ArrayFunction]:
    from scipy import special

    return special.erf, special.erfc


def _cupyx_special() -> tuple[ArrayFunction, ArrayFunction]:
    from cupyx.scipy import special

    return special.erf, special.erfc


_NATIVE: dict[str, Callable[[], tuple[ArrayFunction, ArrayFunction]]] = {
    "numpy": _scipy_special,
    "cupy": _cupyx_special,
}
"""Backends with their own erf/erfc, by backend name (imported on first use)."""


def special_functions_for(xp: ModuleType) -> tuple[ArrayFunction, ArrayFunction]:
    """Return ``(erf, erfc)`` array functions for the namespace ``xp``.

    The backend's own implementation where there is one (SciPy for NumPy, CuPy's
    ``cupyx.scipy.special``), the pure Array API one otherwise (and when the optional
    library is not installed).
    """
    native = _NATIVE.get(known_name(xp) or "")
    if native is not None:
        try:
            return native()
        except ImportError:
            pass
    return erf, erfc


def nan_propagating_sign(module: ModuleType) -> ArrayFunction:
    """``sign`` built from ``module.where`` and ``module.sign``: NaN stays NaN.

    For CuPy, whose own ``sign`` maps NaN to 0 and whose array-api-compat wrapper
    patches NaN back with a boolean-mask assignment (a host synchronisation per call):
    this form launches three kernels and never waits for the device.
    """

    def sign(x: Array) -> Array:
        return module.where(x != x, x, module.sign(x))

    return sign


def sign_for(xp: ModuleType) -> ArrayFunction:
    """The ``sign`` array function compiled activations use on ``xp`` (NaN in, NaN out,
    no host synchronisation): ``xp.sign`` except on CuPy."""
    if known_name(xp) == "cupy":
        return nan_propagating_sign(importlib.import_module("cupy"))
    return xp.sign  # type: ignore[no-any-return]
