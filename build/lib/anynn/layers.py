"""Dense layers with hand-written backpropagation, written once against the Array API."""

from __future__ import annotations

from typing import Any

import numpy as np

from . import initializers
from .activation import Activation
from .backend import Backend, to_numpy
from .bound_activation import bind
from .errors import AnynnValueError
from .validation import check_finite, host_array

Array = Any


class Parameter:
    """A trainable array with its gradient.

    Attributes
    ----------
    value : array
        The current value, on the network's backend.
    grad : array or None
        The gradient from the last backward pass. A single-sample weight gradient is
        kept as its two outer-product factors and only built when ``grad`` is read, so
        plain SGD can update with one pass (:attr:`outer_factors`).
    name : str
        ``"layers.{i}.weight"`` or ``"layers.{i}.bias"`` once the layer is numbered.
    """

    __slots__ = ("value", "_grad", "_factors", "name")

    def __init__(self, value: Array, name: str = "") -> None:
        self.value = value
        self._grad: Array = None  # set by the backward pass
        self._factors: tuple[Array, Array] | None = None
        self.name = name

    @property
    def grad(self) -> Array:
        """The gradient (built from its outer-product factors on first read)."""
        if self._grad is None and self._factors is not None:
            column, row = self._factors
            self._grad = column * row
        return self._grad

    @grad.setter
    def grad(self, value: Array) -> None:
        self._grad, self._factors = value, None

    def set_outer_gradient(self, column: Array, row: Array) -> None:
        """Set the gradient ``column * row`` (shapes ``(n, 1)`` and ``(1, m)``), unbuilt."""
        self._grad, self._factors = None, (column, row)

    @property
    def outer_factors(self) -> tuple[Array, Array] | None:
        """``(column, row)`` while the gradient is an unbuilt outer product, else None."""
        return self._factors if self._grad is None else None

    def __repr__(self) -> str:
        return f"Parameter({self.name or '?'}, shape={tuple(self.value.shape)})"


class Dense:
    """A fully connected layer ``a = f(x @ W + b)``.

    Parameters
    ----------
    n_in, n_out : int
        Input and output widths; ``W`` has shape ``(n_in, n_out)``.
    activation : Activation
        The activation ``f``.
    backend : Backend
        Namespace, device and dtype of the parameters.
    bias : bool
        Whether the layer has a bias vector ``b`` of shape ``(n_out,)``.
    rng : numpy.random.Generator, optional
        Host generator for the initial weights.
    init : scheme name, callable, dict or LayerInit, optional
        How the parameters start (:mod:`anynn.initializers`); by default the weights
        follow the activation (He normal for ReLU-like ones, Glorot normal otherwise)
        and the biases are zero.
    weights, biases : array-like, optional
        Initial values to use instead of drawing them (as the original article's
        ``Layer(spec, prev, weights=, biases=)``).

    Attributes
    ----------
    bound_activation : BoundActivation
        The activation's forward and backward for this backend (:func:`anynn.activations.bind`).
    """

    def __init__(
        self,
        n_in: int,
        n_out: int,
        activation: Activation,
        backend: Backend,
        *,
        bias: bool = True,
        rng: np.random.Generator | None = None,
        init: Any = None,
        weights: Any = None,
        biases: Any = None,
    ) -> None:
        self.n_in = n_in
        self.n_out = n_out
        self.activation = activation
        self.backend = backend
        self.has_bias = bias
        self.init = initializers.layer_init(init)
        """How the parameters were (or would be) drawn (:class:`~anynn.initializers.LayerInit`)."""
        rng = rng if rng is not None else np.random.default_rng()
        scheme = self.init.weights or initializers.get(activation.init)
        dtype = backend.dtype_name
        if weights is None:
            weights = scheme.draw(rng, (n_in, n_out), "weights").astype(dtype)
        self.weight = Parameter(self._converted(weights, (n_in, n_out), "weights"))
        self.bias = None
        if bias:
            if biases is None:
                biases = self.init.biases.draw(rng, (n_out,), "biases").astype(dtype)
            self.bias = Parameter(self._converted(biases, (n_out,), "biases"))
        elif biases is not None:
            raise AnynnValueError("biases given for a layer built with bias=False")
        self.bound_activation = bind(activation, backend)
        self._input: Array | None = None
        self._z: Array | None = None
        self._a: Array | None = None

    # -- parameters -----------------------------------------------------------------
    def parameters(self) -> list[Parameter]:
        """The layer's trainable parameters (weight, then bias if any)."""
        return [self.weight] if self.bias is None else [self.weight, self.bias]

    def _converted(self, value: Any, shape: tuple[int, ...], what: str) -> Array:
        """A private, validated copy of ``value`` (training updates parameters in place)."""
        host = host_array(value, what)
        if tuple(host.shape) != shape:
            raise AnynnValueError(f"{what} must have shape {shape}; got {tuple(host.shape)}")
        check_finite(host, what, self.backend.dtype_name)
        return self.backend.xp.asarray(self.backend.asarray(host), copy=True)

    @property
    def weights(self) -> Array:
        """The weight matrix, shape ``(n_in, n_out)``."""
        return self.weight.value

    @weights.setter
    def weights(self, value: Any) -> None:
        self.weight.value = self._converted(value, (self.n_in, self.n_out), "weights")

    @property
    def biases(self) -> Array | None:
        """The bias vector, shape ``(n_out,)``, or None for a layer without bias."""
        return None if self.bias is None else self.bias.value

    @biases.setter
    def biases(self, value: Any) -> None:
        if self.bias is None:
            raise AnynnValueError("this layer was built with bias=False; it has no biases")
        self.bias.value = self._converted(value, (self.n_out,), "biases")

    # -- computation ----------------------------------------------------------------
    def pre_activation(self, x: Array) -> Array:
        """``z = x @ W + b``."""
        z = self.backend.matmul(x, self.weight.value)
        if self.bias is not None:
            z += self.bias.value  # in place: the product is a fresh array
        return z

    def activate(self, z: Array) -> Array:
        """``f(z)`` with the activation compiled for this backend."""
        return self.bound_activation.forward(z)

    def _pre_and_post_activation(self, x: Array) -> tuple[Array, Array]:
        """``(z, f(z))``: one fused kernel adds the bias and activates where available."""
        with_bias = self.bound_activation.forward_with_bias
        if self.bias is None or with_bias is None:
            z = self.pre_activation(x)
            return z, self.bound_activation.forward(z)
        return with_bias(self.backend.matmul(x, self.weight.value), self.bias.value)

    def forward(self, x: Array) -> Array:
        """Inference forward pass (nothing is kept for backpropagation)."""
        return self._pre_and_post_activation(x)[1]

    def forward_train(self, x: Array) -> Array:
        """Forward pass that keeps ``x``, ``z`` and ``a`` for :meth:`backward`."""
        z, a = self._pre_and_post_activation(x)
        self.record(x, z, a)
        return a

    def record(self, x: Array, z: Array, a: Array) -> None:
        """Keep ``x``, ``z`` and ``a`` of a training forward pass computed elsewhere (a
        fused output layer, :mod:`anynn.fused_output`) for :meth:`backward`."""
        self._input, self._z, self._a = x, z, a

    @property
    def last_output(self) -> Array:
        """``a`` from the last training forward pass."""
        return self._a

    @property
    def last_pre_activation(self) -> Array:
        """``z`` from the last training forward pass."""
        return self._z

    def delta(self, grad_output: Array) -> Array:
        """Turn ``dL/da`` into ``dL/dz`` through the activation's derivative."""
        return self.bound_activation.backward(grad_output, self._z, self._a)

    def backward(self, delta: Array, need_input_grad: bool = True) -> Array:
        """Backpropagate ``delta = dL/dz``: store dW and db, return ``dL/dx``.

        Parameters
        ----------
        delta : array
            Gradient of the loss with respect to this layer's ``z``.
        need_input_grad : bool
            Skip computing ``dL/dx`` (first layer) when False.
        """
        x = self._input
        if x is None:
            raise AnynnValueError("backward() called before forward_train()")
        xp, matmul = self.backend.xp, self.backend.matmul
        # .T, not .mT: every array here is 2-D, and CuPy 13 has no ndarray.mT
        if x.shape[0] == 1:  # an outer product: a broadcast multiply beats a (n,1)@(1,m) GEMM
            self.weight.set_outer_gradient(x.T, delta)
            if self.bias is not None:  # the sum over one sample is a reshape (a view)
                self.bias.grad = xp.reshape(delta, (self.n_out,))
        else:
            self.weight.grad = matmul(x.T, delta)
            if self.bias is not None:
                self.bias.grad = xp.sum(delta, axis=0)
        return matmul(delta, self.weight.value.T) if need_input_grad else None

    def clear(self) -> None:
        """Drop the arrays kept from the last training forward pass."""
        self._input = self._z = self._a = None

    def __repr__(self) -> str:
        return (
            f"Dense({self.n_in} -> {self.n_out}, activation={self.activation.name}, "
            f"bias={self.has_bias})"
        )

    def host_parameters(self) -> dict[str, np.ndarray]:
        """Host copies of the parameters, by short name (``weight``, ``bias``)."""
        out = {"weight": to_numpy(self.weight.value)}
        if self.bias is not None:
            out["bias"] = to_numpy(self.bias.value)
        return out
