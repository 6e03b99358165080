"""Numerical safety of compiled activations: verified candidates, chosen per function.

The first time an expression is compiled, :func:`stable_form` computes the bounded
mpmath reference of ``f`` and ``f'`` (:mod:`.reference`) and tries candidate forms in
order, probing each compiled candidate in float32 and float64 at
:data:`~.reference.PROBE_POINTS` (:mod:`.probe`); ``f`` and ``f'`` are chosen
separately, each the first candidate that passes:

1. the expression as written, and its derivative with ``tanh(u)'`` as
   ``u'/cosh(u)**2`` (:mod:`.cancellation`);
2. the ``t = exp(-r|x|)`` rewrite, for exponentials at any rate (:mod:`.exp_rewrite`);
3. the cancellation rewrites: ``expm1``, ``log1p``, conjugates of square roots
   (:mod:`.cancellation`), and the ``t`` rewrite of that;
   for a sum, each term rewritten on its own (its own rate ``t_i``): a term that
   overflows no longer spoils the others;
4. each of those with affine tails where the true function is affine to float64
   precision (:mod:`.tails`), for overflow inside composites (``tanh(exp(x))``,
   ``exp(-exp(x))``) and sums where one term overflows.

If none passes, :class:`ActivationError` names the first bad input of the expression as
written. Everything runs under one :class:`~.budget.Budget` (:data:`VERIFY_SECONDS` of
CPU time) and SymPy simplification only on small expressions, so any expression is
verified or refused in bounded time. The verdict is cached per expression.

Where ``f'`` is verified to equal a function of the output ``y = f(x)`` alone
(:mod:`.output_derivative`), the form carries it as ``df_from_output``. A derivative
that is 0 or undefined at every probe point gives the form a ``warning``.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np
import sympy

from ..errors import ActivationError
from .budget import VERIFY_SECONDS, Budget, run_bounded
from .cancellation import remove_cancellation, sech_derivative
from .exp_rewrite import T, rewrite_exponentials
from .form import Form, canonical_steps, check_supported, complete_piecewise, differentiate
from .output_derivative import GENERIC_OUTPUT_DERIVATIVES, Y, find_output_derivative
from .probe import (
    Reference,
    check_function,
    first_failure,
    loses_nan,
    misses,
    probe_namespace,
    tolerance,
)
from .reference import PROBE_POINTS, REFERENCE_SECONDS, reference_values
from .tails import affine_tails, between, holds, inside, with_tails

__all__ = [
    "GENERIC_OUTPUT_DERIVATIVES", "PROBE_POINTS", "REFERENCE_SECONDS", "T", "VERIFY_SECONDS",
    "Y", "first_failure", "misses", "probe_namespace", "reference_values", "stable_form",
    "tolerance",
]

Bindings = tuple[tuple[sympy.Symbol, sympy.Expr], ...]
KINKED = (sympy.Heaviside, sympy.Piecewise, sympy.Max, sympy.Min, sympy.Abs, sympy.sign)


@dataclass(frozen=True)
class Candidate:
    """One way to compute ``f`` and ``f'``."""

    label: str
    f: sympy.Expr
    df: sympy.Expr
    bindings: Bindings = ()


def _candidates(expr: sympy.Expr, derivative: sympy.Expr, symbol: sympy.Symbol,
                budget: Budget) -> Iterator[Candidate]:
    """The candidate forms, cheapest and closest to the expression first (lazily)."""
    yield Candidate("direct", expr, derivative)
    if expr.has(sympy.tanh):
        yield Candidate("sech", expr, sech_derivative(expr, symbol))
    budget.check("the exp(-r|x|) rewrite")
    rewritten = rewrite_exponentials(expr, symbol)
    if rewritten is not None:
        yield Candidate("rewritten", rewritten.f, rewritten.df, rewritten.bindings)
    budget.check("the cancellation rewrites")
    ruled = remove_cancellation(expr)
    if ruled != expr:
        yield Candidate("cancellation", ruled, sech_derivative(ruled, symbol))
        budget.check("the exp(-r|x|) rewrite")
        both = rewrite_exponentials(ruled, symbol)
        if both is not None:
            yield Candidate("cancellation+rewritten", both.f, both.df, both.bindings)
    coefficient, rest = expr.as_coeff_Mul()
    if isinstance(rest, sympy.Add):
        budget.check("the per-term rewrite")
        yield _per_term(coefficient, rest, symbol)


def _per_term(coefficient: sympy.Expr, expr: sympy.Add, symbol: sympy.Symbol) -> Candidate:
    """``coefficient`` times each term of a sum rewritten on its own (its own ``t_i``)."""
    fs: list[sympy.Expr] = []
    dfs: list[sympy.Expr] = []
    bindings: list[tuple[sympy.Symbol, sympy.Expr]] = []
    for index, term in enumerate(expr.args):
        rewritten = rewrite_exponentials(term, symbol, sympy.Symbol(f"t{index}", positive=True))
        if rewritten is None:
            ruled = remove_cancellation(term)
            fs.append(ruled)
            dfs.append(sech_derivative(ruled, symbol))
        else:
            fs.append(rewritten.f)
            dfs.append(rewritten.df)
            bindings.extend(rewritten.bindings)
    f, df = coefficient * sympy.Add(*fs), coefficient * sympy.Add(*dfs)
    return Candidate("per-term", f, df, tuple(bindings))


def _reference(expr: sympy.Expr, symbol: sympy.Symbol, budget: Budget) -> Reference:
    values = reference_values(expr, symbol, budget=budget)
    if not expr.has(*KINKED):
        return Reference(values)
    # Only where a side jumps away from the value: elsewhere the sides equal the value, so
    # the float64 criterion is not loosened by the width of the nudge.
    rtol, floor = tolerance(np.dtype(np.float32))
    sides = []
    for side in (-1, 1):
        near = reference_values(expr, symbol, side, budget)
        with np.errstate(invalid="ignore"):
            jump = ~(np.abs(near - values) <= rtol * (np.abs(values) + floor))
        sides.append(np.where(jump & ~np.isnan(near), near, values))
    return Reference(values, tuple(sides))


class _Chooser:
    """Picks ``f`` and ``f'`` from the candidates, with tails as a second pass."""

    def __init__(
        self,
        symbol: sympy.Symbol,
        exprs: tuple[sympy.Expr, sympy.Expr],
        references: dict[str, Reference],
    ) -> None:
        self.symbol = symbol
        self.exprs = exprs
        self.references = references
        self.chosen: dict[str, tuple[sympy.Expr, Bindings, str]] = {}
        self.first_detail: dict[str, str] = {}
        self.seen: list[tuple[Candidate, str, np.ndarray]] = []

    def compatible(self, bindings: Bindings) -> bool:
        bound = dict(b for _, bs, _ in self.chosen.values() for b in bs)
        return all(bound.get(s, v) == v for s, v in bindings)

    def offer(self, candidate: Candidate) -> None:
        for what, expr in (("f", candidate.f), ("f'", candidate.df)):
            if what in self.chosen or not self.compatible(candidate.bindings):
                continue
            verdict = check_function(
                what, expr, self.symbol, candidate.bindings, self.references[what]
            )
            self.first_detail.setdefault(what, verdict.detail)
            if verdict.ok:
                self.chosen[what] = (expr, candidate.bindings, candidate.label)
            else:
                self.seen.append((candidate, what, verdict.bad))

    def offer_tails(self, budget: Budget) -> None:
        tails = affine_tails(
            PROBE_POINTS, self.references["f"].values, self.references["f'"].values
        )
        if tails == (None, None):
            return
        midpoints = between(PROBE_POINTS, tails)
        budget.check("the affine tails")
        expr, derivative = self.exprs
        f_mid = reference_values(expr, self.symbol, budget=budget, points=midpoints)
        df_mid = reference_values(derivative, self.symbol, budget=budget, points=midpoints)
        if not holds(tails, midpoints, f_mid, df_mid):
            return
        middle = inside(PROBE_POINTS, tails)
        for candidate, what, bad in self.seen:
            if what in self.chosen or (bad & middle).any():
                continue
            if not self.compatible(candidate.bindings):
                continue
            budget.check("the affine tails")
            expr = candidate.f if what == "f" else candidate.df
            tailed = with_tails(expr, self.symbol, tails, derivative=what == "f'")
            verdict = check_function(
                what, tailed, self.symbol, candidate.bindings, self.references[what]
            )
            if verdict.ok:
                self.chosen[what] = (tailed, candidate.bindings, candidate.label + "+tails")

    @property
    def done(self) -> bool:
        return len(self.chosen) == 2


def _advice(expr: sympy.Expr, detail: str) -> str:
    return (
        f"the activation {expr} is not numerically stable: {detail}, and no automatic "
        "rewrite (exp(-r|x|) branches, expm1/log1p/conjugate forms, affine tails) fixed "
        "it. Rewrite the expression (log1p, expm1, branches with Piecewise), or pass an "
        "explicit pair of array functions fn=(f, df), where f(z) and df(z) take and "
        "return arrays of the layer's backend"
    )


def _degenerate(expr: sympy.Expr, df_values: np.ndarray) -> str:
    if np.any(np.isfinite(df_values) & (df_values != 0)):
        return ""
    return (
        f"the derivative of the activation {expr} is 0 (or undefined) at every probe point "
        "in [-1e4, 1e4]: gradients through it vanish and the layers below it will not learn"
    )


_FORMS: dict[str, Form] = {}


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
        If ``expr`` uses unsupported functions, is not real, is undefined somewhere (a
        ``Piecewise`` without a default), is not stable in any candidate form (the
        message names the first bad input), or takes more than :data:`VERIFY_SECONDS`.
    """
    key = sympy.srepr((expr, symbol))
    cached = _FORMS.get(key)
    if cached is not None:
        return cached
    budget = Budget(expr)
    form = run_bounded(budget, lambda: _verify(expr, symbol, output_hints, budget, key))
    _FORMS[key] = form
    return form


def _verify(
    expr: sympy.Expr,
    symbol: sympy.Symbol,
    output_hints: Sequence[sympy.Expr],
    budget: Budget,
    key: str,
) -> Form:
    """The work of :func:`stable_form`, under ``budget``."""
    check_supported(expr)
    expr = canonical_steps(complete_piecewise(expr, symbol), symbol)
    derivative = differentiate(expr, symbol)
    references = {
        "f": _reference(expr, symbol, budget),
        "f'": _reference(derivative, symbol, budget),
    }
    chooser = _Chooser(symbol, (expr, derivative), references)
    for candidate in _candidates(expr, derivative, symbol, budget):
        budget.check(f"the {candidate.label} form")
        chooser.offer(candidate)
        if chooser.done:
            break
    if not chooser.done:
        chooser.offer_tails(budget)
    if not chooser.done:
        missing = "f" if "f" not in chooser.chosen else "f'"
        raise ActivationError(_advice(expr, chooser.first_detail[missing]))
    (f, f_bindings, f_label), (df, df_bindings, df_label) = (
        chooser.chosen["f"], chooser.chosen["f'"],
    )
    bindings = tuple(dict.fromkeys(f_bindings + df_bindings))
    guard = (loses_nan(f, symbol, bindings), loses_nan(df, symbol, bindings))
    form = Form(
        symbol=symbol, f=f, df=df, bindings=bindings, nan_guard=guard,
        key=f"{key}|f:{f_label}|df:{df_label}|nan{guard}",
        warning=_degenerate(expr, references["f'"].values),
    )
    output = find_output_derivative(form, expr, references["f'"].values, output_hints)
    if output is not None:
        form = Form(
            symbol=symbol, f=f, df=df, bindings=bindings, nan_guard=guard,
            output_symbol=Y, df_from_output=output, key=form.key + "|output",
            warning=form.warning,
        )
    return form
