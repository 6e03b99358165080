"""The activation objects: :class:`Activation` and the parametrised :class:`ActivationFamily`.

An elementwise activation is a SymPy expression in :data:`X`, verified and compiled by
:mod:`anynn.symbolic`; a non-elementwise one is an ``(f, df)`` pair of array functions.
The library of built-ins is :mod:`anynn.builtin_activations`; lookups by name and the
public entry points are :mod:`anynn.activations`.
"""

from __future__ import annotations

import numbers
import warnings
from collections.abc import Callable, Mapping, Sequence
from types import ModuleType
from typing import Any

import numpy as np
import sympy

from .backend import Backend, namespace_of, overflow_allowed
from .errors import ActivationError, ActivationWarning
from .symbolic import CompiledExpression, Form, compile_form, stable_form
from .symbolic.form import X

Array = Any
ArrayFunction = Callable[[Array], Array]


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
        Candidates for ``f'`` in terms of the output :data:`anynn.symbolic.Y`; used
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
        self.name: str = name
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
            if self._form.warning:
                warnings.warn(self._form.warning, ActivationWarning, stacklevel=3)
        return self._form

    def __repr__(self) -> str:
        return f"Activation({self.name})"

    def check_pair(self, backend: Backend) -> None:
        """Probe an ``(f, df)`` pair on a small array of ``backend`` (done at binding).

        ``f(z)`` must return an array of the backend's namespace, with ``z``'s dtype and
        shape; ``df(z)`` the same, or a per-sample Jacobian of shape ``z.shape + (k,)``.

        Raises
        ------
        ActivationError
            If a function raises or returns something else, naming what it returned.
        """
        if self.pair is None:
            return
        z = backend.asarray(np.linspace(-2.0, 2.0, 6).reshape(2, 3))
        where = f"on a (2, 3) {backend.dtype_name} array of {backend!r}"
        shapes: dict[str, list[tuple[int, ...]]] = {"f": [(2, 3)], "df": [(2, 3), (2, 3, 3)]}
        for what, function in zip(("f", "df"), self.pair, strict=True):
            try:
                with backend.overflow_allowed():
                    out = function(z)
            except Exception as exc:
                raise ActivationError(
                    f"activation {self.name}: {what}(z) raised {type(exc).__name__} ({exc}) "
                    f"{where}"
                ) from exc
            if not backend.owns(out):
                raise ActivationError(
                    f"activation {self.name}: {what}(z) must return an array of the layer's "
                    f"namespace ({backend.xp.__name__}) {where}; got {type(out).__name__}"
                )
            shape = tuple(out.shape)
            if out.dtype != z.dtype or shape not in shapes[what]:
                raise ActivationError(
                    f"activation {self.name}: {what}(z) must return dtype {backend.dtype_name} "
                    f"and shape {' or '.join(map(str, shapes[what]))} {where}; got dtype "
                    f"{out.dtype} and shape {shape}"
                )

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


