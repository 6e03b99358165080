"""THE table of supported math: one row per SymPy node type anynn understands.

Every consumer looks nodes up here: the Array API printer (:mod:`.xp_codegen`), the C
printer (:mod:`.c_codegen`), the mpmath reference (:mod:`.reference`), the model-file
codec (:mod:`.exprtree`), :func:`~anynn.symbolic.form.check_supported` and the ONNX
exporter (:mod:`anynn.onnx.nodes`). A column left
``None`` means that consumer prints or evaluates the node by a structural rule of its own
(``Add``, ``Mul``, ``Pow``, ``Max``/``Min``, ``And``/``Or``, ``Piecewise``).

Adding a function is one row of :data:`NODES`; adding a column (an ONNX spelling, say) is
one field of :class:`NodeSpec` with a default, filled in the rows that need it.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import sympy
from sympy.codegen.cfunctions import expm1, log1p
from sympy.functions.elementary.piecewise import ExprCondPair
from sympy.logic.boolalg import Boolean

from .saturation import MpFunction, bounded, exp_like, plain, power, sign_limit, unbounded_input


@dataclass(frozen=True)
class NodeSpec:
    """One supported node and its meaning for every consumer.

    Attributes
    ----------
    name : str
        The node's name in model files (expression trees).
    sympy_type : type
        The SymPy class (subclasses match too).
    arity : (int, int or None)
        Least and most number of arguments (``None``: any number).
    xp : str or None
        Array API spelling, a ``str.format`` template over the printed arguments
        (``"xp.exp({0})"``); ``None``: printed by a structural rule.
    c : (str, str) or None
        C spellings for ``float`` and ``double`` (``("expf({0})", "exp({0})")``).
    mp : callable or None
        ``mp(evaluation, *values)``: saturating mpmath value (:mod:`.saturation`).
    py : callable or None
        Float64 value on Python floats, for constant subtrees in model files (SymPy's
        meaning, e.g. ``Heaviside(0) = 1/2``).
    kinds : tuple of type
        Type each argument must have (the last one repeats).
    onnx : (str, str) or None
        ONNX spellings in float32 and float64 graphs: a capitalised name is an ONNX
        operator applied to the arguments (``"Exp"``), a lower-case one a function of
        :mod:`anynn.onnx.elementary` (``"log1p"``: no operator, or no float64 kernel in
        onnxruntime's CPU provider); ``None``: a structural rule of the exporter.
    """

    name: str
    sympy_type: type
    arity: tuple[int, int | None]
    xp: str | None
    c: tuple[str, str] | None
    mp: MpFunction | None
    py: Callable[..., Any] | None
    kinds: tuple[type, ...] = (sympy.Expr,)
    onnx: tuple[str, str] | None = None


def _unary(
    kind: Any, xp: str, c: str, mp: MpFunction, py: Callable[[float], float],
    onnx: str | tuple[str, str],
) -> NodeSpec:
    """A function of one argument spelled ``xp.<xp>(a)`` and ``<c>f(a)`` / ``<c>(a)``, and
    in ONNX ``onnx`` (one spelling for both dtypes, or a float32/float64 pair)."""
    return NodeSpec(
        kind.__name__, kind, (1, 1), f"{xp}({{0}})", (f"{c}f({{0}})", f"{c}({{0}})"), mp, py,
        onnx=(onnx, onnx) if isinstance(onnx, str) else onnx,
    )


def _relation(kind: Any, op: str, test: Callable[[Any, Any], bool], onnx: str) -> NodeSpec:
    spelling = f"(({{0}}) {op} ({{1}}))"
    return NodeSpec(
        kind.__name__, kind, (2, 2), f"({{0}} {op} {{1}})", (spelling, spelling),
        lambda ev, a, b: test(a, b), test, onnx=(onnx, onnx),
    )


def _ternary(positive: str, zero_or_less: str, nonpositive_test: str) -> tuple[str, str]:
    """C ternaries in float and double that keep NaN (every comparison fails on NaN)."""

    def spell(suffix: str) -> str:
        return (
            f"(({{0}}) > 0 ? {positive}{suffix} : "
            f"(({{0}}) {nonpositive_test} 0 ? {zero_or_less}{suffix} : ({{0}})))"
        )

    return spell("F"), spell("")


def _sign(v: float) -> float:
    return float((v > 0) - (v < 0))


def _heaviside(v: float, at_zero: float = 0.5) -> float:
    return 1.0 if v > 0 else 0.0 if v < 0 else at_zero


def _dirac(v: float, order: float = 0.0) -> float:
    if v == 0:
        raise ValueError("DiracDelta(0) is infinite")
    return 0.0


def _piecewise(*pairs: tuple[float, bool]) -> float:
    for value, condition in pairs:
        if condition:
            return value
    raise ValueError("no condition of the Piecewise holds")


def _half_pi(ev: Any) -> Any:
    return ev.mp.pi / 2


def _one(ev: Any) -> Any:
    return 1


NODES: tuple[NodeSpec, ...] = (
    # structural: printed by rules of each printer
    NodeSpec("Add", sympy.Add, (2, None), None, None, lambda ev, *a: ev.mp.fsum(a), math.fsum),
    NodeSpec("Mul", sympy.Mul, (2, None), None, None, lambda ev, *a: ev.mp.fprod(a),
             lambda *a: math.prod(a)),
    NodeSpec("Pow", sympy.Pow, (2, 2), None, None, power, math.pow),
    NodeSpec("Max", sympy.Max, (2, None), None, None, lambda ev, *a: max(a), max),
    NodeSpec("Min", sympy.Min, (2, None), None, None, lambda ev, *a: min(a), min),
    NodeSpec("And", sympy.And, (2, None), None, None, lambda ev, *a: all(a),
             lambda *a: all(a), (Boolean,)),
    NodeSpec("Or", sympy.Or, (2, None), None, None, lambda ev, *a: any(a),
             lambda *a: any(a), (Boolean,)),
    NodeSpec("Piecewise", sympy.Piecewise, (1, None), None, None, None, _piecewise,
             (ExprCondPair,)),
    NodeSpec("ExprCondPair", ExprCondPair, (2, 2), None, None, None, lambda v, c: (v, c),
             (sympy.Expr, Boolean)),
    # steps, 0 at 0 after canonical_steps (the reference and both printers agree)
    # _sign: the backend's NaN-propagating sign without host synchronisation
    # (array-api-compat's CuPy sign patches NaN through a boolean-mask assignment)
    NodeSpec("Heaviside", sympy.Heaviside, (1, 2), "xp.maximum(_sign({0}), 0.0)",
             _ternary("1.0", "0.0", "<="), lambda ev, a, *_: 1 if a > 0 else 0, _heaviside,
             onnx=("heaviside", "heaviside")),
    NodeSpec("DiracDelta", sympy.DiracDelta, (1, 2), "xp.zeros_like(x)", ("0.0F", "0.0"),
             lambda ev, *_: 0, _dirac),
    NodeSpec("sign", sympy.sign, (1, 1), "_sign({0})", _ternary("1.0", "-1.0", "<"),
             plain("sign"), _sign, onnx=("Sign", "Sign")),
    NodeSpec("Abs", sympy.Abs, (1, 1), "xp.abs({0})", ("fabsf({0})", "fabs({0})"),
             lambda ev, a: abs(a), abs, onnx=("Abs", "Abs")),
    # elementary functions
    _unary(sympy.exp, "xp.exp", "exp", exp_like("exp", math.inf, 0.0), math.exp, "Exp"),
    _unary(expm1, "xp.expm1", "expm1", exp_like("expm1", math.inf, -1.0), math.expm1, "expm1"),
    _unary(sympy.sinh, "xp.sinh", "sinh", exp_like("sinh", math.inf, -math.inf), math.sinh,
           ("Sinh", "sinh")),
    _unary(sympy.cosh, "xp.cosh", "cosh", exp_like("cosh", math.inf, math.inf), math.cosh,
           ("Cosh", "cosh")),
    _unary(sympy.log, "xp.log", "log", unbounded_input("log"), math.log, "Log"),
    _unary(log1p, "xp.log1p", "log1p", unbounded_input("log1p"), math.log1p, "log1p"),
    _unary(sympy.asinh, "xp.asinh", "asinh", unbounded_input("asinh"), math.asinh,
           ("Asinh", "asinh")),
    _unary(sympy.acosh, "xp.acosh", "acosh", unbounded_input("acosh"), math.acosh,
           ("Acosh", "acosh")),
    _unary(sympy.atanh, "xp.atanh", "atanh", unbounded_input("atanh"), math.atanh,
           ("Atanh", "atanh")),
    _unary(sympy.sin, "xp.sin", "sin", unbounded_input("sin", periodic=True), math.sin, "Sin"),
    _unary(sympy.cos, "xp.cos", "cos", unbounded_input("cos", periodic=True), math.cos, "Cos"),
    _unary(sympy.tan, "xp.tan", "tan", unbounded_input("tan", periodic=True), math.tan,
           ("Tan", "tan")),
    _unary(sympy.asin, "xp.asin", "asin", plain("asin"), math.asin, ("Asin", "asin")),
    _unary(sympy.acos, "xp.acos", "acos", plain("acos"), math.acos, ("Acos", "acos")),
    _unary(sympy.atan, "xp.atan", "atan", bounded("atan", sign_limit(_half_pi)), math.atan,
           ("Atan", "atan")),
    _unary(sympy.tanh, "xp.tanh", "tanh", bounded("tanh", sign_limit(_one)), math.tanh,
           "Tanh"),
    _unary(sympy.erf, "_erf", "erf", bounded("erf", sign_limit(_one)), math.erf,
           ("Erf", "erf")),
    _unary(sympy.erfc, "_erfc", "erfc", bounded("erfc", lambda ev, a: 1 - ev.mp.sign(a)),
           math.erfc, "erfc"),
    # relations
    _relation(sympy.StrictGreaterThan, ">", operator.gt, "Greater"),
    _relation(sympy.GreaterThan, ">=", operator.ge, "GreaterOrEqual"),
    _relation(sympy.StrictLessThan, "<", operator.lt, "Less"),
    _relation(sympy.LessThan, "<=", operator.le, "LessOrEqual"),
    _relation(sympy.Equality, "==", operator.eq, "Equal"),
    _relation(sympy.Unequality, "!=", operator.ne, "not_equal"),
)
"""Every supported node, one row each."""

BY_TYPE: dict[type, NodeSpec] = {spec.sympy_type: spec for spec in NODES}
"""Rows by SymPy class."""

BY_NAME: dict[str, NodeSpec] = {spec.name: spec for spec in NODES}
"""Rows by model-file name."""

SUPPORTED_NODES: tuple[str, ...] = tuple(
    spec.sympy_type.__name__ for spec in NODES if spec.sympy_type is not ExprCondPair
)
"""Names of the SymPy node types anynn can compile."""


def spec_of(expr: sympy.Basic) -> NodeSpec | None:
    """The row of ``expr``'s type (or of its nearest tabled base class), or None."""
    for cls in type(expr).__mro__:
        spec = BY_TYPE.get(cls)
        if spec is not None:
            return spec
    return None
