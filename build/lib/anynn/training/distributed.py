"""Data-parallel ``fit`` over MPI: the run of one process, on any number of processes.

``Network.fit(X, y, ..., comm=MPI.COMM_WORLD)`` under ``mpiexec -n P`` lands in
:func:`fit`. The run is the single-process one with the same (global) ``batch_size``:

1. every process validates its arguments and data; one agreement (an ``allgather``)
   checks that no process failed and that all run the same fit (architecture, dtype,
   epochs, batch size, optimizer state, sample counts), else every process raises;
2. rank 0's weights and random generator are broadcast, so every process shuffles and
   draws dropout masks exactly as one process would;
3. each step, every process computes on its rows of the global batch (see
   :mod:`.sharding`) the *sum* of its samples' gradients divided by the global batch
   size: the loss's own ``1 / count`` normaliser times per-sample weights
   ``n_local / n_batch`` (times any ``sample_weight``/``class_weight``), which is how
   every anynn loss normalises. One allreduce of one flat buffer (every gradient, the
   loss, an error flag and the Ctrl-C flag) then gives each process the gradients and
   loss of the global batch, and the same optimizer step runs everywhere;
4. above the step, the epoch's metric and validation sums are summed over processes,
   callbacks run in sections every process must finish (an error on one ends the fit on
   all, as :class:`~anynn.errors.DistributedError` elsewhere), ``stop_training`` is
   agreed, and progress is printed by rank 0 only.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, TypeVar

import numpy as np

from ..backend import to_numpy
from ..backend.collectives import HostCommunicator, check_comm, communicator
from ..errors import AnynnValueError, DistributedError
from ..history import History
from ..state import rng_state
from .config import FitConfig
from .data import Dataset, fit_datasets
from .evaluation import dataset_sums
from .loop import Trainer, exclusive, remember
from .sharding import LocalSteps, Rows, count, validation_share

if TYPE_CHECKING:
    from ..network import Network

Array = Any
T = TypeVar("T")
_SAME_EVERYWHERE = (
    "parameters", "dtype", "epochs", "batch_size", "shuffle", "sharded", "validation",
    "optimizer", "epochs_done", "metrics",
)
"""What every process of one data-parallel fit must agree on."""


def _describe(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}"


def agree(comm: HostCommunicator, failure: BaseException | None, value: Any = None) -> list[Any]:
    """Every process's ``value`` (rank order) when none failed; else raise on every one.

    The failed process re-raises ``failure``; the others raise
    :class:`~anynn.errors.DistributedError` naming the first failed rank and its error.
    """
    reports = comm.allgather((None if failure is None else _describe(failure), value))
    failed = [(rank, message) for rank, (message, _) in enumerate(reports) if message]
    if failed:
        if failure is not None:
            raise failure
        rank, message = failed[0]
        raise DistributedError(
            f"data-parallel fit stopped on every process: rank {rank} failed with {message}",
            rank=rank,
        )
    return [value for _, value in reports]


def agreed(comm: HostCommunicator, work: Callable[[], T]) -> T:
    """``work()``, after checking that it succeeded on every process (see :func:`agree`)."""
    try:
        result = work()
    except Exception as exc:
        agree(comm, exc)
        raise
    agree(comm, None)
    return result


@dataclass(frozen=True)
class LocalBatch:
    """This process's part of one global batch."""

    data: tuple[Array, Array, Array | None] | None
    """``(x, y, w)`` on the device, or None when it holds no sample of the batch."""
    positions: Rows
    """Which rows of the global batch (and of its dropout masks) these are."""
    size: int
    """Samples in the global batch."""
    failure: Exception | None = None
    """An error met while gathering the rows (reported through the step's allreduce)."""


class DistributedTrainer(Trainer):
    """A :class:`Trainer` whose steps and epochs are collective (see the module docstring).

    Parameters
    ----------
    net, config, train, validation
        As :class:`Trainer`; ``train`` and ``validation`` hold this process's data.
    comm : HostCommunicator
        The collectives (:func:`anynn.backend.collectives.communicator`).
    steps : LocalSteps
        The division of each global batch among the processes.
    n_validation : int
        Validation samples over all processes.
    """

    def __init__(
        self, net: Network, config: FitConfig, train: Dataset, validation: Dataset | None,
        comm: HostCommunicator, steps: LocalSteps, n_validation: int,
    ) -> None:
        self.comm, self.steps, self.n_validation = comm, steps, n_validation
        super().__init__(net, config if comm.rank == 0 else replace(config, verbose=0),
                         train, validation)
        self.rank = comm.rank
        if validation is not None and not steps.sharded:
            validation = validation.part(*validation_share(n_validation, comm.rank, comm.size))
        self.local_validation = validation
        self.params = net.parameters()
        self.layout: list[tuple[int, int, tuple[int, ...]]] = []
        for p in self.params:
            start = self.layout[-1][1] if self.layout else 0
            shape = tuple(p.value.shape)
            self.layout.append((start, start + int(np.prod(shape)), shape))
        self.n_values = self.layout[-1][1]
        self._weights_cache: dict[tuple[int, int], Array] = {}
        self._interrupt_agreed = False

    @property
    def n_samples(self) -> int:
        return self.steps.n_samples

    def _batches(self, order: np.ndarray | None) -> Iterator[LocalBatch]:
        for rows, positions, size in self.steps.steps(order, self.config.batch_size):
            if not count(rows):
                yield LocalBatch(None, positions, size)
                continue
            try:
                data, failure = self.train.take(rows), None
            except Exception as exc:  # noqa: BLE001 - reported to every process by the step
                data, failure = None, exc
            yield LocalBatch(data, positions, size, failure)

    def _gradients(self, batch: LocalBatch) -> Array:
        """This process's share of the batch's gradients, allreduced: the batch's."""
        failure, grads, value = batch.failure, None, None
        try:  # masks first, always: every process advances the generator alike
            masks = (
                self.mask_sampler.draw(batch.size, batch.positions) if self.mask_sampler else None
            )
            if failure is None and batch.data is not None:
                xb, yb, wb = batch.data
                value = self.net.loss_and_gradients(
                    xb, yb, self.head, weights=self._weights(wb, int(xb.shape[0]), batch.size),
                    masks=masks, clip_backprop=self.config.clip_backprop,
                )
                self._add_metrics(yb)
                grads = [p.grad for p in self.params]
        except Exception as exc:  # noqa: BLE001 - reported to every process below
            failure, grads, value = exc, None, None
        reduced = self.comm.allreduce_sum(self._pack(grads, value, failure))
        failed, interrupted = (to_numpy(reduced[self.n_values + 1 :]) > 0).tolist()
        if failed:
            agree(self.comm, failure)
        self._interrupt_agreed = bool(interrupted)
        xp = self.net.backend.xp
        for p, (start, stop, shape) in zip(self.params, self.layout, strict=True):
            p.grad = xp.reshape(reduced[start:stop], shape)
        return reduced[self.n_values]

    def _weights(self, wb: Array | None, n_local: int, size: int) -> Array | None:
        """Per-sample weights making the loss's ``1/n_local`` a ``1/size`` (see module)."""
        if wb is not None:
            return wb * (n_local / size)
        if n_local == size:
            return None
        key = (n_local, size)
        if key not in self._weights_cache:
            scale = np.full((n_local, 1), n_local / size)
            self._weights_cache[key] = self.net.backend.asarray(scale)
        return self._weights_cache[key]

    def _pack(
        self, grads: list[Array] | None, value: Array | None, failure: Exception | None
    ) -> Array:
        """One flat buffer: every gradient, the loss, the error flag, the Ctrl-C flag."""
        backend = self.net.backend
        xp = backend.xp
        flags = backend.asarray(np.array([failure is not None, self.interrupt.requested], float))
        if grads is None or value is None:
            return xp.concat([xp.zeros((self.n_values + 1,), dtype=backend.dtype), flags])
        parts = [xp.reshape(g, (-1,)) for g in grads] + [xp.reshape(value, (1,)), flags]
        return xp.concat(parts)

    def _stop_requested(self) -> bool:
        """Whether any process had seen Ctrl-C when the last step's allreduce started
        (a Ctrl-C arriving later rides on the next step's allreduce)."""
        return self._interrupt_agreed

    @contextmanager
    def _collective(self) -> Iterator[None]:
        try:
            yield
        except Exception as exc:
            agree(self.comm, exc)
            raise
        stops = agree(self.comm, None, bool(self.net.stop_training))
        self.net.stop_training = any(stops)

    def _epoch_sums(self) -> tuple[list[float], list[float] | None]:
        failure, local = None, None
        try:
            train = [float(total) for total in self._metric_sums]
            val = None
            if self.local_validation is not None:
                val = (
                    dataset_sums(self.net, self.local_validation, self.head, self.metrics)
                    if self.local_validation.n_samples else [0.0] * (1 + len(self.metrics))
                )
            local = (train, val)
        except Exception as exc:  # noqa: BLE001 - reported to every process by agree
            failure = exc
        reports = agree(self.comm, failure, local)
        totals = [sum(column) for column in zip(*(t for t, _ in reports), strict=True)]
        if self.validation is None:
            return totals, None
        return totals, [sum(column) for column in zip(*(v for _, v in reports), strict=True)]

    def _validation_samples(self) -> int:
        return self.n_validation


def _digest(state: dict[str, Any]) -> str:
    """A short fingerprint of an optimizer's state dict (arrays and counters)."""
    h = hashlib.sha256(repr(state.get("iterations")).encode())
    for key in sorted(state.get("arrays", {})):
        h.update(key.encode())
        h.update(np.ascontiguousarray(state["arrays"][key]).tobytes())
    return h.hexdigest()[:16]


def _fingerprint(
    net: Network, config: FitConfig, train: Dataset, validation: Dataset | None
) -> dict[str, Any]:
    """What this process's fit is: compared across processes by :func:`_check_same`."""
    return {
        "parameters": [tuple(p.value.shape) for p in net.parameters()],
        "dtype": net.dtype, "epochs": config.epochs, "batch_size": config.batch_size,
        "shuffle": config.shuffle, "sharded": config.sharded,
        "validation": validation is not None,
        "optimizer": f"{config.optimizer.name} {_digest(config.optimizer.state_dict())}",
        "epochs_done": len(net.history.epoch), "metrics": [m.name for m in config.metrics],
        "n_train": train.n_samples,
        "n_validation": 0 if validation is None else validation.n_samples,
        "data": _sample_digest(train),
    }


def _sample_digest(data: Dataset) -> str:
    """A fingerprint of the first, middle and last samples (catches shards passed without
    ``sharded=True``)."""
    n = data.n_samples
    h = hashlib.sha256()
    for part in data.take(np.array(sorted({0, n // 2, n - 1}))):
        if part is not None:
            h.update(np.ascontiguousarray(to_numpy(part)).tobytes())
    return h.hexdigest()[:16]


def _check_same(reports: list[dict[str, Any]], sharded: bool) -> None:
    """Raise (identically on every process) unless all processes run the same fit."""
    keys = _SAME_EVERYWHERE if sharded else (*_SAME_EVERYWHERE, "n_train", "n_validation", "data")
    for key in keys:
        for rank, report in enumerate(reports):
            if report[key] != reports[0][key]:
                hint = "" if sharded or key not in ("n_train", "n_validation", "data") else (
                    "; without sharded=True every process passes the same data"
                )
                raise AnynnValueError(
                    f"the processes of a data-parallel fit disagree on {key}: rank 0 has "
                    f"{reports[0][key]!r}, rank {rank} has {report[key]!r}{hint}"
                )


def synchronise(net: Network, comm: HostCommunicator) -> None:
    """Give every process rank 0's weights and random generator state."""
    xp, params = net.backend.xp, net.parameters()
    flat = comm.broadcast(xp.concat([xp.reshape(p.value, (-1,)) for p in params]))
    arrays, start = [], 0
    for p in params:
        shape = tuple(p.value.shape)
        stop = start + int(np.prod(shape))
        arrays.append(xp.reshape(flat[start:stop], shape))
        start = stop
    net.restore(arrays)
    net.rng.bit_generator.state = comm.broadcast_object(rng_state(net.rng))


def fit(net: Network, X: Any, y: Any, **kwargs: Any) -> History:
    """Train ``net`` data-parallel on ``kwargs["comm"]``; the arguments of :meth:`Network.fit`.

    Raises
    ------
    AnynnTypeError
        If ``comm`` is not an mpi4py communicator.
    DistributedError
        On every process but the failed one, when one process fails.
    """
    comm = communicator(check_comm(kwargs.get("comm")), net.backend)
    with ExitStack() as held:
        prepared: tuple[FitConfig, Dataset, Dataset | None] | None = None
        failure: Exception | None = None
        try:
            held.enter_context(exclusive(net))
            config = FitConfig.from_fit_args(net, **kwargs)
            if not config.head.takes_weights:
                raise AnynnValueError(
                    f"comm= needs a loss whose methods accept weights= (anynn scales each "
                    f"process's share of a batch through them); {config.head.loss!r} does not"
                )
            prepared = (config, *fit_datasets(net, X, y, config))
        except Exception as exc:  # noqa: BLE001 - reported to every process by agree
            failure = exc
        reports = agree(comm, failure, None if prepared is None else _fingerprint(net, *prepared))
        assert prepared is not None  # agree raised otherwise
        config, train, validation = prepared
        _check_same(reports, config.sharded)
        if config.epochs == 0:
            return net.history
        remember(net, config)
        synchronise(net, comm)
        steps = LocalSteps(comm.rank, comm.size, [r["n_train"] for r in reports], config.sharded)
        n_validation = sum(r["n_validation"] for r in reports) if config.sharded else (
            reports[0]["n_validation"]
        )
        trainer = agreed(comm, lambda: DistributedTrainer(
            net, config, train, validation, comm, steps, n_validation
        ))
        return trainer.run()
