"""Training data: validation on the host, then resident on the device or streamed by batch.

``data_on_device="auto"`` moves host data to the device once when it fits (on CuPy:
inputs, targets and weights together take at most :data:`DEVICE_MEMORY_FRACTION` of the
free device memory, counting what CuPy's pool caches; on NumPy always, except
``np.memmap`` inputs, which stay on disk), else every batch is gathered on the host and
transferred. A shuffled epoch over resident data gathers each batch from the data with
the epoch's permutation (uploaded once): the data is never copied whole, so the rest of
the device memory is left to parameters, activations and the libraries' workspaces.
Streamed host data is read batch by batch (a memmap larger than RAM stays on disk; its
finiteness is checked in chunks). Both paths feed the same values in the same order, so
the results are identical.
"""

from __future__ import annotations

import numbers
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

import numpy as np

from ..backend import Backend
from ..errors import AnynnTypeError, AnynnValueError
from ..losses import Loss
from ..validation import check_finite, check_samples, host_array, inputs_to_device

if TYPE_CHECKING:
    from ..network import Network
    from .config import FitConfig

Array = Any
DEVICE_MEMORY_FRACTION = 0.5
"""Resident data may take at most this fraction of the free device memory."""
_CHUNK_ELEMENTS = 1 << 22  # finiteness checked in chunks: no full-size temporaries


def check_finite_chunked(host: np.ndarray, name: str, dtype: str) -> None:
    """:func:`check_finite` over row chunks (bounded memory for memmaps)."""
    rows = max(1, _CHUNK_ELEMENTS // max(1, int(np.prod(host.shape[1:]))))
    if host.shape[0] <= rows:
        check_finite(host, name, dtype)
        return
    for start in range(0, host.shape[0], rows):
        check_finite(host[start : start + rows], f"{name}[{start}:{start + rows}]", dtype)


def host_inputs(X: Any, n_features: int, dtype: str, name: str = "X") -> np.ndarray:
    """Validated host inputs ``(n, n_features)`` for a ``dtype`` network (not copied)."""
    host = check_samples(host_array(X, name), n_features, name)
    check_finite_chunked(host, name, dtype)
    return host


def host_targets(
    y: Any, loss: Loss, n_outputs: int, n_samples: int, dtype: str, name: str = "y"
) -> np.ndarray:
    """Validated host targets for ``loss`` and a ``dtype`` network, ``(n_samples, n_outputs)``."""
    host = host_array(y, name)
    if host.ndim == 0:
        raise AnynnValueError(
            f"{name} must hold one target per sample, an array of shape ({n_samples},) or "
            f"({n_samples}, {n_outputs}); got the scalar {host.item()!r}"
        )
    check_finite_chunked(host, name, dtype)
    if host.shape[:1] != (n_samples,):
        raise AnynnValueError(
            f"X and {name} must have the same number of samples; got {n_samples} and "
            f"{host.shape[0] if host.ndim else 'a scalar'}"
        )
    return loss.prepare_targets(host, n_outputs, name)


def sample_weights(
    sample_weight: Any,
    class_weight: Mapping[int, float] | None,
    Y: np.ndarray,
    name: str = "",
    dtype: str = "float64",
) -> np.ndarray | None:
    """Per-sample weights ``(n, 1)`` from ``sample_weight`` times ``class_weight[label]``.

    Labels are the arg-max of one-hot targets, or ``y >= 0.5`` for one output.

    Raises
    ------
    AnynnValueError
        For a wrong length, negative or non-finite weights, or unknown classes.
    """
    n = Y.shape[0]
    weights = None
    if sample_weight is not None:
        weights = host_array(sample_weight, f"{name}sample_weight").astype(np.float64)
        if weights.shape != (n,):
            raise AnynnValueError(
                f"{name}sample_weight must have shape ({n},), one weight per sample; got "
                f"{weights.shape}"
            )
        check_finite(weights, f"{name}sample_weight", dtype)
        if n and weights.min() < 0:
            raise AnynnValueError(f"{name}sample_weight must be >= 0; got {weights.min()}")
    if class_weight is not None:
        if not isinstance(class_weight, Mapping):
            raise AnynnTypeError(
                f"class_weight must be a dict {{class: weight}}; got {type(class_weight).__name__}"
            )
        n_classes = max(2, Y.shape[1])
        table = np.ones(n_classes)
        for key, value in class_weight.items():
            if (
                isinstance(key, bool)
                or not isinstance(key, (int, np.integer))
                or not (0 <= key < n_classes)
            ):
                raise AnynnValueError(
                    f"class_weight keys must be class indices in [0, {n_classes}); got {key!r}"
                )
            if (
                isinstance(value, bool)
                or not isinstance(value, numbers.Real)
                or not (np.isfinite(value) and value >= 0)
            ):
                raise AnynnValueError(
                    f"class_weight[{key}] must be a finite number >= 0; got {value!r}"
                )
            table[key] = float(value)
        labels = (Y[:, 0] >= 0.5).astype(np.int64) if Y.shape[1] == 1 else np.argmax(Y, axis=1)
        by_class = table[labels]
        weights = by_class if weights is None else weights * by_class
    if weights is not None and n and not weights.any():
        raise AnynnValueError(
            f"{name}sample_weight and class_weight give every sample weight 0: the loss would "
            "be 0 and nothing would be learned"
        )
    return None if weights is None else weights[:, None]


def fits_on_device(nbytes: int, backend: Backend) -> bool:
    """Whether ``nbytes`` of data may be moved to the device at once (CuPy: free memory)."""
    return backend.fits_in_memory(nbytes, DEVICE_MEMORY_FRACTION)


class Dataset:
    """Inputs, targets and optional sample weights, on the device or streamed from the host.

    Parameters
    ----------
    X, Y : array
        Validated ``(n, inputs)`` and ``(n, outputs)`` arrays: host NumPy arrays, or
        arrays of ``backend`` when ``on_device``.
    W : array or None
        Host ``(n, 1)`` sample weights.
    backend : Backend
        Where batches go.
    on_device : bool
        Move everything to the device now (else transfer batch by batch).
    """

    def __init__(
        self, X: Array, Y: np.ndarray, W: np.ndarray | None, backend: Backend, on_device: bool
    ) -> None:
        self.backend = backend
        self.on_device = on_device
        self.n_samples = int(X.shape[0])
        if on_device:
            X, Y = backend.asarray(X), backend.asarray(Y)
            W = None if W is None else backend.asarray(W)
        self.X, self.Y, self.W = X, Y, W

    def batches(
        self, batch_size: int, order: np.ndarray | None
    ) -> Iterator[tuple[Array, Array, Array | None]]:
        """Yield ``(x, y, w)`` batches in ``order`` (a host permutation) or in sequence."""
        n, X, Y, W = self.n_samples, self.X, self.Y, self.W
        if self.on_device:
            if order is None and batch_size >= n:
                yield X, Y, W
                return
            xp = self.backend.xp
            index = None if order is None else self.backend.from_host(order)  # one upload
            for start in range(0, n, batch_size):
                stop = min(start + batch_size, n)
                if index is None:  # in sequence: views, no copy
                    yield (X[start:stop, ...], Y[start:stop, ...],
                           None if W is None else W[start:stop, ...])
                    continue
                rows = index[start:stop]  # gathered batch by batch: never a full copy
                yield (xp.take(X, rows, axis=0), xp.take(Y, rows, axis=0),
                       None if W is None else xp.take(W, rows, axis=0))
            return
        to_device = self.backend.asarray
        for start in range(0, n, batch_size):
            rows = (
                slice(start, min(start + batch_size, n))
                if order is None
                else order[start : start + batch_size]
            )
            yield (
                to_device(X[rows]),
                to_device(Y[rows]),
                None if W is None else to_device(W[rows]),
            )


    def take(self, rows: slice | np.ndarray) -> tuple[Array, Array, Array | None]:
        """The batch ``(x, y, w)`` of ``rows`` (a slice, or host row indices), on the device."""
        X, Y, W = self.X, self.Y, self.W
        if self.on_device and not isinstance(rows, slice):
            xp, index = self.backend.xp, self.backend.from_host(rows)
            return (
                xp.take(X, index, axis=0),
                xp.take(Y, index, axis=0),
                None if W is None else xp.take(W, index, axis=0),
            )
        if self.on_device:
            return X[rows, ...], Y[rows, ...], None if W is None else W[rows, ...]
        to_device = self.backend.asarray
        return to_device(X[rows]), to_device(Y[rows]), None if W is None else to_device(W[rows])

    def part(self, start: int, stop: int) -> Dataset:
        """The samples ``start:stop`` as a dataset of their own (views, no copy)."""
        rows = slice(start, stop)
        W = None if self.W is None else self.W[rows, ...]
        return Dataset(self.X[rows, ...], self.Y[rows, ...], W, self.backend, self.on_device)


def make_dataset(
    X: Any,
    y: Any,
    loss: Loss,
    backend: Backend,
    n_inputs: int,
    n_outputs: int,
    *,
    on_device: bool | str = "auto",
    sample_weight: Any = None,
    class_weight: Mapping[int, float] | None = None,
    prefix: str = "",
) -> Dataset:
    """Validate ``(X, y)`` (and weights) before any work and build a :class:`Dataset`.

    Raises
    ------
    AnynnValueError, AnynnTypeError
        For bad shapes, non-finite values, bad targets or weights, or no samples.
    """
    xname, yname = f"{prefix}X", f"{prefix}y"
    if backend.owns(X) and not isinstance(X, np.ndarray):
        # already on the device: checked once per fit, even on a GPU
        X_ready = inputs_to_device(X, n_inputs, backend, xname, check_device_values=True)
        resident = True
    else:
        X_ready = host_inputs(X, n_inputs, backend.dtype_name, xname)
        resident = None
    n = int(X_ready.shape[0])
    if n == 0:
        raise AnynnValueError(f"{xname} is empty: at least one sample is needed")
    Y = host_targets(y, loss, n_outputs, n, backend.dtype_name, yname)
    W = sample_weights(sample_weight, class_weight, Y, prefix, backend.dtype_name)
    if resident is None:
        if on_device == "auto":
            itemsize = np.dtype(backend.dtype_name).itemsize
            nbytes = itemsize * n * (n_inputs + n_outputs + (W is not None))
            resident = not (
                backend.owns(X_ready) and isinstance(X_ready, np.memmap)
            ) and fits_on_device(nbytes, backend)
        else:
            resident = bool(on_device)
    return Dataset(X_ready, Y, W, backend, resident)


def fit_datasets(
    net: Network, X: Any, y: Any, config: FitConfig
) -> tuple[Dataset, Dataset | None]:
    """Validate and place the training and (optional) validation data of a fit.

    ``validation_split`` holds out the last samples of ``(X, y)``, before shuffling.
    ``class_weight`` weights the training loss only, never the validation loss (as in
    Keras), however the validation data is given; ``sample_weight`` rows follow their
    samples (the held-out rows weight ``val_loss``).
    """

    def make(X: Any, y: Any, weight: Any, class_weight: Any, prefix: str) -> Dataset:
        return make_dataset(
            X, y, config.head.loss, net.backend, net.inputs, net.outputs,
            on_device=config.data_on_device, sample_weight=weight,
            class_weight=class_weight, prefix=prefix,
        )

    split, weight, class_weight = config.validation_split, config.sample_weight, config.class_weight
    if split:
        n = _n_samples(X, net.inputs)
        cut = int(n * (1.0 - split))
        if cut < 1 or cut >= n:
            raise AnynnValueError(
                f"validation_split={split} of {n} samples leaves {cut} for training and "
                f"{n - cut} for validation; both need at least one"
            )
        head, tail = slice(None, cut), slice(cut, None)
        train = make(_rows(X, head), _rows(y, head), _rows(weight, head), class_weight, "")
        val = make(_rows(X, tail), _rows(y, tail), _rows(weight, tail), None, "val_")
        return train, val
    train = make(X, y, weight, class_weight, "")
    if config.validation_data is None:
        return train, None
    X_val, y_val, *rest = config.validation_data
    return train, make(X_val, y_val, rest[0] if rest else None, None, "val_")


def _n_samples(X: Any, n_features: int) -> int:
    shape = getattr(X, "shape", None)
    if shape is None:
        shape = np.asarray(X).shape
    if len(shape) == 0:
        raise AnynnValueError(f"X must have shape (n_samples, {n_features}); got a scalar")
    return int(shape[0])


def _rows(data: Any, rows: slice) -> Any:
    """``data[rows]`` for lists and arrays of any namespace (arrays need ``[rows, ...]``)."""
    if data is None:
        return None
    if getattr(data, "ndim", None) is None:
        return data[rows]
    return data[rows, ...]
