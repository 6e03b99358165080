"""The ``t = exp(-r|x|)`` rewrite: exponentials at any rate, without overflow.

Every ``exp(k x + c)`` (and ``tanh``, ``sinh``, ``cosh`` of such arguments, rewritten as
exponentials) becomes ``exp(c) * t**(-n)`` on ``x >= 0`` and ``exp(c) * t**n`` on
``x < 0``, where ``r`` is the common rate of all ``k`` (``k = n r`` with small integers
``n``: rates ``1`` and ``1/2`` give ``r = 1/2``; a single rate ``1.702`` gives
``r = 1.702``). Each branch, a rational function of ``t`` in ``[0, 1]``, is cancelled so
no intermediate overflows, and ``log(t)`` becomes ``-r|x|`` (``log((1+t)/t) -> log1p(t)
+ r x``). ``f'`` is differentiated per branch with ``dt/dx = -/+ r t``. SymPy steps run
only on small expressions of low degree (:func:`~.budget.simplifiable`).
"""

from __future__ import annotations

import math
from fractions import Fraction

import sympy
from sympy.codegen.cfunctions import log1p

from .budget import simplifiable
from .form import Form, differentiate

T = sympy.Symbol("t", positive=True)
"""The rewrite variable ``t = exp(-r|x|)``."""

MAX_RATE_MULTIPLE = 8
"""Largest ``|k| / r`` the rewrite accepts (the degree of the rational function in t)."""


def linear_parts(arg: sympy.Expr, symbol: sympy.Symbol) -> tuple[sympy.Expr, sympy.Expr] | None:
    """``(k, c)`` with ``arg == k*symbol + c`` for numbers ``k`` and ``c``, or None."""
    slope = sympy.diff(arg, symbol)
    if not slope.is_number:
        return None
    constant = sympy.expand(arg - slope * symbol)
    if constant.free_symbols:
        return None
    return slope, constant


def _exp_linear(expr: sympy.Expr, symbol: sympy.Symbol) -> sympy.Expr:
    """Rewrite hyperbolic functions of linear arguments as exponentials."""

    def rewrite(node: sympy.Expr) -> sympy.Expr:
        if linear_parts(node.args[0], symbol) is None:
            return node
        return node.rewrite(sympy.exp)

    hyperbolic = (sympy.tanh, sympy.sinh, sympy.cosh)
    return expr.replace(lambda n: isinstance(n, hyperbolic), rewrite)


def common_rate(rates: set[float]) -> tuple[float, dict[float, int]] | None:
    """The rate ``r`` with every rate an integer multiple ``n r`` (``|n| <= 8``), or None."""
    smallest = min(rates)
    fractions: dict[float, Fraction] = {}
    for rate in rates:
        ratio = Fraction(rate / smallest).limit_denominator(MAX_RATE_MULTIPLE)
        if abs(float(ratio) - rate / smallest) > 1e-12 * rate / smallest:
            return None
        fractions[rate] = ratio
    lcm = math.lcm(*(f.denominator for f in fractions.values()))
    multiples = {rate: int(f * lcm) for rate, f in fractions.items()}
    if max(multiples.values()) > MAX_RATE_MULTIPLE:
        return None
    return smallest / lcm, multiples


def _simplify_branch(
    branch: sympy.Expr, t: sympy.Symbol, log_t: sympy.Expr
) -> sympy.Expr | None:
    """Cancel a branch written in ``t``; split logs so ``log(t)`` becomes linear in x.

    None where the branch has no logs and is too large to cancel within the budget.
    """

    def cancel_log(arg: sympy.Expr) -> sympy.Expr:
        return sympy.log(sympy.factor(sympy.cancel(arg)) if simplifiable(arg) else arg)

    branch = branch.replace(sympy.log, cancel_log)
    branch = sympy.expand_log(branch, force=True).subs(sympy.log(t), log_t)

    def as_log1p(arg: sympy.Expr) -> sympy.Expr:
        return log1p(arg - 1) if arg.subs(t, 0) == 1 else sympy.log(arg)

    branch = branch.replace(sympy.log, as_log1p)
    if branch.atoms(log1p, sympy.log, sympy.erf, sympy.erfc):
        return branch
    if not simplifiable(branch):
        return None  # uncancelled, it would overflow like the original: not worth a probe
    return sympy.factor(sympy.cancel(branch))


def rewrite_exponentials(
    expr: sympy.Expr, symbol: sympy.Symbol, t: sympy.Symbol = T
) -> Form | None:
    """The two-branch ``t`` form of ``expr``, or None if it has no usable ``exp(k x)``.

    ``t`` names the rewrite variable (distinct symbols let the terms of a sum each have
    their own rate).
    """
    rewritten = _exp_linear(expr, symbol)
    parts = {e: linear_parts(e.args[0], symbol) for e in rewritten.atoms(sympy.exp)}
    linear = {e: p for e, p in parts.items() if p is not None and p[0] != 0}
    if not linear:
        return None
    rates = {abs(float(k)) for k, _ in linear.values()}
    found = common_rate(rates)
    if found is None:
        return None
    rate, multiples = found
    branches = []
    for sign in (1, -1):
        replacements = {
            e: sympy.exp(c) * t ** (-sign * int(math.copysign(multiples[abs(float(k))], k)))
            for e, (k, c) in linear.items()
        }
        value = _simplify_branch(rewritten.xreplace(replacements), t, -sign * rate * symbol)
        if value is None:
            return None
        derivative = differentiate(value, symbol) + sympy.diff(value, t) * (-sign * rate * t)
        branches.append((value, derivative))
    (f_pos, df_pos), (f_neg, df_neg) = branches
    condition = symbol >= 0
    return Form(
        symbol=symbol,
        f=sympy.Piecewise((f_pos, condition), (f_neg, True)),
        df=sympy.Piecewise((df_pos, condition), (df_neg, True)),
        bindings=((t, sympy.exp(-rate * sympy.Abs(symbol))),),
    )
