"""The compiler's intermediate representation: :class:`Form`, and the symbolic steps.

Conventions
-----------
- Kinks take the derivative from the left: ``Heaviside(g)`` is 0 at ``g = 0`` when
  ``g`` increases with ``x`` and 1 when it decreases (so ``relu'(0) = 0``; linear
  ``g`` only, any other argument counts as increasing), and ``Abs(g)`` is
  differentiated as ``Max(g, -g)`` (so ``|x|'(0) = -1``). A ``Piecewise`` follows the
  conditions as written (the built-ins use ``x > 0``, which gives the left derivative).
- NaN in gives NaN out: printers keep NaN through steps and ``Piecewise`` defaults, and a
  form can ask for an explicit NaN guard on its outputs (:class:`Form`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import sympy

from ..errors import ActivationError
from .budget import small_enough
from .nodes import SUPPORTED_NODES, spec_of

X = sympy.Symbol("x", real=True)
"""The input symbol of every activation (built-ins, user expressions, model files)."""

MAX_EXPANDED_POWER = 4
"""Integer powers up to this magnitude are printed as repeated multiplication."""

Step = tuple[str, sympy.Symbol, sympy.Expr]
"""One assignment of straight-line code: ``(local name, symbol, value)``."""


@dataclass(frozen=True)
class Form:
    """What gets compiled for one activation: ``f``, ``f'`` and helpers, symbolically.

    Attributes
    ----------
    symbol : sympy.Symbol
        The input variable.
    f, df : sympy.Expr
        Value and derivative; may use the symbols bound in ``bindings``.
    bindings : tuple of (sympy.Symbol, sympy.Expr)
        Symbols computed first, in order (``t = exp(-|x|)`` for the stable rewrite).
    output_symbol : sympy.Symbol or None
        The symbol ``df_from_output`` is written in (the output ``y = f(x)``).
    df_from_output : sympy.Expr or None
        ``f'`` as a function of ``y = f(x)`` alone, when verified.
    nan_guard : (bool, bool)
        Force NaN outputs of ``f`` / ``f'`` for NaN inputs (where the formulas alone
        would lose NaN, e.g. a constant derivative).
    key : str
        Identity of the form for caches.
    warning : str
        Why the activation is suspect though valid (its derivative vanishes at every
        probe point), or ``""``; :class:`~anynn.activation.Activation` emits it.
    """

    symbol: sympy.Symbol
    f: sympy.Expr
    df: sympy.Expr
    bindings: tuple[tuple[sympy.Symbol, sympy.Expr], ...] = ()
    output_symbol: sympy.Symbol | None = None
    df_from_output: sympy.Expr | None = None
    nan_guard: tuple[bool, bool] = (False, False)
    key: str = field(default="", compare=False)
    warning: str = field(default="", compare=False)


def float_value(value: sympy.Basic) -> float:
    """Evaluate a numeric SymPy subtree to a Python float, or raise ActivationError."""
    try:
        number = complex(sympy.N(value, 30))
    except (TypeError, ValueError) as exc:
        raise ActivationError(f"cannot evaluate the constant {value} to a number") from exc
    if number.imag != 0.0:
        raise ActivationError(f"the constant {value} is not real ({number})")
    if not math.isfinite(number.real):
        raise ActivationError(f"the constant {value} is not finite")
    return float(number.real)


def heaviside_includes_zero(arg: sympy.Expr, symbol: sympy.Symbol) -> bool:
    """Whether ``Heaviside(arg)`` is 1 at ``arg = 0`` under the left-derivative convention.

    That is the case when ``arg`` is linear in ``symbol`` with a negative slope (the step
    is then approached from the side where it is 1). Any other argument counts as
    increasing.
    """
    slope = sympy.diff(arg, symbol)
    return bool(slope.is_number and slope.is_negative)


def canonical_steps(expr: sympy.Expr, symbol: sympy.Symbol) -> sympy.Expr:
    """Rewrite ``Heaviside(g)`` for decreasing ``g`` as ``1 - Heaviside(-g)``.

    Afterwards every ``Heaviside`` is 0 at 0 (its argument increases), so printers need
    no knowledge of ``symbol`` even after ``cse`` has replaced arguments by temporaries.
    """

    def step(arg: sympy.Expr, *_: sympy.Expr) -> sympy.Expr:
        if heaviside_includes_zero(arg, symbol):
            return 1 - sympy.Heaviside(-arg)
        return sympy.Heaviside(arg)

    return expr.replace(sympy.Heaviside, step)


def differentiate(expr: sympy.Expr, symbol: sympy.Symbol) -> sympy.Expr:
    """``d expr / d symbol`` with anynn's kink convention (``Abs`` as ``Max(g, -g)``)."""
    prepared = expr.replace(sympy.Abs, lambda arg: sympy.Max(arg, -arg))
    return canonical_steps(sympy.diff(prepared, symbol), symbol)


def unsupported(node: sympy.Basic, context: sympy.Basic) -> ActivationError:
    """The error for a node outside the table."""
    return ActivationError(
        f"anynn cannot compile {type(node).__name__} (the part {node} of {context}); "
        "supported: " + ", ".join(SUPPORTED_NODES)
    )


def check_supported(expr: sympy.Basic) -> None:
    """Raise ActivationError naming the first node anynn cannot compile."""
    for node in sympy.preorder_traversal(expr):
        if isinstance(node, sympy.Expr) and node.is_number:
            float_value(node)
        elif not isinstance(node, (sympy.Symbol, sympy.logic.boolalg.BooleanAtom)) and (
            spec_of(node) is None
        ):
            raise unsupported(node, expr)


def sum_terms(expr: sympy.Add) -> tuple[list[sympy.Expr], list[sympy.Expr]]:
    """``expr``'s terms in printing order: ``(added, subtracted)``.

    Added terms come first, arrays before numbers, then the negated terms to subtract, so
    every printer writes ``1.0 - y*y`` rather than ``-y*y + 1.0``.
    """
    added = [t for t in expr.args if not t.as_coeff_Mul()[0].is_negative]
    subtracted = [-t for t in expr.args if t.as_coeff_Mul()[0].is_negative]
    added.sort(key=lambda t: bool(t.is_number))
    return added, subtracted


def product_factors(expr: sympy.Mul) -> tuple[list[sympy.Expr], list[sympy.Expr]]:
    """``expr``'s factors split as ``(numerator, denominator)``.

    A factor with a negative numeric exponent goes to the denominator with the exponent
    made positive, so printers divide once instead of raising to a negative power.
    """
    numerator: list[sympy.Expr] = []
    denominator: list[sympy.Expr] = []
    for factor in expr.args:
        base, exponent = factor.as_base_exp()
        if not factor.is_number and exponent.is_Number and exponent < 0:
            denominator.append(sympy.Pow(base, -exponent))
        else:
            numerator.append(factor)
    return numerator, denominator


def straight_line(
    exprs: Sequence[sympy.Expr],
    bindings: Sequence[tuple[sympy.Symbol, sympy.Expr]],
    binding_prefix: str,
    temp_prefix: str,
) -> tuple[list[Step], list[sympy.Expr]]:
    """Straight-line code for ``exprs``: the used bindings, then common subexpressions.

    Returns the assignments in order (binding ``i`` is named ``{binding_prefix}{i}``,
    ``sympy.cse`` temporaries ``{temp_prefix}0, 1, ...``) and the reduced expressions.
    """
    used = set().union(*(e.free_symbols for e in exprs)) if exprs else set()
    steps: list[Step] = [
        (f"{binding_prefix}{index}", bound, value)
        for index, (bound, value) in enumerate(bindings)
        if bound in used
    ]
    replacements, reduced = sympy.cse(list(exprs), symbols=sympy.numbered_symbols(temp_prefix))
    steps.extend((temp.name, temp, value) for temp, value in replacements)
    return steps, list(reduced)


def _complete(piecewise: sympy.Piecewise, symbol: sympy.Symbol) -> sympy.Expr:
    *branches, (last_value, last_condition) = piecewise.args
    if last_condition == sympy.true:
        return piecewise
    conditions = [c for _, c in piecewise.args]
    where = "where none of its conditions holds"
    if small_enough(piecewise, 60):
        try:
            undefined = sympy.Not(sympy.Or(*conditions)).as_set()
        except (NotImplementedError, TypeError, ValueError):
            undefined = None
        if undefined is sympy.S.EmptySet:
            return sympy.Piecewise(*branches, (last_value, True))
        if undefined is not None:
            where = f"for {symbol} in {undefined}"
    raise ActivationError(
        f"the Piecewise {piecewise} is undefined {where}: add a default branch "
        "(value, True) as its last pair"
    )


def complete_piecewise(expr: sympy.Expr, symbol: sympy.Symbol) -> sympy.Expr:
    """Make each ``Piecewise`` end with a ``True`` condition where its conditions cover
    every real; raise :class:`ActivationError` saying where one is undefined otherwise."""
    return expr.replace(
        lambda n: isinstance(n, sympy.Piecewise), lambda n: _complete(n, symbol)
    )
