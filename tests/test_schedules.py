"""Learning-rate schedules: values, configs, validation."""

from __future__ import annotations

import math

import pytest

import anynn as nn


def test_schedules_values() -> None:
    s = nn.schedules
    assert s.StepDecay(1.0, every=10, factor=0.5)(25) == 0.25
    assert math.isclose(s.ExponentialDecay(1.0, 0.5, steps=10)(5), 0.5**0.5)
    cos = s.CosineDecay(1.0, total_steps=110, warmup=10, min_lr=0.1)
    assert [cos(0), cos(9)] == [0.1, 1.0]
    assert math.isclose(cos(10), 1.0) and math.isclose(cos(60), 0.55)
    assert math.isclose(cos(110), 0.1) and math.isclose(cos(500), 0.1)
    for sched in (s.StepDecay(1.0, 3), cos, s.ExponentialDecay(0.1, 0.9)):
        assert s.from_config(sched.config()).config() == sched.config()
    with pytest.raises(nn.AnynnValueError):
        s.CosineDecay(1.0, total_steps=5, warmup=5)
    with pytest.raises(nn.AnynnValueError):
        s.from_config({"name": "bogus"})
