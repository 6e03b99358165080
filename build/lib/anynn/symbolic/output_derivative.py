"""``f'`` as a function of the output ``y = f(x)``, where verified (a speed win).

Where ``f'`` equals a function of ``y`` alone (``y*(1-y)`` for sigmoid, ``1-y**2`` for
tanh, ...) to the probe's criterion, the backward pass can use the stored output instead
of recomputing ``exp``. Candidates are hints from the caller, a per-branch inversion of
``Piecewise((c x, x > 0), (h(x), True))``, and a few generic forms; each is verified.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import numpy as np
import sympy
from sympy.codegen.cfunctions import expm1

from .budget import small_enough
from .form import Form
from .probe import DTYPES, evaluate, first_failure, probe_namespace
from .reference import PROBE_POINTS
from .xp_codegen import compile_form, compile_function

Y = sympy.Symbol("y", real=True)
"""The output variable of ``df_from_output``."""

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
    if not small_enough(default, 12):
        return None
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
    outputs = {dtype: evaluate(compiled_f, PROBE_POINTS.astype(dtype)) for dtype in DTYPES}
    for candidate in _output_candidates(expr, form.symbol, hints):
        from_output, _ = compile_function(candidate, Y, probe_namespace())
        ok = True
        for dtype in DTYPES:
            values = evaluate(from_output, outputs[dtype])
            wrong = first_failure(values, df_reference, np.dtype(dtype)) is not None
            if values.dtype != dtype or wrong:
                ok = False
                break
            nan = evaluate(from_output, np.full((1,), np.nan, dtype=dtype))
            if not np.isnan(nan[0]):
                ok = False
                break
        if ok:
            return candidate
    return None
