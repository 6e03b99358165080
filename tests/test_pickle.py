"""Networks pickle and deep-copy (through the .anynn format), training state included."""

from __future__ import annotations

import copy
import pickle

import numpy as np

import anynn
from anynn import to_numpy

X = np.random.default_rng(0).normal(size=(24, 3))
Y = np.sin(X[:, :1]) + X[:, 1:2]


def trained(backend: str, epochs: int = 2) -> anynn.Network:
    net = anynn.Network(
        3, [(6, True, "tanh"), anynn.Dropout(0.2), (1, True, "identity")],
        backend=backend, dtype="float64", seed=1,
    )
    net.fit(X, Y, epochs=epochs, optimizer="adam", lr=0.01, batch_size=8, verbose=0)
    return net


def test_pickle_round_trip_keeps_everything(backend: str) -> None:
    net = trained(backend)
    again = pickle.loads(pickle.dumps(net))
    assert again.backend == net.backend and again.dropout == net.dropout
    np.testing.assert_array_equal(to_numpy(again.predict(X)), to_numpy(net.predict(X)))
    assert again.history.history == net.history.history


def test_training_resumes_exactly_after_unpickling(backend: str) -> None:
    resumed = pickle.loads(pickle.dumps(trained(backend, epochs=2)))
    resumed.fit(X, Y, epochs=2, batch_size=8, verbose=0)
    straight = trained(backend, epochs=4)
    np.testing.assert_array_equal(to_numpy(resumed.predict(X)), to_numpy(straight.predict(X)))
    assert resumed.history.history["loss"] == straight.history.history["loss"]


def test_deepcopy_is_independent(backend: str) -> None:
    net = trained(backend)
    clone = copy.deepcopy(net)
    before = to_numpy(net.predict(X)).copy()
    clone.fit(X, Y, epochs=1, batch_size=8, verbose=0)
    np.testing.assert_array_equal(to_numpy(net.predict(X)), before)
