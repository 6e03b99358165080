"""Layer plans -> dense layers: widths chained, memory checked first, parameters drawn."""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

import numpy as np

from . import activations, initializers
from .backend import Backend, to_numpy
from .errors import AnynnValueError
from .layers import Dense
from .specs import LayerPlan

FLOAT64_BYTES = 8


def host_memory() -> int | None:
    """Physical memory of this machine in bytes, or None where the OS does not say."""
    try:
        return int(os.sysconf("SC_PAGE_SIZE")) * int(os.sysconf("SC_PHYS_PAGES"))
    except (AttributeError, ValueError, OSError):
        return None


def _size(nbytes: float) -> str:
    for unit in ("bytes", "KiB", "MiB", "GiB", "TiB", "PiB"):
        if nbytes < 1024 or unit == "PiB":
            return f"{nbytes:.0f} {unit}" if unit == "bytes" else f"{nbytes:.2f} {unit}"
        nbytes /= 1024
    raise AssertionError("unreachable")


def check_memory(inputs: int, plans: Sequence[LayerPlan], backend: Backend) -> None:
    """Refuse, before allocating anything, a network whose parameters cannot fit.

    The parameters live on the backend's device in its dtype; each weight matrix is
    first drawn on the host in float64.

    Raises
    ------
    AnynnValueError
        Naming the parameter count and the bytes needed, and what the machine has.
    """
    widths = [inputs] + [plan.spec.length for plan in plans]
    weights = [n_in * n_out for n_in, n_out in zip(widths[:-1], widths[1:], strict=True)]
    n_parameters = sum(weights) + sum(plan.spec.length for plan in plans if plan.spec.bias)
    on_device = n_parameters * np.dtype(backend.dtype_name).itemsize
    largest_draw = max(weights) * FLOAT64_BYTES
    on_host = largest_draw + (on_device if backend.on_host else 0)
    memory = host_memory()
    where = None
    if memory is not None and on_host > memory:
        where, need, have = "this machine has", on_host, memory
    elif not backend.on_host and not backend.fits_in_memory(on_device):
        where, need, have = "the device has less free", on_device, None
    if where is None:
        return
    shape = ", ".join(str(w) for w in widths)
    has = f" {_size(have)} in all" if have is not None else ""
    raise AnynnValueError(
        f"a network of widths ({shape}) has {n_parameters:,} {backend.dtype_name} parameters "
        f"and needs about {_size(need)} of memory; {where}{has}. Use narrower layers"
    )


def build_layers(
    inputs: int, plans: Sequence[LayerPlan], backend: Backend, rng: np.random.Generator,
    default_init: Any = None,
) -> list[Dense]:
    """One :class:`Dense` per plan, on ``backend``; existing layers are copied.

    ``default_init`` (:func:`anynn.initializers.layer_init`) applies to plans without an
    ``init`` of their own.

    Raises
    ------
    AnynnValueError
        If an existing layer's input width does not match the layer before it, a
        softmax has one output, or the parameters cannot fit in memory.
    """
    network_init = initializers.layer_init(default_init, "init")
    width = inputs
    for i, plan in enumerate(plans):
        if plan.source is not None and plan.source.n_in != width:
            raise AnynnValueError(
                f"layers[{i}]: the Dense layer takes {plan.source.n_in} input(s) but the "
                f"layer before it gives {width}"
            )
        width = plan.spec.length
    check_memory(inputs, plans, backend)
    layers: list[Dense] = []
    width = inputs
    for i, plan in enumerate(plans):
        spec, source = plan.spec, plan.source
        act = activations.get(spec.fn)
        if act.builtin == "softmax" and spec.length == 1:
            raise AnynnValueError(
                f"layers[{i}]: softmax over a single output is the constant 1 and cannot "
                "learn; use a sigmoid output (with loss='bce') or at least 2 outputs"
            )
        init = (network_init if plan.init is None
                else initializers.layer_init(plan.init, f"layers[{i}] init"))
        copied: dict[str, Any] = {}
        if source is not None:
            copied = {"weights": to_numpy(source.weights),
                      "biases": None if source.biases is None else to_numpy(source.biases)}
        layers.append(Dense(width, spec.length, act, backend, bias=spec.bias, rng=rng,
                            init=init, **copied))
        width = spec.length
    return layers
