"""Data-parallel scenarios, run under ``mpiexec -n P`` by tests/test_distributed.py.

Every scenario is a function ``(comm, folder) -> dict``: with an mpi4py communicator it
trains data-parallel, with ``comm=None`` it is the single-process reference the test
compares with. ``python mpi_scenarios.py FOLDER NAME...`` runs the named scenarios in
one launch and has rank 0 write every rank's results to ``FOLDER/results.pkl``;
``python mpi_scenarios.py FOLDER --crash`` lets an exception on the last rank escape;
``--interrupt`` trains until Ctrl-C.
"""

from __future__ import annotations

import pickle
import sys
from pathlib import Path
from typing import Any

import numpy as np

import anynn as nn
from anynn.losses import MeanSquaredError

N, N_VAL = 97, 20


def data(kind: str, n: int = N, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Inputs (n, 4) and targets for ``kind``: "reg" (2 outputs), "bin", "cls" (3 labels)."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 4))
    if kind == "reg":
        return X, np.stack([np.sin(X[:, 0]) + X[:, 1], X[:, 2] * X[:, 3]], axis=1)
    if kind == "bin":
        return X, (X[:, 0] + 0.5 * X[:, 1] > 0).astype(np.float64)
    return X, (np.digitize(X[:, 0] + X[:, 2], [-0.5, 0.5])).astype(np.int64)


def network(outputs: int, last: str, dropout: float = 0.0, backend: str = "numpy") -> nn.Network:
    layers: list[Any] = [(8, True, "tanh")]
    if dropout:
        layers.append(nn.Dropout(dropout))
    layers += [(6, True, "relu"), (outputs, True, last)]
    return nn.Network(4, layers, dtype="float64", seed=7, backend=backend)


def weights(net: nn.Network) -> list[np.ndarray]:
    return [np.array(nn.to_numpy(p.value)) for p in net.parameters()]


def outcome(net: nn.Network) -> dict[str, Any]:
    return {"weights": weights(net), "history": net.history.to_dict()["history"]}


def shard(comm: Any, *arrays: np.ndarray) -> list[np.ndarray]:
    """This rank's unequal share of each array (all of it without comm)."""
    if comm is None:
        return list(arrays)
    size, rank = comm.Get_size(), comm.Get_rank()
    shares = np.arange(1, size + 1, dtype=float) ** 1.5  # unequal on purpose
    n = arrays[0].shape[0]
    cuts = np.concatenate([[0], np.round(np.cumsum(shares) / shares.sum() * n)]).astype(int)
    return [a[cuts[rank] : cuts[rank + 1]] for a in arrays]


def sgd_shuffle(comm: Any, folder: Path) -> dict[str, Any]:
    X, y = data("reg")
    Xv, yv = data("reg", N_VAL, seed=1)
    net = network(2, "identity")
    net.fit(X, y, epochs=3, batch_size=16, lr=0.05, optimizer="sgd", metrics=["mae"],
            validation_data=(Xv, yv), comm=comm, verbose=0)
    return outcome(net)


def momentum(comm: Any, folder: Path) -> dict[str, Any]:
    X, y = data("reg")
    net = network(2, "identity")
    net.fit(X, y, epochs=3, batch_size=10, shuffle=False, clip_norm=1.0, verbose=0,
            optimizer=nn.optimizers.SGD(0.05, momentum=0.9, nesterov=True), comm=comm)
    return outcome(net)


def memmap(comm: Any, folder: Path) -> dict[str, Any]:
    """Every rank maps the same file and reads only its rows of each batch."""
    X, y = data("reg")
    if comm is not None:
        path = folder / "X.f64"
        if comm.Get_rank() == 0:
            X.tofile(path)
        comm.Barrier()
        X = np.memmap(path, dtype=np.float64, mode="r", shape=X.shape)
    net = network(2, "identity")
    net.fit(X, y, epochs=2, batch_size=16, optimizer="rmsprop", lr=0.01, comm=comm, verbose=0)
    return outcome(net)


def diverge(comm: Any, folder: Path) -> dict[str, Any]:
    """A far too large learning rate: TrainingDiverged, last good weights, everywhere."""
    X, y = data("cls")
    net = network(3, "softmax")
    try:  # the softmax of ~1e150 logits meets inf - inf before the loss shows it
        with np.errstate(invalid="ignore"):
            net.fit(X * 1e150, y, epochs=5, batch_size=16, lr=1e10, loss="cce", comm=comm,
                    verbose=0)
    except nn.TrainingDiverged as exc:
        return {"weights": weights(net), "history": net.history.to_dict()["history"],
                "diverged": (exc.epoch, exc.step)}
    return {**outcome(net), "diverged": None}


def adam_weights(comm: Any, folder: Path) -> dict[str, Any]:
    X, y = data("bin")
    Xv, yv = data("bin", N_VAL, seed=1)
    sw = np.linspace(0.2, 2.0, N)
    net = network(1, "sigmoid")
    net.fit(X, y, epochs=3, batch_size=16, loss="bce", optimizer="adam", lr=0.01,
            sample_weight=sw, class_weight={0: 1.0, 1: 2.5}, metrics=["accuracy"],
            validation_data=(Xv, yv, np.linspace(1.0, 2.0, N_VAL)), comm=comm, verbose=0)
    return outcome(net)


def dropout(comm: Any, folder: Path) -> dict[str, Any]:
    X, y = data("cls")
    net = network(3, "softmax", dropout=0.3)
    net.fit(X, y, epochs=3, batch_size=16, loss="cce", optimizer="adam", lr=0.01,
            metrics=["accuracy"], validation_split=0.2, comm=comm, verbose=0)
    return outcome(net)


def sharded(comm: Any, folder: Path) -> dict[str, Any]:
    X, y = data("cls")
    Xv, yv = data("cls", N_VAL, seed=1)
    sw = np.linspace(0.5, 1.5, N)
    X, y, sw = shard(comm, X, y, sw)
    Xv, yv = shard(comm, Xv, yv)
    net = network(3, "softmax", dropout=0.2)
    net.fit(X, y, epochs=3, batch_size=16, loss="cce", optimizer="adamw", lr=0.01,
            sample_weight=sw, validation_data=(Xv, yv), metrics=["accuracy"], comm=comm,
            sharded=comm is not None, verbose=0)
    return outcome(net)


def early_stop(comm: Any, folder: Path) -> dict[str, Any]:
    X, y = data("bin")
    Xv, yv = data("bin", N_VAL, seed=1)
    net = network(1, "sigmoid")
    stopper = nn.EarlyStopping(monitor="val_loss", patience=1, min_delta=0.01)
    net.fit(X, y, epochs=50, batch_size=16, loss="bce", optimizer="adam", lr=0.05,
            validation_data=(Xv, yv), early_stopping=stopper, comm=comm, verbose=0)
    epochs = len(net.history.epoch)
    return {**outcome(net), "stopped_epoch": stopper.stopped_epoch, "epochs": epochs}


def checkpoint(comm: Any, folder: Path) -> dict[str, Any]:
    X, y = data("cls")
    where = folder / ("mpi" if comm is not None else "one")
    saver = nn.ModelCheckpoint(where / "ckpt-{epoch}.anynn", every=2, monitor="loss")
    full = network(3, "softmax", dropout=0.3)
    options = {"batch_size": 16, "loss": "cce", "comm": comm, "verbose": 0}
    full.fit(X, y, epochs=4, optimizer="adam", lr=0.01, callbacks=[saver], **options)
    if comm is not None:
        comm.Barrier()  # rank 0 wrote the checkpoint every rank loads now
    resumed = nn.load(where / "ckpt-2.anynn", dtype="float64")
    resumed.fit(X, y, epochs=2, **options)
    return {**outcome(full), "resumed": weights(resumed), "saved": saver.saved}


def cupy_fit(comm: Any, folder: Path) -> dict[str, Any]:
    """On CuPy (two ranks on one GPU: staged through the host; one per GPU: NCCL)."""
    if comm is not None and comm.Get_size() > 1:
        from anynn.distributed import select_device

        select_device(comm)
    X, y = data("cls")
    net = network(3, "softmax", dropout=0.3, backend="cupy")
    net.fit(X, y, epochs=3, batch_size=16, loss="cce", optimizer="adam", lr=0.01,
            metrics=["accuracy"], validation_split=0.2, comm=comm, verbose=0)
    return outcome(net)


class _LossFailingOnLastRank(MeanSquaredError):  # noqa: N818 - a loss
    """The mean squared error, raising on the last rank at its third call."""

    def __init__(self, rank: int, last: int) -> None:
        self.calls, self.fails = 0, rank == last

    def value(self, a: Any, y: Any, xp: Any, weights: Any = None) -> Any:
        self.calls += 1
        if self.fails and self.calls == 3:
            raise RuntimeError("injected failure in the loss")
        return super().value(a, y, xp, weights)


class _FailingCallback(nn.Callback):
    def __init__(self, fails: bool) -> None:
        self.fails = fails

    def on_epoch_end(self, epoch: int, logs: dict[str, Any]) -> None:
        if self.fails and epoch == 1:
            raise RuntimeError("injected failure in a callback")


def _failure(comm: Any, run: Any) -> dict[str, Any]:
    try:
        run()
    except Exception as exc:  # noqa: BLE001 - the scenario records what each rank saw
        return {"error": type(exc).__name__, "message": str(exc)}
    return {"error": None, "message": ""}


def fail_callback(comm: Any, folder: Path) -> dict[str, Any]:
    X, y = data("reg")
    last = comm.Get_size() - 1
    cb = _FailingCallback(comm.Get_rank() == last)
    net = network(2, "identity")
    return _failure(comm, lambda: net.fit(X, y, epochs=4, callbacks=[cb], comm=comm, verbose=0))


def fail_step(comm: Any, folder: Path) -> dict[str, Any]:
    X, y = data("reg")
    loss = _LossFailingOnLastRank(comm.Get_rank(), comm.Get_size() - 1)
    net = network(2, "identity")
    return _failure(comm, lambda: net.fit(X, y, epochs=2, loss=loss, comm=comm, verbose=0))


def fail_data(comm: Any, folder: Path) -> dict[str, Any]:
    X, y = shard(comm, *data("reg"))
    if comm.Get_rank() == comm.Get_size() - 1:
        X = X.copy()
        X[0, 0] = np.nan
    net = network(2, "identity")
    return _failure(comm, lambda: net.fit(X, y, comm=comm, sharded=True, verbose=0))


def fail_shards(comm: Any, folder: Path) -> dict[str, Any]:
    """Equal shards, but sharded=True forgotten: every process refuses."""
    X, y = data("reg", 30 * comm.Get_size())
    X, y = X[30 * comm.Get_rank() :][:30], y[30 * comm.Get_rank() :][:30]
    net = network(2, "identity")
    return _failure(comm, lambda: net.fit(X, y, comm=comm, verbose=0))


def fail_mismatch(comm: Any, folder: Path) -> dict[str, Any]:
    X, y = data("reg")
    batch = 16 if comm.Get_rank() == 0 else 8
    net = network(2, "identity")
    return _failure(comm, lambda: net.fit(X, y, batch_size=batch, comm=comm, verbose=0))


SCENARIOS = {f.__name__: f for f in (
    sgd_shuffle, momentum, memmap, diverge, adam_weights, dropout, sharded, early_stop, checkpoint,
    fail_callback, fail_step, fail_data, fail_mismatch, fail_shards,
)}


def interrupted(comm: Any, folder: Path) -> None:
    """Train until SIGINT (Ctrl-C in a terminal reaches every rank); write the process ids
    and, per rank, where it stopped, to ``folder``."""
    import warnings

    X, y = data("reg", 4000)
    net = network(2, "identity")
    import os

    (folder / f"pid{comm.Get_rank()}").write_text(str(os.getpid()))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        net.fit(X, y, epochs=10_000, batch_size=16, comm=comm, verbose=0)
    flat = np.concatenate([w.ravel() for w in weights(net)])
    spread = max(float(np.abs(w - flat).max()) for w in comm.allgather(flat))
    warned = "interrupted" in " ".join(str(c.message) for c in caught)
    (folder / f"stopped{comm.Get_rank()}").write_text(
        f"{net.optimizer.iterations} {spread} {warned}"
    )


def main(argv: list[str]) -> None:
    from mpi4py import MPI

    comm = MPI.COMM_WORLD
    folder, names = Path(argv[0]), argv[1:]
    if names == ["--interrupt"]:
        interrupted(comm, folder)
        return
    if names == ["--crash"]:
        cb = _FailingCallback(comm.Get_rank() == comm.Get_size() - 1)
        network(2, "identity").fit(*data("reg"), epochs=3, callbacks=[cb], comm=comm, verbose=0)
        return
    chosen = {**SCENARIOS, "cupy_fit": cupy_fit}
    results = {name: chosen[name](comm, folder) for name in names}
    gathered = comm.gather(results, root=0)
    if comm.Get_rank() == 0:
        (folder / "results.pkl").write_bytes(pickle.dumps(gathered))


if __name__ == "__main__":
    main(sys.argv[1:])
