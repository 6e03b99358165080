"""FitConfig: every fit argument checked once, with the policy's exception type and name."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import anynn as nn
from anynn.training import FitConfig

TYPE, VALUE = nn.AnynnTypeError, nn.AnynnValueError

# argument -> (a value of the wrong type, a value of the right type but bad, or None)
CASES: dict[str, tuple[Any, Any]] = {
    "epochs": ("2", -1),
    "batch_size": (2.0, 0),
    "lr": ("0.1", -0.1),
    "loss": (5, "hinge"),
    "optimizer": (5, "adagrad"),
    "shuffle": (1, None),
    "validation_data": (5, None),
    "validation_split": ("0.1", 1.0),
    "metrics": (5, ["f1"]),
    "callbacks": ([print], None),
    "early_stopping": ("stop", None),
    "verbose": (1.5, 3),
    "class_weight": ([1.0, 2.0], None),
    "clip_value": ("1", 0.0),
    "clip_norm": ([1.0], -1.0),
    "clip_backprop": ("1", 0),
    "data_on_device": (1, "maybe"),
    "comm": ("world", None),
    "sharded": (1, None),
}


def net() -> nn.Network:
    return nn.Network(2, [(3, True, "tanh"), (1, True, "sigmoid")], seed=0)


def test_the_table_covers_every_fit_argument() -> None:
    import inspect

    fit_args = set(inspect.signature(nn.Network.fit).parameters) - {"self", "X", "y"}
    assert fit_args == set(CASES) | {"sample_weight"}  # sample weights: data, checked below
    assert set(inspect.signature(FitConfig.from_fit_args).parameters) - {"net"} == fit_args


@pytest.mark.parametrize("name", sorted(CASES))
def test_wrong_type_raises_type_error_naming_the_argument(name: str) -> None:
    bad_type, _ = CASES[name]
    with pytest.raises(TYPE, match=name.split("_")[0]) as info:
        FitConfig.from_fit_args(net(), **{name: bad_type})
    assert not isinstance(info.value, ValueError)


@pytest.mark.parametrize("name", sorted(n for n, (_, bad) in CASES.items() if bad is not None))
def test_bad_value_raises_value_error_naming_the_argument(name: str) -> None:
    _, bad_value = CASES[name]
    with pytest.raises(VALUE, match=name.rstrip("s")) as info:
        FitConfig.from_fit_args(net(), **{name: bad_value})
    assert not isinstance(info.value, TypeError)


def test_data_arguments_are_checked_before_any_work() -> None:
    model = net()
    before = model.snapshot()
    X, y = np.zeros((4, 2)), np.zeros(4)
    with pytest.raises(VALUE, match="sample_weight"):
        model.fit(X, y, sample_weight=-np.ones(4), verbose=0)
    with pytest.raises(VALUE, match="class_weight"):
        model.fit(X, y, class_weight={5: 1.0}, verbose=0)
    for saved, now in zip(before, model.snapshot(), strict=True):
        np.testing.assert_array_equal(nn.to_numpy(saved), nn.to_numpy(now))
    assert model.optimizer is None


def test_config_is_frozen_and_resolved() -> None:
    config = FitConfig.from_fit_args(
        net(), epochs=np.int64(3), batch_size=np.int32(2), loss="bce", verbose=0,
        metrics=["acc"], clip_norm=1,
    )
    assert config.epochs == 3 and type(config.epochs) is int
    assert config.head.fused and config.head.loss.name == "bce"
    assert [m.name for m in config.metrics] == ["accuracy"]
    assert config.clip_norm == 1.0 and isinstance(config.optimizer, nn.optimizers.SGD)
    with pytest.raises(AttributeError):
        config.epochs = 4  # type: ignore[misc]


def test_a_reused_optimizer_gets_lr_only_when_training_starts() -> None:
    model = net()
    X, y = np.zeros((4, 2)), np.zeros(4)
    model.fit(X, y, lr=0.5, verbose=0)
    assert model.optimizer is not None and model.optimizer.lr == 0.5
    with pytest.raises(VALUE):
        model.fit(X, y, lr=0.1, batch_size=0, verbose=0)
    assert model.optimizer.lr == 0.5  # the failed fit changed nothing
    model.fit(X, y, lr=0.1, verbose=0)
    assert model.optimizer.lr == 0.1


def test_a_user_loss_without_weights_is_refused_with_sample_weight() -> None:
    class PlainMSE(nn.losses.MeanSquaredError):
        def value(self, a, y, xp):  # type: ignore[no-untyped-def,override]
            return super().value(a, y, xp)

        def gradient(self, a, y, xp):  # type: ignore[no-untyped-def,override]
            return super().gradient(a, y, xp)

    model = net()
    X, y = np.zeros((4, 2)), np.zeros(4)
    model.fit(X, y, loss=PlainMSE(), verbose=0)  # without weights it trains
    with pytest.raises(TYPE, match="sample_weight"):
        model.fit(X, y, loss=PlainMSE(), sample_weight=np.ones(4), verbose=0)
