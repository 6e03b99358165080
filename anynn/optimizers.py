"""Optimizers: PyTorch's update rules applied in place to a network's parameters.

Every optimizer keeps its per-parameter state (moments, momentum buffers) as arrays of
the network's backend, created by :meth:`Optimizer.prepare` once per ``fit``. The
learning rate is a positive float or a schedule ``step -> lr`` (see
:mod:`anynn.schedules`), evaluated once per step. ``weight_decay`` is the L2 penalty
added to the gradient (SGD, Adam, RMSprop), or the decoupled decay of AdamW.

Saving: :meth:`Optimizer.state_dict` returns JSON-able scalars plus host NumPy arrays;
:func:`from_state` (or :meth:`Optimizer.load_state_dict`) restores it on any backend.
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from ._checks import check_bool, check_float, check_int, check_pair, either
from .backend import Backend, namespace_of, to_numpy
from .errors import AnynnValueError
from .layers import Parameter
from .registry import Registry
from .schedules import Schedule, check_schedule, learning_rate_at
from .schedules import from_config as schedule_from_config

Array = Any
LearningRate = float | Callable[[int], float]


PYTORCH_SPELLINGS = ("betas", "alpha")
"""PyTorch's names of our keywords (Adam's ``betas=``, RMSprop's ``alpha=``): not in config."""


def _fraction(value: Any, name: str) -> float:
    """A coefficient in [0, 1) (momentum, betas, rho)."""
    return check_float(value, name, low=0.0, high=1.0, open_high=True)


class Optimizer:
    """Base class: ``step(params)`` updates each :class:`Parameter` from its ``grad``.

    Parameters
    ----------
    lr : float or callable
        Learning rate, or a schedule ``step -> lr`` called with the 0-based step.
    weight_decay : float
        L2 penalty coefficient (added to the gradient unless the optimizer decouples it).

    Attributes
    ----------
    iterations : int
        Steps taken so far (schedules and bias corrections count from it).
    """

    name = "optimizer"
    slots: tuple[str, ...] = ()
    """Names of the per-parameter state arrays."""

    def __init__(self, lr: LearningRate = 0.01, weight_decay: float = 0.0) -> None:
        self.lr = lr
        self.weight_decay = check_float(weight_decay, "weight_decay", low=0.0)
        self.iterations = 0
        self._state: dict[str, list[Array]] = {}
        self._bound: list[tuple[str, tuple[int, ...]]] = []
        self._pending: dict[str, Array] = {}
        self._xp: Any = None

    # -- learning rate --------------------------------------------------------------
    @property
    def lr(self) -> LearningRate:
        """The learning rate: a float or a schedule ``step -> lr``."""
        return self._schedule if self._schedule is not None else self._lr

    @lr.setter
    def lr(self, value: LearningRate) -> None:
        if callable(value):
            self._schedule: Callable[[int], float] | None = check_schedule(value)
            self._lr = 0.0
        else:
            self._schedule = None
            self._lr = check_float(value, "lr", low=0.0, open_low=True)

    def current_lr(self) -> float:
        """The learning rate of the next step (a schedule's value is checked).

        Raises
        ------
        AnynnValueError
            If the schedule raises, or returns something other than a finite number >= 0.
        """
        if self._schedule is None:
            return self._lr
        return learning_rate_at(self._schedule, self.iterations)

    # -- state ----------------------------------------------------------------------
    def prepare(self, params: Sequence[Parameter], backend: Backend | None = None) -> None:
        """Bind the state to ``params`` (zeros, or the arrays of a loaded state).

        Called once per ``fit``; :meth:`step` calls it itself on first use.

        Raises
        ------
        AnynnValueError
            If the optimizer already holds state for parameters of other shapes, or a
            loaded state lacks an array for one of ``params``.
        """
        signature = [(p.name, tuple(p.value.shape)) for p in params]
        if backend is not None:
            self._xp = backend.xp
        elif self._xp is None:
            self._xp = namespace_of(params[0].value)
        if self._pending:
            self._state = {slot: [self._loaded(slot, p) for p in params] for slot in self.slots}
            self._pending = {}
        elif self._bound and self._bound != signature:
            raise AnynnValueError(
                f"this {type(self).__name__} holds state for parameters of shapes "
                f"{[s for _, s in self._bound]}; asked to update "
                f"{[s for _, s in signature]}. Give each network its own optimizer"
            )
        elif not self._bound:
            xp = self._xp
            self._state = {slot: [xp.zeros_like(p.value) for p in params] for slot in self.slots}
        self._bound = signature

    def _loaded(self, slot: str, p: Parameter) -> Array:
        key = f"{slot}.{p.name}"
        if key not in self._pending:
            raise AnynnValueError(f"the loaded optimizer state has no array {key!r}")
        array = self._pending[key]
        if tuple(array.shape) != tuple(p.value.shape):
            raise AnynnValueError(
                f"optimizer state {key!r} has shape {tuple(array.shape)}; the parameter "
                f"has shape {tuple(p.value.shape)}"
            )
        return self._xp.astype(array, p.value.dtype)

    def reset(self) -> None:
        """Forget the state arrays and the step count (the next step starts afresh)."""
        self.iterations = 0
        self._state, self._bound, self._pending = {}, [], {}

    def config(self) -> dict[str, Any]:
        """The hyperparameters as constructor keywords (lr excluded), read from the signature."""
        names = inspect.signature(type(self).__init__).parameters
        skip = ("self", "lr", *PYTORCH_SPELLINGS)
        return {name: getattr(self, name) for name in names if name not in skip}

    def state_dict(self) -> dict[str, Any]:
        """The optimizer as JSON-able scalars plus host arrays.

        Returns
        -------
        dict
            ``name`` (str), ``lr`` (float: the learning rate of the next step),
            ``schedule`` (a built-in schedule's JSON config, or None), ``iterations``
            (int), the hyperparameters of :meth:`config`, and ``arrays``: a dict of host
            NumPy arrays named ``"{slot}.{parameter name}"``, e.g.
            ``"exp_avg.layers.0.weight"`` (empty before the first step). A custom
            schedule callable is not stored: ``lr`` then holds its current value.
        """
        arrays = {key: to_numpy(value).copy() for key, value in self._pending.items()}
        for slot, values in self._state.items():
            for (pname, _), value in zip(self._bound, values, strict=True):
                arrays[f"{slot}.{pname}"] = to_numpy(value).copy()
        schedule = self._schedule.config() if isinstance(self._schedule, Schedule) else None
        head = {"name": self.name, "lr": self.current_lr(), "schedule": schedule}
        return {**head, "iterations": self.iterations, **self.config(), "arrays": arrays}

    def load_state_dict(self, state: dict[str, Any], backend: Backend) -> None:
        """Restore hyperparameters, step count and state arrays (moved to ``backend``).

        The arrays are bound to the network's parameters by name on the next
        :meth:`prepare` (the next ``fit``).

        Raises
        ------
        AnynnValueError
            If ``state`` is not a state of this optimizer type or is malformed.
        """
        if not isinstance(state, dict) or state.get("name") != self.name:
            seen = state.get("name") if isinstance(state, dict) else type(state).__name__
            raise AnynnValueError(f"not a {self.name!r} optimizer state; got {seen!r}")
        try:
            iterations = check_int(state.get("iterations"), "optimizer state: iterations", low=0)
        except TypeError as exc:  # a file's content is a value, whatever its type
            raise AnynnValueError(str(exc)) from exc
        arrays = state.get("arrays", {})
        if not isinstance(arrays, dict) or not all(
            isinstance(k, str) and isinstance(v, np.ndarray) for k, v in arrays.items()
        ):
            raise AnynnValueError("optimizer state: arrays must map names to NumPy arrays")
        schedule = state.get("schedule")
        lr: Any = schedule_from_config(schedule) if schedule is not None else state.get("lr")
        hyper = {key: state.get(key, value) for key, value in self.config().items()}
        type(self).__init__(self, lr=lr, **hyper)  # validates, and clears the old state
        self.iterations = iterations
        self._pending = {k: backend.from_host(np.asarray(v)) for k, v in arrays.items()}
        self._xp = backend.xp

    # -- update ---------------------------------------------------------------------
    def step(self, params: Sequence[Parameter]) -> None:
        """Apply one update to every parameter from its ``grad``."""
        if len(self._bound) != len(params):
            self.prepare(params)
        self._update(params, self.current_lr())
        self.iterations += 1

    def _update(self, params: Sequence[Parameter], lr: float) -> None:
        raise NotImplementedError

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.config().items())
        return f"{type(self).__name__}(lr={self.lr!r}, {args})"


class SGD(Optimizer):
    """Stochastic gradient descent with optional (Nesterov) momentum, as ``torch.optim.SGD``.

    ``g += weight_decay * w``; ``buf = momentum * buf + g``;
    ``w -= lr * (g + momentum * buf if nesterov else buf)`` (``buf = g`` without momentum).
    """

    name = "sgd"

    def __init__(
        self,
        lr: LearningRate = 0.01,
        momentum: float = 0.0,
        nesterov: bool = False,
        weight_decay: float = 0.0,
    ) -> None:
        self.momentum = _fraction(momentum, "momentum")
        if check_bool(nesterov, "nesterov") and self.momentum == 0.0:
            raise AnynnValueError("nesterov=True needs momentum > 0; got momentum=0")
        self.nesterov = nesterov
        self.slots = ("momentum_buffer",) if self.momentum else ()
        super().__init__(lr, weight_decay)

    def _update(self, params: Sequence[Parameter], lr: float) -> None:
        wd, mu = self.weight_decay, self.momentum
        if not mu:
            for p in params:
                factors = p.outer_factors if not wd else None
                if factors is not None:  # w -= column * (lr * row): one pass, no gradient
                    p.value -= factors[0] * (lr * factors[1])
                else:
                    p.value -= lr * (p.grad if not wd else p.grad + wd * p.value)
            return
        for p, buf in zip(params, self._state["momentum_buffer"], strict=True):
            g = p.grad if not wd else p.grad + wd * p.value
            buf *= mu
            buf += g
            p.value -= lr * (g + mu * buf if self.nesterov else buf)


class Adam(Optimizer):
    """Adam with bias correction, as ``torch.optim.Adam`` (``weight_decay``: L2 penalty)."""

    name = "adam"
    slots = ("exp_avg", "exp_avg_sq")
    decoupled = False

    def __init__(
        self,
        lr: LearningRate = 1e-3,
        beta1: float = 0.9,
        beta2: float = 0.999,
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        *,
        betas: tuple[float, float] | None = None,
    ) -> None:
        beta1, beta2 = either((beta1, beta2), (0.9, 0.999), check_pair(betas, "betas"),
                              "betas= (PyTorch's name) or beta1=/beta2=")
        self.beta1 = _fraction(beta1, "beta1")
        self.beta2 = _fraction(beta2, "beta2")
        self.eps = check_float(eps, "eps", low=0.0)
        super().__init__(lr, weight_decay)

    def _update(self, params: Sequence[Parameter], lr: float) -> None:
        b1, b2, eps, wd = self.beta1, self.beta2, self.eps, self.weight_decay
        t = self.iterations + 1
        root_bc2 = math.sqrt(1.0 - b2**t)
        # lr/bc1 * m / (sqrt(v)/sqrt(bc2) + eps), with the scalars folded: one divide
        step_size = lr / (1.0 - b1**t) * root_bc2
        eps_scaled = eps * root_bc2
        sqrt = self._xp.sqrt
        decay = 1.0 - lr * wd
        for p, m, v in zip(params, self._state["exp_avg"], self._state["exp_avg_sq"], strict=True):
            g = p.grad
            if wd:
                if self.decoupled:
                    p.value *= decay
                else:
                    g = g + wd * p.value
            m *= b1
            m += (1.0 - b1) * g
            v *= b2
            v += (1.0 - b2) * (g * g)
            p.value -= step_size * (m / (sqrt(v) + eps_scaled))


class AdamW(Adam):
    """Adam with decoupled weight decay, as ``torch.optim.AdamW``: ``w *= 1 - lr * wd``."""

    name = "adamw"
    decoupled = True

    def __init__(
        self,
        lr: LearningRate = 1e-3,
        beta1: float = 0.9,
        beta2: float = 0.999,
        eps: float = 1e-8,
        weight_decay: float = 1e-2,
        *,
        betas: tuple[float, float] | None = None,
    ) -> None:
        super().__init__(lr, beta1, beta2, eps, weight_decay, betas=betas)


class RMSprop(Optimizer):
    """RMSprop as ``torch.optim.RMSprop`` (``rho`` is PyTorch's ``alpha``).

    ``s = rho * s + (1 - rho) * g^2``; ``w -= lr * g / (sqrt(s) + eps)``, through a
    momentum buffer when ``momentum > 0``.
    """

    name = "rmsprop"

    def __init__(
        self,
        lr: LearningRate = 1e-2,
        rho: float = 0.99,
        eps: float = 1e-8,
        momentum: float = 0.0,
        weight_decay: float = 0.0,
        *,
        alpha: float | None = None,
    ) -> None:
        rho = either(rho, 0.99, alpha, "alpha= (PyTorch's name) or rho=")
        self.rho = _fraction(rho, "rho")
        self.eps = check_float(eps, "eps", low=0.0)
        self.momentum = _fraction(momentum, "momentum")
        self.slots = ("square_avg", "momentum_buffer") if self.momentum else ("square_avg",)
        super().__init__(lr, weight_decay)

    def _update(self, params: Sequence[Parameter], lr: float) -> None:
        rho, eps, mu, wd = self.rho, self.eps, self.momentum, self.weight_decay
        sqrt = self._xp.sqrt
        buffers = self._state.get("momentum_buffer", [None] * len(params))
        for p, s, buf in zip(params, self._state["square_avg"], buffers, strict=True):
            g = p.grad if not wd else p.grad + wd * p.value
            s *= rho
            s += (1.0 - rho) * (g * g)
            scaled = g / (sqrt(s) + eps)
            if mu:
                buf *= mu
                buf += scaled
                p.value -= lr * buf
            else:
                p.value -= lr * scaled


OPTIMIZERS: dict[str, type[Optimizer]] = {cls.name: cls for cls in (SGD, Adam, AdamW, RMSprop)}
REGISTRY = Registry("optimizer", Optimizer, OPTIMIZERS)


def get(spec: str | Optimizer, lr: LearningRate | None = None) -> Optimizer:
    """Return an optimizer from a name (built with ``lr``, else its default) or an object.

    Raises
    ------
    AnynnValueError
        For an unknown name.
    """
    return REGISTRY.resolve(spec) if lr is None else REGISTRY.resolve(spec, lr=lr)


def from_state(state: dict[str, Any], backend: Backend) -> Optimizer:
    """Rebuild an optimizer from :meth:`Optimizer.state_dict`, its arrays on ``backend``.

    Raises
    ------
    AnynnValueError
        If the state names no known optimizer or is malformed.
    """
    name = state.get("name") if isinstance(state, dict) else None
    if name not in REGISTRY:
        raise AnynnValueError(f"unknown optimizer in state: {name!r}; expected one of {OPTIMIZERS}")
    optimizer = REGISTRY.lookup(name)()
    optimizer.load_state_dict(state, backend)
    return optimizer
