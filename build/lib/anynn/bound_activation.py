"""An activation bound to a backend: the one place that picks how ``f`` and ``f'`` run.

:func:`bind` combines the activation compiler's output with what the backend can do:

- forward ``f(z)``: a fused kernel where the backend compiles kernels, else the
  compiled Array API function (or the ``f`` of an ``(f, df)`` pair); with kernels also
  ``forward_with_bias(p, b)``, one kernel that adds the bias to the product ``p = x @ W``
  in place (giving ``z``) and writes ``f(z)``;
- backward ``dL/dz`` from ``g = dL/da``, through the first available of: a fused kernel
  ``g * f'``; ``g * f'(a)`` from the stored output where that form was verified; the
  activation's vector-Jacobian product; ``g * f'(z)``, or ``g @ J`` per sample when
  ``f'`` gives a Jacobian.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from .backend import Backend, Kernel, warn_kernel_unavailable
from .errors import ActivationError
from .symbolic import C_TYPES, kernel_params, kernel_source

if TYPE_CHECKING:
    from .activation import Activation

Array = Any
Forward = Callable[[Array], Array]
ForwardWithBias = Callable[[Array, Array], tuple[Array, Array]]
Backward = Callable[[Array, Array, Array], Array]

BACKWARD_PATHS = ("fused", "from_output", "vjp", "derivative")
"""How :attr:`BoundActivation.backward` computes ``dL/dz``, fastest first."""


class BoundActivation:
    """An activation with its forward and backward resolved for one backend.

    Attributes
    ----------
    activation : Activation
        The activation.
    backend : Backend
        The backend it runs on.
    forward : callable
        ``forward(z) -> f(z)``.
    backward : callable
        ``backward(g, z, a) -> dL/dz`` for ``g = dL/da``, ``z`` the pre-activation and
        ``a = f(z)``.
    fused_forward : bool
        Whether ``forward`` is a fused kernel.
    path : str
        The backward path, one of :data:`BACKWARD_PATHS`.
    forward_with_bias : callable or None
        ``forward_with_bias(p, b) -> (z, f(z))`` with ``z = p + b`` written into ``p``
        (one fused kernel), or None where there is no kernel (then add, then
        ``forward``).
    """

    __slots__ = (
        "activation", "backend", "forward", "backward", "fused_forward", "path",
        "forward_with_bias",
    )

    def __init__(
        self,
        activation: Activation,
        backend: Backend,
        forward: Forward,
        backward: Backward,
        *,
        fused_forward: bool,
        path: str,
        forward_with_bias: ForwardWithBias | None = None,
    ) -> None:
        self.activation = activation
        self.backend = backend
        self.forward = forward
        self.backward = backward
        self.fused_forward = fused_forward
        self.path = path
        self.forward_with_bias = forward_with_bias

    def __repr__(self) -> str:
        return (
            f"BoundActivation({self.activation.name}, {self.backend!r}, "
            f"fused_forward={self.fused_forward}, backward={self.path!r})"
        )


BIAS_DIRECTION = "forward_with_bias"
"""The forward kernel that first adds the bias in place: ``z = p + b; out = f(z)``."""


def bias_kernel(forward_body: str, dtype: str) -> tuple[str, str, str]:
    """``(in_params, out_params, body)`` of the forward kernel with the bias folded in.

    The product ``p`` is passed as the in-out ``z`` (it becomes ``p + b``); the forward
    body, which reads ``x``, runs in a block where ``x`` is ``z``.
    """
    body = f"z = z + b;\n{{\nconst {C_TYPES[dtype]} x = z;\n{forward_body}\n}}"
    return f"{dtype} b", f"{dtype} z, {dtype} out", body


def _fused_kernel(activation: Activation, backend: Backend, direction: str) -> Kernel | None:
    """The backend's fused kernel for one direction of ``activation``, or None."""
    if not backend.compiles_kernels:
        return None
    description = f"activation {activation.name!r} ({direction}, {backend.dtype_name})"
    try:
        body = kernel_source(
            activation.form,
            "forward" if direction == BIAS_DIRECTION else direction,
            backend.dtype_name,
        )
    except ActivationError as exc:
        warn_kernel_unavailable(description, str(exc))
        return None
    if direction == BIAS_DIRECTION:
        in_params, out_params, body = bias_kernel(body, backend.dtype_name)
    else:
        in_params, out_params = kernel_params(direction, backend.dtype_name)
    digest = hashlib.sha1(body.encode(), usedforsecurity=False).hexdigest()[:12]
    return backend.elementwise_kernel(
        in_params, out_params, body, f"anynn_{direction}_{digest}", description=description
    )


def _bias_then_product(kernel: Kernel) -> ForwardWithBias:
    def forward_with_bias(product: Array, bias: Array) -> tuple[Array, Array]:
        z, out = kernel(bias, product)  # the product is the in-out z
        return z, out

    return forward_with_bias


def _through_derivative(df: Forward) -> Backward:
    def backward(g: Array, z: Array, a: Array) -> Array:
        derivative = df(z)
        if derivative.ndim == g.ndim:
            return g * derivative
        # A Jacobian per sample: dL/dz_j = sum_k dL/da_k * da_k/dz_j.
        return (g[..., None, :] @ derivative)[..., 0, :]

    return backward


def _elementwise(activation: Activation, backend: Backend) -> BoundActivation:
    compiled = activation.compiled(backend.xp)
    forward: Forward = compiled.f
    kernel = _fused_kernel(activation, backend, "forward")
    forward_with_bias: ForwardWithBias | None = None
    if kernel is not None:
        forward = kernel
        with_bias = _fused_kernel(activation, backend, BIAS_DIRECTION)
        if with_bias is not None:
            forward_with_bias = _bias_then_product(with_bias)

    from_output = compiled.df_from_output
    direction = "backward" if from_output is None else "backward_from_output"
    fused = _fused_kernel(activation, backend, direction)
    backward: Backward
    if fused is not None:
        if from_output is None:

            def backward(g: Array, z: Array, a: Array) -> Array:
                return fused(g, z)
        else:

            def backward(g: Array, z: Array, a: Array) -> Array:
                return fused(g, a)

        path = "fused"
    elif from_output is not None:

        def backward(g: Array, z: Array, a: Array) -> Array:
            return g * from_output(a)

        path = "from_output"
    else:
        backward, path = _through_derivative(compiled.df), "derivative"
    return BoundActivation(
        activation, backend, forward, backward, fused_forward=kernel is not None, path=path,
        forward_with_bias=forward_with_bias,
    )


def bind(activation: Activation, backend: Backend) -> BoundActivation:
    """Bind ``activation`` to ``backend``: resolve its forward and backward once.

    Parameters
    ----------
    activation : Activation
        An elementwise (SymPy) activation or an ``(f, df)`` pair (with optional ``vjp``).
    backend : Backend
        Where it runs; fused kernels are used where the backend compiles them.

    Returns
    -------
    BoundActivation
    """
    if activation.elementwise:
        return _elementwise(activation, backend)
    if activation.pair is None:
        raise ActivationError(f"{activation.name} has neither an expression nor an (f, df) pair")
    activation.check_pair(backend)
    f, df = activation.pair
    vjp = activation.vjp
    if vjp is not None:

        def backward(g: Array, z: Array, a: Array) -> Array:
            return vjp(a, g)

        return BoundActivation(activation, backend, f, backward, fused_forward=False, path="vjp")
    return BoundActivation(
        activation, backend, f, _through_derivative(df), fused_forward=False, path="derivative"
    )
