"""The ``Network``: layer specs to dense layers, forward, backward, fit, predict."""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from types import ModuleType
from typing import Any

import numpy as np

from . import activations, io, losses, optimizers
from . import metrics as metrics_module
from .backend import Backend, clip
from .callbacks import Callback, EarlyStopping, check_callbacks
from .clipping import check_clip
from .data import Dataset, check_on_device, host_targets, make_dataset
from .errors import AnynnTypeError, AnynnValueError, BackendUnavailableError, ModelFileError
from .history import History
from .layers import Dense, Parameter
from .progress import progress_callback, resolve_verbose
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
from .training import Trainer, evaluate_dataset
from .validation import check_int, inputs_to_device, is_single_sample

Array = Any


class Network:
    """A feed-forward network of dense layers on one Array API backend.

    Parameters
    ----------
    inputs : int
        Number of input features.
    layers : sequence of layer specs
        One spec per layer: ``length``; ``(length, bias)``; ``(length, bias, fn)``;
        :class:`LayerSpecNB`; :class:`LayerSpecNBF`; or a dict with those keys (plus
        ``dropout``). An :class:`anynn.Dropout` between specs drops the previous layer's
        outputs while training. ``specs=`` is a synonym.
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
        self.specs: list[LayerSpecNBF]
        self.dropout: list[float]
        """``dropout[i]``: training-time dropout rate on the output of ``layers[i]``."""
        self.specs, self.dropout = parse_layers(layer_specs, activation)
        self.optimizer: optimizers.Optimizer | None = None
        """The optimizer of the last ``fit`` (reused by the next one), or None."""
        self.history = History()
        """Every epoch trained so far, accumulated over ``fit``/``partial_fit`` calls."""
        self.stop_training = False
        self.layers: list[Dense] = []
        width = self.inputs
        for i, spec in enumerate(self.specs):
            act = activations.get(spec.fn)
            if act.builtin == "softmax" and spec.length == 1:
                raise AnynnValueError(
                    f"layers[{i}]: softmax over a single output is the constant 1 and cannot "
                    "learn; use a sigmoid output (with loss='bce') or at least 2 outputs"
                )
            self.layers.append(
                Dense(width, spec.length, act, self.backend, bias=spec.bias, rng=self.rng)
            )
            width = spec.length
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
        return _through(self.layers, X)

    def predict(self, X: Any) -> Array:
        """Network output for ``X`` of shape ``(n_samples, inputs)``.

        A 1-D ``X`` of length ``inputs`` is one sample and gives a 1-D output.
        Returns an array of the network's backend.
        """
        X_dev = inputs_to_device(X, self.inputs, self.backend)
        one_sample = is_single_sample(X)
        with self.backend.overflow_allowed():
            out = self.forward(X_dev)
        return out[0, ...] if one_sample else out

    __call__ = predict

    # -- gradients ------------------------------------------------------------------
    def loss_and_gradients(
        self,
        X: Array,
        Y: Array,
        loss: losses.Loss,
        fused: bool,
        *,
        weights: Array | None = None,
        masks: Sequence[Array | None] | None = None,
        clip_backprop: float | None = None,
    ) -> Array:
        """Forward and backward on one batch; stores each parameter's ``grad``.

        Parameters
        ----------
        X, Y : array
            A batch of validated backend inputs and targets.
        loss : Loss
            The loss; ``fused`` says whether its logits form is used with the output layer.
        weights : array, optional
            ``(n, 1)`` per-sample weights.
        masks : list of (array or None), optional
            Per layer, the (inverted) dropout mask multiplied into its output.
        clip_backprop : float, optional
            Clamp ``dL/da`` passed from each layer to the one below to
            ``[-clip_backprop, clip_backprop]`` (the original article used 1.0).

        Returns
        -------
        array
            The mean loss of the batch as a 0-d backend array (no synchronisation).
        """
        xp = self.backend.xp
        layers = self.layers
        a = X
        for i, layer in enumerate(layers):
            a = layer.forward_train(a)
            if masks is not None and masks[i] is not None:
                a = a * masks[i]
        last = layers[-1]
        # weights are passed only when given: user losses written without them keep working
        extra = () if weights is None else (weights,)
        value = _loss_value(loss, fused, last.last_pre_activation, a, Y, xp, extra)
        if fused:
            delta = loss.fused_delta(a, Y, *extra)
        else:
            delta = last.delta(loss.gradient(a, Y, xp, *extra))
        for i in range(len(layers) - 1, 0, -1):
            grad = layers[i].backward(delta)
            if clip_backprop is not None:
                grad = clip(xp, grad, -clip_backprop, clip_backprop)
            if masks is not None and masks[i - 1] is not None:
                grad = grad * masks[i - 1]
            delta = layers[i - 1].delta(grad)
        layers[0].backward(delta, need_input_grad=False)
        return value

    def clear_training_state(self) -> None:
        """Release the activations kept for backpropagation."""
        for layer in self.layers:
            layer.clear()

    # -- training -------------------------------------------------------------------
    def prepare_targets(self, y: Any, loss: losses.Loss, n_samples: int, name: str = "y") -> Array:
        """Validate targets for ``loss`` and move them to the device."""
        dtype = self.backend.dtype_name
        return self.backend.asarray(host_targets(y, loss, self.outputs, n_samples, dtype, name))

    def fit(
        self,
        X: Any,
        y: Any,
        *,
        epochs: int = 1,
        lr: optimizers.LearningRate | None = None,
        batch_size: int = 32,
        loss: str | losses.Loss = "mse",
        optimizer: str | optimizers.Optimizer | None = None,
        shuffle: bool = True,
        validation_data: tuple[Any, ...] | None = None,
        validation_split: float = 0.0,
        metrics: Sequence[str | metrics_module.Metric] | None = None,
        callbacks: Sequence[Callback] | None = None,
        early_stopping: EarlyStopping | None = None,
        verbose: int | str = "auto",
        sample_weight: Any = None,
        class_weight: dict[int, float] | None = None,
        clip_value: float | None = None,
        clip_norm: float | None = None,
        clip_backprop: float | None = None,
        data_on_device: bool | str = "auto",
    ) -> History:
        """Train on ``(X, y)`` with mini-batch gradient descent.

        Every argument is validated before any work starts.

        Parameters
        ----------
        X : array-like, shape (n_samples, inputs)
            Inputs: a list, a NumPy array (``np.memmap`` included) or a backend array.
        y : array-like, shape (n_samples, outputs) or (n_samples,)
            Targets; integer class labels are accepted with ``loss="cce"``.
        epochs : int
            Passes over the data (0: validate only).
        lr : float or callable, optional
            Learning rate (or schedule ``step -> lr``) of an optimizer given by name, or
            the new rate of the reused ``net.optimizer``; default: the optimizer's own
            default (SGD: 0.01). Not allowed with an optimizer object (which uses its
            own ``lr``).
        batch_size : int
            Samples per update; the last partial batch is used.
        loss : {"mse", "bce", "cce"} or Loss
            Loss to minimise.
        optimizer : {"sgd", "adam", "adamw", "rmsprop"}, Optimizer or None
            None (default) continues with ``net.optimizer``, the optimizer of the previous
            fit (state included, so training resumes exactly), or starts SGD when there
            is none; a name builds a fresh optimizer with ``lr``; an object is used as is.
            The optimizer used becomes ``net.optimizer``.
        shuffle : bool
            Reshuffle the samples every epoch (from the network's seeded generator).
        validation_data : (X_val, y_val) or (X_val, y_val, sample_weight_val), optional
            Evaluated after every epoch: ``val_loss`` and ``val_<metric>``.
        validation_split : float
            Instead of ``validation_data``: hold out this fraction of the samples, taken
            from the end of ``(X, y)`` before shuffling (as Keras does).
        metrics : list of {"accuracy", "mae", "mse"}, optional
            Reported per epoch (training values are averaged over the epoch's batches).
        callbacks : list of Callback, optional
            Hooks; a callback stops training by setting ``net.stop_training = True``.
        early_stopping : EarlyStopping, optional
            Shorthand for adding it to ``callbacks``.
        verbose : {"auto", 0, 1, 2}
            0: silent; 1: a progress bar (tqdm) over epochs; 2: one line per epoch;
            "auto": 1 when stdout is a terminal, else 0.
        sample_weight : array-like, shape (n_samples,), optional
            Non-negative weight of each sample's loss term.
        class_weight : dict of int to float, optional
            Weight per class (arg-max of one-hot targets, or 0/1 for one output),
            multiplied with ``sample_weight``.
        clip_value, clip_norm : float, optional
            Clip each gradient element to ``[-clip_value, clip_value]`` / scale the
            gradients to a global norm of at most ``clip_norm`` (before each step).
        clip_backprop : float, optional
            Clamp the gradient passed between layers to ``[-clip_backprop, clip_backprop]``
            (the original article's backpropagation used 1.0); off by default.
        data_on_device : {"auto", True, False}
            Move host data to the device once (True), stream it batch by batch (False),
            or decide from its size ("auto", see :mod:`anynn.data`). Same results.

        Returns
        -------
        History
            ``net.history``: every epoch trained so far, ``history.history["loss"]`` etc.

        Raises
        ------
        TrainingDiverged
            When the loss becomes non-finite (weights of the last finite epoch kept).

        Notes
        -----
        Ctrl-C stops training at the end of the current step and returns the history.
        """
        epochs = check_int(epochs, "epochs", 0)
        batch_size = check_int(batch_size, "batch_size", 1)
        verbose = resolve_verbose(verbose)
        clips = [
            check_clip(v, name)
            for v, name in (
                (clip_value, "clip_value"),
                (clip_norm, "clip_norm"),
                (clip_backprop, "clip_backprop"),
            )
        ]
        data_on_device = check_on_device(data_on_device)
        if not isinstance(shuffle, bool):
            raise AnynnTypeError(f"shuffle must be True or False; got {shuffle!r}")
        loss_obj = losses.get(loss)
        loss_obj.check_output(self.layers[-1].activation, self.outputs)
        metric_objs = metrics_module.get_list(metrics)
        opt = self._fit_optimizer(optimizer, lr)
        cbs = check_callbacks(callbacks)
        if early_stopping is not None:
            cbs += check_callbacks([early_stopping])
        train, validation = self._fit_datasets(
            X,
            y,
            loss_obj,
            validation_data,
            validation_split,
            sample_weight,
            class_weight,
            data_on_device,
        )
        if epochs == 0:
            return self.history
        reporter = progress_callback(verbose, epochs)
        if reporter is not None:
            cbs.append(reporter)
        trainer = Trainer(
            self,
            loss_obj,
            opt,
            train,
            batch_size=batch_size,
            shuffle=shuffle,
            validation=validation,
            metrics=metric_objs,
            callbacks=cbs,
            clip_value=clips[0],
            clip_norm=clips[1],
            clip_backprop=clips[2],
        )
        for cb in cbs:
            cb.validate(trainer.history_keys())
        opt.prepare(self.parameters(), self.backend)
        self.optimizer = opt
        return trainer.run(epochs, self.history)

    def _fit_optimizer(
        self, optimizer: str | optimizers.Optimizer | None, lr: optimizers.LearningRate | None
    ) -> optimizers.Optimizer:
        """The optimizer of a fit: see the ``optimizer`` parameter of :meth:`fit`."""
        if isinstance(optimizer, optimizers.Optimizer):
            if lr is not None:
                raise AnynnValueError(
                    f"lr={lr!r} was given with an optimizer object ({optimizer!r}), which uses "
                    "its own lr: set it on the object, or give the optimizer by name"
                )
            return optimizer
        if optimizer is None and self.optimizer is not None:
            if lr is not None:
                self.optimizer.lr = lr
            return self.optimizer
        return optimizers.get("sgd" if optimizer is None else optimizer, lr)

    def _fit_datasets(
        self,
        X: Any,
        y: Any,
        loss: losses.Loss,
        validation_data: tuple[Any, ...] | None,
        validation_split: float,
        sample_weight: Any,
        class_weight: dict[int, float] | None,
        on_device: bool | str,
    ) -> tuple[Dataset, Dataset | None]:
        """Validate and place the training and validation data."""
        split = validation_split
        if isinstance(split, bool) or not isinstance(split, (int, float)) or not 0 <= split < 1:
            raise AnynnValueError(f"validation_split must be in [0, 1); got {split!r}")
        if split and validation_data is not None:
            raise AnynnValueError("give validation_data or validation_split, not both")
        common = {"on_device": on_device}
        make = self._dataset
        if split:
            n = self._n_samples(X)
            cut = int(n * (1.0 - split))
            if cut < 1 or cut >= n:
                raise AnynnValueError(
                    f"validation_split={split} of {n} samples leaves {cut} for training and "
                    f"{n - cut} for validation; both need at least one"
                )
            head, tail = slice(None, cut), slice(cut, None)
            sw = sample_weight
            train = make(
                _rows(X, head), _rows(y, head), loss, _rows(sw, head), class_weight, "", **common
            )
            val = make(
                _rows(X, tail), _rows(y, tail), loss, _rows(sw, tail), class_weight, "val_",
                **common,
            )
            return train, val
        train = make(X, y, loss, sample_weight, class_weight, "", **common)
        if validation_data is None:
            return train, None
        if not isinstance(validation_data, (tuple, list)) or len(validation_data) not in (2, 3):
            raise AnynnTypeError(
                "validation_data must be a tuple (X_val, y_val) or (X_val, y_val, "
                f"sample_weight_val); got {type(validation_data).__name__}"
            )
        vw = validation_data[2] if len(validation_data) == 3 else None
        val = make(validation_data[0], validation_data[1], loss, vw, None, "val_", **common)
        return train, val

    def _n_samples(self, X: Any) -> int:
        shape = getattr(X, "shape", None)
        if shape is None:
            X = np.asarray(X)
            shape = X.shape
        if len(shape) == 0:
            raise AnynnValueError(f"X must have shape (n_samples, {self.inputs}); got a scalar")
        return int(shape[0])

    def _dataset(
        self,
        X: Any,
        y: Any,
        loss: losses.Loss,
        sample_weight: Any,
        class_weight: dict[int, float] | None,
        prefix: str,
        *,
        on_device: bool | str,
    ) -> Dataset:
        return make_dataset(
            X,
            y,
            loss,
            self.backend,
            self.inputs,
            self.outputs,
            on_device=on_device,
            sample_weight=sample_weight,
            class_weight=class_weight,
            prefix=prefix,
        )

    def partial_fit(self, X: Any, y: Any, **kwargs: Any) -> History:
        """One pass over new data (``fit`` with ``epochs=1``, ``verbose=0`` by default)."""
        if "epochs" in kwargs:
            raise AnynnValueError("partial_fit makes exactly one pass; use fit(epochs=...)")
        kwargs.setdefault("verbose", 0)
        return self.fit(X, y, epochs=1, **kwargs)

    def train(
        self, X: Any, y: Any, epochs: int = 1000, lr: float | None = 0.1, **kwargs: Any
    ) -> History:
        """The original article's call: :meth:`fit` with one sample per update.

        ``lr`` applies to an optimizer given by name or to the default SGD; it is ignored
        when ``optimizer=`` is an object (which has its own ``lr``).
        """
        kwargs.setdefault("batch_size", 1)
        if isinstance(kwargs.get("optimizer"), optimizers.Optimizer):
            lr = None
        return self.fit(X, y, epochs=epochs, lr=lr, **kwargs)

    def evaluate(
        self,
        X: Any,
        y: Any,
        *,
        loss: str | losses.Loss = "mse",
        metrics: Sequence[str | metrics_module.Metric] | None = None,
        sample_weight: Any = None,
    ) -> float | dict[str, float]:
        """Mean ``loss`` of the network on ``(X, y)`` (dropout inactive).

        Returns
        -------
        float or dict
            The loss as a Python float; with ``metrics``, a dict ``{"loss": ..., name: ...}``.
        """
        loss_obj = losses.get(loss)
        loss_obj.check_output(self.layers[-1].activation, self.outputs)
        metric_objs = metrics_module.get_list(metrics)
        data = self._dataset(X, y, loss_obj, sample_weight, None, "", on_device="auto")
        with self.backend.overflow_allowed():
            result = evaluate_dataset(self, data, loss_obj, metric_objs)
        return result if metrics is not None else result["loss"]

    def output_and_loss(
        self, X: Array, Y: Array, loss: losses.Loss, weights: Array | None = None
    ) -> tuple[Array, Array]:
        """Inference output and mean loss (stable fused form) on validated device arrays."""
        last = self.layers[-1]
        z = last.pre_activation(_through(self.layers[:-1], X))
        out = last.activate(z)
        extra = () if weights is None else (weights,)
        fused = loss.can_fuse(last.activation)
        return out, _loss_value(loss, fused, z, out, Y, self.backend.xp, extra)

    def batch_loss(self, X: Array, Y: Array, loss: losses.Loss) -> Array:
        """Mean loss on validated device arrays, as a 0-d array (stable fused form)."""
        return self.output_and_loss(X, Y, loss)[1]

    # -- state, copies and files ----------------------------------------------------
    def state(self, *, include_training: bool = False) -> NetworkState:
        """The network as plain data (host copies); ``include_training`` adds the RNG,
        optimizer and history states, so that :meth:`from_state` resumes ``fit`` exactly."""
        layers = []
        for layer, rate in zip(self.layers, self.dropout, strict=True):
            host = {k: np.array(v, copy=True) for k, v in layer.host_parameters().items()}
            layers.append(
                LayerState(layer.n_out, layer.activation, rate, host["weight"], host.get("bias"))
            )
        training = None
        if include_training:
            optimizer = None if self.optimizer is None else self.optimizer.state_dict()
            history = History.from_dict(self.history.to_dict())
            training = TrainingState(rng_state(self.rng), optimizer, history)
        return NetworkState(self.inputs, self.dtype, self.seed, layers, training)

    @classmethod
    def from_state(cls, state: NetworkState, backend: Any = "numpy", dtype: Any = None) -> Network:
        """Build a network from :meth:`state` on ``backend`` (a name, a namespace module, a
        :meth:`Backend.spec` or a Backend), in ``dtype`` (default: the state's)."""
        if not isinstance(state, NetworkState):
            raise AnynnTypeError(f"state must be a NetworkState; got {type(state).__name__}")
        target = Backend(backend, state.dtype if dtype is None else dtype)
        specs = [{"length": layer.length, "bias": layer.bias, "fn": layer.activation,
                  "dropout": layer.dropout} for layer in state.layers]
        net = cls(state.inputs, specs, backend=target, dtype=target.dtype_name, seed=state.seed)
        for layer, saved in zip(net.layers, state.layers, strict=True):
            layer.weights = saved.weights
            if saved.biases is not None:
                layer.biases = saved.biases
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
        """Export to an ONNX file and return the ``onnx.ModelProto``.

        See :func:`anynn.onnx.export` for ``opset``, ``dtype``, ``outputs`` and
        ``native_ops``; needs ``pip install "anynn[onnx]"``.
        """
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


def _through(layers: Sequence[Dense], X: Array) -> Array:
    """Inference forward pass of ``X`` through ``layers``."""
    a = X
    for layer in layers:
        a = layer.forward(a)
    return a


def _loss_value(
    loss: losses.Loss, fused: bool, z: Array, a: Array, Y: Array, xp: Any, extra: tuple[Array, ...]
) -> Array:
    """Mean loss of output ``a`` (pre-activation ``z``): the stable logits form when fused."""
    if fused:
        return loss.fused_value(z, a, Y, xp, *extra)
    return loss.value(a, Y, xp, *extra)


def _rows(data: Any, rows: slice) -> Any:
    """``data[rows]`` for lists and arrays of any namespace (arrays need ``[rows, ...]``)."""
    if data is None:
        return None
    if getattr(data, "ndim", None) is None:
        return data[rows]
    return data[rows, ...]
