"""Numerical safety of compiled activations: a probe against mpmath and a general rewrite.

The first time an expression is compiled, :func:`stable_form` evaluates the compiled
``f`` and ``f'`` (on the namespace training on ``"numpy"`` uses, float32 and float64) on
:data:`~anynn.symbolic.reference.PROBE_POINTS` and compares them with the bounded mpmath
reference at 40 digits (:mod:`anynn.symbolic.reference`).

Accuracy criterion, per dtype with machine epsilon ``eps``: a value ``y`` with reference
``r`` passes when ``|y - r| <= rtol * (|r| + floor)`` with ``rtol = 2048 eps`` and
``floor = 2**-6``: about 11 bits of slack relative to the value, and an absolute floor
of ``rtol * floor`` (3.9e-6 in float32, 7e-15 in float64) for values that are tiny, such
as a derivative rounding to 0. A reference beyond the dtype's range passes as an infinity
of the same sign; points where the true value is not finite (poles) are not checked.
NaN inputs must give NaN for ``f`` and ``f'``.

When the direct form fails, :func:`rewrite_stable` rewrites it with ``t = exp(-|x|)``:
every ``exp(k x)`` (including those inside ``tanh``, ``sinh``, ``cosh``)
becomes ``t**-k`` on ``x >= 0`` and ``t**k`` on ``x < 0``, each branch is simplified
(``log((1+t)/t) -> log1p(t) + x``), so no intermediate overflows; ``f'`` is
differentiated per branch. If that fails too, :class:`ActivationError` names the first
bad input and how to pass an ``(f, df)`` pair instead. The verdict is cached per
expression, so building many networks probes each expression once.

Where ``f'`` is verified (same probe, same criterion) to equal a function of the output
``y = f(x)`` alone (``y*(1-y)`` for sigmoid, ``1-y**2`` for tanh, ...), the form carries
it as ``df_from_output``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import replace
from functools import cache
from types import ModuleType
from typing import Any

import numpy as np
import sympy
from sympy.codegen.cfunctions import expm1, log1p

from ..backend import Backend
from ..errors import ActivationError
from .form import Form, canonical_steps, check_supported, differentiate, float_value
from .reference import PROBE_POINTS, REFERENCE_SECONDS, reference_values
from .xp_codegen import compile_form, compile_function

__all__ = [
    "GENERIC_OUTPUT_DERIVATIVES", "PROBE_POINTS", "REFERENCE_SECONDS", "T", "Y",
    "find_output_derivative", "first_failure", "needs_nan_guard", "probe", "probe_namespace",
    "reference_values", "rewrite_stable", "stable_form", "tolerance",
]

RTOL_EPS_MULTIPLE = 2048
FLOOR = 2.0**-6
T = sympy.Symbol("t", positive=True)
"""The rewrite variable ``t = exp(-|x|)``."""
Y = sympy.Symbol("y", real=True)
"""The output variable of ``df_from_output``."""


@cache
def probe_namespace() -> ModuleType:
    """The namespace the probe runs on: the one training on ``"numpy"`` uses."""
    return Backend("numpy", "float64").xp


# -- the probe ------------------------------------------------------------------------
def tolerance(dtype: np.dtype) -> tuple[float, float]:
    """``(rtol, floor)`` of the accuracy criterion for ``dtype``."""
    return RTOL_EPS_MULTIPLE * float(np.finfo(dtype).eps), FLOOR


def first_failure(values: np.ndarray, reference: np.ndarray, dtype: np.dtype) -> int | None:
    """Index of the first probe point where ``values`` misses ``reference``, or None."""
    rtol, floor = tolerance(dtype)
    values = values.astype(np.float64)
    checked = ~np.isnan(reference)
    big = np.abs(reference) > float(np.finfo(dtype).max)
    with np.errstate(all="ignore"):
        close = np.abs(values - reference) <= rtol * (np.abs(reference) + floor)
    overflow_ok = np.isinf(values) & (np.sign(values) == np.sign(reference))
    ok = np.where(big, overflow_ok, close & np.isfinite(values))
    bad = np.flatnonzero(checked & ~ok)
    return int(bad[0]) if bad.size else None


def _evaluate(function: Callable[[Any], Any], points: np.ndarray) -> np.ndarray:
    with np.errstate(all="ignore"):
        return np.asarray(function(points))


def probe(
    form: Form, f_reference: np.ndarray, df_reference: np.ndarray
) -> dict[str, str]:
    """Check ``f`` and ``f'`` of ``form`` in float32 and float64.

    Returns
    -------
    dict
        ``{"f": detail, "f'": detail}`` for each function that fails somewhere; the
        detail names the dtype, the first bad input, the value and the reference.
    """
    compiled = compile_form(form, probe_namespace())
    failures: dict[str, str] = {}
    for dtype in (np.float32, np.float64):
        points = PROBE_POINTS.astype(dtype)
        for what, function, reference in (
            ("f", compiled.f, f_reference),
            ("f'", compiled.df, df_reference),
        ):
            values = _evaluate(function, points)
            if values.dtype != dtype:
                raise ActivationError(
                    f"{what} of {form.f} returned {values.dtype} for {np.dtype(dtype)} input"
                )
            index = first_failure(values, reference, np.dtype(dtype))
            if index is not None and what not in failures:
                failures[what] = (
                    f"{np.dtype(dtype).name} {what}({float(points[index])!r}) = "
                    f"{float(values[index])!r}, expected {float(reference[index])!r}"
                )
    return failures


def needs_nan_guard(form: Form) -> tuple[bool, bool]:
    """Whether ``f`` and whether ``f'`` of ``form`` lose a NaN input."""
    compiled = compile_form(form, probe_namespace())
    nan = np.full((2,), np.nan)
    f, df = (_evaluate(g, nan) for g in (compiled.f, compiled.df))
    return (not bool(np.all(np.isnan(f))), not bool(np.all(np.isnan(df))))


# -- the t = exp(-|x|) rewrite ----------------------------------------------------------
def _linear_coefficient(arg: sympy.Expr, symbol: sympy.Symbol) -> sympy.Expr | None:
    coefficient = sympy.diff(arg, symbol)
    if coefficient.is_number and sympy.simplify(arg - coefficient * symbol) == 0:
        return coefficient
    return None


def _exp_linear(expr: sympy.Expr, symbol: sympy.Symbol) -> sympy.Expr:
    """Rewrite hyperbolic functions as exponentials where all of them are ``exp(k x)``."""

    def rewrite(node: sympy.Expr) -> sympy.Expr:
        candidate = node.rewrite(sympy.exp)
        linear = all(
            _linear_coefficient(e.args[0], symbol) is not None
            for e in candidate.atoms(sympy.exp)
        )
        return candidate if linear else node

    hyperbolic = (sympy.tanh, sympy.sinh, sympy.cosh)
    return expr.replace(lambda n: isinstance(n, hyperbolic), rewrite)


def _simplify_branch(branch: sympy.Expr, symbol: sympy.Symbol, log_t: sympy.Expr) -> sympy.Expr:
    """Cancel a branch written in ``t``; split logs so ``log(t)`` becomes ``-|x|``."""
    branch = branch.replace(sympy.log, lambda a: sympy.log(sympy.factor(sympy.cancel(a))))
    branch = sympy.expand_log(branch, force=True).subs(sympy.log(T), log_t)

    def as_log1p(arg: sympy.Expr) -> sympy.Expr:
        return log1p(arg - 1) if arg.subs(T, 0) == 1 else sympy.log(arg)

    branch = branch.replace(sympy.log, as_log1p)
    logs = branch.atoms(log1p, sympy.log, sympy.erf, sympy.erfc)
    if not logs:
        return sympy.factor(sympy.cancel(branch))
    return branch


def rewrite_stable(expr: sympy.Expr, symbol: sympy.Symbol) -> Form | None:
    """The ``t = exp(-|x|)`` two-branch form of ``expr``, or None if it has no ``exp(k x)``."""
    rewritten = _exp_linear(expr, symbol)
    coefficients = {
        e: _linear_coefficient(e.args[0], symbol) for e in rewritten.atoms(sympy.exp)
    }
    linear = {e: k for e, k in coefficients.items() if k is not None and k != 0}
    if not linear:
        return None
    branches = []
    for sign, log_t, dt in ((1, -symbol, -T), (-1, symbol, T)):
        substituted = rewritten.xreplace({e: T ** (-sign * k) for e, k in linear.items()})
        value = _simplify_branch(substituted, symbol, log_t)
        derivative = differentiate(value, symbol) + sympy.diff(value, T) * dt
        branches.append((value, derivative))
    (f_pos, df_pos), (f_neg, df_neg) = branches
    condition = symbol >= 0
    return Form(
        symbol=symbol,
        f=sympy.Piecewise((f_pos, condition), (f_neg, True)),
        df=sympy.Piecewise((df_pos, condition), (df_neg, True)),
        bindings=((T, sympy.exp(-sympy.Abs(symbol))),),
    )


# -- derivative from the output --------------------------------------------------------
GENERIC_OUTPUT_DERIVATIVES: tuple[sympy.Expr, ...] = (
    sympy.Integer(1),
    Y * (1 - Y),
    1 - Y**2,
    Y,
    -expm1(-Y),
    -expm1(Y),
    sympy.Heaviside(Y),
)
"""Candidates for ``f'`` as a function of ``y = f(x)``; each is verified before use."""


def _piecewise_output_candidate(expr: sympy.Expr, symbol: sympy.Symbol) -> sympy.Expr | None:
    """For ``Piecewise((c x, x > 0), (h(x), True))``: ``f'`` in terms of ``y`` per branch."""
    if not isinstance(expr, sympy.Piecewise) or len(expr.args) != 2:
        return None
    (first, condition), (default, _) = expr.args
    if condition != (symbol > 0) or first.diff(symbol).free_symbols or first.subs(symbol, 0) != 0:
        return None
    slope = first.diff(symbol)
    derivative = sympy.diff(default, symbol)
    if not derivative.free_symbols:
        return sympy.Piecewise((slope, Y > 0), (derivative, True))
    try:
        solutions = sympy.solve(sympy.Eq(Y, default.rewrite(sympy.exp)), symbol)
    except (NotImplementedError, ValueError, TypeError):
        return None
    if len(solutions) != 1:
        return None
    in_y = sympy.simplify(derivative.rewrite(sympy.exp).subs(symbol, solutions[0]))
    return sympy.Piecewise((slope, Y > 0), (in_y, True))


def _output_candidates(
    expr: sympy.Expr, symbol: sympy.Symbol, hints: Sequence[sympy.Expr]
) -> Iterator[sympy.Expr]:
    yield from hints
    piecewise = _piecewise_output_candidate(expr, symbol)
    if piecewise is not None:
        yield piecewise
    yield from GENERIC_OUTPUT_DERIVATIVES


def find_output_derivative(
    form: Form, expr: sympy.Expr, df_reference: np.ndarray, hints: Sequence[sympy.Expr] = ()
) -> sympy.Expr | None:
    """The first candidate ``g(y)`` with ``g(f(x)) == f'(x)`` verified on the probe.

    The check runs the compiled ``f`` then the compiled ``g`` in float32 and float64
    and applies the accuracy criterion against the mpmath derivative; NaN must stay NaN.
    """
    compiled_f = compile_form(form, probe_namespace()).f
    dtypes = (np.float32, np.float64)
    outputs = {dtype: _evaluate(compiled_f, PROBE_POINTS.astype(dtype)) for dtype in dtypes}
    for candidate in _output_candidates(expr, form.symbol, hints):
        from_output, _ = compile_function(candidate, Y, probe_namespace())
        ok = True
        for dtype in dtypes:
            values = _evaluate(from_output, outputs[dtype])
            wrong = first_failure(values, df_reference, np.dtype(dtype)) is not None
            if values.dtype != dtype or wrong:
                ok = False
                break
            nan = _evaluate(from_output, np.full((1,), np.nan, dtype=dtype))
            if not np.isnan(nan[0]):
                ok = False
                break
        if ok:
            return candidate
    return None


# -- entry point ------------------------------------------------------------------------
_FORMS: dict[str, Form] = {}


def _advice(expr: sympy.Expr, detail: str) -> str:
    return (
        f"the activation {expr} is not numerically stable: {detail}, and the automatic "
        "rewrite in t = exp(-|x|) did not fix it. Rewrite the expression (log1p, expm1, "
        "branches with Piecewise), or pass an explicit pair of array functions "
        "fn=(f, df), where f(z) and df(z) take and return arrays of the layer's backend"
    )


def stable_form(
    expr: sympy.Expr, symbol: sympy.Symbol, output_hints: Sequence[sympy.Expr] = ()
) -> Form:
    """Return the verified form of ``expr`` to compile (cached per expression).

    Parameters
    ----------
    expr : sympy.Expr
        The activation ``f`` in the single free symbol ``symbol``.
    symbol : sympy.Symbol
        The input variable.
    output_hints : sequence of sympy.Expr
        Extra candidates for ``f'`` in terms of :data:`Y` (verified like the others).

    Raises
    ------
    ActivationError
        If ``expr`` uses unsupported functions, is not real, or is not stable even after
        the rewrite (the message names the first bad input).
    """
    key = sympy.srepr((expr, symbol))
    cached = _FORMS.get(key)
    if cached is not None:
        return cached
    check_supported(expr)
    expr = canonical_steps(expr, symbol)
    for constant in expr.atoms(sympy.Number):
        float_value(constant)
    derivative = differentiate(expr, symbol)
    f_reference = reference_values(expr, symbol)
    df_reference = reference_values(derivative, symbol)
    form = Form(symbol=symbol, f=expr, df=derivative, key=key + "|direct")
    failures = probe(form, f_reference, df_reference)
    if failures:
        rewritten = rewrite_stable(expr, symbol)
        if rewritten is None:
            raise ActivationError(_advice(expr, next(iter(failures.values()))))
        form = replace(  # rewrite only what failed: the direct form is usually cheaper
            rewritten,
            f=rewritten.f if "f" in failures else expr,
            df=rewritten.df if "f'" in failures else derivative,
            key=f"{key}|rewritten{sorted(failures)}",
        )
        failures = probe(form, f_reference, df_reference)
        if failures:
            raise ActivationError(_advice(expr, next(iter(failures.values()))))
    guard = needs_nan_guard(form)
    if any(guard):
        form = replace(form, nan_guard=guard, key=f"{form.key}|nan{guard}")
    output = find_output_derivative(form, expr, df_reference, output_hints)
    if output is not None:
        form = replace(form, output_symbol=Y, df_from_output=output, key=form.key + "|output")
    _FORMS[key] = form
    return form
