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
from collections.abc import Callable
from typing import Any

import numpy as np
import sympy

from ..errors import ActivationError
from .budget import VERIFY_SECONDS, Budget
from .form import unsupported
from .nodes import spec_of
from .saturation import MAX_ARGUMENT_MAG, Evaluation, UnverifiableError

REFERENCE_DIGITS = 40
"""Decimal digits of the reference evaluation."""

REFERENCE_SECONDS = VERIFY_SECONDS
"""Backstop on the time one :func:`reference_values` call may take (thread CPU time)."""

NUDGE = 2.0**-18
"""Relative offset of the points where one-sided values are taken (see ``side``): about
32 float32 ulps, as far as float32 rounding of a kink's argument can move the kink."""

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


def _memo(function: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """``function`` remembering its value for the last input object (one probe point)."""
    last: list[Any] = [None, None]

    def remembered(v: Any) -> Any:
        if last[0] is not v:
            last[1] = function(v)
            last[0] = v
        return last[1]

    return remembered


def mp_function(
    expr: sympy.Basic,
    symbol: sympy.Symbol,
    ev: Evaluation,
    built: dict[sympy.Basic, Callable[[Any], Any]] | None = None,
) -> Callable[[Any], Any]:
    """Turn a (supported) SymPy expression into an mpmath function of one argument.

    Heaviside is 0 at 0, like the compiled code (after ``canonical_steps``). Equal
    subtrees share one function that computes once per point (``built``), so a
    derivative's repeated factors (product and chain rules) cost once, not per copy.
    """
    built = {} if built is None else built
    known = built.get(expr)
    if known is None:
        known = built[expr] = _memo(_node_function(expr, symbol, ev, built))
    return known


def _node_function(
    expr: sympy.Basic,
    symbol: sympy.Symbol,
    ev: Evaluation,
    built: dict[sympy.Basic, Callable[[Any], Any]],
) -> Callable[[Any], Any]:
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
            (mp_function(e, symbol, ev, built), mp_function(c, symbol, ev, built))
            for e, c in expr.args
        ]

        def piecewise(v: Any) -> Any:
            for value, condition in pairs:
                if condition(v):
                    return value(v)
            raise ActivationError(
                f"the Piecewise {expr} is undefined at x = {float(v)!r}: no condition holds; "
                "add a default branch (value, True)"
            )

        return piecewise
    spec = spec_of(expr)
    if spec is None or spec.mp is None:
        raise unsupported(expr, expr)
    parts = [mp_function(a, symbol, ev, built) for a in expr.args]
    node = spec.mp
    return lambda v: node(ev, *(p(v) for p in parts))


def _point_value(
    function: Callable[[Any], Any], ev: Evaluation, expr: sympy.Expr, point: Any
) -> float:
    """``expr`` at ``point`` as float64: NaN at a pole, ``±inf`` beyond float64's range."""
    mp = ev.mp
    ev.saturated = False
    try:
        value = function(point)
    except ActivationError:
        raise
    except (ZeroDivisionError, ValueError, OverflowError) as error:
        if ev.saturated:
            raise UnverifiableError(str(error) or type(error).__name__) from error
        return math.nan
    if isinstance(value, mp.mpc):
        if abs(value.imag) > abs(value.real) * 1e-30 + mp.mpf(10) ** -300:
            if ev.saturated:
                raise UnverifiableError("a complex value")
            raise ActivationError(
                f"the activation {expr} is not real at x = {float(point)!r} "
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


def reference_values(
    expr: sympy.Expr,
    symbol: sympy.Symbol,
    side: int = 0,
    budget: Budget | None = None,
    points: np.ndarray | None = None,
) -> np.ndarray:
    """``expr`` at :data:`PROBE_POINTS` in mpmath, as float64 (NaN where undefined).

    Each point costs a bounded amount of work (see :mod:`.saturation`), and the whole
    call is limited to ``budget`` (default: :data:`REFERENCE_SECONDS` from now).

    Parameters
    ----------
    expr : sympy.Expr
        The expression.
    symbol : sympy.Symbol
        Its variable.
    side : {0, -1, 1}
        ``0``: at the points; ``-1`` / ``1``: just left / right of each point (offset
        by ``NUDGE * |p|``, or ``1e-35`` at 0), the one-sided values near a kink.
    budget : Budget, optional
        The verification's deadline.
    points : numpy.ndarray, optional
        Other points than :data:`PROBE_POINTS`.

    Raises
    ------
    ActivationError
        If the expression is not real at some probe point, if its value at some point
        cannot be computed within the cost bounds (an astronomically large intermediate
        brought back into range), or if the evaluation takes too long.
    """
    ev = Evaluation(REFERENCE_DIGITS)
    function = mp_function(expr, symbol, ev)
    points = PROBE_POINTS if points is None else points
    out = np.full(points.shape, np.nan)
    budget = budget or Budget(expr, REFERENCE_SECONDS)
    for i, point in enumerate(points):
        at = ev.mp.mpf(float(point))
        if side:
            at += side * (NUDGE * abs(at) if at else ev.mp.mpf("1e-35"))
        try:
            out[i] = _point_value(function, ev, expr, at)
        except UnverifiableError as error:
            raise ActivationError(
                f"the activation {expr} cannot be verified at x = {float(point)!r}: "
                f"its exact value needs {error}, beyond the bounded reference evaluation "
                "(intermediates over 2**2**1100); simplify the expression or pass "
                "fn=(f, df)"
            ) from None
        if budget.expired():
            budget.check(f"the mpmath reference of {expr} at x = {float(point)!r}")
    return out
