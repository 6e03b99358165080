"""The probe: compiled functions against the mpmath reference, float32 and float64.

Accuracy criterion, per dtype with machine epsilon ``eps``: a value ``y`` with reference
``r`` passes when ``|y - r| <= rtol * (|r| + floor)`` with ``rtol = 2048 eps`` and
``floor = 2**-6``: about 11 bits of slack relative to the value, and an absolute floor
of ``rtol * floor`` (3.9e-6 in float32, 7e-15 in float64) for values that are tiny, such
as a derivative rounding to 0. A reference beyond the dtype's range passes as an infinity
of the same sign; points where the true value is not finite (poles) are not checked.
At a kink the derivative may match either one-sided reference (:class:`Reference`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache
from types import ModuleType
from typing import Any

import numpy as np
import sympy

from ..backend import Backend
from ..errors import ActivationError
from .reference import PROBE_POINTS
from .xp_codegen import compile_function

RTOL_EPS_MULTIPLE = 2048
FLOOR = 2.0**-6
DTYPES = (np.float32, np.float64)


@cache
def probe_namespace() -> ModuleType:
    """The namespace the probe runs on: the one training on ``"numpy"`` uses."""
    return Backend("numpy", "float64").xp


def tolerance(dtype: np.dtype) -> tuple[float, float]:
    """``(rtol, floor)`` of the accuracy criterion for ``dtype``."""
    return RTOL_EPS_MULTIPLE * float(np.finfo(dtype).eps), FLOOR


def misses(values: np.ndarray, reference: np.ndarray, dtype: np.dtype) -> np.ndarray:
    """Mask of the probe points where ``values`` misses ``reference``."""
    rtol, floor = tolerance(dtype)
    values = values.astype(np.float64)
    checked = ~np.isnan(reference)
    big = np.abs(reference) > float(np.finfo(dtype).max)
    with np.errstate(all="ignore"):
        close = np.abs(values - reference) <= rtol * (np.abs(reference) + floor)
    overflow_ok = np.isinf(values) & (np.sign(values) == np.sign(reference))
    ok = np.where(big, overflow_ok, close & np.isfinite(values))
    return checked & ~ok


def first_failure(values: np.ndarray, reference: np.ndarray, dtype: np.dtype) -> int | None:
    """Index of the first probe point where ``values`` misses ``reference``, or None."""
    bad = np.flatnonzero(misses(values, reference, dtype))
    return int(bad[0]) if bad.size else None


def evaluate(function: Callable[[Any], Any], points: np.ndarray) -> np.ndarray:
    """``function(points)`` as a NumPy array, floating-point warnings silenced."""
    with np.errstate(all="ignore"):
        return np.asarray(function(points))


@dataclass(frozen=True)
class Reference:
    """True values of one function at the probe points.

    Attributes
    ----------
    values : numpy.ndarray
        At the points.
    sides : tuple of numpy.ndarray
        One-sided values (just left, just right) where the function has a jump (a
        kink of ``f``); empty when it has none. A value matching either side passes:
        float rounding may put a computed kink on either side of a probe point.
    """

    values: np.ndarray
    sides: tuple[np.ndarray, ...] = ()

    def misses(self, values: np.ndarray, dtype: np.dtype) -> np.ndarray:
        """Mask of the points where ``values`` matches no accepted reference."""
        bad = misses(values, self.values, dtype)
        for side in self.sides:
            bad &= misses(values, side, dtype)
        return bad


@dataclass(frozen=True)
class Verdict:
    """Where one compiled function misses its reference."""

    bad: np.ndarray
    detail: str

    @property
    def ok(self) -> bool:
        """Whether it passes everywhere."""
        return not bool(self.bad.any())


def check_function(
    what: str,
    expr: sympy.Expr,
    symbol: sympy.Symbol,
    bindings: Sequence[tuple[sympy.Symbol, sympy.Expr]],
    reference: Reference,
) -> Verdict:
    """Compile ``expr`` (``f`` or ``f'``) and probe it in float32 and float64.

    Raises
    ------
    ActivationError
        If the compiled function returns another dtype than its input's.
    """
    function, _ = compile_function(expr, symbol, probe_namespace(), bindings)
    bad = np.zeros(PROBE_POINTS.shape, dtype=bool)
    detail = ""
    for dtype in DTYPES:
        points = PROBE_POINTS.astype(dtype)
        values = evaluate(function, points)
        if values.dtype != dtype:
            raise ActivationError(
                f"{what} = {expr} returned {values.dtype} for {np.dtype(dtype)} input"
            )
        missed = reference.misses(values, np.dtype(dtype))
        if missed.any() and not detail:
            index = int(np.flatnonzero(missed)[0])
            detail = (
                f"{np.dtype(dtype).name} {what}({float(points[index])!r}) = "
                f"{float(values[index])!r}, expected {float(reference.values[index])!r}"
            )
        bad |= missed
    return Verdict(bad, detail)


def loses_nan(
    expr: sympy.Expr, symbol: sympy.Symbol, bindings: Sequence[tuple[sympy.Symbol, sympy.Expr]]
) -> bool:
    """Whether the compiled ``expr`` gives a non-NaN value for a NaN input."""
    function, _ = compile_function(expr, symbol, probe_namespace(), bindings)
    return not bool(np.all(np.isnan(evaluate(function, np.full((2,), np.nan)))))
