"""The bounded mpmath reference: an expression's true value at the probe points.

The expression is walked once into closures over a private :class:`.Evaluation` (its own
mpmath context at :data:`REFERENCE_DIGITS` digits, whatever the caller's ``mpmath.mp``),
looking every node up in the node table (:mod:`.nodes`); only ``Piecewise`` (lazy
branches) is a rule of its own. No code is generated or executed. Exp-like functions and
powers saturate beyond ``2**MAX_ARGUMENT_MAG`` (see :mod:`.saturation`), so every point
costs a bounded amount of work.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import sympy

from ..errors import ActivationError
from .form import unsupported
from .nodes import spec_of
from .saturation import MAX_ARGUMENT_MAG, Evaluation, UnverifiableError

REFERENCE_DIGITS = 40
"""Decimal digits of the reference evaluation."""

REFERENCE_SECONDS = 30.0
"""Backstop on the time one :func:`reference_values` call may take."""

STRUCTURAL_RULES = frozenset({"Piecewise", "ExprCondPair"})
"""Table rows without an ``mp`` function that :func:`mp_function` evaluates by a rule."""

__all__ = [
    "MAX_ARGUMENT_MAG", "PROBE_POINTS", "REFERENCE_DIGITS", "REFERENCE_SECONDS",
    "mp_function", "reference_values",
]


def _probe_points() -> np.ndarray:
    exp_edges = [87.0, 88.0, 88.5, 88.7, 88.72, 89.0, 90.0, 103.0, 104.0, 105.0,
                 700.0, 708.0, 709.0, 709.7, 710.0, 711.0, 745.0, 746.0, 750.0]
    tiny = [1e-30, 1e-10, 1e-5, 1e-3]
    wide = list(np.geomspace(8.0, 1e4, 60))
    positive = np.array(tiny + wide + exp_edges)
    grid = np.concatenate([np.linspace(-8.0, 8.0, 129), positive, -positive])
    return np.unique(grid.astype(np.float32).astype(np.float64))


PROBE_POINTS = _probe_points()
"""The probe inputs, exactly representable in float32 (so one reference serves both):
about 300 points over [-1e4, 1e4], dense near 0 and around the float32/float64 overflow
thresholds of ``exp`` (±88.7, ±709)."""


def mp_function(
    expr: sympy.Basic, symbol: sympy.Symbol, ev: Evaluation
) -> Callable[[Any], Any]:
    """Turn a (supported) SymPy expression into an mpmath function of one argument.

    Heaviside is 0 at 0, like the compiled code (after ``canonical_steps``).
    """
    if isinstance(expr, sympy.Expr) and expr.is_number:
        value = ev.mp.mpf(str(sympy.N(expr, REFERENCE_DIGITS + 5)))
        return lambda v: value
    if expr == symbol:
        return lambda v: v
    if expr == sympy.true or expr == sympy.false:
        flag = bool(expr)
        return lambda v: flag
    if isinstance(expr, sympy.Piecewise):
        pairs = [
            (mp_function(e, symbol, ev), mp_function(c, symbol, ev)) for e, c in expr.args
        ]
        return lambda v: next(e(v) for e, c in pairs if c(v))
    spec = spec_of(expr)
    if spec is None or spec.mp is None:
        raise unsupported(expr, expr)
    parts = [mp_function(a, symbol, ev) for a in expr.args]
    node = spec.mp
    return lambda v: node(ev, *(p(v) for p in parts))


def _point_value(
    function: Callable[[Any], Any], ev: Evaluation, expr: sympy.Expr, point: float
) -> float:
    """``expr`` at ``point`` as float64: NaN at a pole, ``±inf`` beyond float64's range."""
    mp = ev.mp
    ev.saturated = False
    try:
        value = function(mp.mpf(point))
    except (ZeroDivisionError, ValueError, OverflowError) as error:
        if ev.saturated:
            raise UnverifiableError(str(error) or type(error).__name__) from error
        return math.nan
    if isinstance(value, mp.mpc):
        if abs(value.imag) > abs(value.real) * 1e-30 + mp.mpf(10) ** -300:
            if ev.saturated:
                raise UnverifiableError("a complex value")
            raise ActivationError(
                f"the activation {expr} is not real at x = {point!r} "
                f"(value {complex(value)}); an activation must map reals to reals"
            )
        value = value.real
    if mp.isnan(value) and ev.saturated:
        raise UnverifiableError("an undefined combination (inf - inf or inf * 0)")
    if mp.isinf(value):  # only saturation is a value beyond range; else a pole
        return math.copysign(math.inf, value) if ev.saturated else math.nan
    if not mp.isfinite(value):
        return math.nan
    return float(value)  # correctly rounded; beyond float64's range it is ±inf


def reference_values(expr: sympy.Expr, symbol: sympy.Symbol) -> np.ndarray:
    """``expr`` at :data:`PROBE_POINTS` in mpmath, as float64 (NaN where undefined).

    Each point costs a bounded amount of work (see :mod:`.saturation`), and the whole
    call is limited to :data:`REFERENCE_SECONDS` as a backstop.

    Raises
    ------
    ActivationError
        If the expression is not real at some probe point, if its value at some point
        cannot be computed within the cost bounds (an astronomically large intermediate
        brought back into range), or if the evaluation takes too long.
    """
    ev = Evaluation(REFERENCE_DIGITS)
    function = mp_function(expr, symbol, ev)
    out = np.full(PROBE_POINTS.shape, np.nan)
    deadline = time.monotonic() + REFERENCE_SECONDS
    for i, point in enumerate(PROBE_POINTS):
        try:
            out[i] = _point_value(function, ev, expr, float(point))
        except UnverifiableError as error:
            raise ActivationError(
                f"the activation {expr} cannot be verified at x = {float(point)!r}: "
                f"its exact value needs {error}, beyond the bounded reference evaluation "
                "(intermediates over 2**2**1100); simplify the expression or pass "
                "fn=(f, df)"
            ) from None
        if time.monotonic() > deadline:
            raise ActivationError(
                f"verifying the activation {expr} against mpmath took more than "
                f"{REFERENCE_SECONDS:g} s (stopped at x = {float(point)!r}); "
                "simplify the expression or pass fn=(f, df)"
            )
    return out
