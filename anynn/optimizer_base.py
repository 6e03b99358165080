"""The optimizer base: learning rate, per-parameter state, saving, and one step.

:class:`Optimizer` keeps its per-parameter state (moments, momentum buffers) as arrays of
the network's backend, created by :meth:`Optimizer.prepare` once per ``fit``. A step
runs as one fused update per parameter where the backend has one
(:meth:`anynn.backend.Backend.update_function`: CuPy compiles the sources of
:mod:`anynn.update_kernels`, NumPy runs in-place ufuncs), else through the standard Array
API path of each rule (:mod:`anynn.optimizers`), which is the reference.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from ._checks import check_float, check_int
from .backend import Backend, Kernel, namespace_of, to_numpy
from .errors import AnynnValueError
from .layers import Parameter
from .schedules import Schedule, check_schedule, learning_rate_at
from .schedules import from_config as schedule_from_config
from .update_kernels import UpdateKernel

Array = Any
LearningRate = float | Callable[[int], float]
PYTORCH_SPELLINGS = ("betas", "alpha")
"""PyTorch's names of our keywords (Adam's ``betas=``, RMSprop's ``alpha=``): not in config."""


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
    fused_update: Kernel | None
    """The backend's fused update (one kernel launch, or in-place ufuncs, per parameter),
    or None: the standard path (:meth:`_update`), which is the reference."""

    def __init__(self, lr: LearningRate = 0.01, weight_decay: float = 0.0) -> None:
        self.lr = lr
        self.weight_decay = check_float(weight_decay, "weight_decay", low=0.0)
        self.iterations = 0
        self._state: dict[str, list[Array]] = {}
        self._bound: list[tuple[str, tuple[int, ...]]] = []
        self._pending: dict[str, Array] = {}
        self._xp: Any = None
        self.fused_update = None
        self._outer_update: Kernel | None = None
        self._kernel_scalars: tuple[str, ...] = ()

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

        Called once per ``fit``; :meth:`step` calls it itself on first use. With a
        ``backend`` that has fused updates (CuPy, NumPy), the update runs fused, one per
        parameter (:meth:`update_kernel`).

        Raises
        ------
        AnynnValueError
            If the optimizer already holds state for parameters of other shapes, or a
            loaded state lacks an array for one of ``params``.
        """
        signature = [(p.name, tuple(p.value.shape)) for p in params]
        if backend is not None:
            self._xp = backend.xp
            self._bind_kernels(backend)
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
    def update_kernel(self, dtype: str) -> UpdateKernel | None:
        """The fused update of this optimizer for ``dtype`` (None: standard path only)."""
        return None

    def outer_update_kernel(self, dtype: str) -> UpdateKernel | None:
        """A fused update straight from a single sample's outer-product factors, or None."""
        return None

    def step_scalars(self, lr: float) -> dict[str, float]:
        """The scalars of this step (shared by the fused and the standard path)."""
        return {"lr": lr, "wd": self.weight_decay}

    def _redefines_update(self) -> bool:
        """Whether a subclass changed ``_update`` below the class that wrote its kernel.

        Such a subclass (a user's variant of Adam, say) keeps its own rule: a fused kernel
        would silently compute its parent's.
        """
        mro = type(self).__mro__
        update_owner = next(k for k in mro if "_update" in vars(k))
        kernel_owner = next(k for k in mro if "update_kernel" in vars(k))
        return update_owner is not kernel_owner and issubclass(update_owner, kernel_owner)

    def _bind_kernels(self, backend: Backend) -> None:
        self.fused_update = self._outer_update = None
        spec = None if self._redefines_update() else self.update_kernel(backend.dtype_name)
        if spec is None:
            return
        description = f"the {self.name} update ({backend.dtype_name})"
        self.fused_update = backend.update_function(spec, description=description)
        self._kernel_scalars = spec.scalars
        outer = self.outer_update_kernel(backend.dtype_name)
        if outer is not None:  # used by the fused path, or by a standard one that asks
            self._outer_update = backend.update_function(outer, description=description)

    def step(self, params: Sequence[Parameter]) -> None:
        """Apply one update to every parameter from its ``grad``."""
        if len(self._bound) != len(params):
            self.prepare(params)
        lr = self.current_lr()
        if self.fused_update is None:
            self._update(params, lr)
        else:
            self._fused(params, lr)
        self.iterations += 1

    def _fused(self, params: Sequence[Parameter], lr: float) -> None:
        """One kernel per parameter, updating it and its state in place."""
        kernel, outer = self.fused_update, self._outer_update
        assert kernel is not None  # noqa: S101 - step() checked
        scalars = self.step_scalars(lr)
        values = [scalars[name] for name in self._kernel_scalars]
        # each parameter's state arrays, in slot order (nothing per step without slots)
        states: Sequence[tuple[Array, ...]] = (
            list(zip(*(self._state[slot] for slot in self.slots), strict=True))
            if self.slots else [()] * len(params)
        )
        for p, state in zip(params, states, strict=True):
            factors = p.outer_factors if outer is not None else None
            if factors is not None:
                outer(factors[0], factors[1], lr, p.value)  # type: ignore[misc]
            else:
                kernel(p.grad, *values, p.value, *state)

    def _update(self, params: Sequence[Parameter], lr: float) -> None:
        """The standard Array API path (the reference of the fused kernels)."""
        raise NotImplementedError

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.config().items())
        return f"{type(self).__name__}(lr={self.lr!r}, {args})"
