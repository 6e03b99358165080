"""The ONNX column of anynn's table of supported math: one spelling per SymPy node type.

Each entry of :data:`ONNX_SPELLINGS` says how one SymPy node is emitted as ONNX nodes,
for the graph's dtype and opset, and mirrors exactly what :class:`anynn.symbolic.
ArrayApiPrinter` prints for NumPy and CuPy, so an exported activation computes what
anynn computes: the same operation order (positive terms first, then subtractions;
numerators then one division), small integer powers as repeated products, ``Max``/
``Min`` folded pairwise (``Max``/``Min`` propagate NaN like ``numpy.maximum``),
``Heaviside(g)`` as ``Max(Sign(g), 0)`` (0 at 0, NaN kept), ``Piecewise`` as nested
``Where`` whose constant default branch keeps a NaN input NaN, numbers as scalar
initializers of the graph dtype.

Functions without an ONNX operator, or without a float64 kernel in onnxruntime's CPU
provider, are computed from elementary operators (:mod:`anynn.onnx.elementary`):
``log1p``, ``expm1`` always; ``tan``, ``atan``, ``asin``, ``acos``, ``sinh``, ``cosh``,
``asinh``, ``acosh``, ``atanh`` in float64. ``erf`` is the ``Erf`` operator in float32;
in float64 (no kernel, and no exact decomposition into ONNX operators exists) it is
anynn's own series and continued fraction (:func:`anynn.special.erf`, about 3e-15
relative), traced into elementary operators. ``erfc`` has no operator at all: it is
:func:`anynn.special.erfc` traced, computed in float64 also inside a float32 graph (a
``Cast`` there and back), since its ``1 - erf`` part loses 8 bits near ``|x| = 2``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import sympy
from sympy.codegen.cfunctions import expm1, log1p

from .. import special
from ..errors import ActivationError
from ..symbolic import MAX_EXPANDED_POWER, SUPPORTED_NODES, float_value
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
    """The :data:`ONNX_SPELLINGS` entry for the type of ``expr``, or ActivationError."""
    for kind in type(expr).__mro__:
        spelling = ONNX_SPELLINGS.get(kind)
        if spelling is not None:
            return spelling
    raise ActivationError(
        f"anynn cannot export {type(expr).__name__} (in {expr}) to ONNX; supported nodes: "
        + ", ".join(SUPPORTED_NODES)
    )


# -- spellings ----------------------------------------------------------------------
def _operator(op_type: str) -> Spelling:
    def spelling(emitter: Emitter, expr: Any) -> Traced:
        return emitter.builder.op(op_type, emitter.emit(expr.args[0]))

    return spelling


def _elementary(function: Callable[[Any, Traced], Traced]) -> Spelling:
    def spelling(emitter: Emitter, expr: Any) -> Traced:
        return function(NAMESPACE, emitter.emit(expr.args[0]))

    return spelling


def _float64_decomposed(op_type: str, function: Callable[[Any, Traced], Traced]) -> Spelling:
    """The operator in float32; in float64 (no onnxruntime CPU kernel) the decomposition."""
    native, decomposed = _operator(op_type), _elementary(function)

    def spelling(emitter: Emitter, expr: Any) -> Traced:
        return (decomposed if emitter.float64 else native)(emitter, expr)

    return spelling


def _erf(emitter: Emitter, expr: Any) -> Traced:
    arg = emitter.emit(expr.args[0])
    if not emitter.float64:
        return emitter.builder.op("Erf", arg)
    # anynn.special.erf is NaN at +-inf (inf / inf in its continued fraction): patch.
    return NAMESPACE.where(NAMESPACE.isinf(arg), NAMESPACE.sign(arg), special.erf(arg))


def _erfc(emitter: Emitter, expr: Any) -> Traced:
    arg = emitter.emit(expr.args[0])
    builder = emitter.builder if emitter.float64 else emitter.builder.retyped(np.dtype("float64"))
    wide = arg if emitter.float64 else builder.cast(arg)
    value = NAMESPACE.where(NAMESPACE.isinf(wide), 1.0 - NAMESPACE.sign(wide), special.erfc(wide))
    return value if emitter.float64 else emitter.builder.cast(value)


def _add(emitter: Emitter, expr: sympy.Add) -> Traced:
    positive = [t for t in expr.args if not t.as_coeff_Mul()[0].is_negative]
    negative = [-t for t in expr.args if t.as_coeff_Mul()[0].is_negative]
    positive.sort(key=lambda t: bool(t.is_number))
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
    numerator: list[Traced] = []
    denominator: list[Traced] = []
    for factor in expr.args:
        base, exponent = factor.as_base_exp()
        if not factor.is_number and exponent.is_Number and exponent < 0:
            denominator.append(emitter.emit(sympy.Pow(base, -exponent)))
        else:
            numerator.append(emitter.emit(factor))
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


def _heaviside(emitter: Emitter, expr: sympy.Heaviside) -> Traced:
    # 0 at 0 (anynn.symbolic.canonical_steps); Sign and Max keep NaN.
    sign = emitter.builder.op("Sign", emitter.emit(expr.args[0]))
    return NAMESPACE.maximum(sign, 0.0)


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


def _relation(compare: Callable[[Traced, Traced], Traced]) -> Spelling:
    def spelling(emitter: Emitter, expr: Any) -> Traced:
        return compare(emitter.emit(expr.args[0]), emitter.emit(expr.args[1]))

    return spelling


ONNX_SPELLINGS: dict[type, Spelling] = {
    sympy.exp: _operator("Exp"),
    sympy.log: _operator("Log"),
    sympy.sin: _operator("Sin"),
    sympy.cos: _operator("Cos"),
    sympy.tan: _float64_decomposed("Tan", elementary.tan),
    sympy.asin: _float64_decomposed("Asin", elementary.asin),
    sympy.acos: _float64_decomposed("Acos", elementary.acos),
    sympy.atan: _float64_decomposed("Atan", elementary.atan),
    sympy.sinh: _float64_decomposed("Sinh", elementary.sinh),
    sympy.cosh: _float64_decomposed("Cosh", elementary.cosh),
    sympy.tanh: _operator("Tanh"),
    sympy.asinh: _float64_decomposed("Asinh", elementary.asinh),
    sympy.acosh: _float64_decomposed("Acosh", elementary.acosh),
    sympy.atanh: _float64_decomposed("Atanh", elementary.atanh),
    sympy.Abs: _operator("Abs"),
    sympy.sign: _operator("Sign"),
    log1p: _elementary(elementary.log1p),
    expm1: _elementary(elementary.expm1),
    sympy.erf: _erf,
    sympy.erfc: _erfc,
    sympy.Add: _add,
    sympy.Mul: _mul,
    sympy.Pow: _pow,
    sympy.Max: _max,
    sympy.Min: _fold("Min"),
    sympy.Heaviside: _heaviside,
    sympy.DiracDelta: _dirac_delta,
    sympy.Piecewise: _piecewise,
    sympy.And: _fold("And"),
    sympy.Or: _fold("Or"),
    sympy.StrictGreaterThan: _relation(lambda a, b: a > b),
    sympy.GreaterThan: _relation(lambda a, b: a >= b),
    sympy.StrictLessThan: _relation(lambda a, b: a < b),
    sympy.LessThan: _relation(lambda a, b: a <= b),
    sympy.Equality: _relation(lambda a, b: a == b),
    sympy.Unequality: _relation(lambda a, b: a != b),
}
"""How each supported SymPy node type is emitted in ONNX (the table's ONNX column)."""
