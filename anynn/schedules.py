"""Learning-rate schedules: callables ``step -> lr`` evaluated once per optimizer step.

Any callable taking the 0-based optimizer step and returning a positive float is a
schedule; the built-ins below also describe themselves as JSON (:meth:`Schedule.config`)
so that a saved optimizer restores them.
"""

from __future__ import annotations

import math
from typing import Any

from .errors import AnynnTypeError, AnynnValueError


def check_number(
    value: Any,
    name: str,
    *,
    low: float = 0.0,
    allow_low: bool = False,
    high: float | None = None,
    allow_high: bool = True,
) -> float:
    """Return ``value`` as a float inside the given bounds, else raise a clear error.

    Parameters
    ----------
    value : object
        The number to check (bool is rejected).
    name : str
        Argument name for the message.
    low, high : float
        Bounds; ``allow_low`` / ``allow_high`` say whether they are included.
    """
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value != value:
        raise AnynnTypeError(f"{name} must be a real number; got {type(value).__name__}: {value!r}")
    value = float(value)
    ok_low = value >= low if allow_low else value > low
    ok_high = high is None or (value <= high if allow_high else value < high)
    if not (ok_low and ok_high and math.isfinite(value)):
        left = "[" if allow_low else "("
        right = "]" if allow_high else ")"
        upper = "inf)" if high is None else f"{high}{right}"
        raise AnynnValueError(f"{name} must lie in {left}{low}, {upper}; got {value}")
    return value


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
        self.lr = check_number(lr, "lr")
        if isinstance(every, bool) or not isinstance(every, int) or every < 1:
            raise AnynnValueError(f"every must be an int >= 1; got {every!r}")
        self.every = every
        self.factor = check_number(factor, "factor", high=1.0)

    def __call__(self, step: int) -> float:
        return self.lr * self.factor ** (step // self.every)


class ExponentialDecay(Schedule):
    """``lr * rate ** (step / steps)``: a smooth decay by ``rate`` every ``steps`` steps."""

    name = "exponential"

    def __init__(self, lr: float, rate: float, steps: int = 1) -> None:
        self.lr = check_number(lr, "lr")
        self.rate = check_number(rate, "rate", high=1.0)
        if isinstance(steps, bool) or not isinstance(steps, int) or steps < 1:
            raise AnynnValueError(f"steps must be an int >= 1; got {steps!r}")
        self.steps = steps

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
        self.lr = check_number(lr, "lr")
        if isinstance(total_steps, bool) or not isinstance(total_steps, int) or total_steps < 1:
            raise AnynnValueError(f"total_steps must be an int >= 1; got {total_steps!r}")
        if (
            isinstance(warmup, bool)
            or not isinstance(warmup, int)
            or not (0 <= warmup < total_steps)
        ):
            raise AnynnValueError(
                f"warmup must be an int in [0, total_steps={total_steps}); got {warmup!r}"
            )
        self.total_steps = total_steps
        self.warmup = warmup
        self.min_lr = check_number(min_lr, "min_lr", allow_low=True, high=self.lr)

    def __call__(self, step: int) -> float:
        if step < self.warmup:
            return self.lr * (step + 1) / self.warmup
        progress = min(1.0, (step - self.warmup) / (self.total_steps - self.warmup))
        return self.min_lr + 0.5 * (self.lr - self.min_lr) * (1.0 + math.cos(math.pi * progress))


SCHEDULES: dict[str, type[Schedule]] = {
    cls.name: cls for cls in (StepDecay, ExponentialDecay, CosineDecay)
}


def from_config(config: dict[str, Any]) -> Schedule:
    """Rebuild a built-in schedule from :meth:`Schedule.config`.

    Raises
    ------
    AnynnValueError
        For an unknown schedule name or bad arguments.
    """
    args = dict(config)
    name = args.pop("name", None)
    if name not in SCHEDULES:
        raise AnynnValueError(f"unknown schedule {name!r}; expected one of {sorted(SCHEDULES)}")
    try:
        return SCHEDULES[name](**args)
    except TypeError as exc:
        raise AnynnValueError(f"bad arguments for schedule {name!r}: {exc}") from exc
