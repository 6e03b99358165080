"""Habits of PyTorch users: its spellings of optimizer arguments; schedules named in errors."""

from __future__ import annotations

import numpy as np
import pytest

import anynn as nn
from anynn import optimizers
from anynn.backend import Backend

X = np.random.default_rng(0).normal(size=(16, 3))
Y = X[:, :1] - X[:, 1:2]


def test_betas_is_pytorchs_spelling_of_beta1_beta2() -> None:
    for cls in (optimizers.Adam, optimizers.AdamW):
        spelled = cls(betas=(0.8, 0.99))
        assert (spelled.beta1, spelled.beta2) == (0.8, 0.99)
        assert spelled.config() == cls(beta1=0.8, beta2=0.99).config()
        assert "betas" not in spelled.config()
        with pytest.raises(nn.AnynnTypeError, match="give betas=.*or beta1=/beta2=, not both"):
            cls(beta1=0.5, betas=(0.8, 0.99))
        with pytest.raises(nn.AnynnTypeError, match="betas must be a pair"):
            cls(betas=0.9)  # type: ignore[arg-type]
        with pytest.raises(nn.AnynnValueError, match="beta2"):
            cls(betas=(0.9, 1.5))


def test_alpha_is_pytorchs_spelling_of_rho() -> None:
    assert optimizers.RMSprop(alpha=0.9).rho == 0.9
    with pytest.raises(nn.AnynnTypeError, match="alpha=.*or rho=, not both"):
        optimizers.RMSprop(rho=0.8, alpha=0.9)


def test_a_pytorch_spelled_optimizer_trains_and_round_trips() -> None:
    a = nn.Network(3, [(4, True, "tanh"), 1], seed=0)
    b = nn.Network(3, [(4, True, "tanh"), 1], seed=0)
    a.fit(X, Y, epochs=3, optimizer=optimizers.Adam(1e-2, betas=(0.8, 0.99)), verbose=0)
    b.fit(X, Y, epochs=3, optimizer=optimizers.Adam(1e-2, beta1=0.8, beta2=0.99), verbose=0)
    np.testing.assert_array_equal(nn.to_numpy(a.predict(X)), nn.to_numpy(b.predict(X)))
    assert a.optimizer is not None
    restored = optimizers.from_state(a.optimizer.state_dict(), Backend("numpy"))
    assert (restored.beta1, restored.beta2) == (0.8, 0.99)  # type: ignore[attr-defined]


@pytest.mark.parametrize("schedule", [lambda: 0.1, lambda step, total: 0.1])
def test_a_schedule_of_the_wrong_arity_is_refused_when_given(schedule: object) -> None:
    with pytest.raises(nn.AnynnTypeError, match=r"schedule\(step\).*<lambda>"):
        optimizers.SGD(lr=schedule)  # type: ignore[arg-type]
    net = nn.Network(3, [1], seed=0)
    with pytest.raises(nn.AnynnTypeError, match=r"schedule\(step\)"):
        net.fit(X, Y, epochs=1, optimizer="sgd", lr=schedule, verbose=0)
    assert net.optimizer is None or net.optimizer.iterations == 0


def test_a_schedule_that_raises_names_itself_and_the_step() -> None:
    def warmup(step: int) -> float:
        return 0.1 / (3 - step)  # ZeroDivisionError at step 3

    net = nn.Network(3, [1], seed=0)
    before = nn.to_numpy(net.layers[0].weights).copy()
    with pytest.raises(nn.AnynnValueError,
                       match=r"schedule raised ZeroDivisionError at step 3 \(.*warmup\)") as caught:
        net.fit(X, Y, epochs=1, batch_size=4, optimizer=optimizers.SGD(lr=warmup), verbose=0)
    assert isinstance(caught.value.__cause__, ZeroDivisionError)
    assert not np.array_equal(before, nn.to_numpy(net.layers[0].weights))  # 3 steps applied


def test_verbose_true_and_false_mean_one_and_zero(capsys: pytest.CaptureFixture[str]) -> None:
    from anynn.training.progress import resolve_verbose

    assert resolve_verbose(True) == 1 and resolve_verbose(False) == 0
    net = nn.Network(3, [1], seed=0)
    net.fit(X, Y, epochs=2, verbose=False)
    assert capsys.readouterr().out == ""
    net.fit(X, Y, epochs=2, verbose=True)
    captured = capsys.readouterr()
    assert "epoch" in (captured.out + captured.err).lower()
