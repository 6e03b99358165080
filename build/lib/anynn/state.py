"""A network as plain data: architecture, host NumPy parameters and training state.

:class:`NetworkState` is what the model file (:mod:`anynn.io`) reads and writes and what
:meth:`anynn.Network.state` / :meth:`anynn.Network.from_state` exchange; copies, pickles
and backend moves all go through it. It holds no backend arrays and no compiled code.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from .errors import AnynnValueError
from .history import History

if TYPE_CHECKING:
    from .activation import Activation
    from .initializers import LayerInit

RNG_BIT_GENERATORS: dict[str, type[np.random.BitGenerator]] = {
    "PCG64": np.random.PCG64,
    "PCG64DXSM": np.random.PCG64DXSM,
    "MT19937": np.random.MT19937,
    "Philox": np.random.Philox,
    "SFC64": np.random.SFC64,
}
"""The NumPy bit generators whose state may be restored, by name."""


def parameter_name(index: int, short: str) -> str:
    """The name of layer ``index``'s parameter ``short`` (``"weight"`` or ``"bias"``).

    The one place the naming ``layers.{i}.weight`` exists: file tensors, optimizer state
    keys and :attr:`anynn.Parameter.name` all use it.
    """
    return f"layers.{index}.{short}"


@dataclass
class LayerState:
    """One dense layer as plain data.

    Attributes
    ----------
    length : int
        Output width.
    activation : Activation
        The layer's activation object (encoded to JSON only by the file format).
    dropout : float
        Training-time dropout rate on the layer's output, in [0, 1).
    weights : numpy.ndarray
        Host ``(n_in, length)`` weight matrix.
    biases : numpy.ndarray or None
        Host ``(length,)`` bias vector, None for a layer without bias.
    init : LayerInit or None
        The initialisation chosen for the layer (None: the defaults).
    """

    length: int
    activation: Activation
    dropout: float
    weights: np.ndarray
    biases: np.ndarray | None
    init: LayerInit | None = None

    @property
    def bias(self) -> bool:
        """Whether the layer has a bias vector."""
        return self.biases is not None


@dataclass
class TrainingState:
    """What lets training resume exactly: RNG, optimizer and history.

    Attributes
    ----------
    rng : dict
        ``numpy.random.Generator.bit_generator.state`` of the network's generator.
    optimizer : dict or None
        :meth:`anynn.optimizers.Optimizer.state_dict` of the last optimizer, if any.
    history : History or None
        The recorded epochs, if any.
    """

    rng: dict[str, Any]
    optimizer: dict[str, Any] | None = None
    history: History | None = None


@dataclass
class NetworkState:
    """A whole network as plain data (see the module docstring).

    Attributes
    ----------
    inputs : int
        Number of input features.
    dtype : str
        ``"float32"`` or ``"float64"``: the dtype of every host parameter.
    seed : int or None
        The network's seed.
    layers : list of LayerState
        One entry per dense layer, input side first.
    training : TrainingState or None
        Present when the training state is included.
    loss : str or None
        The built-in loss of the last fit (``evaluate``'s default), if any.
    metrics : list of str
        The built-in metrics of the last fit.
    """

    inputs: int
    dtype: str
    seed: int | None
    layers: list[LayerState]
    training: TrainingState | None = None
    loss: str | None = None
    metrics: list[str] = field(default_factory=list)

    def parameters(self) -> dict[str, np.ndarray]:
        """Every host parameter by its :func:`parameter_name`, layer by layer."""
        named = {}
        for i, layer in enumerate(self.layers):
            named[parameter_name(i, "weight")] = layer.weights
            if layer.biases is not None:
                named[parameter_name(i, "bias")] = layer.biases
        return named


def rng_state(generator: np.random.Generator) -> dict[str, Any]:
    """The restorable state of ``generator`` (a copy)."""
    return dict(generator.bit_generator.state)


def generator_from_state(state: dict[str, Any]) -> np.random.Generator:
    """A generator continuing from :func:`rng_state`'s ``state``.

    Raises
    ------
    AnynnValueError
        If the state names an unknown bit generator or NumPy rejects it.
    """
    name = state.get("bit_generator") if isinstance(state, dict) else None
    if not isinstance(name, str) or name not in RNG_BIT_GENERATORS:
        raise AnynnValueError(f"unknown bit generator {str(name)[:40]!r}")
    bit_generator = RNG_BIT_GENERATORS[name]()
    try:
        bit_generator.state = state
    except (TypeError, ValueError, KeyError) as exc:
        raise AnynnValueError(f"invalid {name} state: {exc}") from exc
    return np.random.Generator(bit_generator)
