"""Evaluating a network on a dataset: the loss and metrics, as sums and as means.

Sums (means times samples) are what a data-parallel fit adds up over processes before
dividing by the total number of samples.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from ..losses import LossHead
from ..metrics import Metric, check_for_output, get_list
from .data import Dataset, make_dataset

if TYPE_CHECKING:
    from ..network import Network

EVAL_BATCH = 8192
"""Rows per forward pass when evaluating (bounds the memory of validation)."""


def dataset_sums(
    net: Network, data: Dataset, head: LossHead, metrics: Sequence[Metric]
) -> list[float]:
    """``[loss sum, metric sums...]`` of ``net`` over ``data`` (means times samples)."""
    xp = net.backend.xp
    sums: list[Any] = [0.0] * (1 + len(metrics))
    for X, Y, W in data.batches(EVAL_BATCH, None):
        out, value = net.output_and_loss(X, Y, head, W)
        sums[0] = sums[0] + value * X.shape[0]
        for i, metric in enumerate(metrics):
            sums[i + 1] = sums[i + 1] + metric.batch_sum(out, Y, xp)
    return [float(total) for total in sums]


def mean_logs(
    sums: Sequence[float], n: int, metrics: Sequence[Metric], prefix: str = ""
) -> dict[str, float]:
    """``{prefix}loss`` and ``{prefix}<metric>`` from :func:`dataset_sums` over ``n`` samples."""
    names = ["loss"] + [metric.name for metric in metrics]
    return {f"{prefix}{name}": total / n for name, total in zip(names, sums, strict=True)}


def evaluate_dataset(
    net: Network, data: Dataset, head: LossHead, metrics: Sequence[Metric], prefix: str = ""
) -> dict[str, float]:
    """Mean loss and metrics of ``net`` on ``data`` (inference: no dropout)."""
    return mean_logs(dataset_sums(net, data, head, metrics), data.n_samples, metrics, prefix)


def evaluate(
    net: Network,
    X: Any,
    y: Any,
    loss: Any,
    metrics: Any,
    sample_weight: Any,
) -> dict[str, float]:
    """Mean loss and metrics of ``net`` on ``(X, y)``, validated first (``Network.evaluate``)."""
    head = LossHead.checked(loss, net.layers[-1].activation, net.outputs)
    metric_objs = get_list(metrics)
    check_for_output(metric_objs, net.layers[-1].activation, net.outputs)
    data = make_dataset(
        X, y, head.loss, net.backend, net.inputs, net.outputs, sample_weight=sample_weight
    )
    with net.backend.overflow_allowed():
        return evaluate_dataset(net, data, head, metric_objs)
