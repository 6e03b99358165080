"""The validated configuration of one ``fit``: every argument checked once, in one place.

:meth:`FitConfig.from_fit_args` reads a declarative table of constraints (scikit-learn's
``_parameter_constraints`` is the model) for the plain arguments, then resolves the ones
that need the network: the loss (bound to the output activation as a
:class:`~anynn.losses.LossHead`), the optimizer, the metrics and the callbacks. The data
arguments are checked here for their form; their contents are checked when the
datasets are built (:func:`anynn.training.data.fit_datasets`), still before any work.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .. import losses, optimizers
from .. import metrics as metrics_module
from .._checks import Bool, Choice, Constraint, Float, Int, Optional, check_float
from ..backend.collectives import check_comm
from ..callbacks import Callback, check_callbacks
from ..errors import AnynnTypeError, AnynnValueError
from ..schedules import check_schedule
from .progress import resolve_verbose

if TYPE_CHECKING:
    from ..network import Network


@dataclass(frozen=True)
class _Rule(Constraint):
    """A constraint given as a function ``(value, name) -> normalised value``."""

    rule: Callable[[Any, str], Any]

    def check(self, value: Any, name: str) -> Any:
        return self.rule(value, name)


def _learning_rate(value: Any, name: str) -> optimizers.LearningRate:
    """A schedule ``step -> lr`` (taking the step) or a float > 0."""
    if callable(value):
        return check_schedule(value)
    return check_float(value, name, low=0.0, open_low=True)


def _validation_data(value: Any, name: str) -> tuple[Any, ...]:
    if not isinstance(value, (tuple, list)) or len(value) not in (2, 3):
        raise AnynnTypeError(
            f"{name} must be a tuple (X_val, y_val) or (X_val, y_val, sample_weight_val); "
            f"got {type(value).__name__}"
        )
    return tuple(value)


def _class_weight(value: Any, name: str) -> Mapping[int, float]:
    if not isinstance(value, Mapping):
        raise AnynnTypeError(f"{name} must be a dict {{class: weight}}; got {type(value).__name__}")
    return value


_POSITIVE = Optional(Float(low=0.0, open_low=True))

CONSTRAINTS: dict[str, Constraint] = {
    "epochs": Int(low=0),
    "batch_size": Int(low=1),
    "lr": Optional(_Rule(_learning_rate)),
    "shuffle": Bool(),
    "verbose": _Rule(lambda value, name: resolve_verbose(value)),
    "validation_split": Float(low=0.0, high=1.0, open_high=True),
    "validation_data": Optional(_Rule(_validation_data)),
    "class_weight": Optional(_Rule(_class_weight)),
    "clip_value": _POSITIVE,
    "clip_norm": _POSITIVE,
    "clip_backprop": _POSITIVE,
    "data_on_device": Choice(("auto", True, False)),
    "comm": Optional(_Rule(check_comm)),
    "sharded": Bool(),
}
"""The plain ``fit`` arguments and their rules (the others are resolved against the network)."""


@dataclass(frozen=True)
class FitConfig:
    """Every argument of one ``fit``, validated and resolved (see :meth:`Network.fit`).

    Attributes
    ----------
    head : LossHead
        The loss bound to the network's output activation.
    optimizer : Optimizer
        The optimizer of this fit (``net.optimizer`` once training starts).
    new_lr : float or callable or None
        A learning rate to set on a reused ``net.optimizer`` when training starts.
    """

    epochs: int
    batch_size: int
    shuffle: bool
    head: losses.LossHead
    optimizer: optimizers.Optimizer
    new_lr: optimizers.LearningRate | None
    metrics: tuple[metrics_module.Metric, ...]
    callbacks: tuple[Callback, ...]
    verbose: int
    validation_split: float
    validation_data: tuple[Any, ...] | None
    sample_weight: Any
    class_weight: Mapping[int, float] | None
    clip_value: float | None
    clip_norm: float | None
    clip_backprop: float | None
    data_on_device: bool | str
    comm: Any = None
    """The mpi4py communicator of a data-parallel fit, or None."""
    sharded: bool = False
    """Whether each process passed its own rows (else every process passed the same data)."""

    @classmethod
    def from_fit_args(
        cls,
        net: Network,
        *,
        epochs: int = 1,
        lr: optimizers.LearningRate | None = None,
        batch_size: int = 32,
        loss: str | losses.Loss = "mse",
        optimizer: str | optimizers.Optimizer | None = None,
        shuffle: bool = True,
        validation_data: tuple[Any, ...] | None = None,
        validation_split: float = 0.0,
        metrics: Sequence[str | metrics_module.Metric] | None = None,
        callbacks: Sequence[Callback] | None = None,
        early_stopping: Callback | None = None,
        verbose: int | str = "auto",
        sample_weight: Any = None,
        class_weight: Mapping[int, float] | None = None,
        clip_value: float | None = None,
        clip_norm: float | None = None,
        clip_backprop: float | None = None,
        data_on_device: bool | str = "auto",
        comm: Any = None,
        sharded: bool = False,
    ) -> FitConfig:
        """Check and resolve the arguments of :meth:`Network.fit` for ``net``.

        Nothing is modified: a reused optimizer gets ``lr`` only when training starts.

        Raises
        ------
        AnynnTypeError, AnynnValueError
            For the first bad argument, named in the message.
        """
        given = dict(locals())
        plain = {name: rule.check(given[name], name) for name, rule in CONSTRAINTS.items()}
        if plain["validation_split"] and validation_data is not None:
            raise AnynnValueError("give validation_data or validation_split, not both")
        if plain["sharded"] and plain["comm"] is None:
            raise AnynnValueError(
                "sharded=True says each process passes its own rows: it needs comm= (an "
                "mpi4py communicator)"
            )
        head = losses.LossHead.checked(
            loss, net.layers[-1].activation, net.outputs, net.backend
        )
        weighted = sample_weight is not None or plain["class_weight"] is not None
        if not head.takes_weights and (weighted or len(plain["validation_data"] or ()) == 3):
            raise AnynnTypeError(
                f"loss={head.loss!r} takes no per-sample weights (its methods have no "
                "weights argument); drop sample_weight/class_weight or add the argument"
            )
        chosen, new_lr = _optimizer(net, optimizer, plain.pop("lr"))
        hooks = check_callbacks(callbacks)
        if early_stopping is not None:
            if not isinstance(early_stopping, Callback):
                raise AnynnTypeError(
                    "early_stopping must be an anynn.EarlyStopping; got "
                    f"{type(early_stopping).__name__}: {early_stopping!r}"
                )
            hooks.append(early_stopping)
        chosen_metrics = metrics_module.get_list(metrics)
        metrics_module.check_for_output(chosen_metrics, net.layers[-1].activation, net.outputs)
        return cls(
            head=head,
            optimizer=chosen,
            new_lr=new_lr,
            metrics=tuple(chosen_metrics),
            callbacks=tuple(hooks),
            sample_weight=sample_weight,
            **plain,
        )


def _optimizer(
    net: Network, optimizer: Any, lr: optimizers.LearningRate | None
) -> tuple[optimizers.Optimizer, optimizers.LearningRate | None]:
    """The optimizer of a fit and the lr to set on it when reused (see ``Network.fit``)."""
    if isinstance(optimizer, optimizers.Optimizer):
        if lr is not None:
            raise AnynnValueError(
                f"lr={lr!r} was given with an optimizer object ({optimizer!r}), which uses "
                "its own lr: set it on the object, or give the optimizer by name"
            )
        return optimizer, None
    if optimizer is None and net.optimizer is not None:
        return net.optimizer, lr
    return optimizers.get("sgd" if optimizer is None else optimizer, lr), None
