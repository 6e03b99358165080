"""The Array API printer and compiler: literals, powers, cse, conventions, caching."""

from __future__ import annotations

import re

import array_api_compat.numpy as xp
import numpy as np
import pytest
import sympy

from anynn.backend import Backend, to_numpy
from anynn.errors import ActivationError
from anynn.symbolic import Form, canonical_steps, compile_form, differentiate, generate_source

x = sympy.Symbol("x", real=True)


def test_constants_fold_to_python_floats_and_never_upcast(backend: str) -> None:
    expr = sympy.sqrt(2) * x + sympy.pi * sympy.exp(-x / 3) + sympy.Rational(1, 7)
    source = generate_source([expr], x, "f")
    assert "sqrt(2)" not in source and "pi" not in source and "float64" not in source
    b = Backend(backend, "float32")
    compiled = compile_form(Form(symbol=x, f=expr, df=differentiate(expr, x)), b.xp)
    z = b.asarray([0.5, 1.0])
    assert compiled.f(z).dtype == b.dtype and compiled.df(z).dtype == b.dtype
    np.testing.assert_allclose(
        to_numpy(compiled.f(z)), [float(expr.subs(x, v)) for v in (0.5, 1.0)], rtol=1e-6
    )


def test_small_powers_are_expanded_and_bases_computed_once() -> None:
    source = generate_source([x**3 + sympy.tanh(x) ** 2], x, "f")
    assert "**" not in source and "(x * x * x)" in source
    assert source.count("xp.tanh(") == 1


def test_cse_shares_work_between_f_and_df() -> None:
    expr = sympy.exp(-(x**2)) * sympy.sin(x)
    source = generate_source([expr, sympy.diff(expr, x)], x, "f_and_df")
    assert source.count("xp.exp(") == 1 and source.count("xp.sin(") == 1


def test_subtraction_prints_without_extra_negation() -> None:
    assert "(1.0 - (x * x))" in generate_source([1 - x**2], x, "f")


def test_heaviside_is_nan_propagating_and_left_continuous() -> None:
    form = Form(symbol=x, f=sympy.Heaviside(x), df=sympy.Integer(0))
    f = compile_form(form, xp).f
    np.testing.assert_array_equal(f(np.array([-1.0, 0.0, 2.0, np.nan])), [0.0, 0.0, 1.0, np.nan])
    assert canonical_steps(sympy.Heaviside(-x), x) == 1 - sympy.Heaviside(x)


def test_piecewise_constant_default_keeps_nan() -> None:
    expr = sympy.Piecewise((1, x > 0), (0.5, True))
    f = compile_form(Form(symbol=x, f=expr, df=sympy.Integer(0)), xp).f
    np.testing.assert_array_equal(f(np.array([1.0, -1.0, np.nan])), [1.0, 0.5, np.nan])


def test_piecewise_without_default_is_rejected() -> None:
    with pytest.raises(ActivationError, match="no default branch"):
        generate_source([sympy.Piecewise((x, x > 0))], x, "f")


def test_unknown_node_is_named() -> None:
    with pytest.raises(ActivationError, match="cannot compile gamma"):
        generate_source([sympy.gamma(x)], x, "f")


def test_generated_source_has_only_namespace_calls() -> None:
    expr = sympy.erf(x) + sympy.Max(0, x) + sympy.log(1 + x**2)
    source = generate_source([expr, differentiate(expr, x)], x, "g")
    calls = set(re.findall(r"([A-Za-z_][\w.]*)\(", source))
    assert all(c.startswith("xp.") or c in {"g", "_erf"} for c in calls), calls


def test_compiled_functions_are_cached_per_form_and_namespace() -> None:
    form = Form(symbol=x, f=x * sympy.atan(x), df=differentiate(x * sympy.atan(x), x), key="t1")
    assert compile_form(form, xp) is compile_form(form, xp)


def test_pure_erf_is_used_on_array_api_strict() -> None:
    strict = pytest.importorskip("array_api_strict")
    b = Backend("array_api_strict", "float64")
    expr = sympy.erf(x)
    compiled = compile_form(Form(symbol=x, f=expr, df=differentiate(expr, x)), b.xp)
    z = b.asarray([-3.0, -0.5, 0.0, 1.0, 2.5, 6.0])
    result = compiled.f(z)
    assert type(result).__module__.startswith(strict.__name__)
    import math

    np.testing.assert_allclose(
        to_numpy(result),
        [math.erf(v) for v in (-3.0, -0.5, 0.0, 1.0, 2.5, 6.0)],
        rtol=1e-15,
        atol=1e-300,
    )


def test_numpy_without_scipy_uses_the_pure_erf(monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    from anynn.backend import special

    monkeypatch.setitem(sys.modules, "scipy", None)
    assert special.special_functions_for(xp) == (special.erf, special.erfc)
