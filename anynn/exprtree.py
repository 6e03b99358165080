"""Safe JSON expression trees: SymPy expressions in one symbol <-> nested JSON lists.

Model files store activations as trees, never as code (DESIGN.md: ``sympify``,
``parse_expr`` and ``eval`` run code). A node is a JSON list whose first item names it::

    ["Symbol", "x"]            the input variable: the only symbol, always named "x"
    ["Integer", 3]             |n| <= MAX_INTEGER
    ["Rational", 1, 2]         numerator and denominator bounded like integers
    ["Float", 0.01]            a finite float64
    ["Float", "-1a2b", -12, 100]   a higher-precision Float: hex mantissa * 2**exponent
    ["pi"], ["E"], ["true"], ["false"]
    ["Add", a, b, ...]         operators and functions, arity checked (see NODES)

:func:`decode` walks the tree iteratively (so 10^5-deep input cannot exhaust the stack),
checks the size, depth, names, arities and numbers, and builds SymPy objects only from
the whitelisted constructors in :data:`NODES`. Every constant subtree must have a finite
real float64 value, computed with the standard library before SymPy sees it, and exact
powers are bounded, so hostile trees cannot make SymPy compute enormous numbers.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import sympy
from sympy.codegen.cfunctions import expm1, log1p
from sympy.functions.elementary.piecewise import ExprCondPair
from sympy.logic.boolalg import Boolean

from .errors import ActivationError, ModelFileError

Tree = list[Any]
"""A JSON expression tree (nested lists)."""

SYMBOL_NAME = "x"
"""The only symbol name a tree may hold; it decodes to ``anynn.activations.X``."""

MAX_NODES = 256
"""Most nodes a tree may hold."""

MAX_DEPTH = 48
"""Deepest nesting a tree may have."""

MAX_INTEGER = 2**53
"""Largest magnitude of an integer, numerator or denominator in a tree."""

MAX_EXPONENT = 256
"""Largest magnitude of a numeric exponent of ``Pow``."""

MAX_FLOAT_PRECISION = 256
"""Most bits of precision of a stored SymPy ``Float`` (float64 has 53)."""

MAX_FLOAT_EXPONENT = 1500
"""Largest magnitude of the binary exponent of a stored higher-precision ``Float``."""

MAX_EXACT_BITS = 4096
"""Largest bit length of an exact rational number built while decoding."""

X = sympy.Symbol(SYMBOL_NAME, real=True)
"""The symbol trees decode to (the same as ``anynn.activations.X``)."""

Value = Any  # float, bool, a (value, condition) pair, or None for a symbolic subtree


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


@dataclass(frozen=True)
class Node:
    """One whitelisted node: its SymPy constructor, arity and float64 evaluation.

    Attributes
    ----------
    build : callable
        Builds the SymPy object from the decoded children.
    min_args, max_args : int
        Allowed number of children (``max_args = MAX_NODES`` for n-ary nodes).
    value : callable
        The node's value on float64 children (for constant subtrees).
    kinds : tuple of type
        Type each child must have (the last one repeats): an expression, a condition
        (``Boolean``) or a Piecewise branch (``ExprCondPair``).
    """

    build: Callable[..., Any]
    min_args: int
    max_args: int
    value: Callable[..., Value]
    kinds: tuple[type, ...] = (sympy.Expr,)


def _unary(cls: Any, fn: Callable[[float], float]) -> Node:
    return Node(cls, 1, 1, fn)


NODES: dict[str, Node] = {
    "Add": Node(sympy.Add, 2, MAX_NODES, lambda *a: math.fsum(a)),
    "Mul": Node(sympy.Mul, 2, MAX_NODES, lambda *a: math.prod(a)),
    "Pow": Node(sympy.Pow, 2, 2, math.pow),
    "exp": _unary(sympy.exp, math.exp),
    "log": _unary(sympy.log, math.log),
    "sin": _unary(sympy.sin, math.sin),
    "cos": _unary(sympy.cos, math.cos),
    "tan": _unary(sympy.tan, math.tan),
    "asin": _unary(sympy.asin, math.asin),
    "acos": _unary(sympy.acos, math.acos),
    "atan": _unary(sympy.atan, math.atan),
    "sinh": _unary(sympy.sinh, math.sinh),
    "cosh": _unary(sympy.cosh, math.cosh),
    "tanh": _unary(sympy.tanh, math.tanh),
    "asinh": _unary(sympy.asinh, math.asinh),
    "acosh": _unary(sympy.acosh, math.acosh),
    "atanh": _unary(sympy.atanh, math.atanh),
    "Abs": _unary(sympy.Abs, abs),
    "sign": _unary(sympy.sign, _sign),
    "erf": _unary(sympy.erf, math.erf),
    "erfc": _unary(sympy.erfc, math.erfc),
    "log1p": _unary(log1p, math.log1p),
    "expm1": _unary(expm1, math.expm1),
    "Max": Node(sympy.Max, 2, MAX_NODES, max),
    "Min": Node(sympy.Min, 2, MAX_NODES, min),
    "Heaviside": Node(sympy.Heaviside, 1, 2, _heaviside),
    "DiracDelta": Node(sympy.DiracDelta, 1, 2, _dirac),
    "Piecewise": Node(sympy.Piecewise, 1, MAX_NODES, _piecewise, (ExprCondPair,)),
    "ExprCondPair": Node(ExprCondPair, 2, 2, lambda v, c: (v, c), (sympy.Expr, Boolean)),
    "StrictGreaterThan": Node(sympy.StrictGreaterThan, 2, 2, lambda a, b: a > b),
    "GreaterThan": Node(sympy.GreaterThan, 2, 2, lambda a, b: a >= b),
    "StrictLessThan": Node(sympy.StrictLessThan, 2, 2, lambda a, b: a < b),
    "LessThan": Node(sympy.LessThan, 2, 2, lambda a, b: a <= b),
    "Equality": Node(sympy.Equality, 2, 2, lambda a, b: a == b),
    "Unequality": Node(sympy.Unequality, 2, 2, lambda a, b: a != b),
    "And": Node(sympy.And, 2, MAX_NODES, lambda *a: all(a), (Boolean,)),
    "Or": Node(sympy.Or, 2, MAX_NODES, lambda *a: any(a), (Boolean,)),
}
"""Whitelisted operator and function nodes by name."""

_CONSTANTS: dict[str, tuple[Any, Value]] = {
    "pi": (sympy.pi, math.pi),
    "E": (sympy.E, math.e),
    "true": (sympy.true, True),
    "false": (sympy.false, False),
}

LEAVES = ("Symbol", "Integer", "Rational", "Float", *_CONSTANTS)
"""Leaf node names."""

_NAME_OF_CLASS: dict[Any, str] = {node.build: name for name, node in NODES.items()}
_NON_FINITE = (sympy.nan, sympy.zoo, sympy.oo, -sympy.oo)


# -- encoding ---------------------------------------------------------------------------
def encode(expr: sympy.Basic, symbol: sympy.Symbol = X) -> Tree:
    """Return the JSON tree of ``expr``, an expression in the single symbol ``symbol``.

    Raises
    ------
    ActivationError
        If ``expr`` holds a node outside :data:`NODES`, another free symbol, a number
        out of bounds, or exceeds :data:`MAX_NODES` / :data:`MAX_DEPTH`.
    """
    count = [0]

    def walk(node: sympy.Basic, depth: int) -> Tree:
        count[0] += 1
        if count[0] > MAX_NODES or depth > MAX_DEPTH:
            raise ActivationError(
                f"the expression {expr} is too large to store: at most {MAX_NODES} nodes "
                f"and depth {MAX_DEPTH}"
            )
        leaf = _encode_leaf(node, symbol, expr)
        if leaf is not None:
            return leaf
        name = _node_name(node, expr)
        return [name, *(walk(arg, depth + 1) for arg in node.args)]

    return walk(expr, 1)


def _check_integer(value: int, what: str, context: Any) -> int:
    if abs(value) > MAX_INTEGER:
        raise ActivationError(
            f"the {what} {value} in {context} is too large to store (at most 2**53)"
        )
    return value


def _encode_leaf(node: sympy.Basic, symbol: sympy.Symbol, context: Any) -> Tree | None:
    if isinstance(node, sympy.Symbol):
        if node != symbol:
            raise ActivationError(
                f"the expression {context} has the free symbol {node}; only {symbol} is allowed"
            )
        return ["Symbol", SYMBOL_NAME]
    if isinstance(node, sympy.Integer):
        return ["Integer", _check_integer(int(node), "integer", context)]
    if isinstance(node, sympy.Rational):
        return [
            "Rational",
            _check_integer(int(node.p), "numerator", context),
            _check_integer(int(node.q), "denominator", context),
        ]
    if isinstance(node, sympy.Float):
        value = float(node)
        if not math.isfinite(value):
            raise ActivationError(f"the number {node} in {context} is not a finite float64")
        if node._prec == 53:
            return ["Float", value]
        if node._prec > MAX_FLOAT_PRECISION:
            raise ActivationError(
                f"the number {node} in {context} has {node._prec} bits of precision; at most "
                f"{MAX_FLOAT_PRECISION} can be stored"
            )
        sign, man, exponent, _ = node._mpf_
        if abs(exponent) > MAX_FLOAT_EXPONENT:
            raise ActivationError(f"the number {node} in {context} is out of range")
        return ["Float", format(-man if sign else man, "x"), exponent, node._prec]
    for name, (constant, _) in _CONSTANTS.items():
        if node == constant:
            return [name]
    return None


def _node_name(node: sympy.Basic, context: Any) -> str:
    name = _NAME_OF_CLASS.get(type(node))
    if name is None:
        for cls, candidate in _NAME_OF_CLASS.items():
            if isinstance(cls, type) and isinstance(node, cls):
                return candidate
        raise ActivationError(
            f"{type(node).__name__} (in {context}) cannot be stored in a model file; "
            f"supported nodes: {', '.join(sorted(NODES))}, {', '.join(LEAVES)}"
        )
    return name


# -- decoding ---------------------------------------------------------------------------
def _reject(message: str) -> ModelFileError:
    return ModelFileError(f"invalid activation expression tree: {message}")


def _bounded_int(value: Any, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise _reject(f"{what} must be an integer; got {type(value).__name__}")
    if abs(value) > MAX_INTEGER:
        raise _reject(f"{what} {value} is out of bounds (at most 2**53 in magnitude)")
    return value


def _decode_leaf(node: Tree) -> tuple[Any, Value]:
    """Return ``(sympy object, float value or None)`` of a leaf node."""
    name, args = node[0], node[1:]
    if name in _CONSTANTS:
        if args:
            raise _reject(f"{name} takes no arguments; got {len(args)}")
        return _CONSTANTS[name]
    if name == "Float" and len(args) == 3:
        return _decode_exact_float(*args)
    if len(args) != (2 if name == "Rational" else 1):
        raise _reject(f"{name} has {len(args)} arguments")
    if name == "Symbol":
        if args[0] != SYMBOL_NAME:
            raise _reject(f"the only allowed symbol is {SYMBOL_NAME!r}; got {str(args[0])[:80]!r}")
        return X, None
    if name == "Integer":
        n = _bounded_int(args[0], "an integer")
        return sympy.Integer(n), float(n)
    if name == "Rational":
        p = _bounded_int(args[0], "a numerator")
        q = _bounded_int(args[1], "a denominator")
        if q == 0:
            raise _reject("a Rational has denominator 0")
        return sympy.Rational(p, q), p / q
    value = args[0]
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise _reject(f"a Float must hold a number; got {type(value).__name__}")
    if not math.isfinite(value):
        raise _reject(f"a Float must be finite; got {value}")
    return sympy.Float(float(value)), float(value)


def _decode_exact_float(mantissa: Any, exponent: Any, precision: Any) -> tuple[Any, Value]:
    """``["Float", hex mantissa, binary exponent, precision]``: mantissa * 2**exponent."""
    precision = _bounded_int(precision, "a Float precision")
    exponent = _bounded_int(exponent, "a Float exponent")
    if not 53 <= precision <= MAX_FLOAT_PRECISION or abs(exponent) > MAX_FLOAT_EXPONENT:
        raise _reject(f"Float precision {precision} or exponent {exponent} out of bounds")
    digits = mantissa.removeprefix("-") if isinstance(mantissa, str) else ""
    if not 0 < len(digits) <= MAX_FLOAT_PRECISION // 4 or digits.strip("0123456789abcdef"):
        raise _reject("a Float mantissa must be a short lowercase hexadecimal string")
    man = int(mantissa, 16)
    if man.bit_length() > precision:
        raise _reject(f"a Float mantissa has more than {precision} bits")
    exact = sympy.Rational(man) * sympy.Rational(2) ** exponent
    return sympy.Float(exact, precision=precision), math.ldexp(man, exponent)


def _check_exact_power(base: Any, exponent: Any) -> None:
    """Refuse powers SymPy would evaluate into enormous exact numbers."""
    if isinstance(exponent, sympy.Number) and abs(exponent) > MAX_EXPONENT:
        raise _reject(f"the exponent {exponent} is out of bounds (at most {MAX_EXPONENT})")
    if isinstance(base, sympy.Rational) and isinstance(exponent, sympy.Rational):
        bits = max(int(base.p).bit_length(), int(base.q).bit_length())
        if bits * abs(exponent) > MAX_EXACT_BITS:
            raise _reject(f"a power of a {bits}-bit number to {exponent} is too large")


def _check_result(name: str, result: Any, value: Value) -> None:
    if result in _NON_FINITE:
        raise _reject(f"{name} evaluates to {result}")
    if isinstance(result, sympy.Rational) and (
        max(int(result.p).bit_length(), int(result.q).bit_length()) > MAX_EXACT_BITS
    ):
        raise _reject(f"{name} evaluates to a number too large to store")
    if isinstance(value, float) and not math.isfinite(value):
        raise _reject(f"a constant {name} subtree is not a finite float64 ({value})")


def _decode_node(name: str, children: list[Any], values: list[Value]) -> tuple[Any, Value]:
    node = NODES[name]
    for i, child in enumerate(children):
        kind = node.kinds[min(i, len(node.kinds) - 1)]
        if not isinstance(child, kind):
            raise _reject(f"argument {i} of {name} must be a {kind.__name__}")
    value: Value = None
    if all(v is not None for v in values):
        try:
            value = node.value(*values)
        except (ArithmeticError, ValueError, TypeError) as exc:
            raise _reject(f"a constant {name} subtree has no finite real value ({exc})") from exc
        if isinstance(value, complex):
            raise _reject(f"a constant {name} subtree is not real")
    if name == "Pow":
        _check_exact_power(*children)
    try:
        result = node.build(*children)
    except Exception as exc:  # SymPy rejects ill-typed arguments in many ways
        raise _reject(f"{name} cannot be built from its arguments ({exc})") from exc
    _check_result(name, result, value)
    return result, value


def decode(tree: Any) -> sympy.Expr:
    """Build the SymPy expression of a JSON tree, in the symbol :data:`X`.

    Nothing from the tree is executed: node names select whitelisted constructors.

    Raises
    ------
    ModelFileError
        For any tree that is not a valid, bounded expression in ``x``.
    """
    count = 0
    stack: list[tuple[Any, int, bool]] = [(tree, 1, False)]
    results: list[tuple[Any, Value]] = []
    while stack:
        node, depth, expanded = stack.pop()
        if expanded:
            k = len(node) - 1
            taken = results[len(results) - k :]
            del results[len(results) - k :]
            results.append(
                _decode_node(node[0], [t[0] for t in taken], [t[1] for t in taken])
            )
            continue
        count += 1
        if count > MAX_NODES:
            raise _reject(f"more than {MAX_NODES} nodes")
        if depth > MAX_DEPTH:
            raise _reject(f"nesting deeper than {MAX_DEPTH}")
        if not isinstance(node, list) or not node or not isinstance(node[0], str):
            raise _reject(f"a node must be a list starting with a name; got {str(node)[:80]}")
        name = node[0]
        if name in LEAVES:
            results.append(_decode_leaf(node))
            continue
        spec = NODES.get(name)
        if spec is None:
            raise _reject(f"unknown node {name[:80]!r}")
        if not spec.min_args <= len(node) - 1 <= spec.max_args:
            raise _reject(
                f"{name} takes {spec.min_args} to {spec.max_args} arguments; got {len(node) - 1}"
            )
        stack.append((node, depth, True))
        stack.extend((child, depth + 1, False) for child in reversed(node[1:]))
    expr = results[0][0]
    if not isinstance(expr, sympy.Expr):
        raise _reject(f"the root must be an expression; got {type(expr).__name__}")
    if not expr.free_symbols <= {X}:
        raise _reject(f"unexpected symbols {expr.free_symbols - {X}}")
    return expr
