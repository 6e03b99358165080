"""The ONNX exporter's reading of anynn's table of supported math.

Functions and relations are spelled by the table's ``onnx`` column
(:attr:`anynn.symbolic.NodeSpec.onnx`: one spelling for float32 graphs and one for
float64 graphs): a capitalised name is an ONNX operator applied to the arguments
(``"Exp"``), a lower-case one a function of :mod:`anynn.onnx.elementary` traced into
elementary operators (``"log1p"``), used where ONNX has no operator or onnxruntime's CPU
provider no float64 kernel (``erf``, ``tan``, the inverse trigonometric and the
hyperbolic functions but ``tanh``). The rows without a spelling follow
:data:`STRUCTURAL`, which mirrors exactly what :class:`anynn.symbolic.ArrayApiPrinter`
prints for NumPy and CuPy, so an exported activation computes what anynn computes: the
same operation order (positive terms first, then subtractions; numerators, then one
division), small integer powers as repeated products, ``Max``/``Min`` folded pairwise
(they propagate NaN like ``numpy.maximum``; ``Max(0, g)`` is ``Relu``, the same
function), ``Piecewise`` as nested ``Where`` whose constant default branch keeps a NaN
input NaN, numbers as scalar initializers of the graph dtype.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import sympy

from ..errors import ActivationError
from ..symbolic import MAX_EXPANDED_POWER, SUPPORTED_NODES, float_value, spec_of
from ..symbolic.form import product_factors, sum_terms
from . import elementary
from .graph_builder import NAMESPACE, GraphBuilder, Traced

Spelling = Callable[["Emitter", Any], Traced]
"""How one node is emitted: ``spelling(emitter, expr) -> tensor``."""


class Emitter:
    """Emit SymPy expressions in one symbol as ONNX nodes of one graph.

    Parameters
    ----------
    builder : GraphBuilder
        The graph (dtype and opset).
    symbol : sympy.Symbol
        The input variable, bound to ``x``.
    x : Traced
        The input tensor (the layer's pre-activation).
    """

    def __init__(self, builder: GraphBuilder, symbol: sympy.Symbol, x: Traced) -> None:
        self.builder = builder
        self.x = x
        self.names: dict[sympy.Symbol, Traced] = {symbol: x}
        self._memo: dict[sympy.Basic, Traced] = {}

    @property
    def float64(self) -> bool:
        """Whether the graph computes in float64."""
        return self.builder.dtype == np.float64

    def bind(self, symbol: sympy.Symbol, value: Traced) -> None:
        """Emit ``symbol`` as the tensor ``value`` (cse temporaries, bindings)."""
        self.names[symbol] = value

    def array(self, expr: sympy.Expr) -> Traced:
        """Emit ``expr`` as a tensor shaped like ``x`` (a constant is expanded)."""
        if expr.is_number:
            shape = self.builder.op("Shape", self.x)
            return self.builder.op("Expand", self.builder.constant(float_value(expr)), shape)
        return self.emit(expr)

    def emit(self, expr: sympy.Basic) -> Traced:
        """Emit ``expr`` (memoised per subexpression)."""
        if expr.is_number and not isinstance(expr, sympy.logic.boolalg.BooleanAtom):
            return self.builder.constant(float_value(expr))
        if isinstance(expr, sympy.Symbol):
            if expr not in self.names:
                raise ActivationError(f"unexpected free symbol {expr} in the expression")
            return self.names[expr]
        cached = self._memo.get(expr)
        if cached is None:
            cached = self._memo[expr] = spelling_of(expr)(self, expr)
        return cached


def spelling_of(expr: sympy.Basic) -> Spelling:
    """How to emit ``expr``: its row's ``onnx`` spelling or structural rule."""
    spec = spec_of(expr)
    if spec is not None and spec.onnx is not None:
        return _column(spec.onnx)
    if spec is not None and spec.name in STRUCTURAL:
        return STRUCTURAL[spec.name]
    raise ActivationError(
        f"anynn cannot export {type(expr).__name__} (in {expr}) to ONNX; supported nodes: "
        + ", ".join(SUPPORTED_NODES)
    )


# -- the column ----------------------------------------------------------------------
def _column(spellings: tuple[str, str]) -> Spelling:
    def spelling(emitter: Emitter, expr: Any) -> Traced:
        name = spellings[1] if emitter.float64 else spellings[0]
        args = [emitter.emit(a) for a in expr.args]
        if name[0].isupper():
            return emitter.builder.op(name, *args)
        function: Callable[..., Traced] = getattr(elementary, name)
        return function(NAMESPACE, *args)

    return spelling


# -- structural rules ---------------------------------------------------------------
def _add(emitter: Emitter, expr: sympy.Add) -> Traced:
    positive, negative = sum_terms(expr)
    if positive:
        total = emitter.emit(positive[0])
        for term in positive[1:]:
            total = total + emitter.emit(term)
    else:
        total = -emitter.emit(negative.pop(0))
    for term in negative:
        total = total - emitter.emit(term)
    return total


def _product(values: list[Traced]) -> Traced:
    result = values[0]
    for value in values[1:]:
        result = result * value
    return result


def _mul(emitter: Emitter, expr: sympy.Mul) -> Traced:
    coeff, rest = expr.as_coeff_Mul()
    if coeff == -1:
        return -emitter.emit(rest)
    factors, divisors = product_factors(expr)
    numerator = [emitter.emit(f) for f in factors]
    denominator = [emitter.emit(d) for d in divisors]
    result = _product(numerator) if numerator else emitter.builder.constant(1.0)
    if denominator:
        result = result / _product(denominator)
    return result


def _pow(emitter: Emitter, expr: sympy.Pow) -> Traced:
    base, exponent = expr.args
    if base.is_number:
        scale = emitter.builder.constant(float_value(sympy.log(base)))
        return emitter.builder.op("Exp", scale * emitter.emit(exponent))
    if exponent.is_Integer and abs(int(exponent)) <= MAX_EXPANDED_POWER:
        n = int(exponent)
        product = _product([emitter.emit(base)] * abs(n))
        return product if n > 0 else 1.0 / product
    if exponent == sympy.Rational(1, 2):
        return emitter.builder.op("Sqrt", emitter.emit(base))
    if exponent == sympy.Rational(-1, 2):
        return 1.0 / emitter.builder.op("Sqrt", emitter.emit(base))
    return emitter.emit(base) ** emitter.emit(exponent)


def _fold(op_type: str) -> Spelling:
    def spelling(emitter: Emitter, expr: Any) -> Traced:
        args = [emitter.emit(a) for a in expr.args]
        result = args[0]
        for arg in args[1:]:
            result = emitter.builder.op(op_type, result, arg)
        return result

    return spelling


def _max(emitter: Emitter, expr: sympy.Max) -> Traced:
    # Relu(g) is max(0, g) exactly, NaN kept (onnxruntime's kernel, measured).
    if len(expr.args) == 2 and expr.args[0] == 0:
        return emitter.builder.op("Relu", emitter.emit(expr.args[1]))
    return _fold("Max")(emitter, expr)


def _dirac_delta(emitter: Emitter, expr: sympy.DiracDelta) -> Traced:
    return emitter.array(sympy.Integer(0))


def _piecewise(emitter: Emitter, expr: sympy.Piecewise) -> Traced:
    *branches, (last_value, last_cond) = expr.args
    if last_cond != sympy.true:
        raise ActivationError(
            f"Piecewise {expr} has no default branch (its last condition must be True)"
        )
    if last_value.is_number:  # NaN fails every condition: keep it NaN in the default
        x = emitter.x
        result = NAMESPACE.where(NAMESPACE.isnan(x), x, float_value(last_value))
    else:
        result = emitter.emit(last_value)
    for value, cond in reversed(branches):
        result = NAMESPACE.where(emitter.emit(cond), emitter.emit(value), result)
    return result


STRUCTURAL: dict[str, Spelling] = {
    "Add": _add,
    "Mul": _mul,
    "Pow": _pow,
    "Max": _max,
    "Min": _fold("Min"),
    "DiracDelta": _dirac_delta,
    "Piecewise": _piecewise,
    "And": _fold("And"),
    "Or": _fold("Or"),
}
"""Table rows (by name) the exporter emits by a rule of its own, as the Array API printer
prints them (``ExprCondPair`` only occurs inside a ``Piecewise``)."""
