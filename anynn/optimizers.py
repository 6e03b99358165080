"""Optimizers: PyTorch's update rules applied in place to a network's parameters.

Every optimizer keeps its per-parameter state (moments, momentum buffers) as arrays of
the network's backend, created by :meth:`Optimizer.prepare` once per ``fit``
(:mod:`anynn.optimizer_base`). Each rule has a standard Array API path (the reference)
and a fused kernel (:mod:`anynn.update_kernels`) used where the backend compiles
kernels: one launch per parameter and step. The
learning rate is a positive float or a schedule ``step -> lr`` (see
:mod:`anynn.schedules`), evaluated once per step. ``weight_decay`` is the L2 penalty
added to the gradient (SGD, Adam, RMSprop), or the decoupled decay of AdamW.

Saving: :meth:`Optimizer.state_dict` returns JSON-able scalars plus host NumPy arrays;
:func:`from_state` (or :meth:`Optimizer.load_state_dict`) restores it on any backend.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from . import update_kernels
from ._checks import check_bool, check_float, check_pair, either
from .backend import Backend
from .errors import AnynnValueError
from .layers import Parameter
from .optimizer_base import PYTORCH_SPELLINGS, LearningRate, Optimizer
from .registry import Registry
from .update_kernels import UpdateKernel

Array = Any
__all__ = ["OPTIMIZERS", "PYTORCH_SPELLINGS", "SGD", "Adam", "AdamW", "LearningRate",
           "Optimizer", "RMSprop", "from_state", "get"]


def _fraction(value: Any, name: str) -> float:
    """A coefficient in [0, 1) (momentum, betas, rho)."""
    return check_float(value, name, low=0.0, high=1.0, open_high=True)


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

    def update_kernel(self, dtype: str) -> UpdateKernel:
        return update_kernels.sgd(dtype, weight_decay=bool(self.weight_decay),
                                  momentum=bool(self.momentum), nesterov=self.nesterov)

    def outer_update_kernel(self, dtype: str) -> UpdateKernel | None:
        plain = not (self.momentum or self.weight_decay)
        return update_kernels.sgd_outer(dtype) if plain else None

    def step_scalars(self, lr: float) -> dict[str, float]:
        return {"lr": lr, "wd": self.weight_decay, "mu": self.momentum}

    def _update(self, params: Sequence[Parameter], lr: float) -> None:
        wd, mu = self.weight_decay, self.momentum
        if not mu:
            for p in params:
                factors = p.outer_factors if not wd else None
                if factors is not None and self._outer_update is not None:
                    self._outer_update(factors[0], factors[1], lr, p.value)  # the backend's
                elif factors is not None:  # w -= column * (lr * row): no gradient built
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

    def update_kernel(self, dtype: str) -> UpdateKernel:
        return update_kernels.adam(dtype, weight_decay=bool(self.weight_decay),
                                   decoupled=self.decoupled)

    def step_scalars(self, lr: float) -> dict[str, float]:
        b1, b2, t = self.beta1, self.beta2, self.iterations + 1
        root_bc2 = math.sqrt(1.0 - b2**t)
        # lr/bc1 * m / (sqrt(v)/sqrt(bc2) + eps), with the scalars folded: one divide
        return {
            "step_size": lr / (1.0 - b1**t) * root_bc2, "eps_scaled": self.eps * root_bc2,
            "b1": b1, "one_minus_b1": 1.0 - b1, "b2": b2, "one_minus_b2": 1.0 - b2,
            "wd": self.weight_decay, "decay": 1.0 - lr * self.weight_decay,
        }

    def _update(self, params: Sequence[Parameter], lr: float) -> None:
        k = self.step_scalars(lr)
        wd, b1, b2, step_size = k["wd"], k["b1"], k["b2"], k["step_size"]
        sqrt = self._xp.sqrt
        for p, m, v in zip(params, self._state["exp_avg"], self._state["exp_avg_sq"], strict=True):
            g = p.grad
            if wd:
                if self.decoupled:
                    p.value *= k["decay"]
                else:
                    g = g + wd * p.value
            # the same operations as the fused kernel; temporaries reused in place
            m *= b1
            m += k["one_minus_b1"] * g
            square = g * g
            square *= k["one_minus_b2"]
            v *= b2
            v += square
            step = sqrt(v)
            step += k["eps_scaled"]
            step = m / step
            step *= step_size
            p.value -= step


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

    def update_kernel(self, dtype: str) -> UpdateKernel:
        return update_kernels.rmsprop(dtype, weight_decay=bool(self.weight_decay),
                                      momentum=bool(self.momentum))

    def step_scalars(self, lr: float) -> dict[str, float]:
        return {"lr": lr, "rho": self.rho, "one_minus_rho": 1.0 - self.rho, "eps": self.eps,
                "wd": self.weight_decay, "mu": self.momentum}

    def _update(self, params: Sequence[Parameter], lr: float) -> None:
        rho, eps, mu, wd = self.rho, self.eps, self.momentum, self.weight_decay
        sqrt = self._xp.sqrt
        buffers = self._state.get("momentum_buffer", [None] * len(params))
        for p, s, buf in zip(params, self._state["square_avg"], buffers, strict=True):
            g = p.grad if not wd else p.grad + wd * p.value
            square = g * g
            square *= 1.0 - rho
            s *= rho
            s += square
            scaled = sqrt(s)
            scaled += eps
            scaled = g / scaled
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
