"""C code for fused elementwise kernels, from a :class:`~anynn.symbolic.form.Form`.

The kernels are generated from the same verified (possibly rewritten) form as the Array
API path, through SymPy's C99 printer with anynn's rules: ``float`` and ``double``
variants (float literals carry an ``F`` suffix and functions their ``f`` variants, both
from the node table, so a float kernel never computes in double), numeric subtrees folded
to literals, small integer powers expanded, ``Max``/``Min``/``Heaviside``/``sign``/
``Piecewise`` printed as ternaries that propagate NaN (C's ``fmaxf(0, NaN)`` is 0), and
the same kink convention as :mod:`anynn.symbolic.form`.

- forward: ``out = f(x)``;
- backward: ``out = g * f'(x)``, or ``out = g * f'(y)`` from the stored output when the
  form has a verified ``df_from_output``.

Generating the source needs no GPU; a backend with elementwise kernels (CuPy) compiles
what :func:`kernel_source` and :func:`kernel_params` describe.
"""

from __future__ import annotations

from typing import Any

import sympy
from sympy.codegen.ast import float32, real
from sympy.printing.c import C99CodePrinter

from ..errors import ActivationError
from .form import MAX_EXPANDED_POWER, Form, float_value, straight_line
from .nodes import spec_of

C_TYPES = {"float32": "float", "float64": "double"}
DIRECTIONS = ("forward", "backward", "backward_from_output")
STRUCTURAL_RULES = frozenset(
    {"Add", "Mul", "Pow", "Max", "Min", "And", "Or", "Piecewise", "ExprCondPair"}
)
"""Table rows without a C spelling that this printer prints by a rule of its own."""


def _fold_numbers(expr: sympy.Basic) -> sympy.Basic:
    """Replace numeric subtrees by Floats (integer and 1/2 exponents are kept)."""
    if isinstance(expr, sympy.Expr) and expr.is_number and not expr.is_Integer:
        return sympy.Float(float_value(expr), 17)
    if not expr.args:
        return expr
    if isinstance(expr, sympy.Pow):
        base, exponent = expr.args
        if exponent.is_Integer or exponent in (sympy.Rational(1, 2), sympy.Rational(-1, 2)):
            return sympy.Pow(_fold_numbers(base), exponent, evaluate=False)
    return expr.func(*[_fold_numbers(a) for a in expr.args])


class KernelPrinter(C99CodePrinter):
    """C99 printer for one C type with anynn's NaN, kink and constant rules.

    Parameters
    ----------
    ctype : {"float", "double"}
        The floating type of the kernel.
    symbol : sympy.Symbol
        The input variable, printed as ``name``.
    name : str
        The C name of the input variable.
    """

    def __init__(self, ctype: str, symbol: sympy.Symbol, name: str) -> None:
        settings: dict[str, Any] = {}
        if ctype == "float":
            settings["type_aliases"] = {real: float32}
        super().__init__(settings)
        self.ctype = ctype
        self.symbol = symbol
        self.names: dict[sympy.Symbol, str] = {symbol: name}

    def literal(self, value: float) -> str:
        """A C literal of ``value`` in this printer's type."""
        text = repr(float(value))
        return text + "F" if self.ctype == "float" else text

    def _print_Symbol(self, expr: sympy.Symbol) -> str:  # noqa: N802
        if expr not in self.names:
            raise ActivationError(f"unexpected free symbol {expr} in a kernel expression")
        return self.names[expr]

    def _print_Float(self, expr: sympy.Float) -> str:  # noqa: N802
        return self.literal(float(expr))

    def _print_Integer(self, expr: sympy.Integer) -> str:  # noqa: N802
        return self.literal(float(expr))

    def _print_Pow(self, expr: sympy.Pow) -> str:  # noqa: N802
        base, exponent = expr.args
        if exponent.is_Integer and abs(int(exponent)) <= MAX_EXPANDED_POWER:
            n = int(exponent)
            product = "(" + "*".join([f"({self._print(base)})"] * abs(n)) + ")"
            return product if n > 0 else f"({self.literal(1.0)}/{product})"
        sqrt = "sqrtf" if self.ctype == "float" else "sqrt"
        if exponent == sympy.Rational(1, 2):
            return f"{sqrt}({self._print(base)})"
        if exponent == sympy.Rational(-1, 2):
            return f"({self.literal(1.0)}/{sqrt}({self._print(base)}))"
        power = "powf" if self.ctype == "float" else "pow"
        return f"{power}({self._print(base)}, {self._print(exponent)})"

    def _fold(self, expr: sympy.Basic, op: str) -> str:
        text = self._print(expr.args[0])
        for arg in expr.args[1:]:
            a, b = text, self._print(arg)
            # NaN-propagating: if a is NaN, a; if b is NaN, the comparison fails: b.
            text = f"((({a}) != ({a}) || ({a}) {op} ({b})) ? ({a}) : ({b}))"
        return text

    def _print_Max(self, expr: sympy.Max) -> str:  # noqa: N802
        return self._fold(expr, ">")

    def _print_Min(self, expr: sympy.Min) -> str:  # noqa: N802
        return self._fold(expr, "<")

    def _print(self, expr: Any, **kwargs: Any) -> str:
        """Print a tabled node by its C spelling; other nodes by the rules below."""
        spec = spec_of(expr) if isinstance(expr, sympy.Basic) else None
        if spec is not None and spec.c is not None:
            template = spec.c[0 if self.ctype == "float" else 1]
            return template.format(*(self._print(a) for a in expr.args))
        return str(super()._print(expr, **kwargs))

    def _join(self, expr: sympy.Basic, op: str) -> str:
        return "(" + f" {op} ".join(f"({self._print(a)})" for a in expr.args) + ")"

    def _print_And(self, expr: sympy.And) -> str:  # noqa: N802
        return self._join(expr, "&&")

    def _print_Or(self, expr: sympy.Or) -> str:  # noqa: N802
        return self._join(expr, "||")

    def _print_Piecewise(self, expr: sympy.Piecewise) -> str:  # noqa: N802
        *branches, (last_value, last_cond) = expr.args
        if last_cond != sympy.true:
            raise ActivationError(f"Piecewise {expr} has no default branch")
        x = self.names[self.symbol]
        text = (
            f"(isnan({x}) ? {x} : {self._print(last_value)})"
            if last_value.is_number
            else f"({self._print(last_value)})"
        )
        for value, cond in reversed(branches):
            text = f"(({self._print(cond)}) ? ({self._print(value)}) : {text})"
        return text


def kernel_source(form: Form, direction: str, dtype: str) -> str:
    """C body of the kernel for ``direction`` (see :data:`DIRECTIONS`) and ``dtype``.

    Inputs are named ``x`` (and ``g`` for the gradient, ``y`` for the output), the
    result is assigned to ``out``.
    """
    if dtype not in C_TYPES:
        raise ActivationError(f"kernel dtype must be one of {sorted(C_TYPES)}; got {dtype!r}")
    ctype = C_TYPES[dtype]
    if direction == "forward":
        exprs, symbol, name, bindings = [form.f], form.symbol, "x", form.bindings
    elif direction == "backward":
        exprs, symbol, name, bindings = [form.df], form.symbol, "x", form.bindings
    elif direction == "backward_from_output":
        if form.df_from_output is None or form.output_symbol is None:
            raise ActivationError("this activation has no verified derivative from its output")
        exprs, symbol, name, bindings = [form.df_from_output], form.output_symbol, "y", ()
    else:
        raise ActivationError(f"direction must be one of {DIRECTIONS}; got {direction!r}")
    printer = KernelPrinter(ctype, symbol, name)
    lines: list[str] = []
    # CuPy reserves n, i and names starting with "_" inside kernel bodies
    steps, reduced = straight_line(exprs, bindings, "bnd", "tmp")
    for local, bound, value in steps:
        lines.append(f"const {ctype} {local} = {printer.doprint(_fold_numbers(value))};")
        printer.names[bound] = local
    result = printer.doprint(_fold_numbers(reduced[0]))
    guard_f, guard_df = form.nan_guard
    guard = guard_f if direction == "forward" else guard_df if direction == "backward" else False
    if guard:
        result = f"(isnan({name}) ? {name} : ({result}))"
    if direction == "forward":
        lines.append(f"out = {result};")
    else:
        lines.append(f"out = g * ({result});")
    return "\n".join(lines)


def kernel_params(direction: str, dtype: str) -> tuple[str, str]:
    """``(in_params, out_params)`` of the ElementwiseKernel."""
    inputs = {"forward": "x", "backward": "g, x", "backward_from_output": "g, y"}[direction]
    typed = ", ".join(f"{dtype} {name.strip()}" for name in inputs.split(","))
    return typed, f"{dtype} out"


