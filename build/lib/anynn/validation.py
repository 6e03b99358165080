"""Input validation: every check runs before any work, with a message naming the argument."""

from __future__ import annotations

from typing import Any

import numpy as np

from .backend import Backend, to_numpy
from .errors import AnynnTypeError, AnynnValueError

Array = Any


def host_array(data: Any, name: str) -> np.ndarray:
    """Convert lists, NumPy arrays and backend arrays to a numeric host array.

    Raises
    ------
    AnynnTypeError
        If ``data`` is not numeric array-like data.
    """
    if data is None:
        raise AnynnTypeError(f"{name} is required; got None")
    refuse_autograd(data, name)
    try:
        host = to_numpy(data) if hasattr(data, "__dlpack__") else np.asarray(data)
    except (ValueError, TypeError, RuntimeError) as exc:
        raise AnynnTypeError(f"{name} is not a rectangular numeric array: {exc}") from exc
    if host.dtype == np.bool_:
        host = host.astype(np.float64)
    if not (np.issubdtype(host.dtype, np.integer) or np.issubdtype(host.dtype, np.floating)):
        raise AnynnTypeError(f"{name} must hold real numbers; got dtype {host.dtype}")
    return host


def refuse_autograd(data: Any, name: str) -> None:
    """Refuse a tensor that records autograd history (PyTorch's ``requires_grad``)."""
    if getattr(data, "requires_grad", False) is True:
        raise AnynnTypeError(
            f"{name} is a tensor that requires grad; pass {name}.detach() (anynn computes "
            "its own gradients and does not track the caller's)"
        )


def check_finite(host: np.ndarray, name: str, dtype: str = "float64") -> None:
    """Raise if ``host`` holds NaN, infinity or a value that overflows ``dtype``.

    The first bad position is named. Values beyond float32's range (about 3.4e38) would
    turn into infinities when a float32 network receives them, so they are refused too.
    """
    if not np.issubdtype(host.dtype, np.floating):
        return
    bad = ~np.isfinite(host)
    if bad.any():
        position = tuple(int(i) for i in np.argwhere(bad)[0])
        raise AnynnValueError(
            f"{name} holds {int(bad.sum())} non-finite value(s) (NaN or inf), the "
            f"first at index {position}: {host[position]}"
        )
    limit = float(np.finfo(dtype).max)
    if np.finfo(host.dtype).bits > np.finfo(dtype).bits and host.size:
        too_big = np.abs(host) > limit
        if too_big.any():
            position = tuple(int(i) for i in np.argwhere(too_big)[0])
            raise AnynnValueError(
                f"{name} holds {int(too_big.sum())} value(s) beyond the {dtype} range "
                f"(|x| > {limit:.4g}), the first at index {position}: {host[position]}"
            )


def check_samples(host: np.ndarray, n_features: int, name: str) -> np.ndarray:
    """Bring inputs to shape ``(n_samples, n_features)`` (a 1-D vector is one sample)."""
    if host.ndim == 1 and host.shape[0] == n_features:
        host = host[None, :]
    if host.ndim != 2:
        raise AnynnValueError(
            f"{name} must have shape (n_samples, {n_features}); got {host.shape}"
        )
    if host.shape[1] != n_features:
        raise AnynnValueError(
            f"{name} has {host.shape[1]} feature(s) per sample but the network expects "
            f"{n_features}; got shape {host.shape}"
        )
    return host


def inputs_to_device(
    data: Any,
    n_features: int,
    backend: Backend,
    name: str = "X",
    *,
    check_device_values: bool | None = None,
) -> Array:
    """Validate inputs and return them on ``backend`` as ``(n_samples, n_features)``.

    Arrays already on the backend stay there. Their shape is always checked; their
    finiteness with ``check_device_values`` (default: only where the backend's arrays
    live on the host; on a GPU the check reads a flag back, a synchronisation that
    ``predict`` avoids: NaN in gives NaN out there).
    """
    refuse_autograd(data, name)
    if backend.owns(data) and not isinstance(data, np.ndarray):
        xp = backend.xp
        if data.ndim == 1 and data.shape[0] == n_features:
            data = xp.reshape(data, (1, n_features))
        if data.ndim != 2 or data.shape[1] != n_features:
            raise AnynnValueError(
                f"{name} must have shape (n_samples, {n_features}); got {tuple(data.shape)}"
            )
        if check_device_values is None:
            check_device_values = backend.on_host
        if check_device_values and not bool(xp.all(xp.isfinite(data))):
            raise AnynnValueError(f"{name} holds non-finite values (NaN or inf)")
        return data if data.dtype == backend.dtype else xp.astype(data, backend.dtype)
    host = check_samples(host_array(data, name), n_features, name)
    check_finite(host, name, backend.dtype_name)
    return backend.asarray(host)


def is_single_sample(data: Any) -> bool:
    """Whether already validated inputs were given as one 1-D sample."""
    ndim = getattr(data, "ndim", None)
    if ndim is not None:
        return int(ndim) == 1
    return len(data) > 0 and not hasattr(data[0], "__len__")
