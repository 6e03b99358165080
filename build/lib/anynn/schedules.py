"""Learning-rate schedules: callables ``step -> lr`` evaluated once per optimizer step.

Any callable taking the 0-based optimizer step and returning a positive float is a
schedule; the built-ins below also describe themselves as JSON (:meth:`Schedule.config`)
so that a saved optimizer restores them.
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Callable
from typing import Any

from ._checks import check_float, check_int
from .errors import AnynnTypeError, AnynnValueError
from .registry import Registry


def _positive(value: Any, name: str) -> float:
    """A learning rate: a finite float > 0."""
    return check_float(value, name, low=0.0, open_low=True)


def describe(schedule: Callable[..., Any]) -> str:
    """A short name of a schedule for messages."""
    return getattr(schedule, "__qualname__", None) or repr(schedule)[:80]


def check_schedule(schedule: Callable[..., Any]) -> Callable[[int], float]:
    """``schedule`` if it can be called as ``schedule(step)``; refused before any work.

    Raises
    ------
    AnynnTypeError
        If its signature does not take exactly one positional argument.
    """
    try:
        signature = inspect.signature(schedule)
    except (TypeError, ValueError):
        return schedule  # not introspectable (some built-ins): its first call checks it
    try:
        signature.bind(0)
    except TypeError as exc:
        raise AnynnTypeError(
            f"lr: a learning-rate schedule is called as schedule(step) with the 0-based "
            f"optimizer step; {describe(schedule)}{signature} cannot be ({exc})"
        ) from None
    return schedule


def learning_rate_at(schedule: Callable[[int], float], step: int) -> float:
    """The checked value of ``schedule(step)``.

    Raises
    ------
    AnynnValueError
        If the schedule raises (the exception is the cause; the message names the
        schedule and the step) or returns something other than a finite number >= 0.
    """
    try:
        value = schedule(step)
    except Exception as exc:  # the user's code: say whose and when, keep the cause
        raise AnynnValueError(
            f"the learning-rate schedule raised {type(exc).__name__} at step {step} "
            f"({describe(schedule)}): {exc}"
        ) from exc
    try:
        lr = float(value)
    except (TypeError, ValueError):
        lr = math.nan
    if not (math.isfinite(lr) and lr >= 0.0):
        raise AnynnValueError(
            f"the learning-rate schedule returned {value!r} at step {step} "
            f"({describe(schedule)}); it must return a finite number >= 0"
        )
    return lr


class Schedule:
    """Base class of the built-in schedules: ``schedule(step) -> lr``."""

    name = "schedule"

    def __call__(self, step: int) -> float:
        raise NotImplementedError

    def config(self) -> dict[str, Any]:
        """JSON-able description; :func:`from_config` rebuilds the schedule."""
        return {"name": self.name, **vars(self)}

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in vars(self).items())
        return f"{type(self).__name__}({args})"


class StepDecay(Schedule):
    """``lr * factor ** (step // every)``: multiply by ``factor`` every ``every`` steps."""

    name = "step"

    def __init__(self, lr: float, every: int, factor: float = 0.1) -> None:
        self.lr = _positive(lr, "lr")
        self.every = check_int(every, "every", low=1)
        self.factor = check_float(factor, "factor", low=0.0, high=1.0, open_low=True)

    def __call__(self, step: int) -> float:
        return self.lr * self.factor ** (step // self.every)


class ExponentialDecay(Schedule):
    """``lr * rate ** (step / steps)``: a smooth decay by ``rate`` every ``steps`` steps."""

    name = "exponential"

    def __init__(self, lr: float, rate: float, steps: int = 1) -> None:
        self.lr = _positive(lr, "lr")
        self.rate = check_float(rate, "rate", low=0.0, high=1.0, open_low=True)
        self.steps = check_int(steps, "steps", low=1)

    def __call__(self, step: int) -> float:
        return self.lr * self.rate ** (step / self.steps)


class CosineDecay(Schedule):
    """Linear warm-up from ``lr / warmup`` steps, then a cosine from ``lr`` to ``min_lr``.

    Parameters
    ----------
    lr : float
        Peak learning rate, reached at the end of the warm-up.
    total_steps : int
        Steps of the whole schedule (warm-up included); ``min_lr`` afterwards.
    warmup : int
        Warm-up steps (0: start at ``lr``).
    min_lr : float
        Final learning rate.
    """

    name = "cosine"

    def __init__(self, lr: float, total_steps: int, warmup: int = 0, min_lr: float = 0.0) -> None:
        self.lr = _positive(lr, "lr")
        self.total_steps = check_int(total_steps, "total_steps", low=1)
        self.warmup = check_int(warmup, "warmup", low=0, high=self.total_steps - 1)
        self.min_lr = check_float(min_lr, "min_lr", low=0.0, high=self.lr)

    def __call__(self, step: int) -> float:
        if step < self.warmup:
            return self.lr * (step + 1) / self.warmup
        progress = min(1.0, (step - self.warmup) / (self.total_steps - self.warmup))
        return self.min_lr + 0.5 * (self.lr - self.min_lr) * (1.0 + math.cos(math.pi * progress))


SCHEDULES: dict[str, type[Schedule]] = {
    cls.name: cls for cls in (StepDecay, ExponentialDecay, CosineDecay)
}
REGISTRY = Registry("schedule", Schedule, SCHEDULES)


def from_config(config: dict[str, Any]) -> Schedule:
    """Rebuild a built-in schedule from :meth:`Schedule.config`.

    Raises
    ------
    AnynnValueError
        For an unknown schedule name or bad arguments.
    """
    args = dict(config)
    name = args.pop("name", None)
    if name not in REGISTRY:
        raise AnynnValueError(f"unknown schedule {name!r}; expected one of {sorted(SCHEDULES)}")
    try:
        return REGISTRY.lookup(name)(**args)
    except TypeError as exc:
        raise AnynnValueError(f"bad arguments for schedule {name!r}: {exc}") from exc
