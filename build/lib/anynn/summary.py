"""A text table of a network's layers, shared by ``Network.summary`` and ``anynn info``."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any


def layer_parameter_count(n_in: int, length: int, bias: bool) -> int:
    """Trainable scalars of a dense layer: ``n_in * length`` weights plus the biases."""
    return n_in * length + (length if bias else 0)


def format_summary(inputs: int, layers: Sequence[Mapping[str, Any]], dtype: str) -> str:
    """The layer table: one row per layer with width, activation, bias, dropout, parameters.

    Parameters
    ----------
    inputs : int
        Input width.
    layers : sequence of mappings
        Each with ``length`` (int), ``bias`` (bool), ``activation`` (str) and optionally
        ``dropout`` (float).
    dtype : str
        ``"float32"`` or ``"float64"``.
    """
    header = f"{'layer':<6} {'shape':<14} {'activation':<24} {'bias':<5} {'dropout':<8} params"
    rows = [header, "-" * len(header)]
    width, total = inputs, 0
    for i, layer in enumerate(layers):
        count = layer_parameter_count(width, layer["length"], layer["bias"])
        total += count
        shape = f"{width} -> {layer['length']}"
        dropout = f"{layer.get('dropout') or 0.0:g}"
        bias = "yes" if layer["bias"] else "no"
        rows.append(
            f"{i:<6} {shape:<14} {str(layer['activation'])[:24]:<24} {bias:<5} {dropout:<8} {count}"
        )
        width = layer["length"]
    rows.append("-" * len(header))
    rows.append(f"inputs {inputs}, outputs {width}, {total} parameters ({dtype})")
    return "\n".join(rows)
