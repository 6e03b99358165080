"""Array API code from a :class:`~anynn.symbolic.form.Form`, compiled per namespace.

anynn does not use ``sympy.lambdify`` (it prints and runs whatever SymPy allows): this
module prints an expression with its own printer, driven by the node table
(:mod:`.nodes`), which emits only standard Array API calls, folds numeric subtrees to
Python float literals (so float32 stays float32: Python scalars never upcast), expands
small integer powers, and shares common subexpressions through ``sympy.cse``. The
generated source is built from tabled node types only; it never contains text taken from
user input or files. Each function (``f``, ``f'``, ``f'`` from the output) is generated
and cached on its own, so the stability probe, the output-derivative search and training
share them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from types import ModuleType
from typing import Any

import sympy

from ..backend import sign_for, special_functions_for
from ..errors import ActivationError
from .form import (
    MAX_EXPANDED_POWER,
    Form,
    float_value,
    product_factors,
    straight_line,
    sum_terms,
    unsupported,
)
from .nodes import spec_of

Array = Any
ArrayFunction = Callable[[Array], Array]

STRUCTURAL_RULES = frozenset(
    {"Add", "Mul", "Pow", "Max", "Min", "And", "Or", "Piecewise", "ExprCondPair"}
)
"""Table rows without an ``xp`` spelling that this printer prints by a rule of its own."""


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
        """Print ``symbol`` as the local variable ``name`` (cse temporaries, bindings)."""
        self.names[symbol] = name

    def array(self, expr: sympy.Expr) -> str:
        """Print ``expr`` so the result is always an array shaped like ``x``."""
        if expr.is_number:
            return f"xp.full_like(x, {float_value(expr)!r})"
        return self.print(expr)

    def print(self, expr: sympy.Basic) -> str:
        """Print ``expr``; numeric subtrees become Python float literals."""
        if expr.is_number and not isinstance(expr, sympy.logic.boolalg.BooleanAtom):
            return repr(float_value(expr))
        if isinstance(expr, sympy.Symbol):
            if expr not in self.names:
                raise ActivationError(f"unexpected free symbol {expr} in the expression")
            return self.names[expr]
        method = getattr(self, f"_print_{type(expr).__name__}", None)
        if method is not None:
            return str(method(expr))
        spec = spec_of(expr)
        if spec is None or spec.xp is None:
            raise unsupported(expr, expr)
        return spec.xp.format(*(self.print(a) for a in expr.args))

    def _print_Add(self, expr: sympy.Add) -> str:  # noqa: N802
        positive, negative = sum_terms(expr)
        if positive:
            text = " + ".join(self.print(t) for t in positive)
        else:
            text = f"-{self.print(negative.pop(0))}"
        for term in negative:
            text += f" - {self.print(term)}"
        return f"({text})"

    def _print_Mul(self, expr: sympy.Mul) -> str:  # noqa: N802
        coeff, rest = expr.as_coeff_Mul()
        if coeff == -1:
            return f"(-{self.print(rest)})"
        factors, divisors = product_factors(expr)
        numerator = [self.print(f) for f in factors]
        denominator = [self.print(d) for d in divisors]
        text = " * ".join(numerator) if numerator else "1.0"
        if denominator:
            text += " / " + (
                denominator[0] if len(denominator) == 1 else "(" + " * ".join(denominator) + ")"
            )
        return f"({text})"

    def _print_Pow(self, expr: sympy.Pow) -> str:  # noqa: N802
        base, exponent = expr.args
        if base.is_number:
            return f"xp.exp({float_value(sympy.log(base))!r} * {self.print(exponent)})"
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

    def _fold(self, expr: sympy.Basic, name: str) -> str:
        args = [self.print(a) for a in expr.args]
        text = args[0]
        for arg in args[1:]:
            text = f"xp.{name}({text}, {arg})"
        return text

    def _print_Max(self, expr: sympy.Max) -> str:  # noqa: N802
        return self._fold(expr, "maximum")

    def _print_Min(self, expr: sympy.Min) -> str:  # noqa: N802
        return self._fold(expr, "minimum")

    def _print_And(self, expr: sympy.And) -> str:  # noqa: N802
        return self._fold(expr, "logical_and")

    def _print_Or(self, expr: sympy.Or) -> str:  # noqa: N802
        return self._fold(expr, "logical_or")

    def _print_Piecewise(self, expr: sympy.Piecewise) -> str:  # noqa: N802
        *branches, (last_value, last_cond) = expr.args
        if last_cond != sympy.true:
            raise ActivationError(
                f"Piecewise {expr} has no default branch (its last condition must be True)"
            )
        # NaN fails every condition and lands in the default branch: keep it NaN there.
        text = (
            f"xp.where(xp.isnan(x), x, {float_value(last_value)!r})"
            if last_value.is_number
            else self.print(last_value)
        )
        for value, cond in reversed(branches):
            text = f"xp.where({self.print(cond)}, {self.array(value)}, {text})"
        return text


def _hoist_power_bases(
    expr: sympy.Expr,
    emit: Callable[[sympy.Symbol, sympy.Expr], sympy.Symbol],
    hoisted: dict[sympy.Expr, sympy.Symbol],
) -> sympy.Expr:
    """Compute the base of each small integer power once (``tanh(x)**2`` -> ``_p0*_p0``)."""
    if expr.is_Atom or expr.is_number:
        return expr
    args = [_hoist_power_bases(a, emit, hoisted) for a in expr.args]
    rebuilt = expr.func(*args) if args != list(expr.args) else expr
    if (
        isinstance(rebuilt, sympy.Pow)
        and rebuilt.exp.is_Integer
        and 2 <= abs(int(rebuilt.exp)) <= MAX_EXPANDED_POWER
        and not rebuilt.base.is_Symbol
    ):
        base = rebuilt.base
        if base not in hoisted:
            hoisted[base] = emit(sympy.Symbol(f"_p{len(hoisted)}"), base)
        return sympy.Pow(hoisted[base], rebuilt.exp)
    return rebuilt


def generate_source(
    exprs: Sequence[sympy.Expr],
    symbol: sympy.Symbol,
    function_name: str = "compiled",
    bindings: Sequence[tuple[sympy.Symbol, sympy.Expr]] = (),
    nan_guard: Sequence[bool] = (),
) -> str:
    """Return Python source of ``def function_name(x)`` computing all ``exprs`` at once.

    ``bindings`` are computed first, then common subexpressions (``sympy.cse``); the
    function returns a single array for one expression and a tuple otherwise. Results
    whose ``nan_guard`` entry is true return NaN wherever ``x`` is NaN.
    """
    printer = ArrayApiPrinter(symbol)
    lines = [f"def {function_name}(x):"]
    steps, reduced = straight_line(exprs, bindings, "_b", "_t")
    hoisted: dict[sympy.Expr, sympy.Symbol] = {}

    def emit(temp: sympy.Symbol, value: sympy.Expr, name: str | None = None) -> sympy.Symbol:
        text = printer.print(_hoist_power_bases(value, emit, hoisted))
        name = name or temp.name
        lines.append(f"    {name} = {text}")
        printer.bind(temp, name)
        return temp

    for name, temp, value in steps:
        emit(temp, value, name)
    results = [printer.array(_hoist_power_bases(e, emit, hoisted)) for e in reduced]
    results = [
        f"xp.where(xp.isnan(x), x, {r})" if guard else r
        for r, guard in zip(results, list(nan_guard) + [False] * len(results), strict=False)
    ]
    lines.append(
        "    return " + (results[0] if len(results) == 1 else "(" + ", ".join(results) + ",)")
    )
    return "\n".join(lines) + "\n"


_FUNCTIONS: dict[tuple[str, str], tuple[ArrayFunction, str]] = {}


def compile_function(
    expr: sympy.Expr,
    symbol: sympy.Symbol,
    xp: ModuleType,
    bindings: Sequence[tuple[sympy.Symbol, sympy.Expr]] = (),
    nan_guard: bool = False,
) -> tuple[ArrayFunction, str]:
    """Compile one array function of ``symbol`` for ``xp``: ``(function, source)``, cached."""
    key = (sympy.srepr((expr, symbol, tuple(bindings), nan_guard)), xp.__name__)
    cached = _FUNCTIONS.get(key)
    if cached is not None:
        return cached
    source = generate_source([expr], symbol, "compiled", bindings, (nan_guard,))
    namespace: dict[str, Any] = {"xp": xp}
    if "_erf" in source:  # only then: finding erf may import SciPy (about 0.3 s)
        namespace["_erf"], namespace["_erfc"] = special_functions_for(xp)
    if "_sign" in source:
        namespace["_sign"] = sign_for(xp)
    exec(compile(source, f"<anynn activation {expr}>", "exec"), namespace)  # noqa: S102
    _FUNCTIONS[key] = (namespace["compiled"], source)
    return _FUNCTIONS[key]


@dataclass(frozen=True)
class CompiledExpression:
    """``f`` and ``f'`` of one activation compiled for one namespace.

    Attributes
    ----------
    f, df : callable
        Array functions computing the value and the derivative from ``z``.
    df_from_output : callable or None
        ``f'`` computed from the output ``y = f(z)`` (no ``exp`` to recompute), present
        only when it was verified numerically.
    source : str
        The generated source, for inspection.
    """

    f: ArrayFunction
    df: ArrayFunction
    df_from_output: ArrayFunction | None
    source: str


_FORMS: dict[tuple[str, str], CompiledExpression] = {}


def compile_form(form: Form, xp: ModuleType) -> CompiledExpression:
    """Compile ``form`` for the namespace ``xp`` (cached per form, and per function).

    The code is dtype-independent: constants are Python floats, so the dtype of the
    input array is the dtype of every result.
    """
    key = (form.key or sympy.srepr((form.f, form.df, form.df_from_output)), xp.__name__)
    cached = _FORMS.get(key)
    if cached is None:
        cached = _FORMS[key] = _compile_form(form, xp)
    return cached


def _compile_form(form: Form, xp: ModuleType) -> CompiledExpression:
    guard_f, guard_df = form.nan_guard
    f, f_source = compile_function(form.f, form.symbol, xp, form.bindings, guard_f)
    df, df_source = compile_function(form.df, form.symbol, xp, form.bindings, guard_df)
    sources = [f_source.replace("compiled", "f", 1), df_source.replace("compiled", "df", 1)]
    from_output = None
    if form.df_from_output is not None and form.output_symbol is not None:
        from_output, source = compile_function(form.df_from_output, form.output_symbol, xp)
        sources.append(source.replace("compiled", "df_from_output", 1))
    return CompiledExpression(
        f=f, df=df, df_from_output=from_output, source="\n".join(sources)
    )
