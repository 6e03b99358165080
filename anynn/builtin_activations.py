"""The built-in activation library and softmax (re-exported by :mod:`anynn.activations`).

Elementwise built-ins are SymPy expressions in :data:`anynn.activations.X`, verified and
compiled like any user expression on first use; parametrised ones (``leaky_relu``,
``elu``, ``celu``, ``softplus``, ``silu``, ``hardtanh``, ``softshrink``, ``hardshrink``,
``squareplus``) are :class:`~anynn.activations.ActivationFamily` objects with PyTorch's
parameter names and defaults. Softmax is an explicit
``(f, df)`` pair with a cheaper vector-Jacobian product.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, cast

import sympy
from sympy.codegen.cfunctions import expm1

from .activation import Activation, ActivationFamily
from .backend import device_of, namespace_of
from .errors import ActivationError
from .registry import Registry
from .symbolic import Y
from .symbolic.form import X

Array = Any


def softmax_function(z: Array) -> Array:
    """Row-wise softmax, shifted by the row maximum so it never overflows."""
    xp = namespace_of(z)
    shifted = xp.exp(z - xp.max(z, axis=-1, keepdims=True))
    return shifted / xp.sum(shifted, axis=-1, keepdims=True)


def softmax_jacobian(z: Array) -> Array:
    """Per-sample Jacobian of softmax: ``diag(s) - s s^T``, shape ``z.shape + (k,)``."""
    xp = namespace_of(z)
    s = softmax_function(z)
    k = z.shape[-1]
    eye = xp.eye(k, dtype=z.dtype, device=device_of(z))
    return s[..., :, None] * eye - s[..., :, None] * s[..., None, :]


def softmax_vjp(s: Array, g: Array) -> Array:
    """``g @ J`` for the softmax output ``s``: ``s * (g - sum(g * s))`` per sample."""
    xp = namespace_of(s)
    return s * (g - xp.sum(g * s, axis=-1, keepdims=True))


# -- the built-in library ---------------------------------------------------------------
SELU_ALPHA = sympy.Float("1.6732632423543772848170429916717", 30)
SELU_SCALE = sympy.Float("1.0507009873554804934193349852946", 30)


def _elu_expr(alpha: float) -> sympy.Expr:
    # Min(x, 0) keeps expm1 from overflowing in the branch `where` discards.
    return sympy.Piecewise((X, X > 0), (alpha * expm1(sympy.Min(X, 0)), True))


QUICK_GELU_RATE = sympy.Float("1.702")


def _relu6(u: sympy.Expr) -> sympy.Expr:
    return sympy.Min(sympy.Max(u, 0), 6)


def _require(condition: bool, name: str, message: str) -> None:
    if not condition:
        raise ActivationError(f"{name}: {message}")


def _softplus_expr(beta: float) -> sympy.Expr:
    _require(beta > 0, "softplus", f"beta must be > 0; got {beta}")
    if beta == 1:
        return sympy.log(1 + sympy.exp(X))
    return sympy.log(1 + sympy.exp(beta * X)) / beta


def _silu_expr(beta: float) -> sympy.Expr:
    return X / (1 + sympy.exp(-X)) if beta == 1 else X / (1 + sympy.exp(-beta * X))


def _hardtanh_expr(min_val: float, max_val: float) -> sympy.Expr:
    _require(min_val < max_val, "hardtanh", f"min_val ({min_val}) must be < max_val ({max_val})")
    return sympy.Min(sympy.Max(X, min_val), max_val)


def _celu_expr(alpha: float) -> sympy.Expr:
    _require(alpha != 0, "celu", "alpha must not be 0")
    return sympy.Piecewise((X, X > 0), (alpha * expm1(sympy.Min(X, 0) / alpha), True))


def _softshrink_expr(lambd: float) -> sympy.Expr:
    _require(lambd >= 0, "softshrink", f"lambd must be >= 0; got {lambd}")
    return sympy.Piecewise((X - lambd, X > lambd), (X + lambd, X < -lambd), (0, True))


def _hardshrink_expr(lambd: float) -> sympy.Expr:
    _require(lambd >= 0, "hardshrink", f"lambd must be >= 0; got {lambd}")
    return sympy.Piecewise((X, X > lambd), (X, X < -lambd), (0, True))


def _squareplus_expr(b: float) -> sympy.Expr:
    _require(b >= 0, "squareplus", f"b must be >= 0; got {b}")
    return (X + sympy.sqrt(X**2 + b)) / 2


def _expression(name: str, expr: sympy.Expr, init: str = "glorot", **kw: Any) -> Activation:
    return Activation(name, expr=expr, builtin=name, init=init, **kw)


identity = _expression("identity", X)
sigmoid = _expression("sigmoid", 1 / (1 + sympy.exp(-X)))
tanh = _expression("tanh", sympy.tanh(X))
relu = _expression("relu", sympy.Max(0, X), init="he")
leaky_relu = ActivationFamily(
    "leaky_relu",
    lambda alpha: sympy.Piecewise((X, X > 0), (alpha * X, True)),
    {"alpha": 0.01},
    init="he",
)
elu = ActivationFamily(
    "elu",
    _elu_expr,
    {"alpha": 1.0},
    init="he",
    output_hint=lambda alpha: sympy.Piecewise((1, Y > 0), (Y + alpha, True)),
)
selu = _expression(
    "selu",
    SELU_SCALE * _elu_expr(SELU_ALPHA),
    init="lecun",
    output_hints=(sympy.Piecewise((SELU_SCALE, Y > 0), (Y + SELU_SCALE * SELU_ALPHA, True)),),
)
softplus = ActivationFamily(
    "softplus", _softplus_expr, {"beta": 1.0}, init="he",
    output_hint=lambda beta: -expm1(-Y) if beta == 1 else -expm1(-beta * Y),
)
silu = ActivationFamily("silu", _silu_expr, {"beta": 1.0}, init="he")
gelu = _expression("gelu", X / 2 * (1 + sympy.erf(X / sympy.sqrt(2))), init="he")
gelu_tanh = _expression(
    "gelu_tanh",
    X / 2 * (1 + sympy.tanh(sympy.sqrt(2 / sympy.pi) * (X + sympy.Float("0.044715") * X**3))),
    init="he",
)
mish = _expression("mish", X * sympy.tanh(sympy.log(1 + sympy.exp(X))), init="he")
softsign = _expression("softsign", X / (1 + sympy.Abs(X)))
logsigmoid = _expression("logsigmoid", -sympy.log(1 + sympy.exp(-X)))
hardswish = _expression("hardswish", X * _relu6(X + 3) / 6, init="he")
hard_sigmoid = _expression("hard_sigmoid", _relu6(X + 3) / 6)
relu6 = _expression("relu6", _relu6(X), init="he")
hardtanh = ActivationFamily("hardtanh", _hardtanh_expr, {"min_val": -1.0, "max_val": 1.0})
celu = ActivationFamily(
    "celu", _celu_expr, {"alpha": 1.0}, init="he",
    output_hint=lambda alpha: sympy.Piecewise((1, Y > 0), (Y / alpha + 1, True)),
)
quick_gelu = _expression("quick_gelu", X / (1 + sympy.exp(-QUICK_GELU_RATE * X)), init="he")
tanhshrink = _expression("tanhshrink", X - sympy.tanh(X))
softshrink = ActivationFamily("softshrink", _softshrink_expr, {"lambd": 0.5})
hardshrink = ActivationFamily("hardshrink", _hardshrink_expr, {"lambd": 0.5})
squareplus = ActivationFamily("squareplus", _squareplus_expr, {"b": 4.0}, init="he")
softmax = Activation(
    "softmax", pair=(softmax_function, softmax_jacobian), vjp=softmax_vjp, builtin="softmax"
)

BUILTINS: dict[str, Activation] = {
    a.name: a
    for a in (
        identity, sigmoid, tanh, relu, leaky_relu, elu, selu, softplus, silu, gelu,
        gelu_tanh, mish, softsign, logsigmoid, hardswish, hard_sigmoid, relu6, hardtanh,
        celu, quick_gelu, tanhshrink, softshrink, hardshrink, squareplus, softmax,
    )
}
"""Built-in activations by name (families at their default parameters)."""

_ALIASES = {
    "linear": "identity", "none": "identity", "logistic": "sigmoid", "swish": "silu",
    "hardsigmoid": "hard_sigmoid", "hard_swish": "hardswish",
}
swish = silu

REGISTRY: Registry[Activation] = Registry(
    "activation", Activation, BUILTINS, _ALIASES, unknown_error=ActivationError
)
"""The built-ins, found by the same name lookup as losses, metrics and optimizers."""


def from_builtin(name: str, params: Mapping[str, float] | None = None) -> Activation:
    """Rebuild a built-in from its name and parameters (``("elu", {"alpha": 0.5})``).

    Raises
    ------
    ActivationError
        If ``name`` is not a built-in, or ``params`` do not fit it.
    """
    # The entries are the activation objects themselves, not factories of them.
    activation = cast(Activation, REGISTRY.lookup(name))
    if not params:
        return activation
    if not isinstance(activation, ActivationFamily):
        raise ActivationError(
            f"activation {activation.name!r} takes no parameters; got {dict(params)}"
        )
    return activation.with_params(**params)
