"""SymPy expressions to Array API code, compiled per backend.

anynn does not use ``sympy.lambdify`` (see DESIGN.md): this module prints an expression
with its own whitelist-based printer, which emits only standard Array API calls, folds
numeric subtrees to Python float literals (so float32 stays float32: Python scalars
never upcast), expands small integer powers, and shares common subexpressions of ``f``
and ``f'`` through ``sympy.cse``. The generated source is built from whitelisted node
types only; it never contains text taken from user input or files.

Conventions
-----------
- Kinks take the derivative from the left: ``Heaviside(g)`` is 0 at ``g = 0`` when
  ``g`` increases with ``x`` and 1 when it decreases (so ``relu'(0) = 0``; linear
  ``g`` only, any other argument counts as increasing), and ``Abs(g)`` is
  differentiated as ``Max(g, -g)`` (so ``|x|'(0) = -1``). A ``Piecewise`` follows the
  conditions as written (the built-ins use ``x > 0``, which gives the left derivative).
- NaN in gives NaN out: ``Heaviside`` prints through ``sign`` and ``maximum`` (which
  propagate NaN), a constant default branch of a ``Piecewise`` keeps NaN, and a form can
  ask for an explicit NaN guard on its outputs (:class:`Form`).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

import sympy
from sympy.codegen.cfunctions import expm1, log1p

from .backend import special_functions_for
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
    sympy.erf: "_erf",
    sympy.erfc: "_erfc",
}

_RELATIONS: dict[type, str] = {
    sympy.StrictGreaterThan: ">",
    sympy.GreaterThan: ">=",
    sympy.StrictLessThan: "<",
    sympy.LessThan: "<=",
    sympy.Equality: "==",
    sympy.Unequality: "!=",
}

SUPPORTED_NODES = tuple(
    sorted(f.__name__ for f in _UNARY_FUNCTIONS)
    + ["Add", "Mul", "Pow", "Max", "Min", "Heaviside", "Piecewise", "DiracDelta", "And", "Or"]
    + sorted(r.__name__ for r in _RELATIONS)
)
"""Names of the SymPy node types anynn can compile."""


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


def check_supported(expr: sympy.Basic) -> None:
    """Raise ActivationError naming the first node anynn cannot compile."""
    allowed = tuple(_UNARY_FUNCTIONS) + tuple(_RELATIONS) + (
        sympy.Add, sympy.Mul, sympy.Pow, sympy.Max, sympy.Min, sympy.Heaviside,
        sympy.Piecewise, sympy.DiracDelta, sympy.And, sympy.Or, sympy.Symbol,
        sympy.logic.boolalg.BooleanAtom, sympy.core.containers.Tuple,
    )
    for node in sympy.preorder_traversal(expr):
        if isinstance(node, sympy.Expr) and node.is_number:
            float_value(node)
            continue
        if not isinstance(node, allowed):
            raise ActivationError(
                f"anynn cannot compile {type(node).__name__} (the part {node} of {expr}); "
                "supported: " + ", ".join(SUPPORTED_NODES)
            )


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
        args = expr.args
        for kind, name in _UNARY_FUNCTIONS.items():
            if isinstance(expr, kind):
                return f"{name}({self.print(args[0])})"
        for kind, op in _RELATIONS.items():
            if isinstance(expr, kind):
                return f"({self.print(args[0])} {op} {self.print(args[1])})"
        raise ActivationError(
            f"anynn cannot compile {type(expr).__name__} (in {expr}); supported nodes: "
            + ", ".join(SUPPORTED_NODES)
        )

    def _print_Add(self, expr: sympy.Add) -> str:  # noqa: N802
        # Positive terms first (arrays before numbers), then subtractions: ``1.0 - y*y``.
        positive = [t for t in expr.args if not t.as_coeff_Mul()[0].is_negative]
        negative = [-t for t in expr.args if t.as_coeff_Mul()[0].is_negative]
        positive.sort(key=lambda t: bool(t.is_number))
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
        numerator: list[str] = []
        denominator: list[str] = []
        for factor in expr.args:
            base, exponent = factor.as_base_exp()
            if not factor.is_number and exponent.is_Number and exponent < 0:
                denominator.append(self.print(sympy.Pow(base, -exponent)))
            else:
                numerator.append(self.print(factor))
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

    def _print_Heaviside(self, expr: sympy.Heaviside) -> str:  # noqa: N802
        # 0 at 0 (see canonical_steps); sign and maximum propagate NaN.
        return f"xp.maximum(xp.sign({self.print(expr.args[0])}), 0.0)"

    def _print_DiracDelta(self, expr: sympy.DiracDelta) -> str:  # noqa: N802
        return "xp.zeros_like(x)"

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
    """

    symbol: sympy.Symbol
    f: sympy.Expr
    df: sympy.Expr
    bindings: tuple[tuple[sympy.Symbol, sympy.Expr], ...] = ()
    output_symbol: sympy.Symbol | None = None
    df_from_output: sympy.Expr | None = None
    nan_guard: tuple[bool, bool] = (False, False)
    key: str = field(default="", compare=False)


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
    used = set().union(*(e.free_symbols for e in exprs)) if exprs else set()
    for index, (bound, value) in enumerate(bindings):
        if bound in used:
            lines.append(f"    _b{index} = {printer.print(value)}")
            printer.bind(bound, f"_b{index}")
    replacements, reduced = sympy.cse(list(exprs), symbols=sympy.numbered_symbols("_t"))
    hoisted: dict[sympy.Expr, sympy.Symbol] = {}

    def emit(temp: sympy.Symbol, value: sympy.Expr) -> sympy.Symbol:
        text = printer.print(_hoist_power_bases(value, emit, hoisted))
        lines.append(f"    {temp.name} = {text}")
        printer.bind(temp, temp.name)
        return temp

    for temp, value in replacements:
        emit(temp, value)
    results = [printer.array(_hoist_power_bases(e, emit, hoisted)) for e in reduced]
    results = [
        f"xp.where(xp.isnan(x), x, {r})" if guard else r
        for r, guard in zip(results, list(nan_guard) + [False] * len(results), strict=False)
    ]
    lines.append(
        "    return " + (results[0] if len(results) == 1 else "(" + ", ".join(results) + ",)")
    )
    return "\n".join(lines) + "\n"


@dataclass(frozen=True)
class CompiledExpression:
    """``f`` and ``f'`` of one activation compiled for one namespace.

    Attributes
    ----------
    f, df : callable
        Array functions computing the value and the derivative from ``z``.
    f_and_df : callable
        Both at once, sharing common subexpressions.
    df_from_output : callable or None
        ``f'`` computed from the output ``y = f(z)`` (no ``exp`` to recompute), present
        only when it was verified numerically.
    source : str
        The generated source, for inspection.
    """

    f: ArrayFunction
    df: ArrayFunction
    f_and_df: Callable[[Array], tuple[Array, Array]]
    df_from_output: ArrayFunction | None
    source: str


def form_source(form: Form) -> str:
    """The Python source of all functions of ``form``."""
    guard_f, guard_df = form.nan_guard
    parts = [
        generate_source([form.f], form.symbol, "f", form.bindings, (guard_f,)),
        generate_source([form.df], form.symbol, "df", form.bindings, (guard_df,)),
        generate_source([form.f, form.df], form.symbol, "f_and_df", form.bindings, form.nan_guard),
    ]
    if form.df_from_output is not None and form.output_symbol is not None:
        parts.append(generate_source([form.df_from_output], form.output_symbol, "df_from_output"))
    return "\n".join(parts)


_CACHE: dict[tuple[str, str], CompiledExpression] = {}


def compile_form(form: Form, xp: ModuleType) -> CompiledExpression:
    """Compile ``form`` for the namespace ``xp`` (cached per form and namespace).

    The code is dtype-independent: constants are Python floats, so the dtype of the
    input array is the dtype of every result.
    """
    key = (form.key or sympy.srepr((form.f, form.df, form.df_from_output)), xp.__name__)
    cached = _CACHE.get(key)
    if cached is not None:
        return cached
    source = form_source(form)
    erf, erfc = special_functions_for(xp)
    namespace: dict[str, Any] = {"xp": xp, "_erf": erf, "_erfc": erfc}
    exec(compile(source, f"<anynn activation {form.f}>", "exec"), namespace)  # noqa: S102
    compiled = CompiledExpression(
        f=namespace["f"],
        df=namespace["df"],
        f_and_df=namespace["f_and_df"],
        df_from_output=namespace.get("df_from_output"),
        source=source,
    )
    _CACHE[key] = compiled
    return compiled
