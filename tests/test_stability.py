"""Finiteness and accuracy of every activation against mpmath, float32 and float64."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import mpmath
import numpy as np
import pytest
import sympy
from hypothesis import given, settings
from hypothesis import strategies as st
from repo_env import repo_env

from anynn import activations
from anynn.errors import ActivationError
from anynn.stability import (
    PROBE_POINTS,
    REFERENCE_SECONDS,
    first_failure,
    misses,
    reference_values,
    stable_form,
)

ROOT = Path(__file__).resolve().parent.parent

x = sympy.Symbol("x", real=True)
GRID = np.unique(
    np.concatenate(
        [
            np.linspace(-1e4, 1e4, 801),
            np.linspace(-40.0, 40.0, 641),
            np.linspace(-760.0, 760.0, 381),
            [-709.78, -88.72, -1e-7, 0.0, 1e-7, 88.72, 709.78],
        ]
    )
    .astype(np.float32)
    .astype(np.float64)
)

USER_EXPRESSIONS = {
    "naive_softplus": sympy.log(1 + sympy.exp(x)),
    "logsigmoid": -sympy.log(1 + sympy.exp(-x)),
    "mish": x * sympy.tanh(sympy.log(1 + sympy.exp(x))),
    "gauss_deriv": x * sympy.exp(-(x**2)),
    "rational": (x**2 - 1) / (x**2 + 1),
    "log_cosh": sympy.log(sympy.cosh(x)),
    "sigmoid_gelu": x / (1 + sympy.exp(-sympy.Float("1.702") * x)),
    "tanh_as_ratio": sympy.sinh(x) / sympy.cosh(x),
    "sigmoid_ratio": sympy.exp(x) / (1 + sympy.exp(x)),
    "smooth_abs": sympy.sqrt(x**2 + 1) - 1,
    "x_erf": x * sympy.erf(x),
    "atan": sympy.atan(x),
}
ELEMENTWISE = {n: a for n, a in activations.BUILTINS.items() if a.elementwise}


def reference(expr: sympy.Expr, points: np.ndarray, side: int = 0) -> np.ndarray:
    """mpmath values at 50 digits (lambdify is fine here: the expression is ours), at the
    points or (``side`` -1 / 1) just left / right of them."""
    function = sympy.lambdify(x, expr, modules="mpmath")
    out = np.empty_like(points)
    with mpmath.workdps(50):
        for i, p in enumerate(points):
            at = mpmath.mpf(float(p)) + side * mpmath.mpf("1e-30") * (1 + abs(float(p)))
            value = function(at)
            out[i] = float(value) if mpmath.isfinite(value) and abs(value) < 1e308 else np.nan
    return out


def check_accurate(act: activations.Activation, points: np.ndarray) -> None:
    expr = act.expr
    assert expr is not None
    f_ref = reference(expr, points)
    df_expr = sympy.diff(expr, x)
    df_ref = reference(df_expr, points)
    # At a kink (SymPy's Heaviside there is 1/2) either one-sided derivative is right.
    sides = [reference(df_expr, points, side) for side in (-1, 1)]
    for dtype in (np.float32, np.float64):
        z = points.astype(dtype)
        with np.errstate(all="ignore"):
            values, derivative = act(z), act.derivative(z)
        assert values.dtype == dtype and derivative.dtype == dtype
        for what, got, ref in (("f", values, f_ref), ("f'", derivative, df_ref)):
            finite_ref = np.isfinite(ref) & (np.abs(ref) < np.finfo(dtype).max)
            assert np.all(np.isfinite(got[finite_ref])), f"{act.name} {what} not finite ({dtype})"
            expected = np.where(finite_ref, ref, np.nan)
            if what == "f'":  # a one-sided value counts at a kink
                for side in sides:
                    matched = ~misses(got, side, np.dtype(dtype)) & finite_ref
                    expected = np.where(matched, got.astype(np.float64), expected)
            bad = first_failure(got, expected, np.dtype(dtype))
            assert bad is None, (
                f"{act.name} {what}({z[bad]}) = {got[bad]}, expected {ref[bad]} ({dtype})"
            )


@pytest.mark.parametrize("name", sorted(ELEMENTWISE))
def test_builtin_finite_and_accurate_on_dense_grid(name: str) -> None:
    check_accurate(ELEMENTWISE[name], GRID)


@pytest.mark.parametrize("name", sorted(USER_EXPRESSIONS))
def test_user_expression_finite_and_accurate(name: str) -> None:
    check_accurate(activations.get(USER_EXPRESSIONS[name]), GRID)


@settings(max_examples=60, deadline=None)
@given(st.floats(-1e4, 1e4, allow_nan=False, width=32))
def test_hypothesis_points_softplus_silu_mish(value: float) -> None:
    points = np.array([value])
    for name in ("softplus", "silu", "mish", "sigmoid", "logsigmoid"):
        check_accurate(activations.get(name), points)


def test_naive_expressions_are_rewritten() -> None:
    form = stable_form(sympy.log(1 + sympy.exp(x)), x)
    assert form.bindings, "naive softplus needs the t = exp(-|x|) rewrite"
    assert "rewritten" in form.key


def test_stable_expression_is_left_alone() -> None:
    form = stable_form(sympy.tanh(x), x)
    assert form.f == sympy.tanh(x) and not form.bindings


def test_unfixable_expression_names_the_input_and_the_pair_workaround() -> None:
    erfcx = sympy.exp(x**2) * sympy.erfc(x)  # exp(x^2) overflows; the true value is finite
    with pytest.raises(ActivationError, match=r"not numerically stable.*\(f, df\)") as info:
        activations.get(erfcx)
    assert "f(" in str(info.value) or "f'(" in str(info.value)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("sigmoid", "y*(1 - y)"),
        ("tanh", "1 - y**2"),
        ("softplus", "-expm1(-y)"),
        ("elu", "Piecewise((1, y > 0), (y + 1.0, True))"),
    ],
)
def test_output_form_derivative_is_found_and_correct(name: str, expected: str) -> None:
    act = activations.get(name)
    assert str(act.form.df_from_output) == expected
    compiled = act.compiled(__import__("array_api_compat.numpy").numpy)
    assert compiled.df_from_output is not None
    z = np.linspace(-30, 30, 601)
    np.testing.assert_allclose(
        compiled.df_from_output(compiled.f(z)), compiled.df(z), rtol=1e-9, atol=1e-12
    )


@pytest.mark.parametrize("name", ["silu", "gelu", "mish", "identity", "softsign"])
def test_no_output_form_where_f_is_not_invertible_or_nan_is_lost(name: str) -> None:
    assert activations.get(name).form.df_from_output is None


def test_probe_verdict_is_cached() -> None:
    expr = x * sympy.exp(-(x**2)) + x / 3
    assert stable_form(expr, x) is stable_form(expr, x)


def test_non_real_expression_is_rejected() -> None:
    with pytest.raises(ActivationError, match="not real at x = "):
        activations.get(sympy.sqrt(x))


# -- bounded reference evaluation -------------------------------------------------------
def test_nested_exp_is_probed_quickly_in_a_subprocess() -> None:
    """exp(exp(exp(x))) once asked mpmath for ln 2 to ~10**4343 bits (minutes)."""
    script = (
        "import sympy\n"
        "from anynn import activations\n"
        "from anynn.errors import ActivationError\n"
        "try:\n"
        "    activations.get(lambda x: sympy.exp(sympy.exp(sympy.exp(x))))\n"
        "except ActivationError:\n"
        "    pass\n"
        "print('done')\n"
    )
    env = repo_env()  # this checkout first: works uninstalled
    timeout = 120  # well above the library's own backstop, so the backstop acts first
    assert timeout >= 4 * REFERENCE_SECONDS
    result = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True, text=True, env=env, timeout=timeout, check=True,
    )
    assert result.stdout.strip() == "done"


def test_saturated_reference_keeps_the_sign_of_an_overflow() -> None:
    triple = sympy.exp(sympy.exp(sympy.exp(x)))
    big = PROBE_POINTS > 10.0
    assert np.all(reference_values(triple, x)[big] == np.inf)
    assert np.all(reference_values(-triple, x)[big] == -np.inf)
    assert np.all(reference_values(1 / triple, x)[big] == 0.0)
    assert np.all(reference_values(2 ** sympy.exp(sympy.exp(x)), x)[big] == np.inf)
    small = np.abs(PROBE_POINTS) < 1.0  # exact values where nothing saturates
    expected = np.exp(np.exp(np.exp(PROBE_POINTS[small])))
    np.testing.assert_allclose(reference_values(triple, x)[small], expected, rtol=1e-12)
    # A finite answer where the true value is +inf fails the probe.
    values = np.where(big, 1e300, reference_values(triple, x))
    assert first_failure(values, reference_values(triple, x), np.dtype(np.float64)) is not None


@pytest.mark.parametrize(
    "expr",
    [
        sympy.log(1 + sympy.exp(sympy.exp(sympy.exp(x)))),  # log brings it back in range
        sympy.sin(sympy.exp(sympy.exp(x))),  # argument reduction of a 2**1000-bit number
        (1 - sympy.tanh(sympy.exp(x)) ** 2) * sympy.exp(sympy.exp(sympy.exp(x))),  # 0 * inf
    ],
)
def test_unknowable_reference_is_refused(expr: sympy.Expr) -> None:
    with pytest.raises(ActivationError, match="cannot be verified at x = "):
        reference_values(expr, x)


def test_huge_but_exact_values_are_still_computed() -> None:
    """log of exp(1e12) (a finite mpf with a 41-bit exponent) is exact, not refused."""
    values = reference_values(sympy.log(1 + sympy.exp(x**3)), x)
    at = PROBE_POINTS == 1e4
    np.testing.assert_allclose(values[at], 1e12, rtol=1e-12)


def test_values_near_float64_max_are_finite_references() -> None:
    # exp(709.7) = 1.655e308 is below float64's maximum (1.797e308): not an overflow.
    act = activations.get(lambda x: sympy.exp(x))
    assert np.isfinite(act(np.array([709.7])))[0]
