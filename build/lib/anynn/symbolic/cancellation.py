"""Local rewrites that remove cancellation: ``expm1``, ``log1p``, conjugates, ``sech**2``.

Each rule rewrites one ``Add`` (or ``log``) node into an equal expression that loses no
digits where the original subtracts nearly equal numbers; rules apply bottom-up over the
whole tree, so they work inside any composite:

- ``m*exp(u) - m`` -> ``m*expm1(u)`` (``1 - exp(-exp(x))``, CELU's ``a*(exp(x/a) - 1)``,
  whose float32 rounding to 0 near 0 would move the kink);
- ``log(1 + v)`` -> ``log1p(v)``;
- ``a + s`` with ``s`` holding a square root and ``a**2 - s**2`` free of it (and small)
  -> ``a + s`` where ``a`` and ``s`` have the same sign, else ``(a**2 - s**2) / (a - s)``
  (``x + sqrt(x**2 + c)`` for ``x -> -oo``);
- ``tanh(u)' = u' / cosh(u)**2`` instead of ``u' (1 - tanh(u)**2)`` (relative accuracy
  where ``tanh(u)`` rounds to 1, and no cancellation across the terms of a sum).

They are candidates like any other form: :mod:`.stability` keeps them only when the
probe says they are accurate.
"""

from __future__ import annotations

import sympy
from sympy.codegen.cfunctions import expm1, log1p

from .budget import simplifiable, small_enough
from .form import differentiate

RELATIVE_MATCH = 1e-15
"""Two constants cancel when they agree to this relative difference."""


def _numbers_cancel(a: sympy.Expr, b: sympy.Expr) -> bool:
    value_a, value_b = float(a), float(b)
    return abs(value_a + value_b) <= RELATIVE_MATCH * max(abs(value_a), abs(value_b))


def _expm1_rule(node: sympy.Add) -> sympy.Expr:
    constant, rest = node.as_coeff_Add()
    if constant == 0:
        return node
    terms = list(sympy.Add.make_args(rest))
    for index, term in enumerate(terms):
        coefficient, factor = term.as_coeff_Mul()
        if isinstance(factor, sympy.exp) and _numbers_cancel(coefficient, constant):
            others = terms[:index] + terms[index + 1 :]
            return sympy.Add(*others, coefficient * expm1(factor.args[0]))
    return node


def _log1p_rule(node: sympy.log) -> sympy.Expr:
    argument = node.args[0]
    if isinstance(argument, sympy.Add):
        constant, rest = argument.as_coeff_Add()
        if constant == 1:
            return log1p(rest)
    return node


def _has_root(term: sympy.Expr) -> bool:
    return any(
        isinstance(p, sympy.Pow) and p.exp in (sympy.Rational(1, 2), sympy.Rational(-1, 2))
        for p in sympy.preorder_traversal(term)
    )


def _conjugate_rule(node: sympy.Add) -> sympy.Expr:
    terms = sympy.Add.make_args(node)
    rooted = [t for t in terms if _has_root(t)]
    if len(rooted) != 1 or len(terms) < 2 or not small_enough(node, 40):
        return node
    if not simplifiable(node):
        return node
    s = rooted[0]
    a = sympy.Add(*(t for t in terms if t is not s))
    difference = sympy.cancel(sympy.expand(a**2 - s**2))
    if _has_root(difference) or not small_enough(difference, 25):
        return node
    return sympy.Piecewise((a + s, a * s >= 0), (difference / (a - s), True))


class _SechTanh(sympy.tanh):
    """``tanh`` whose derivative is ``1/cosh(u)**2`` (SymPy's is ``1 - tanh(u)**2``)."""

    def fdiff(self, argindex: int = 1) -> sympy.Expr:
        return 1 / sympy.cosh(self.args[0]) ** 2


def remove_cancellation(expr: sympy.Expr) -> sympy.Expr:
    """Apply the ``expm1``, ``log1p`` and conjugate rules everywhere in ``expr``."""
    expr = expr.replace(lambda n: isinstance(n, sympy.Add), _expm1_rule)
    expr = expr.replace(lambda n: isinstance(n, sympy.log), _log1p_rule)
    return expr.replace(lambda n: isinstance(n, sympy.Add), _conjugate_rule)


def sech_derivative(expr: sympy.Expr, symbol: sympy.Symbol) -> sympy.Expr:
    """``f'`` with every ``tanh(u)`` differentiated as ``u' / cosh(u)**2``.

    SymPy's ``u' (1 - tanh(u)**2)`` is distributed and summed over the terms, and the
    constants of a sum of ``tanh`` then cancel to an absolute error of ``eps`` times
    their total where the true value is tiny.
    """
    marked = expr.replace(sympy.tanh, _SechTanh)
    derivative = differentiate(marked, symbol)
    return derivative.replace(lambda n: isinstance(n, _SechTanh), lambda n: sympy.tanh(*n.args))
