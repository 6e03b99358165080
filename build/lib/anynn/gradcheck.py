"""Central-difference gradient check of a network's hand-written backpropagation."""

from __future__ import annotations

from typing import Any

import numpy as np

from . import losses
from .backend import to_numpy
from .network import Network
from .validation import inputs_to_device


def gradcheck(
    net: Network,
    X: Any,
    y: Any,
    *,
    loss: str | losses.Loss | None = None,
    epsilon: float = 1e-5,
) -> float:
    """Compare analytic gradients with central differences, in float64.

    Parameters
    ----------
    net : Network
        The network to check (it is copied to float64; ``net`` is not modified).
    X, y : array-like
        A small batch of inputs and targets.
    loss : str or Loss, optional
        The loss whose gradient is checked; default: the last fit's (``net.loss``),
        else ``"mse"``.
    epsilon : float
        Step of the central difference.

    Returns
    -------
    float
        The largest relative error ``|g_a - g_n| / max(|g_a| + |g_n|, 1e-6)``, in the
        Euclidean norm, over all parameter arrays.
    """
    check = net.to(dtype="float64")
    if loss is None:
        loss = net.loss if net.loss is not None else "mse"
    head = losses.LossHead(losses.get(loss), check.layers[-1].activation)
    X_dev = inputs_to_device(X, check.inputs, check.backend, check_device_values=True)
    Y_dev = check.prepare_targets(y, head.loss, int(X_dev.shape[0]))
    check.loss_and_gradients(X_dev, Y_dev, head)
    params = check.parameters()
    analytic = [to_numpy(p.grad).astype(np.float64).copy() for p in params]

    def loss_at(param_index: int, host_value: np.ndarray) -> float:
        param = params[param_index]
        param.value = check.backend.asarray(host_value)
        return float(check.batch_loss(X_dev, Y_dev, head))

    worst = 0.0
    for i, param in enumerate(params):
        base = to_numpy(param.value).astype(np.float64).copy()
        numeric = np.zeros_like(base)
        for index in np.ndindex(base.shape):
            shifted = base.copy()
            shifted[index] = base[index] + epsilon
            upper = loss_at(i, shifted)
            shifted[index] = base[index] - epsilon
            lower = loss_at(i, shifted)
            numeric[index] = (upper - lower) / (2.0 * epsilon)
        param.value = check.backend.asarray(base)
        # the floor keeps an exactly zero gradient (numeric noise ~1e-11) from reading as 1.0
        scale = max(float(np.linalg.norm(analytic[i]) + np.linalg.norm(numeric)), 1e-6)
        worst = max(worst, float(np.linalg.norm(analytic[i] - numeric)) / scale)
    return worst
