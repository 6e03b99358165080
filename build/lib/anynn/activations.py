"""Activation functions: SymPy expressions compiled per backend, or array-function pairs.

Every elementwise activation is a SymPy expression in one symbol; anynn derives ``f'``
symbolically, checks both numerically against mpmath and rewrites them when they are
unstable, and compiles them for the namespace of the array it is applied to (the
compiler, :mod:`anynn.symbolic`). The built-in library is :mod:`anynn.builtin_activations`
(re-exported here). Non-elementwise activations (softmax) are an
explicit ``(f, df)`` pair of array functions, where ``df(z)`` returns either an
elementwise derivative (same shape as ``z``) or the per-sample Jacobian (shape
``z.shape + (k,)``).

Parametrised built-ins (``leaky_relu``, ``elu``, ``celu``, ``softplus``, ``silu``,
``hardtanh``, ``softshrink``, ``hardshrink``, ``squareplus``, with PyTorch's parameter
names and defaults) are :class:`ActivationFamily` objects:
the object itself is the activation with default parameters (``leaky_relu`` is
``leaky_relu(alpha=0.01)``), and calling it with numbers builds another member of the
family: ``leaky_relu(0.1)`` or ``elu(alpha=0.5)``. Called with an array, it evaluates
``f`` like any activation. :func:`from_builtin` rebuilds any built-in from its name and
parameters (what a model file stores).

Conventions: at a kink of a linear argument ``f'`` is the derivative from the left
(``relu'(0) = 0``, ``leaky_relu'(0) = alpha``; see :mod:`anynn.symbolic` for the exact
rule); NaN in gives NaN out for ``f`` and ``f'``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import sympy

from .activation import Activation, ActivationFamily
from .backend import namespace_of
from .bound_activation import BoundActivation, bind
from .builtin_activations import (
    BUILTINS,
    SELU_ALPHA,
    SELU_SCALE,
    celu,
    elu,
    from_builtin,
    gelu,
    gelu_tanh,
    hard_sigmoid,
    hardshrink,
    hardswish,
    hardtanh,
    identity,
    leaky_relu,
    logsigmoid,
    mish,
    quick_gelu,
    relu,
    relu6,
    selu,
    sigmoid,
    silu,
    softmax,
    softmax_function,
    softmax_jacobian,
    softmax_vjp,
    softplus,
    softshrink,
    softsign,
    squareplus,
    swish,
    tanh,
    tanhshrink,
)
from .errors import ActivationError
from .symbolic.form import X


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
    """Build (and verify, now) an activation from a SymPy expression in one free symbol.

    Raises
    ------
    ActivationError
        If ``expr`` is not a SymPy expression in at most one symbol, uses functions
        anynn cannot compile, is not real, or is not numerically stable.
    """
    if isinstance(expr, (int, float)) and not isinstance(expr, bool):
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
    symbol = free[0] if free else X
    if symbol != X:
        expr = expr.subs(symbol, X)
    return Activation(str(expr), expr=expr, eager=True)


def get(spec: Any) -> Activation:
    """Return the :class:`Activation` described by ``spec``.

    Parameters
    ----------
    spec : Activation, str, sympy.Expr, callable or (f, df) pair
        A built-in name (``"relu"``), an activation object (``leaky_relu(0.1)``), a
        SymPy expression in one symbol, a SymPy-callable (``lambda x: x * sympy.tanh(x)``),
        or a tuple of two array functions ``(f, df)`` for a non-elementwise activation.

    Raises
    ------
    ActivationError
        If the spec names no known activation or cannot be compiled.
    """
    if isinstance(spec, Activation):
        return spec
    if isinstance(spec, str):
        return from_builtin(spec)
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





__all__ = [
    "BUILTINS", "SELU_ALPHA", "SELU_SCALE", "X", "Activation", "ActivationFamily",
    "BoundActivation", "bind", "celu",
    "elu", "from_builtin", "from_expression", "gelu", "gelu_tanh", "get", "hard_sigmoid",
    "hardshrink", "hardswish", "hardtanh", "identity", "leaky_relu", "logsigmoid", "mish",
    "namespace_of", "quick_gelu", "relu", "relu6", "selu", "sigmoid", "silu", "softmax",
    "softmax_function", "softmax_jacobian", "softmax_vjp", "softplus", "softshrink",
    "softsign", "squareplus", "swish", "tanh", "tanhshrink",
]
