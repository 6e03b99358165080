"""anynn: dense neural networks written once against the Array API.

The same code trains on NumPy (CPU), CuPy (CUDA GPU) or any Array API namespace.
Activations are SymPy expressions, differentiated symbolically and compiled per backend.
"""

from __future__ import annotations

from . import activations, callbacks, losses, metrics, optimizers, schedules
from .backend import Backend, available_backends, to_numpy
from .callbacks import Callback, EarlyStopping, ModelCheckpoint
from .dropout import Dropout
from .errors import (
    ActivationError,
    AnynnError,
    AnynnTypeError,
    AnynnValueError,
    BackendUnavailableError,
    DistributedError,
    FileWriteError,
    ModelFileError,
    NetworkBusyError,
    TrainingDiverged,
)
from .gradcheck import gradcheck
from .history import History
from .layers import Dense, Parameter
from .network import Network
from .specs import LayerSpecNB, LayerSpecNBF


def load(path: object, backend: object = "numpy", dtype: object = None) -> Network:
    """Load a network saved with :meth:`Network.save` onto ``backend``."""
    return Network.load(path, backend=backend, dtype=dtype)


__version__ = "0.1.0"

__all__ = [
    "ActivationError",
    "AnynnError",
    "AnynnTypeError",
    "AnynnValueError",
    "Backend",
    "Callback",
    "BackendUnavailableError",
    "Dense",
    "DistributedError",
    "Dropout",
    "EarlyStopping",
    "History",
    "LayerSpecNB",
    "LayerSpecNBF",
    "FileWriteError",
    "ModelCheckpoint",
    "ModelFileError",
    "Network",
    "NetworkBusyError",
    "Parameter",
    "TrainingDiverged",
    "activations",
    "available_backends",
    "callbacks",
    "gradcheck",
    "load",
    "losses",
    "metrics",
    "optimizers",
    "schedules",
    "to_numpy",
]
