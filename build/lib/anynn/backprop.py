"""Forward and hand-written backward passes of a stack of dense layers through a loss head."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .backend import clip
from .layers import Dense
from .losses import LossHead

Array = Any


def through(layers: Sequence[Dense], X: Array) -> Array:
    """Inference forward pass of ``X`` through ``layers``."""
    a = X
    for layer in layers:
        a = layer.forward(a)
    return a


def loss_and_gradients(
    layers: Sequence[Dense],
    X: Array,
    Y: Array,
    head: LossHead,
    xp: Any,
    *,
    weights: Array | None = None,
    masks: Sequence[Array | None] | None = None,
    clip_backprop: float | None = None,
) -> Array:
    """Forward and backward on one batch; stores each parameter's ``grad``.

    Parameters
    ----------
    layers : sequence of Dense
        The network's layers, input to output.
    X, Y : array
        A batch of validated backend inputs and targets.
    head : LossHead
        The loss bound to the output activation.
    xp : namespace
        The layers' array namespace.
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
    a = X
    last = layers[-1]
    # a softmax output under cce: output, loss and dL/dz in one pass (no mask after it)
    fused_output = head.fused_output if masks is None or masks[-1] is None else None
    for i, layer in enumerate(layers[:-1] if fused_output is not None else layers):
        a = layer.forward_train(a)
        if masks is not None and masks[i] is not None:
            a = a * masks[i]
    if fused_output is not None:
        z = last.pre_activation(a)
        out, value, delta = fused_output(z, Y, weights)
        last.record(a, z, out)
    else:
        value = head.value(last.last_pre_activation, a, Y, xp, weights)
        delta = head.output_delta(a, Y, xp, last.delta, weights)
    for i in range(len(layers) - 1, 0, -1):
        grad = layers[i].backward(delta)
        if clip_backprop is not None:
            grad = clip(xp, grad, -clip_backprop, clip_backprop)
        if masks is not None and masks[i - 1] is not None:
            grad = grad * masks[i - 1]
        delta = layers[i - 1].delta(grad)
    layers[0].backward(delta, need_input_grad=False)
    return value


def output_and_loss(
    layers: Sequence[Dense],
    X: Array,
    Y: Array,
    head: LossHead,
    xp: Any,
    weights: Array | None = None,
) -> tuple[Array, Array]:
    """Inference output and mean loss (the head's stable form) on validated device arrays."""
    last = layers[-1]
    z = last.pre_activation(through(layers[:-1], X))
    out = last.activate(z)
    return out, head.value(z, out, Y, xp, weights)
