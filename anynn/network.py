"""The ``Network``: layer specs to dense layers, forward, backward, fit, predict."""

from __future__ import annotations

from collections.abc import Sequence
from types import ModuleType
from typing import Any

import numpy as np

from . import activations, losses, optimizers
from .backend import Backend
from .errors import AnynnTypeError, AnynnValueError
from .layers import Dense, Parameter
from .specs import LayerSpecNBF, parse_layer_spec
from .training import History, TrainingData, run_epochs
from .validation import check_finite, check_int, host_array, inputs_to_device

Array = Any


class Network:
    """A feed-forward network of dense layers on one Array API backend.

    Parameters
    ----------
    inputs : int
        Number of input features.
    layers : sequence of layer specs
        One spec per layer: ``length``; ``(length, bias)``; ``(length, bias, fn)``;
        :class:`LayerSpecNB`; :class:`LayerSpecNBF`; or a dict with those keys.
        ``specs=`` is a synonym.
    activation : activation spec, default "sigmoid"
        Activation of layers whose spec names none.
    backend : {"numpy", "cupy", "array_api_strict"} or module, default "numpy"
        Where the parameters live and the computation runs.
    dtype : {"float32", "float64"}, default "float32"
        Floating type of parameters and computation.
    seed : int, optional
        Seed of the host random generator used for initialisation and shuffling;
        the same seed gives the same initial weights on every backend.

    Examples
    --------
    >>> import anynn as nn
    >>> net = nn.Network(inputs=2, layers=[(4, True, "tanh"), (1, True, "sigmoid")], seed=0)
    >>> history = net.fit([[0, 0], [0, 1], [1, 0], [1, 1]], [0, 1, 1, 0], epochs=2)
    """

    def __init__(
        self,
        inputs: int,
        layers: Sequence[Any] | None = None,
        *,
        specs: Sequence[Any] | None = None,
        activation: Any = "sigmoid",
        backend: str | ModuleType | Backend = "numpy",
        dtype: Any = "float32",
        seed: int | None = None,
    ) -> None:
        if layers is not None and specs is not None:
            raise AnynnValueError("give the layer specs as layers= or specs=, not both")
        layer_specs = layers if layers is not None else specs
        if layer_specs is None:
            raise AnynnValueError("a Network needs layers= (or specs=): one spec per layer")
        if isinstance(layer_specs, (str, bytes)) or not isinstance(layer_specs, Sequence):
            raise AnynnTypeError(
                f"layers must be a list of layer specs; got {type(layer_specs).__name__}"
            )
        if len(layer_specs) == 0:
            raise AnynnValueError("layers must hold at least one layer spec; got []")
        if seed is not None:
            check_int(seed, "seed", 0)
        self.inputs = check_int(inputs, "inputs", 1)
        self.backend = Backend(backend, dtype)
        self.seed = seed
        self.rng = np.random.default_rng(seed)
        self.specs: list[LayerSpecNBF] = [
            parse_layer_spec(spec, activation, i) for i, spec in enumerate(layer_specs)
        ]
        self.layers: list[Dense] = []
        width = self.inputs
        for spec in self.specs:
            act = activations.get(spec.fn)
            self.layers.append(
                Dense(width, spec.length, act, self.backend, bias=spec.bias, rng=self.rng)
            )
            width = spec.length
        self._name_parameters()

    def _name_parameters(self) -> None:
        for i, layer in enumerate(self.layers):
            layer.weight.name = f"layers.{i}.weight"
            if layer.bias is not None:
                layer.bias.name = f"layers.{i}.bias"

    # -- description ----------------------------------------------------------------
    @property
    def outputs(self) -> int:
        """Width of the output layer."""
        return self.layers[-1].n_out

    @property
    def dtype(self) -> str:
        """``"float32"`` or ``"float64"``."""
        return self.backend.dtype_name

    def parameters(self) -> list[Parameter]:
        """All trainable parameters, layer by layer (weight, then bias)."""
        return [p for layer in self.layers for p in layer.parameters()]

    @property
    def n_parameters(self) -> int:
        """Total number of trainable scalars."""
        return sum(int(np.prod(p.value.shape)) for p in self.parameters())

    def __repr__(self) -> str:
        inner = ", ".join(repr(layer) for layer in self.layers)
        return (
            f"Network(inputs={self.inputs}, layers=[{inner}], backend={self.backend.name!r}, "
            f"dtype={self.dtype!r})"
        )

    # -- inference ------------------------------------------------------------------
    def forward(self, X: Array) -> Array:
        """Forward pass on an already validated ``(n, inputs)`` backend array."""
        a = X
        for layer in self.layers:
            a = layer.forward(a)
        return a

    def predict(self, X: Any) -> Array:
        """Network output for ``X`` of shape ``(n_samples, inputs)``.

        A 1-D ``X`` of length ``inputs`` is one sample and gives a 1-D output.
        Returns an array of the network's backend.
        """
        one_sample = np.ndim(X) == 1 if not self.backend.owns(X) else X.ndim == 1
        out = self.forward(inputs_to_device(X, self.inputs, self.backend))
        return out[0, ...] if one_sample else out

    __call__ = predict

    # -- gradients ------------------------------------------------------------------
    def loss_and_gradients(self, X: Array, Y: Array, loss: losses.Loss, fused: bool) -> Array:
        """Forward and backward on one batch; stores each parameter's ``grad``.

        Returns the mean loss of the batch as a 0-d backend array (no synchronisation).
        """
        xp = self.backend.xp
        a = X
        for layer in self.layers:
            a = layer.forward_train(a)
        last = self.layers[-1]
        if fused:
            value = loss.fused_value(last.last_pre_activation, a, Y, xp)
            delta = loss.fused_delta(a, Y)
        else:
            value = loss.value(a, Y, xp)
            delta = last.delta(loss.gradient(a, Y, xp))
        for i in range(len(self.layers) - 1, 0, -1):
            grad = self.layers[i].backward(delta)
            delta = self.layers[i - 1].delta(grad)
        self.layers[0].backward(delta, need_input_grad=False)
        return value

    def clear_training_state(self) -> None:
        """Release the activations kept for backpropagation."""
        for layer in self.layers:
            layer.clear()

    # -- training -------------------------------------------------------------------
    def prepare_targets(self, y: Any, loss: losses.Loss, n_samples: int, name: str = "y") -> Array:
        """Validate targets for ``loss`` and move them to the device."""
        host = host_array(y, name)
        check_finite(host, name)
        if host.shape[:1] != (n_samples,):
            raise AnynnValueError(
                f"X and {name} must have the same number of samples; got {n_samples} and "
                f"{host.shape[0] if host.ndim else 'a scalar'}"
            )
        return self.backend.asarray(loss.prepare_targets(host, self.outputs, name))

    def fit(
        self,
        X: Any,
        y: Any,
        *,
        epochs: int = 1,
        lr: float = 0.01,
        batch_size: int = 32,
        loss: str | losses.Loss = "mse",
        optimizer: str | optimizers.Optimizer = "sgd",
        shuffle: bool = True,
    ) -> History:
        """Train on ``(X, y)`` with mini-batch gradient descent.

        Parameters
        ----------
        X : array-like, shape (n_samples, inputs)
            Inputs: a list, a NumPy array or an array of the network's backend.
        y : array-like, shape (n_samples, outputs) or (n_samples,)
            Targets; integer class labels are accepted with ``loss="cce"``.
        epochs : int
            Passes over the data.
        lr : float
            Learning rate of an optimizer given by name.
        batch_size : int
            Samples per update; the last partial batch is used.
        loss : {"mse", "bce", "cce"} or Loss
            Loss to minimise.
        optimizer : str or Optimizer
            ``"sgd"`` or an optimizer object (which uses its own learning rate).
        shuffle : bool
            Reshuffle the samples every epoch (from the network's seeded generator).

        Returns
        -------
        History
            ``history.history["loss"]`` holds each epoch's mean training loss.
        """
        epochs = check_int(epochs, "epochs", 0)
        batch_size = check_int(batch_size, "batch_size", 1)
        loss_obj = losses.get(loss)
        opt = optimizers.get(optimizer, lr)
        X_dev = inputs_to_device(X, self.inputs, self.backend)
        n = int(X_dev.shape[0])
        if n == 0:
            raise AnynnValueError("X is empty: fit needs at least one sample")
        Y_dev = self.prepare_targets(y, loss_obj, n)
        data = TrainingData(X_dev, Y_dev, batch_size, shuffle)
        return run_epochs(self, data, loss_obj, opt, epochs)

    def train(
        self, X: Any, y: Any, epochs: int = 1000, lr: float = 0.1, **kwargs: Any
    ) -> History:
        """The original article's call: :meth:`fit` with one sample per update."""
        kwargs.setdefault("batch_size", 1)
        return self.fit(X, y, epochs=epochs, lr=lr, **kwargs)

    def evaluate(self, X: Any, y: Any, *, loss: str | losses.Loss = "mse") -> float:
        """Mean ``loss`` of the network on ``(X, y)``, as a Python float."""
        loss_obj = losses.get(loss)
        X_dev = inputs_to_device(X, self.inputs, self.backend)
        Y_dev = self.prepare_targets(y, loss_obj, int(X_dev.shape[0]))
        return float(self.batch_loss(X_dev, Y_dev, loss_obj))

    def batch_loss(self, X: Array, Y: Array, loss: losses.Loss) -> Array:
        """Mean loss on validated device arrays, as a 0-d array (stable fused form)."""
        xp = self.backend.xp
        last = self.layers[-1]
        a = X
        for layer in self.layers[:-1]:
            a = layer.forward(a)
        z = last.pre_activation(a)
        out = last.activate(z)
        if loss.can_fuse(last.activation):
            return loss.fused_value(z, out, Y, xp)
        return loss.value(out, Y, xp)

    # -- copies ---------------------------------------------------------------------
    def to(self, backend: str | ModuleType | Backend | None = None, dtype: Any = None) -> Network:
        """Return a copy of the network on another backend and/or dtype."""
        target = self.backend if backend is None else Backend(backend, self.dtype)
        if dtype is not None:
            target = target.with_dtype(dtype)
        clone = Network(
            self.inputs,
            [
                LayerSpecNBF(spec.length, spec.bias, layer.activation)
                for spec, layer in zip(self.specs, self.layers)
            ],
            backend=target,
            dtype=target.dtype_name,
            seed=self.seed,
        )
        clone.rng = np.random.default_rng()
        clone.rng.bit_generator.state = self.rng.bit_generator.state
        for mine, theirs in zip(self.layers, clone.layers):
            host = mine.host_parameters()
            theirs.weights = host["weight"]
            if "bias" in host:
                theirs.biases = host["bias"]
        return clone

    # -- files ----------------------------------------------------------------------
    def save(self, path: Any, *, include_optimizer: bool = False) -> None:
        """Write the network to one ``.anynn`` file (atomic; see :mod:`anynn.io`).

        Parameters
        ----------
        path : str or os.PathLike
            Destination; an existing file is replaced only once the new one is complete.
        include_optimizer : bool
            Also store the optimizer state, the RNG state and the training history, so
            that :meth:`fit` resumes exactly where it stopped.
        """
        from .io import save

        save(self, path, include_optimizer=include_optimizer)

    export = save

    @classmethod
    def load(cls, path: Any, backend: Any = "numpy", dtype: Any = None) -> Network:
        """Rebuild a network saved with :meth:`save` on any backend."""
        from .io import load

        return load(path, backend=backend, dtype=dtype)
