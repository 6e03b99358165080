"""SymPy expressions to Array API code, compiled per backend.

anynn does not use ``sympy.lambdify`` (see DESIGN.md): this module prints an expression
with its own whitelist-based printer, which emits only standard Array API calls, folds
numeric subtrees to Python float literals (so float32 stays float32), expands small
integer powers, and shares common subexpressions of ``f`` and ``f'`` through
``sympy.cse``. The generated source is built from whitelisted node types only; it never
contains text taken from user input or files.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from types import ModuleType
from typing import Any

import sympy
from sympy.codegen.cfunctions import expm1, log1p

from .errors import ActivationError

Array = Any
ArrayFunction = Callable[[Array], Array]

MAX_EXPANDED_POWER = 4
"""Integer powers up to this magnitude are printed as repeated multiplication."""

_UNARY_FUNCTIONS: dict[type, str] = {
    sympy.exp: "xp.exp",
    sympy.log: "xp.log",
    sympy.sin: "xp.sin",
    sympy.cos: "xp.cos",
    sympy.tan: "xp.tan",
    sympy.asin: "xp.asin",
    sympy.acos: "xp.acos",
    sympy.atan: "xp.atan",
    sympy.sinh: "xp.sinh",
    sympy.cosh: "xp.cosh",
    sympy.tanh: "xp.tanh",
    sympy.asinh: "xp.asinh",
    sympy.acosh: "xp.acosh",
    sympy.atanh: "xp.atanh",
    sympy.Abs: "xp.abs",
    sympy.sign: "xp.sign",
    log1p: "xp.log1p",
    expm1: "xp.expm1",
    sympy.erf: "_special.erf",
    sympy.erfc: "_special.erfc",
}

_RELATIONS: dict[type, str] = {
    sympy.StrictGreaterThan: ">",
    sympy.GreaterThan: ">=",
    sympy.StrictLessThan: "<",
    sympy.LessThan: "<=",
    sympy.Equality: "==",
    sympy.Unequality: "!=",
}

SUPPORTED_NODES = (
    sorted(f.__name__ for f in _UNARY_FUNCTIONS)
    + ["Add", "Mul", "Pow", "Max", "Min", "Heaviside", "Piecewise", "DiracDelta"]
    + sorted(r.__name__ for r in _RELATIONS)
)


def _float_literal(value: sympy.Expr) -> str:
    """Fold a numeric SymPy subtree to a Python float literal, or raise."""
    try:
        number = complex(sympy.N(value, 30))
    except (TypeError, ValueError) as exc:
        raise ActivationError(f"cannot evaluate the constant {value} to a number") from exc
    if number.imag != 0.0:
        raise ActivationError(f"the constant {value} is not real ({number})")
    if not math.isfinite(number.real):
        raise ActivationError(f"the constant {value} is not finite")
    return repr(float(number.real))


class ArrayApiPrinter:
    """Print SymPy expressions in one symbol as Array API Python source.

    Parameters
    ----------
    symbol : sympy.Symbol
        The input variable; it is printed as ``x``.
    """

    def __init__(self, symbol: sympy.Symbol) -> None:
        self.symbol = symbol
        self.names: dict[sympy.Symbol, str] = {symbol: "x"}

    def bind(self, symbol: sympy.Symbol, name: str) -> None:
        """Print ``symbol`` as the local variable ``name`` (used for cse temporaries)."""
        self.names[symbol] = name

    def array(self, expr: sympy.Expr) -> str:
        """Print ``expr`` so the result is always an array shaped like ``x``."""
        if expr.is_number:
            return f"xp.full_like(x, {_float_literal(expr)})"
        return self.print(expr)

    def print(self, expr: sympy.Basic) -> str:
        """Print ``expr``; numeric subtrees become Python float literals."""
        if expr.is_number and not isinstance(expr, sympy.logic.boolalg.BooleanAtom):
            return _float_literal(expr)
        if isinstance(expr, sympy.Symbol):
            if expr not in self.names:
                raise ActivationError(f"unexpected free symbol {expr} in the expression")
            return self.names[expr]
        method = getattr(self, f"_print_{type(expr).__name__}", None)
        if method is not None:
            return str(method(expr))
        for kind, name in _UNARY_FUNCTIONS.items():
            if isinstance(expr, kind):
                return f"{name}({self.print(expr.args[0])})"
        for kind, op in _RELATIONS.items():
            if isinstance(expr, kind):
                return f"({self.print(expr.args[0])} {op} {self.print(expr.args[1])})"
        raise ActivationError(
            f"anynn cannot compile {type(expr).__name__} (in {expr}); supported nodes: "
            + ", ".join(SUPPORTED_NODES)
        )

    def _print_Add(self, expr: sympy.Add) -> str:
        terms = sorted(expr.args, key=lambda t: t.is_number)  # arrays first
        text = self.print(terms[0])
        for term in terms[1:]:
            coeff, rest = term.as_coeff_Mul()
            if coeff.is_number and coeff < 0:
                text += f" - {self.print(-term)}"
            else:
                text += f" + {self.print(term)}"
        return f"({text})"

    def _print_Mul(self, expr: sympy.Mul) -> str:
        coeff, rest = expr.as_coeff_Mul()
        if coeff == -1:
            return f"(-{self.print(rest)})"
        numerator: list[str] = []
        denominator: list[str] = []
        for factor in expr.args:
            base, exponent = factor.as_base_exp()
            if (
                not factor.is_number
                and exponent.is_Number
                and exponent < 0
            ):
                denominator.append(self.print(sympy.Pow(base, -exponent)))
            else:
                numerator.append(self.print(factor))
        text = " * ".join(numerator) if numerator else "1.0"
        if denominator:
            text += " / " + (
                denominator[0] if len(denominator) == 1 else "(" + " * ".join(denominator) + ")"
            )
        return f"({text})"

    def _print_Pow(self, expr: sympy.Pow) -> str:
        base, exponent = expr.args
        if base.is_number:
            return f"xp.exp({_float_literal(sympy.log(base))} * {self.print(exponent)})"
        if exponent.is_Integer and abs(int(exponent)) <= MAX_EXPANDED_POWER:
            n = int(exponent)
            inner = self.print(base)
            product = "(" + " * ".join([inner] * abs(n)) + ")"
            return product if n > 0 else f"(1.0 / {product})"
        if exponent == sympy.Rational(1, 2):
            return f"xp.sqrt({self.print(base)})"
        if exponent == sympy.Rational(-1, 2):
            return f"(1.0 / xp.sqrt({self.print(base)}))"
        return f"({self.print(base)} ** {self.print(exponent)})"

    def _minmax(self, expr: sympy.Basic, name: str) -> str:
        args = [self.print(a) for a in expr.args]
        text = args[0]
        for arg in args[1:]:
            text = f"xp.{name}({text}, {arg})"
        return text

    def _print_Max(self, expr: sympy.Max) -> str:
        return self._minmax(expr, "maximum")

    def _print_Min(self, expr: sympy.Min) -> str:
        return self._minmax(expr, "minimum")

    def _print_Heaviside(self, expr: sympy.Heaviside) -> str:
        # anynn's kink convention: the derivative at a kink is the left one (relu'(0) = 0).
        return f"xp.astype({self.print(expr.args[0])} > 0.0, x.dtype)"

    def _print_DiracDelta(self, expr: sympy.DiracDelta) -> str:
        return "xp.zeros_like(x)"

    def _print_Piecewise(self, expr: sympy.Piecewise) -> str:
        *branches, (last_value, last_cond) = expr.args
        if last_cond != sympy.true:
            raise ActivationError(
                f"Piecewise {expr} has no default branch (its last condition must be True)"
            )
        text = self.array(last_value)
        for value, cond in reversed(branches):
            text = f"xp.where({self.print(cond)}, {self.array(value)}, {text})"
        return text

    def _print_And(self, expr: sympy.And) -> str:
        return self._logical(expr, "logical_and")

    def _print_Or(self, expr: sympy.Or) -> str:
        return self._logical(expr, "logical_or")

    def _logical(self, expr: sympy.Basic, name: str) -> str:
        args = [self.print(a) for a in expr.args]
        text = args[0]
        for arg in args[1:]:
            text = f"xp.{name}({text}, {arg})"
        return text


def generate_source(
    exprs: Sequence[sympy.Expr], symbol: sympy.Symbol, function_name: str = "compiled"
) -> str:
    """Return Python source of ``def function_name(x)`` computing all ``exprs`` at once.

    Common subexpressions are computed once (``sympy.cse``); the function returns a
    single array for one expression and a tuple otherwise.
    """
    temporaries = sympy.numbered_symbols("_t")
    replacements, reduced = sympy.cse(list(exprs), symbols=temporaries)
    printer = ArrayApiPrinter(symbol)
    lines = [f"def {function_name}(x):"]
    for temp, value in replacements:
        lines.append(f"    {temp.name} = {printer.print(value)}")
        printer.bind(temp, temp.name)
    results = [printer.array(e) for e in reduced]
    lines.append("    return " + (results[0] if len(results) == 1 else "(" + ", ".join(results) + ",)"))
    return "\n".join(lines) + "\n"


@dataclass(frozen=True)
class CompiledExpression:
    """``f`` and ``f'`` of one expression compiled for one namespace.

    Attributes
    ----------
    f, df : callable
        Array functions computing the value and the derivative.
    f_and_df : callable
        Both at once, sharing common subexpressions.
    source : str
        The generated source, for inspection.
    """

    f: ArrayFunction
    df: ArrayFunction
    f_and_df: Callable[[Array], tuple[Array, Array]]
    source: str


class _SpecialFunctions:
    """erf/erfc for one namespace: the backend's own where it has one."""

    def __init__(self, xp: ModuleType) -> None:
        self.erf, self.erfc = special_functions_for(xp)


def _host_special(name: str, xp: ModuleType) -> ArrayFunction:
    """A special function evaluated on the host with the standard library (slow path)."""
    import numpy as np

    from .backend import to_numpy

    scalar = getattr(math, name)
    vectorised = np.vectorize(scalar, otypes=[np.float64])

    def evaluate(x: Array) -> Array:
        host = to_numpy(x)
        result = vectorised(host).astype(host.dtype)
        return xp.asarray(result, device=x.device)

    return evaluate


def special_functions_for(xp: ModuleType) -> tuple[ArrayFunction, ArrayFunction]:
    """Return ``(erf, erfc)`` array functions for the namespace ``xp``."""
    name = xp.__name__
    try:
        if name.endswith("numpy"):
            from scipy import special

            return special.erf, special.erfc
        if name.endswith("cupy"):
            from cupyx.scipy import special as cupy_special

            return cupy_special.erf, cupy_special.erfc
    except ImportError:
        pass
    return _host_special("erf", xp), _host_special("erfc", xp)


_CACHE: dict[tuple[str, str, str], CompiledExpression] = {}


def compile_expression(
    expr: sympy.Expr, symbol: sympy.Symbol, xp: ModuleType, derivative: sympy.Expr | None = None
) -> CompiledExpression:
    """Compile ``expr`` and its derivative for the namespace ``xp`` (cached).

    Parameters
    ----------
    expr : sympy.Expr
        Expression in the single free symbol ``symbol``.
    symbol : sympy.Symbol
        The input variable.
    xp : module
        Array API namespace the functions will run on.
    derivative : sympy.Expr, optional
        The derivative to compile; ``diff(expr, symbol)`` when omitted.
    """
    derivative = sympy.diff(expr, symbol) if derivative is None else derivative
    key = (sympy.srepr(expr), sympy.srepr(derivative), xp.__name__)
    cached = _CACHE.get(key)
    if cached is not None:
        return cached
    source = "\n".join(
        [
            generate_source([expr], symbol, "f"),
            generate_source([derivative], symbol, "df"),
            generate_source([expr, derivative], symbol, "f_and_df"),
        ]
    )
    namespace: dict[str, Any] = {"xp": xp, "_special": _SpecialFunctions(xp)}
    exec(compile(source, f"<anynn activation {expr}>", "exec"), namespace)  # noqa: S102
    compiled = CompiledExpression(
        f=namespace["f"], df=namespace["df"], f_and_df=namespace["f_and_df"], source=source
    )
    _CACHE[key] = compiled
    return compiled
