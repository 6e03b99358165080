"""One check policy: wrong type -> AnynnTypeError, bad value -> AnynnValueError."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import anynn as nn
from anynn._checks import check_bool, check_choice, check_float, check_int
from anynn.clipping import check_clip

TYPE, VALUE = nn.AnynnTypeError, nn.AnynnValueError


def test_check_int_accepts_any_integral_but_bool() -> None:
    assert check_int(np.int64(5), "n", low=1) == 5
    assert type(check_int(np.uint8(5), "n")) is int
    for bad in (True, "5", 5.0, None):
        with pytest.raises(TYPE, match="n must be an int"):
            check_int(bad, "n")
    with pytest.raises(VALUE, match="n must be >= 1; got 0"):
        check_int(0, "n", low=1)
    with pytest.raises(VALUE, match="n must be <= 2; got 3"):
        check_int(3, "n", high=2)


def test_check_float_bounds_open_and_closed() -> None:
    assert check_float(np.float32(0.5), "x", low=0, high=1) == 0.5
    assert check_float(0, "x", low=0) == 0.0
    with pytest.raises(VALUE, match=r"x must lie in \(0, inf\); got 0.0"):
        check_float(0, "x", low=0, open_low=True)
    with pytest.raises(VALUE, match=r"x must lie in \[0, 1\); got 1.0"):
        check_float(1, "x", low=0, high=1, open_high=True)
    for bad in (float("nan"), float("inf")):
        with pytest.raises(VALUE):
            check_float(bad, "x")
    for bad in (True, "1", None, [1.0]):
        with pytest.raises(TYPE, match="x must be a real number"):
            check_float(bad, "x")


def test_check_bool_and_choice() -> None:
    assert check_bool(False, "flag") is False
    with pytest.raises(TYPE, match="flag must be True or False"):
        check_bool(1, "flag")
    assert check_choice("min", "mode", ("auto", "min")) == "min"
    with pytest.raises(VALUE, match="mode must be one of"):
        check_choice("best", "mode", ("auto", "min"))
    with pytest.raises(TYPE, match="mode must be one of"):
        check_choice(1, "mode", ("auto", "min"))
    with pytest.raises(TYPE):  # True is not 1, and 1 is not True
        check_choice(1, "on", ("auto", True, False))


GOOD_INT = np.int64(5)
BUILDERS: dict[str, Callable[[Any], object]] = {
    "Network(seed=)": lambda v: nn.Network(2, [1], seed=v),
    "Network(inputs=)": lambda v: nn.Network(v, [1]),
    "StepDecay(every=)": lambda v: nn.schedules.StepDecay(0.1, every=v),
    "ExponentialDecay(steps=)": lambda v: nn.schedules.ExponentialDecay(0.1, 0.5, steps=v),
    "CosineDecay(total_steps=)": lambda v: nn.schedules.CosineDecay(0.1, total_steps=v),
    "EarlyStopping(patience=)": lambda v: nn.EarlyStopping(patience=v),
}


@pytest.mark.parametrize("where", sorted(BUILDERS))
def test_the_policy_holds_for_every_integer_argument(where: str) -> None:
    build = BUILDERS[where]
    build(GOOD_INT)  # numpy integers are accepted
    for wrong_type in ("5", True, 5.0):
        with pytest.raises(TYPE):
            build(wrong_type)
    with pytest.raises(VALUE):
        build(-1)


@pytest.mark.parametrize(
    "build",
    [
        lambda v: nn.optimizers.SGD(lr=v),
        lambda v: nn.optimizers.Adam(beta1=v),
        lambda v: nn.optimizers.RMSprop(rho=v),
        lambda v: nn.optimizers.SGD(momentum=v),
        lambda v: nn.schedules.StepDecay(v, every=2),
        lambda v: nn.EarlyStopping(min_delta=v),
        lambda v: nn.Dropout(v),
        lambda v: check_clip(v, "clip_norm"),
    ],
)
def test_the_policy_holds_for_every_float_argument(build: Callable[[Any], object]) -> None:
    build(np.float32(0.5))
    for wrong_type in ("0.5", True, [0.5]):
        with pytest.raises(TYPE):
            build(wrong_type)
    with pytest.raises(VALUE):
        build(-1.0)


def test_flags_and_names() -> None:
    with pytest.raises(TYPE, match="nesterov"):
        nn.optimizers.SGD(momentum=0.9, nesterov=1)
    with pytest.raises(TYPE, match="restore_best"):
        nn.EarlyStopping(restore_best="yes")
    with pytest.raises(TYPE, match="monitor"):
        nn.EarlyStopping(monitor=3)
    with pytest.raises(TYPE, match="optimizer must be a name"):
        nn.optimizers.get(3)  # type: ignore[arg-type]
    with pytest.raises(VALUE, match="unknown optimizer 'lbfgs'"):
        nn.optimizers.get("lbfgs")


def test_one_registry_serves_every_lookup() -> None:
    from anynn import losses, metrics, optimizers, schedules

    for module in (losses, metrics, optimizers, schedules):
        assert isinstance(module.REGISTRY, nn.registry.Registry)
    assert isinstance(optimizers.get("ADAM", lr=0.5), optimizers.Adam)
    assert optimizers.get("adam", lr=0.5).lr == 0.5
    assert isinstance(losses.get("binary_crossentropy"), losses.BinaryCrossEntropy)
    assert "cross_entropy" in losses.REGISTRY and "hinge" not in losses.REGISTRY
