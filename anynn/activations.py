"""Activation functions: SymPy expressions compiled per backend, or array-function pairs.

Every elementwise activation is a SymPy expression in one symbol; anynn derives ``f'``
symbolically and compiles both for the namespace of the array it is applied to.
Non-elementwise activations (softmax) are an explicit ``(f, df)`` pair of array
functions, where ``df(z)`` returns either an elementwise derivative (same shape as
``z``) or the per-sample Jacobian (shape ``z.shape + (k,)``).

Kink convention: at a point where ``f`` is not differentiable, anynn uses the
derivative from the left, so ``relu'(0) = 0``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from types import ModuleType
from typing import Any

import sympy
from array_api_compat import array_namespace

from .errors import ActivationError
from .symbolic import CompiledExpression, compile_expression

Array = Any
ArrayFunction = Callable[[Array], Array]

X = sympy.Symbol("x", real=True)
"""The symbol built-in activations are written in."""


class Activation:
    """An activation function with its derivative.

    Parameters
    ----------
    name : str
        Readable name (``"relu"``, ``"leaky_relu(0.01)"``, or the expression).
    expr : sympy.Expr, optional
        ``f`` as a SymPy expression in ``symbol`` (elementwise activations).
    symbol : sympy.Symbol, optional
        The free symbol of ``expr``.
    pair : (callable, callable), optional
        ``(f, df)`` array functions, for non-elementwise activations.
    params : mapping, optional
        Parameters of a parametrised built-in (``{"alpha": 0.01}``), for saving.
    builtin : str, optional
        Name of the built-in family this activation comes from, if any.
    init : {"glorot", "he", "lecun"}
        Weight initialisation that suits the activation.
    """

    def __init__(
        self,
        name: str,
        *,
        expr: sympy.Expr | None = None,
        symbol: sympy.Symbol | None = None,
        pair: tuple[ArrayFunction, ArrayFunction] | None = None,
        params: Mapping[str, float] | None = None,
        builtin: str | None = None,
        init: str = "glorot",
    ) -> None:
        if (expr is None) == (pair is None):
            raise ActivationError("an Activation needs exactly one of expr= or pair=")
        self.name = name
        self.expr = expr
        self.symbol = symbol if symbol is not None else X
        self.pair = pair
        self.params: dict[str, float] = dict(params or {})
        self.builtin = builtin
        self.init = init
        self.derivative_expr = sympy.diff(expr, self.symbol) if expr is not None else None

    @property
    def elementwise(self) -> bool:
        """Whether ``f`` acts on each element independently (SymPy activations)."""
        return self.expr is not None

    def __repr__(self) -> str:
        return f"Activation({self.name})"

    def compiled(self, xp: ModuleType) -> CompiledExpression:
        """Return ``f``/``f'`` compiled for the namespace ``xp`` (cached)."""
        if self.expr is None:
            raise ActivationError(f"{self.name} is an (f, df) pair; it has no expression")
        return compile_expression(self.expr, self.symbol, xp, self.derivative_expr)

    def __call__(self, z: Array) -> Array:
        """Evaluate ``f(z)``; the namespace is taken from ``z``."""
        if self.pair is not None:
            return self.pair[0](z)
        return self.compiled(array_namespace(z)).f(z)

    def derivative(self, z: Array) -> Array:
        """Evaluate ``f'(z)`` (elementwise, or the Jacobian for a pair that returns one)."""
        if self.pair is not None:
            return self.pair[1](z)
        return self.compiled(array_namespace(z)).df(z)


def softmax_function(z: Array) -> Array:
    """Row-wise softmax, shifted by the row maximum so it never overflows."""
    xp = array_namespace(z)
    shifted = xp.exp(z - xp.max(z, axis=-1, keepdims=True))
    return shifted / xp.sum(shifted, axis=-1, keepdims=True)


def softmax_jacobian(z: Array) -> Array:
    """Per-sample Jacobian of softmax: ``diag(s) - s s^T``, shape ``z.shape + (k,)``."""
    xp = array_namespace(z)
    s = softmax_function(z)
    k = z.shape[-1]
    eye = xp.eye(k, dtype=z.dtype, device=z.device)
    return s[..., :, None] * eye - s[..., :, None] * s[..., None, :]


def _expression(name: str, expr: sympy.Expr, init: str = "glorot") -> Activation:
    return Activation(name, expr=expr, builtin=name, init=init)


identity = _expression("identity", X)
sigmoid = _expression("sigmoid", 1 / (1 + sympy.exp(-X)))
tanh = _expression("tanh", sympy.tanh(X))
relu = _expression("relu", sympy.Max(0, X), init="he")
softmax = Activation("softmax", pair=(softmax_function, softmax_jacobian), builtin="softmax")

BUILTINS: dict[str, Activation] = {
    a.name: a for a in (identity, sigmoid, tanh, relu, softmax)
}
"""Built-in activations by name."""

_ALIASES = {"linear": "identity", "none": "identity", "logistic": "sigmoid"}


def _from_callable(fn: Callable[..., Any]) -> Activation:
    try:
        expr = fn(X)
    except Exception as exc:
        raise ActivationError(
            f"activation {fn!r} could not be called with a SymPy symbol ({exc}); write it "
            "with sympy functions (lambda x: sympy.tanh(x)) or pass an (f, df) pair of "
            "array functions"
        ) from exc
    return from_expression(expr, X)


def from_expression(expr: Any, symbol: sympy.Symbol | None = None) -> Activation:
    """Build an activation from a SymPy expression in one free symbol.

    Raises
    ------
    ActivationError
        If ``expr`` is not a SymPy expression in exactly one symbol.
    """
    if isinstance(expr, (int, float)):
        expr = sympy.Float(expr)
    if not isinstance(expr, sympy.Expr):
        raise ActivationError(
            f"an activation expression must be a SymPy expression; got "
            f"{type(expr).__name__}: {expr!r}"
        )
    free = sorted(expr.free_symbols, key=lambda s: s.name)
    if len(free) > 1:
        raise ActivationError(
            f"an activation must have one free symbol; {expr} has {len(free)}: "
            + ", ".join(s.name for s in free)
        )
    if symbol is None or (free and free[0] != symbol):
        symbol = free[0] if free else X
    if symbol != X:  # canonical symbol, so equal expressions share a compiled cache entry
        expr = expr.subs(symbol, X)
    return Activation(str(expr), expr=expr)


def get(spec: Any) -> Activation:
    """Return the :class:`Activation` described by ``spec``.

    Parameters
    ----------
    spec : Activation, str, sympy.Expr, callable or (f, df) pair
        A built-in name (``"relu"``), an activation object, a SymPy expression in one
        symbol, a SymPy-callable (``lambda x: x * sympy.tanh(x)``), or a tuple of two
        array functions ``(f, df)`` for a non-elementwise activation.

    Raises
    ------
    ActivationError
        If the spec names no known activation or cannot be compiled.
    """
    if isinstance(spec, Activation):
        return spec
    if isinstance(spec, str):
        key = _ALIASES.get(spec.lower(), spec.lower())
        if key not in BUILTINS:
            raise ActivationError(
                f"unknown activation {spec!r}; built-ins are: {', '.join(sorted(BUILTINS))}"
            )
        return BUILTINS[key]
    if isinstance(spec, tuple) and len(spec) == 2 and all(callable(p) for p in spec):
        name = getattr(spec[0], "__name__", "custom")
        return Activation(name, pair=(spec[0], spec[1]))
    if isinstance(spec, sympy.Basic):
        return from_expression(spec)
    if callable(spec):
        return _from_callable(spec)
    raise ActivationError(
        "an activation must be a built-in name, an Activation, a SymPy expression, a "
        f"SymPy-callable or an (f, df) pair; got {type(spec).__name__}: {spec!r}"
    )
