"""The fit internals: validated configuration -> data -> the loop -> the loss head.

``fit(net, X, y, **kwargs)`` is what :meth:`anynn.Network.fit` runs:

1. :class:`FitConfig` (``config``) checks and resolves every argument once;
2. :func:`~anynn.training.data.fit_datasets` validates the data and places it on the
   device (or streams it);
3. :class:`Trainer` (``loop``) runs the epochs; each step goes through
   ``Network.loss_and_gradients`` with the config's :class:`~anynn.losses.LossHead`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..history import History
from .config import FitConfig
from .data import Dataset, fit_datasets, make_dataset
from .loop import Trainer, evaluate, evaluate_dataset

if TYPE_CHECKING:
    from ..network import Network

__all__ = [
    "Dataset",
    "FitConfig",
    "Trainer",
    "evaluate",
    "evaluate_dataset",
    "fit",
    "fit_datasets",
    "make_dataset",
]


def fit(net: Network, X: Any, y: Any, **kwargs: Any) -> History:
    """Train ``net`` in place on ``(X, y)``; ``kwargs`` are those of :meth:`Network.fit`.

    Every argument and the data are validated before any work; ``epochs=0`` stops there.
    """
    config = FitConfig.from_fit_args(net, **kwargs)
    train, validation = fit_datasets(net, X, y, config)
    if config.epochs == 0:
        return net.history
    return Trainer(net, config, train, validation).run()
