"""Activation functions: SymPy expressions compiled per backend, or array-function pairs.

Every elementwise activation is a SymPy expression in one symbol; anynn derives ``f'``
symbolically, checks both numerically against mpmath and rewrites them when they are
unstable (:mod:`anynn.stability`), and compiles them for the namespace of the array it
is applied to (:mod:`anynn.symbolic`). Non-elementwise activations (softmax) are an
explicit ``(f, df)`` pair of array functions, where ``df(z)`` returns either an
elementwise derivative (same shape as ``z``) or the per-sample Jacobian (shape
``z.shape + (k,)``).

Parametrised built-ins (``leaky_relu``, ``elu``) are :class:`ActivationFamily` objects:
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

import numbers
from collections.abc import Callable, Mapping, Sequence
from types import ModuleType
from typing import Any

import sympy
from sympy.codegen.cfunctions import expm1

from .backend import namespace_of, overflow_allowed
from .bound_activation import BoundActivation, bind  # noqa: F401 - binding lives there
from .errors import ActivationError
from .stability import Y, stable_form
from .symbolic import CompiledExpression, Form, compile_form, differentiate

Array = Any
ArrayFunction = Callable[[Array], Array]

X = sympy.Symbol("x", real=True)
"""The symbol built-in activations are written in."""


class Activation:
    """An activation function with its derivative.

    Parameters
    ----------
    name : str
        Readable name (``"relu"``, ``"leaky_relu(alpha=0.1)"``, or the expression).
    expr : sympy.Expr, optional
        ``f`` as a SymPy expression in ``symbol`` (elementwise activations).
    symbol : sympy.Symbol, optional
        The free symbol of ``expr`` (default :data:`X`).
    pair : (callable, callable), optional
        ``(f, df)`` array functions, for non-elementwise activations.
    params : mapping, optional
        Parameters of a parametrised built-in (``{"alpha": 0.01}``), for saving.
    builtin : str, optional
        Name of the built-in family this activation comes from, if any.
    init : {"glorot", "he", "lecun"}
        Weight initialisation that suits the activation.
    output_hints : sequence of sympy.Expr
        Candidates for ``f'`` in terms of the output :data:`anynn.stability.Y`; used
        only if verified numerically.
    eager : bool
        Verify and stabilise the expression now (errors at construction) instead of on
        first use.
    vjp : callable, optional
        For a pair: ``vjp(a, g) -> g @ J`` from the output ``a = f(z)``, a cheaper
        backward pass than building the Jacobian ``df(z)`` (softmax: O(k) per sample
        instead of O(k^2)).
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
        output_hints: Sequence[sympy.Expr] = (),
        eager: bool = False,
        vjp: Callable[[Array, Array], Array] | None = None,
    ) -> None:
        if (expr is None) == (pair is None):
            raise ActivationError("an Activation needs exactly one of expr= or pair=")
        self.name = name
        self.symbol = symbol if symbol is not None else X
        if expr is not None and self.symbol != X:  # one canonical symbol: shared caches
            expr = expr.subs(self.symbol, X)
            self.symbol = X
        self.expr = expr
        self.pair = pair
        self.vjp = vjp
        self.params: dict[str, float] = dict(params or {})
        self.builtin = builtin
        self.init = init
        self._output_hints = tuple(output_hints)
        self._form: Form | None = None
        if eager and expr is not None:
            _ = self.form

    @property
    def elementwise(self) -> bool:
        """Whether ``f`` acts on each element independently (SymPy activations)."""
        return self.expr is not None

    @property
    def form(self) -> Form:
        """The verified, possibly rewritten, form that is compiled (computed once)."""
        if self.expr is None:
            raise ActivationError(f"{self.name} is an (f, df) pair; it has no expression")
        if self._form is None:
            self._form = stable_form(self.expr, self.symbol, self._output_hints)
        return self._form

    @property
    def derivative_expr(self) -> sympy.Expr | None:
        """``f'`` as SymPy differentiates it (kink convention applied), or None."""
        return None if self.expr is None else differentiate(self.expr, self.symbol)

    def __repr__(self) -> str:
        return f"Activation({self.name})"

    def compiled(self, xp: ModuleType) -> CompiledExpression:
        """Return ``f``/``f'`` compiled for the namespace ``xp`` (cached)."""
        return compile_form(self.form, xp)

    def __call__(self, z: Array) -> Array:
        """Evaluate ``f(z)``; the namespace is taken from ``z``."""
        if self.pair is not None:
            return self.pair[0](z)
        xp = namespace_of(z)
        with overflow_allowed(xp):
            return self.compiled(xp).f(z)

    def derivative(self, z: Array) -> Array:
        """Evaluate ``f'(z)`` (elementwise, or the Jacobian for a pair that returns one)."""
        if self.pair is not None:
            return self.pair[1](z)
        xp = namespace_of(z)
        with overflow_allowed(xp):
            return self.compiled(xp).df(z)


class ActivationFamily(Activation):
    """A parametrised built-in: the default member, callable to build other members.

    Parameters
    ----------
    name : str
        The family name (``"leaky_relu"``); also the ``builtin`` of every member.
    build : callable
        ``build(**params) -> sympy.Expr`` in :data:`X`.
    defaults : mapping
        Parameter names and default values, in positional order.
    init : str
        Weight initialisation of every member.
    output_hint : callable, optional
        ``output_hint(**params) -> sympy.Expr`` in ``Y``, a candidate for ``f'(y)``.
    """

    def __init__(
        self,
        name: str,
        build: Callable[..., sympy.Expr],
        defaults: Mapping[str, float],
        *,
        init: str = "glorot",
        output_hint: Callable[..., sympy.Expr] | None = None,
    ) -> None:
        self._build = build
        self.defaults = dict(defaults)
        self._output_hint = output_hint
        self._members: dict[tuple[float, ...], Activation] = {}
        super().__init__(
            name,
            expr=build(**self.defaults),
            params=self.defaults,
            builtin=name,
            init=init,
            output_hints=self._hints(self.defaults),
        )

    def _hints(self, params: Mapping[str, float]) -> tuple[sympy.Expr, ...]:
        return () if self._output_hint is None else (self._output_hint(**params),)

    def with_params(self, *args: float, **kwargs: float) -> Activation:
        """The member of the family with the given parameters (positional or by name).

        Raises
        ------
        ActivationError
            For unknown parameter names, too many values, or non-finite numbers.
        """
        names = list(self.defaults)
        if len(args) > len(names):
            raise ActivationError(
                f"{self.name} takes at most {len(names)} parameter(s) ({', '.join(names)}); "
                f"got {len(args)}"
            )
        params = dict(self.defaults)
        params.update(zip(names, args, strict=False))
        for key, value in kwargs.items():
            if key not in params:
                raise ActivationError(
                    f"{self.name} has no parameter {key!r}; expected one of {names}"
                )
            params[key] = value
        for key, value in params.items():
            if isinstance(value, bool) or not isinstance(value, numbers.Real):
                raise ActivationError(
                    f"{self.name} parameter {key} must be a real number; got {value!r}"
                )
            if not float(value) == float(value) or abs(float(value)) == float("inf"):
                raise ActivationError(f"{self.name} parameter {key} must be finite; got {value}")
            params[key] = float(value)
        if params == self.defaults:
            return self
        key_values = tuple(params.values())
        if key_values not in self._members:
            label = ", ".join(f"{k}={v!r}" for k, v in params.items())
            self._members[key_values] = Activation(
                f"{self.name}({label})",
                expr=self._build(**params),
                params=params,
                builtin=self.name,
                init=self.init,
                output_hints=self._hints(params),
            )
        return self._members[key_values]

    def __call__(self, z: Any = None, *args: Any, **params: float) -> Any:
        """Build a member (numbers or keywords), or evaluate ``f(z)`` (an array)."""
        if params or z is None or (isinstance(z, numbers.Real) and not isinstance(z, bool)):
            values = () if z is None else (z, *args)
            return self.with_params(*values, **params)
        if args or not hasattr(z, "shape"):
            raise ActivationError(
                f"{self.name}(...) takes numeric parameters ({', '.join(self.defaults)}) or "
                f"one array to evaluate; got {z!r}"
            )
        return super().__call__(z)


# -- softmax (non-elementwise) ----------------------------------------------------------
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
    eye = xp.eye(k, dtype=z.dtype, device=z.device)
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
softplus = _expression("softplus", sympy.log(1 + sympy.exp(X)), init="he")
silu = _expression("silu", X / (1 + sympy.exp(-X)), init="he")
gelu = _expression("gelu", X / 2 * (1 + sympy.erf(X / sympy.sqrt(2))), init="he")
gelu_tanh = _expression(
    "gelu_tanh",
    X / 2 * (1 + sympy.tanh(sympy.sqrt(2 / sympy.pi) * (X + sympy.Float("0.044715") * X**3))),
    init="he",
)
mish = _expression("mish", X * sympy.tanh(sympy.log(1 + sympy.exp(X))), init="he")
softsign = _expression("softsign", X / (1 + sympy.Abs(X)))
logsigmoid = _expression("logsigmoid", -sympy.log(1 + sympy.exp(-X)))
softmax = Activation(
    "softmax", pair=(softmax_function, softmax_jacobian), vjp=softmax_vjp, builtin="softmax"
)

BUILTINS: dict[str, Activation] = {
    a.name: a
    for a in (
        identity, sigmoid, tanh, relu, leaky_relu, elu, selu, softplus, silu, gelu,
        gelu_tanh, mish, softsign, logsigmoid, softmax,
    )
}
"""Built-in activations by name (families at their default parameters)."""

_ALIASES = {"linear": "identity", "none": "identity", "logistic": "sigmoid", "swish": "silu"}
swish = silu


def from_builtin(name: str, params: Mapping[str, float] | None = None) -> Activation:
    """Rebuild a built-in from its name and parameters (``("elu", {"alpha": 0.5})``).

    Raises
    ------
    ActivationError
        If ``name`` is not a built-in, or ``params`` do not fit it.
    """
    key = _ALIASES.get(name.lower(), name.lower())
    if key not in BUILTINS:
        raise ActivationError(
            f"unknown activation {name!r}; built-ins are: {', '.join(sorted(BUILTINS))}"
        )
    activation = BUILTINS[key]
    if not params:
        return activation
    if not isinstance(activation, ActivationFamily):
        raise ActivationError(f"activation {key!r} takes no parameters; got {dict(params)}")
    return activation.with_params(**params)


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
