"""ModelCheckpoint without MPI: Keras's semantics, atomic files, exact resumption."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import anynn as nn


def problem() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 3))
    y = (X[:, 0] - X[:, 1] > 0).astype(float)
    return X[:48], y[:48], X[48:], y[48:]


def network() -> nn.Network:
    return nn.Network(3, [(6, True, "tanh"), nn.Dropout(0.2), (1, True, "sigmoid")],
                      dtype="float64", seed=1)


def test_every_n_epochs_with_the_epoch_in_the_name(tmp_path: Path) -> None:
    X, y, _Xv, _yv = problem()
    saver = nn.ModelCheckpoint(tmp_path / "sub" / "net-{epoch:02d}.anynn", every=2)
    network().fit(X, y, epochs=5, callbacks=[saver], verbose=0)
    assert [Path(p).name for p in saver.saved] == ["net-02.anynn", "net-04.anynn"]
    assert sorted(p.name for p in (tmp_path / "sub").iterdir()) == ["net-02.anynn", "net-04.anynn"]


def test_save_best_only_follows_the_monitored_value(tmp_path: Path) -> None:
    X, y, Xv, yv = problem()
    saver = nn.ModelCheckpoint(tmp_path / "best-{epoch}-{val_loss:.3f}.anynn",
                               monitor="val_loss", save_best_only=True)
    net = network()
    net.fit(X, y, epochs=6, lr=0.5, loss="bce", validation_data=(Xv, yv), callbacks=[saver],
            verbose=0)
    val = net.history["val_loss"]
    improving = [i for i in range(len(val)) if val[i] < min(val[:i], default=np.inf)]
    assert [f"best-{i + 1}-{val[i]:.3f}.anynn" for i in improving] == [
        Path(p).name for p in saver.saved
    ]
    assert saver.best == min(val)
    best = nn.load(saver.saved[-1], dtype="float64")
    assert best.evaluate(Xv, yv, loss="bce") == pytest.approx(min(val), abs=1e-12)


def test_resuming_from_a_checkpoint_continues_exactly(tmp_path: Path) -> None:
    X, y, _Xv, _yv = problem()
    full = network()
    options = {"batch_size": 8, "loss": "bce", "verbose": 0}
    saver = nn.ModelCheckpoint(tmp_path / "at-{epoch}.anynn", every=3)
    full.fit(X, y, epochs=6, optimizer="adam", lr=0.02, callbacks=[saver], **options)
    resumed = nn.load(tmp_path / "at-3.anynn", dtype="float64")
    assert resumed.history.epoch == [0, 1, 2]
    resumed.fit(X, y, epochs=3, **options)
    for a, b in zip(resumed.parameters(), full.parameters(), strict=True):
        np.testing.assert_array_equal(nn.to_numpy(a.value), nn.to_numpy(b.value))
    assert resumed.history.history["loss"] == full.history.history["loss"]


def test_bad_arguments_are_refused_before_training(tmp_path: Path) -> None:
    X, y, _Xv, _yv = problem()
    with pytest.raises(nn.AnynnTypeError, match="path must be"):
        nn.ModelCheckpoint(3)  # type: ignore[arg-type]
    with pytest.raises(nn.AnynnValueError, match="every"):
        nn.ModelCheckpoint(tmp_path / "x.anynn", every=0)
    with pytest.raises(nn.AnynnValueError, match="records only"):
        network().fit(X, y, callbacks=[nn.ModelCheckpoint(tmp_path / "x", save_best_only=True)])
    with pytest.raises(nn.AnynnValueError, match="neither {epoch}"):
        network().fit(X, y, callbacks=[nn.ModelCheckpoint(tmp_path / "{step}.anynn")])
    assert not list(tmp_path.iterdir())
