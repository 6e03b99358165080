"""Regularisation inside the training step: gradient clipping and dropout masks."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from .._checks import check_float
from ..backend import Backend, clip
from ..layers import Parameter

Array = Any
Clipper = Callable[[Sequence[Parameter]], None]


def check_clip(value: Any, name: str) -> float | None:
    """``None`` (off) or a positive float threshold."""
    return None if value is None else check_float(value, name, low=0.0, open_low=True)


def gradient_clipper(xp: Any, clip_value: float | None, clip_norm: float | None) -> Clipper | None:
    """Build the clipping function of one ``fit``, or None when both are off.

    ``clip_norm`` first scales all gradients together so that their global Euclidean
    norm is at most ``clip_norm`` (``torch.nn.utils.clip_grad_norm_``: factor
    ``min(1, clip_norm / (norm + 1e-6))``, computed on the device without a sync); then
    ``clip_value`` clamps every gradient element to ``[-clip_value, clip_value]``.
    """
    if clip_value is None and clip_norm is None:
        return None

    def clip_gradients(params: Sequence[Parameter]) -> None:
        if clip_norm is not None:
            total = xp.sqrt(sum(xp.sum(p.grad * p.grad) for p in params))
            scale = xp.minimum(clip_norm / (total + 1e-6), 1.0)
            for p in params:
                p.grad = p.grad * scale
        if clip_value is not None:
            for p in params:
                p.grad = clip(xp, p.grad, -clip_value, clip_value)

    return clip_gradients


class MaskSampler:
    """Draws the masks of one training step for the layers with a non-zero rate.

    Parameters
    ----------
    rates : list of float
        Per dense layer, the dropout rate on its output.
    widths : list of int
        Per dense layer, its output width.
    rng : numpy.random.Generator
        The network's seeded host generator.
    backend : Backend
        Where the masks go.
    """

    def __init__(
        self, rates: list[float], widths: list[int], rng: np.random.Generator, backend: Backend
    ) -> None:
        self.active = [(i, r, w) for i, (r, w) in enumerate(zip(rates, widths, strict=True)) if r]
        self.n_layers = len(rates)
        self.rng = rng
        self.backend = backend

    def __bool__(self) -> bool:
        return bool(self.active)

    def draw(
        self, n_samples: int, rows: slice | np.ndarray | None = None
    ) -> list[Array | None]:
        """One mask per dense layer (None where the rate is 0), shape ``(n, width)``.

        ``rows`` keeps only those rows of each mask: a process of a data-parallel fit
        draws the masks of the whole global batch (so the generator advances as in one
        process) and applies the rows of its own samples.
        """
        masks: list[Array | None] = [None] * self.n_layers
        dtype = self.backend.dtype_name
        for i, rate, width in self.active:
            keep = self.rng.random((n_samples, width)) >= rate
            if rows is not None:
                keep = keep[rows]
            masks[i] = self.backend.from_host((keep / (1.0 - rate)).astype(dtype))
        return masks
