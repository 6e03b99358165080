"""The ``Network``: layer specs to dense layers, forward, backward, fit, predict."""

from __future__ import annotations

import importlib
import threading
from collections.abc import Sequence
from types import ModuleType
from typing import Any

import numpy as np

from . import backprop, initializers, io, losses, optimizers
from . import metrics as metrics_module
from ._checks import check_int
from .architecture import build_layers
from .backend import Backend
from .dropout import Dropout
from .errors import AnynnTypeError, AnynnValueError, BackendUnavailableError, ModelFileError
from .history import History
from .layers import Dense, Parameter
from .specs import LayerSpecNBF, parse_layers
from .state import (
    LayerState,
    NetworkState,
    TrainingState,
    generator_from_state,
    parameter_name,
    rng_state,
)
from .summary import format_summary
from .training.data import host_targets
from .training.front import FitMethods
from .validation import check_samples, host_array, inputs_to_device, is_single_sample

Array = Any

PREDICT_BATCH = 8192
"""Rows per forward pass of :meth:`Network.predict` unless ``batch_size=`` says otherwise."""

DEFAULT_ACTIVATION = "identity"
"""The activation of layers whose spec names none, unless ``activation=`` says otherwise."""


class Network(FitMethods):
    """A feed-forward network of dense layers on one Array API backend.

    Parameters
    ----------
    inputs : int
        Number of input features.
    layers : sequence of layer specs or Dense layers
        One spec per layer: ``length``; ``(length, bias)``; ``(length, bias, fn)``;
        :class:`LayerSpecNB`; :class:`LayerSpecNBF`; a dict with those keys (plus
        ``dropout`` and ``init``); or an existing :class:`Dense` layer, whose parameters
        and activation are copied. An :class:`anynn.Dropout` between specs drops the
        previous layer's outputs while training. ``specs=`` is a synonym.
    fn : activation spec, optional
        The original article's name of ``activation`` (give one or the other).
    activation : activation spec, default "identity"
        Activation of layers whose spec names none (the output layer included), as the
        original article's ``fn=lambda f: f`` and Keras's default.
    init : scheme name, callable or dict, optional
        Initialisation of layers whose spec gives no ``init`` (:mod:`anynn.initializers`:
        ``"he"``, ``"glorot"``, ``"lecun"``, their ``_uniform`` variants, ``"zeros"``, a
        callable ``(rng, shape) -> array``, or ``{"weights": ..., "biases": ...}``). By
        default the weights follow each activation (He normal for ReLU-like ones, Glorot
        normal otherwise) and the biases start at zero.
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
        fn: Any = None,
        *,
        specs: Sequence[Any] | None = None,
        activation: Any = None,
        init: Any = None,
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
        if fn is not None and activation is not None:
            raise AnynnValueError("give the default activation as fn= or activation=, not both")
        default_fn = next((f for f in (fn, activation) if f is not None), DEFAULT_ACTIVATION)
        initializers.layer_init(init, "init")  # checked before any work
        if seed is not None:
            seed = check_int(seed, "seed", low=0)
        self.inputs = check_int(inputs, "inputs", low=1)
        self.backend = Backend(backend, dtype)
        self.seed = seed
        self.rng = np.random.default_rng(seed)
        self.specs: list[LayerSpecNBF]
        self.dropout: list[float]
        """``dropout[i]``: training-time dropout rate on the output of ``layers[i]``."""
        plans = parse_layers(layer_specs, default_fn)
        self.specs = [plan.spec for plan in plans]
        self.dropout = [plan.dropout for plan in plans]
        self.optimizer: optimizers.Optimizer | None = None
        """The optimizer of the last ``fit`` (reused by the next one), or None."""
        self.history = History()
        """Every epoch trained so far, accumulated over ``fit``/``partial_fit`` calls."""
        self.loss: losses.Loss | None = None
        """The loss of the last ``fit``: ``evaluate``'s default (saved in model files)."""
        self.metrics: list[metrics_module.Metric] = []
        """The metrics of the last ``fit``: ``evaluate``'s default (saved in model files)."""
        self.stop_training = False
        self.fit_lock = threading.Lock()
        """Held while ``fit``/``partial_fit`` runs: a second concurrent one is refused."""
        self.layers: list[Dense] = build_layers(self.inputs, plans, self.backend, self.rng, init)
        self._name_parameters()

    def _name_parameters(self) -> None:
        for i, layer in enumerate(self.layers):
            layer.weight.name = parameter_name(i, "weight")
            if layer.bias is not None:
                layer.bias.name = parameter_name(i, "bias")

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

    def summary(self) -> str:
        """A table of the layers (shape, activation, bias, dropout, parameter count)."""
        rows = [
            {"length": spec.length, "bias": spec.bias, "activation": layer.activation.name,
             "dropout": rate}
            for spec, layer, rate in zip(self.specs, self.layers, self.dropout, strict=True)
        ]
        return format_summary(self.inputs, rows, self.dtype)

    def __repr__(self) -> str:
        inner = ", ".join(repr(layer) for layer in self.layers)
        return (
            f"Network(inputs={self.inputs}, layers=[{inner}], backend={self.backend.name!r}, "
            f"dtype={self.dtype!r})"
        )

    # -- inference ------------------------------------------------------------------
    def forward(self, X: Array) -> Array:
        """Forward pass on an already validated ``(n, inputs)`` backend array."""
        return backprop.through(self.layers, X)

    def predict(self, X: Any, batch_size: int | None = PREDICT_BATCH) -> Array:
        """Network output for ``X`` of shape ``(n_samples, inputs)``.

        A 1-D ``X`` of length ``inputs`` is one sample and gives a 1-D output.
        Returns an array of the network's backend. An array already in GPU memory is not
        checked for NaN (that would wait for the GPU): a NaN row gives a NaN output row.

        Parameters
        ----------
        X : array-like
            Host data (lists, NumPy arrays, ``np.memmap``) or arrays of the backend.
        batch_size : int or None, default 8192
            Rows per forward pass: besides the output, memory stays bounded by
            ``batch_size`` times the widest layer, and host data moves to the device one
            batch at a time. None: one pass. The result is that of one pass up to the
            last bits (BLAS may round a row of a smaller product differently).
        """
        if batch_size is not None:
            batch_size = check_int(batch_size, "batch_size", low=1)
        one_sample = is_single_sample(X)
        rows = X
        if not self.backend.owns(X) or isinstance(X, np.ndarray):
            rows = check_samples(host_array(X, "X"), self.inputs, "X")
        n = int(rows.shape[0]) if getattr(rows, "ndim", 0) == 2 else 1
        if batch_size is None or n <= batch_size:
            with self.backend.overflow_allowed():
                out = self.forward(inputs_to_device(rows, self.inputs, self.backend))
            return out[0, ...] if one_sample else out
        parts = []
        for start in range(0, n, batch_size):
            stop = min(start + batch_size, n)
            chunk = inputs_to_device(rows[start:stop, ...], self.inputs, self.backend,
                                     f"X (rows {start} to {stop - 1})")
            with self.backend.overflow_allowed():
                parts.append(self.forward(chunk))
        return self.backend.xp.concat(parts, axis=0)

    __call__ = predict

    # -- gradients ------------------------------------------------------------------
    def loss_and_gradients(
        self, X: Array, Y: Array, head: losses.LossHead, *, weights: Array | None = None,
        masks: Sequence[Array | None] | None = None, clip_backprop: float | None = None,
    ) -> Array:
        """One batch forward and backward: each ``grad`` set, the mean loss returned (0-d).

        See :func:`anynn.backprop.loss_and_gradients`."""
        return backprop.loss_and_gradients(
            self.layers, X, Y, head, self.backend.xp,
            weights=weights, masks=masks, clip_backprop=clip_backprop,
        )

    def clear_training_state(self) -> None:
        """Release the activations kept for backpropagation."""
        for layer in self.layers:
            layer.clear()

    def snapshot(self) -> list[Array]:
        """Copies of every parameter's values, for :meth:`restore`."""
        xp = self.backend.xp
        return [xp.asarray(p.value, copy=True) for p in self.parameters()]

    def restore(self, snapshot: Sequence[Array]) -> None:
        """Put back the parameter values of a :meth:`snapshot` of this network.

        Raises
        ------
        AnynnValueError
            If ``snapshot`` does not match the parameters' count and shapes.
        """
        params, xp = self.parameters(), self.backend.xp
        shapes, seen = [tuple(p.value.shape) for p in params], [tuple(a.shape) for a in snapshot]
        if seen != shapes:
            raise AnynnValueError(f"snapshot has shapes {seen}; the parameters have {shapes}")
        for p, value in zip(params, snapshot, strict=True):
            p.value = xp.asarray(value, copy=True)

    # -- training -------------------------------------------------------------------
    def prepare_targets(self, y: Any, loss: losses.Loss, n_samples: int, name: str = "y") -> Array:
        """Validate targets for ``loss`` and move them to the device."""
        dtype = self.backend.dtype_name
        return self.backend.asarray(host_targets(y, loss, self.outputs, n_samples, dtype, name))

    def output_and_loss(
        self, X: Array, Y: Array, head: losses.LossHead, weights: Array | None = None
    ) -> tuple[Array, Array]:
        """Inference output and mean loss (the head's stable form) on validated device arrays."""
        return backprop.output_and_loss(self.layers, X, Y, head, self.backend.xp, weights)

    def batch_loss(self, X: Array, Y: Array, head: losses.LossHead) -> Array:
        """Mean loss on validated device arrays, as a 0-d array (the head's stable form)."""
        return self.output_and_loss(X, Y, head)[1]

    # -- state, copies and files ----------------------------------------------------
    def state(self, *, include_training: bool = False) -> NetworkState:
        """The network as plain data (host copies); ``include_training`` adds the RNG,
        optimizer and history states, so that :meth:`from_state` resumes ``fit`` exactly."""
        layers = []
        for layer, rate in zip(self.layers, self.dropout, strict=True):
            host = {k: np.array(v, copy=True) for k, v in layer.host_parameters().items()}
            layers.append(LayerState(layer.n_out, layer.activation, rate, host["weight"],
                                     host.get("bias"), layer.init))
        training = None
        if include_training:
            optimizer = None if self.optimizer is None else self.optimizer.state_dict()
            history = History.from_dict(self.history.to_dict())
            training = TrainingState(rng_state(self.rng), optimizer, history)
        fitted = [metrics_module.REGISTRY.name_of(m) for m in self.metrics]
        return NetworkState(self.inputs, self.dtype, self.seed, layers, training,
                            losses.REGISTRY.name_of(self.loss), [m for m in fitted if m])

    @classmethod
    def from_state(cls, state: NetworkState, backend: Any = "numpy", dtype: Any = None) -> Network:
        """Build a network from :meth:`state` on ``backend`` (a name, a namespace module, a
        :meth:`Backend.spec` or a Backend), in ``dtype`` (default: the state's)."""
        if not isinstance(state, NetworkState):
            raise AnynnTypeError(f"state must be a NetworkState; got {type(state).__name__}")
        target = Backend(backend, state.dtype if dtype is None else dtype)
        entries: list[Any] = []
        for saved in state.layers:  # layers holding their values: nothing is drawn
            n_in = saved.weights.shape[0]
            entries.append(Dense(n_in, saved.length, saved.activation, target,
                                 bias=saved.bias, init=saved.init, weights=saved.weights,
                                 biases=saved.biases))
            if saved.dropout:
                entries.append(Dropout(saved.dropout))
        net = cls(state.inputs, entries, backend=target, dtype=target.dtype_name, seed=state.seed)
        net.loss = None if state.loss is None else losses.get(state.loss)
        net.metrics = metrics_module.get_list(state.metrics)
        training = state.training
        if training is not None:
            net.rng = generator_from_state(training.rng)
            if training.optimizer is not None:
                net.optimizer = optimizers.from_state(training.optimizer, target)
            if training.history is not None:
                net.history = History.from_dict(training.history.to_dict())
        return net

    def to(self, backend: str | ModuleType | Backend | None = None, dtype: Any = None) -> Network:
        """Return a copy of the network on another backend and/or dtype.

        The copy has the same weights and random generator state, and no optimizer or
        history of its own.
        """
        target = self.backend if backend is None else Backend(backend, self.dtype)
        if dtype is not None:
            target = target.with_dtype(dtype)
        state = self.state()
        state.training = TrainingState(rng=rng_state(self.rng))
        return Network.from_state(state, target, target.dtype_name)

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
        io.write(path, self.state(include_training=include_optimizer))

    export = save

    def to_onnx(self, path: Any, **options: Any) -> Any:
        """Export to ONNX; returns the ``onnx.ModelProto`` (see :func:`anynn.onnx.export`)."""
        from .onnx import export

        return export(self, path, **options)

    @classmethod
    def load(cls, path: Any, backend: Any = "numpy", dtype: Any = None) -> Network:
        """Rebuild a network saved with :meth:`save` on any backend.

        Raises
        ------
        ModelFileError
            If the file is missing, malformed, corrupted, foreign, newer or hostile.
        BackendUnavailableError, AnynnValueError
            If ``backend`` or ``dtype`` is invalid (checked before the file is read).
        """
        target = Backend(backend, "float32" if dtype is None else dtype)
        state = io.read_state(path)
        try:
            return cls.from_state(state, target, dtype)
        except Exception as exc:  # an activation that decodes but cannot compile
            raise ModelFileError(f"{path}: the network cannot be built: {exc}") from exc

    def __reduce__(self) -> tuple[Any, tuple[bytes, Any, str]]:
        """Pickle (and ``copy.deepcopy``) as ``.anynn`` bytes, training state included,
        with the backend's picklable description; unpickling validates like a load."""
        data = io.to_bytes(self.state(include_training=True))
        return (from_bytes, (data, self.backend.spec(), self.dtype))


def from_bytes(data: bytes, backend: Any = "numpy", dtype: Any = None) -> Network:
    """Rebuild a network from ``.anynn`` bytes (:func:`anynn.io.to_bytes`) on ``backend``."""
    return Network.from_state(io.from_bytes(data), backend, dtype)


def _unpickle(data: bytes, backend: str, dtype: str) -> Network:
    """Rebuild a network pickled by anynn 0.1, which stored the backend by its name."""
    try:
        namespace = importlib.import_module(backend)
    except ImportError as exc:
        raise BackendUnavailableError(
            f"the pickled network needs the backend {backend!r}, which cannot be imported "
            f"here: {exc}"
        ) from exc
    return from_bytes(data, namespace, dtype)


io.register_loader(Network.load)
