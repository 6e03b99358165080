"""Gradient clipping applied to the parameter gradients before each optimizer step."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from .backend import clip
from .layers import Parameter
from .schedules import check_number

Clipper = Callable[[Sequence[Parameter]], None]


def check_clip(value: Any, name: str) -> float | None:
    """``None`` (off) or a positive float threshold."""
    return None if value is None else check_number(value, name)


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
