"""anynn: dense neural networks written once against the Array API.

The same code trains on NumPy (CPU), CuPy (CUDA GPU) or any Array API namespace.
Activations are SymPy expressions, differentiated symbolically and compiled per backend.
"""

from __future__ import annotations

from . import activations, losses, optimizers, schedules
from .backend import Backend, available_backends, to_numpy
from .errors import (
    ActivationError,
    AnynnError,
    AnynnTypeError,
    AnynnValueError,
    BackendUnavailableError,
    ModelFileError,
    TrainingDiverged,
)
from .gradcheck import gradcheck
from .layers import Dense, Parameter
from .network import Network
from .specs import LayerSpecNB, LayerSpecNBF
from .training import History


def load(path: object, backend: object = "numpy", dtype: object = None) -> Network:
    """Load a network saved with :meth:`Network.save` onto ``backend``."""
    from .io import load as _load

    return _load(path, backend=backend, dtype=dtype)


__version__ = "0.1.0"

__all__ = [
    "ActivationError",
    "AnynnError",
    "AnynnTypeError",
    "AnynnValueError",
    "Backend",
    "BackendUnavailableError",
    "Dense",
    "History",
    "LayerSpecNB",
    "LayerSpecNBF",
    "ModelFileError",
    "Network",
    "Parameter",
    "TrainingDiverged",
    "activations",
    "available_backends",
    "gradcheck",
    "load",
    "losses",
    "optimizers",
    "schedules",
    "to_numpy",
]
