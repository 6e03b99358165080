"""The fit internals: validated configuration -> data -> the loop -> the loss head.

``fit(net, X, y, **kwargs)`` is what :meth:`anynn.Network.fit` (from :class:`FitMethods`)
runs:

1. :class:`FitConfig` (``config``) checks and resolves every argument once;
2. :func:`~anynn.training.data.fit_datasets` validates the data and places it on the
   device (or streams it);
3. :class:`Trainer` (``loop``) runs the epochs; each step goes through
   ``Network.loss_and_gradients`` with the config's :class:`~anynn.losses.LossHead`.

With ``comm=``, :func:`anynn.training.distributed.fit` runs the same fit data-parallel
(:class:`~anynn.training.distributed.DistributedTrainer` overrides the Trainer's step and
epoch hooks; :mod:`~anynn.training.sharding` divides each global batch).
"""

from __future__ import annotations

from .config import FitConfig
from .data import Dataset, fit_datasets, make_dataset
from .evaluation import evaluate, evaluate_dataset
from .front import FitMethods
from .loop import Trainer, fit

__all__ = [
    "Dataset",
    "FitConfig",
    "FitMethods",
    "Trainer",
    "evaluate",
    "evaluate_dataset",
    "fit",
    "fit_datasets",
    "make_dataset",
]
