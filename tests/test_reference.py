"""The bounded mpmath reference: its own context, a per-call saturation state."""

from __future__ import annotations

import mpmath
import numpy as np
import pytest
import sympy

from anynn.backend import Backend
from anynn.symbolic import Form, stability
from anynn.symbolic.form import X
from anynn.symbolic.reference import PROBE_POINTS, reference_values

EXPRESSIONS = [
    sympy.log(1 + sympy.exp(X)),
    sympy.exp(sympy.exp(sympy.exp(X))),
    X * sympy.tanh(sympy.log(1 + sympy.exp(X))),
    sympy.erfc(X) / 3,
]


@pytest.mark.parametrize("expr", EXPRESSIONS, ids=str)
def test_values_ignore_the_global_mpmath_precision(expr: sympy.Expr) -> None:
    expected = reference_values(expr, X)
    saved = mpmath.mp.dps
    try:
        for digits in (5, 50):
            mpmath.mp.dps = digits
            np.testing.assert_array_equal(reference_values(expr, X), expected)
    finally:
        mpmath.mp.dps = saved
    assert mpmath.mp.dps == saved


def test_verdict_ignores_the_global_mpmath_precision() -> None:
    def fresh_verdict(constant: float) -> Form:
        expr = sympy.log(1 + sympy.exp(X)) + constant * X  # new expression: not cached
        return stability.stable_form(expr, X)

    plain = fresh_verdict(0.00125)
    saved = mpmath.mp.dps
    try:
        mpmath.mp.dps = 50
        high = fresh_verdict(0.00375)
    finally:
        mpmath.mp.dps = saved
    assert (plain.bindings != ()) == (high.bindings != ())
    assert plain.nan_guard == high.nan_guard
    assert (plain.df_from_output is None) == (high.df_from_output is None)


def test_saturation_state_does_not_leak_between_calls() -> None:
    reference_values(sympy.exp(sympy.exp(sympy.exp(X))), X)  # saturates at large x
    values = reference_values(sympy.exp(X), X)
    finite = PROBE_POINTS < 700
    assert np.all(np.isfinite(values[finite]))
    assert np.all(values[PROBE_POINTS > 710] == np.inf)


def test_probe_runs_on_the_namespace_training_uses() -> None:
    assert stability.probe_namespace() is Backend("numpy", "float64").xp
