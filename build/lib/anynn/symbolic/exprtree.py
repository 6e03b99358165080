"""Safe JSON expression trees: SymPy expressions in one symbol <-> nested JSON lists.

Model files store activations as trees, never as code (``sympify``, ``parse_expr`` and
``eval`` run code). A node is a JSON list whose first item names it::

    ["Symbol", "x"]            the input variable: the only symbol, always named "x"
    ["Integer", 3]             |n| <= MAX_INTEGER
    ["Rational", 1, 2]         numerator and denominator bounded like integers
    ["Float", 0.01]            a finite float64
    ["Float", "-1a2b", -12, 100]   a higher-precision Float: hex mantissa * 2**exponent
    ["pi"], ["E"], ["true"], ["false"]
    ["Add", a, b, ...]         operators and functions, arity checked (see NODES)

:func:`decode` walks the tree iteratively (so 10^5-deep input cannot exhaust the stack),
checks the size, depth, names, arities and numbers, and builds SymPy objects only from
the whitelisted constructors of the node table (:mod:`.nodes`). Every constant subtree
must have a finite real float64 value, computed with the standard library before SymPy
sees it, and exact powers are bounded, so hostile trees cannot make SymPy compute enormous numbers.
"""

from __future__ import annotations

import math
from typing import Any

import sympy

from ..errors import ActivationError, ModelFileError
from .form import X
from .nodes import BY_NAME, NodeSpec, spec_of

Tree = list[Any]
"""A JSON expression tree (nested lists)."""

SYMBOL_NAME = "x"
"""The only symbol name a tree may hold; it decodes to :data:`~anynn.symbolic.form.X`."""

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


Value = Any  # float, bool, a (value, condition) pair, or None for a symbolic subtree


NODES: dict[str, NodeSpec] = BY_NAME
"""Whitelisted operator and function nodes by name (the node table, :mod:`.nodes`)."""

_CONSTANTS: dict[str, tuple[Any, Value]] = {
    "pi": (sympy.pi, math.pi),
    "E": (sympy.E, math.e),
    "true": (sympy.true, True),
    "false": (sympy.false, False),
}

LEAVES = ("Symbol", "Integer", "Rational", "Float", *_CONSTANTS)
"""Leaf node names."""

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
    spec = spec_of(node)
    if spec is None:
        raise ActivationError(
            f"{type(node).__name__} (in {context}) cannot be stored in a model file; "
            f"supported nodes: {', '.join(sorted(NODES))}, {', '.join(LEAVES)}"
        )
    return spec.name


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
            assert node.py is not None
            value = node.py(*values)
        except (ArithmeticError, ValueError, TypeError) as exc:
            raise _reject(f"a constant {name} subtree has no finite real value ({exc})") from exc
        if isinstance(value, complex):
            raise _reject(f"a constant {name} subtree is not real")
    if name == "Pow":
        _check_exact_power(*children)
    try:
        result = node.sympy_type(*children)
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
        least, most = spec.arity
        most = MAX_NODES if most is None else most
        if not least <= len(node) - 1 <= most:
            raise _reject(f"{name} takes {least} to {most} arguments; got {len(node) - 1}")
        stack.append((node, depth, True))
        stack.extend((child, depth + 1, False) for child in reversed(node[1:]))
    expr = results[0][0]
    if not isinstance(expr, sympy.Expr):
        raise _reject(f"the root must be an expression; got {type(expr).__name__}")
    if not expr.free_symbols <= {X}:
        raise _reject(f"unexpected symbols {expr.free_symbols - {X}}")
    return expr
