"""Collectives for data-parallel training: host MPI (mpi4py) and NCCL (CuPy).

:func:`communicator` wraps an ``mpi4py`` communicator for one :class:`Backend`:

- :class:`HostCommunicator` reduces and broadcasts through host memory over MPI. It is
  the path of every host namespace, and of CuPy where NCCL is missing or two ranks share
  a GPU: device buffers are copied to the host first, because an MPI library from a wheel
  is not CUDA-aware and must never receive a device pointer.
- :class:`NcclCommunicator` reduces device buffers in place with ``cupy.cuda.nccl``, MPI
  serving only to hand out NCCL's unique id.

Both keep the MPI communicator for the small host collectives above the step (error
agreement, epoch sums). ``mpi4py`` is imported only here, and only when a communicator is
wrapped: training without ``comm=`` never imports it.
"""

from __future__ import annotations

import importlib
import socket
from typing import Any

import numpy as np

from ..errors import AnynnTypeError, BackendUnavailableError
from .base import Array, Backend, to_numpy

_MPI_METHODS = ("Get_rank", "Get_size", "Allreduce", "Bcast", "allgather")
_NCCL_CACHE: dict[tuple[int, int, int], Any] = {}


def mpi() -> Any:
    """The ``mpi4py.MPI`` module, or a clear error naming what to install."""
    try:
        return importlib.import_module("mpi4py.MPI")
    except ImportError as exc:
        raise BackendUnavailableError(
            "distributed training needs mpi4py and an MPI library: pip install 'anynn[mpi]' "
            f"(mpi4py and mpich); importing mpi4py failed: {exc}"
        ) from exc


def check_comm(comm: Any, name: str = "comm") -> Any:
    """``comm`` itself if it is an mpi4py intracommunicator (by its methods), else raise.

    Raises
    ------
    AnynnTypeError
        For anything without the methods of ``mpi4py.MPI.Intracomm``.
    """
    missing = [method for method in _MPI_METHODS if not callable(getattr(comm, method, None))]
    if missing:
        raise AnynnTypeError(
            f"{name} must be an mpi4py communicator such as mpi4py.MPI.COMM_WORLD; got "
            f"{type(comm).__name__} (it lacks {', '.join(missing)})"
        )
    return comm


def _writable_host(buffer: Array) -> np.ndarray:
    """A C-contiguous, writable host copy (or view) of ``buffer`` for MPI."""
    return np.require(to_numpy(buffer), requirements=["C", "W"])


class HostCommunicator:
    """Collectives through host memory over MPI (any backend).

    Parameters
    ----------
    comm : mpi4py.MPI.Intracomm
        The processes training together.
    backend : Backend
        Where the reduced buffers go back to.

    Attributes
    ----------
    rank, size : int
        This process's rank and the number of processes.
    path : str
        ``"host MPI"`` (or ``"NCCL"`` for :class:`NcclCommunicator`), for reports.
    """

    path = "host MPI"

    def __init__(self, comm: Any, backend: Backend) -> None:
        self.comm = check_comm(comm)
        self.backend = backend
        self._mpi = mpi()
        self.rank = int(comm.Get_rank())
        self.size = int(comm.Get_size())

    def allreduce_sum(self, buffer: Array) -> Array:
        """The element-wise sum of a flat device ``buffer`` over all ranks (one collective)."""
        if self.size == 1:
            return buffer
        host = _writable_host(buffer)
        self.comm.Allreduce(self._mpi.IN_PLACE, host, op=self._mpi.SUM)
        return self.backend.from_host(host)

    def broadcast(self, buffer: Array, root: int = 0) -> Array:
        """Rank ``root``'s flat device ``buffer``, on every rank."""
        if self.size == 1:
            return buffer
        host = _writable_host(buffer)
        self.comm.Bcast(host, root=root)
        return self.backend.from_host(host)

    def allgather(self, value: Any) -> list[Any]:
        """Every rank's (picklable, small) ``value``, in rank order."""
        return list(self.comm.allgather(value))

    def broadcast_object(self, value: Any, root: int = 0) -> Any:
        """Rank ``root``'s (picklable, small) ``value``, on every rank."""
        return self.comm.bcast(value, root=root)


class NcclCommunicator(HostCommunicator):
    """Device-buffer collectives with NCCL (one process per GPU); host ones over MPI."""

    path = "NCCL"

    def __init__(self, comm: Any, backend: Backend, nccl_comm: Any) -> None:
        super().__init__(comm, backend)
        self.nccl_comm = nccl_comm

    def _launch(self, buffer: Array) -> tuple[Any, Any, int, Any]:
        cupy = importlib.import_module("cupy")
        nccl = importlib.import_module("cupy.cuda.nccl")
        flat = cupy.ascontiguousarray(buffer)
        dtype = nccl.NCCL_FLOAT64 if flat.dtype == cupy.float64 else nccl.NCCL_FLOAT32
        return flat, nccl, dtype, cupy.cuda.get_current_stream().ptr

    def allreduce_sum(self, buffer: Array) -> Array:
        flat, nccl, dtype, stream = self._launch(buffer)
        self.nccl_comm.allReduce(
            flat.data.ptr, flat.data.ptr, flat.size, dtype, nccl.NCCL_SUM, stream
        )
        return flat

    def broadcast(self, buffer: Array, root: int = 0) -> Array:
        flat, _nccl, dtype, stream = self._launch(buffer)
        self.nccl_comm.bcast(flat.data.ptr, flat.size, dtype, root, stream)
        return flat


def _nccl_or_none(comm: Any, backend: Backend) -> Any:
    """An NCCL communicator over ``comm``'s ranks, or None where NCCL cannot serve.

    None when CuPy has no NCCL, when two ranks share one GPU (NCCL refuses duplicate
    devices) or when NCCL's initialisation fails on any rank; every rank takes the same
    decision (it is agreed over MPI).
    """
    cupy = importlib.import_module("cupy")
    device = int(cupy.cuda.Device().id)
    try:
        nccl: Any = importlib.import_module("cupy.cuda.nccl")
        usable = bool(getattr(nccl, "available", True))
    except ImportError:
        nccl, usable = None, False
    places = comm.allgather((socket.gethostname(), device, usable))
    if not all(ok for _host, _dev, ok in places) or len(set(places)) < len(places):
        return None
    key = (int(comm.py2f()) if hasattr(comm, "py2f") else id(comm), device, len(places))
    if key in _NCCL_CACHE:
        return _NCCL_CACHE[key]
    unique_id = comm.bcast(nccl.get_unique_id() if comm.Get_rank() == 0 else None, root=0)
    try:
        made: Any = nccl.NcclCommunicator(int(comm.Get_size()), unique_id, int(comm.Get_rank()))
        failed = False
    except Exception:  # noqa: BLE001 - any failure means: stage through the host
        made, failed = None, True
    if any(comm.allgather(failed)):
        return None
    _NCCL_CACHE[key] = made
    return made


def communicator(comm: Any, backend: Backend) -> HostCommunicator:
    """The collectives of ``backend`` over the mpi4py communicator ``comm``.

    On CuPy with a usable NCCL and one GPU per rank: :class:`NcclCommunicator`; else
    :class:`HostCommunicator` (device buffers staged through host memory).

    Raises
    ------
    AnynnTypeError
        If ``comm`` is not an mpi4py communicator.
    BackendUnavailableError
        If mpi4py cannot be imported.
    """
    check_comm(comm)
    mpi()
    if backend.name == "cupy" and int(comm.Get_size()) > 1:
        nccl_comm = _nccl_or_none(comm, backend)
        if nccl_comm is not None:
            return NcclCommunicator(comm, backend, nccl_comm)
    return HostCommunicator(comm, backend)


def select_device(comm: Any) -> int:
    """Make GPU ``local rank % GPUs on the node`` this process's current CuPy device.

    Call it before building the network (CuPy allocates on the current device). Returns
    the device id.

    Raises
    ------
    BackendUnavailableError
        If CuPy or a GPU is not available, or mpi4py cannot be imported.
    """
    check_comm(comm)
    MPI = mpi()
    try:
        cupy = importlib.import_module("cupy")
        count = int(cupy.cuda.runtime.getDeviceCount())
    except Exception as exc:  # noqa: BLE001 - ImportError or a CUDA runtime error
        raise BackendUnavailableError(f"select_device needs CuPy and a CUDA GPU: {exc}") from exc
    if count == 0:
        raise BackendUnavailableError("select_device found no CUDA GPU on this node")
    local = comm.Split_type(MPI.COMM_TYPE_SHARED)
    device = int(local.Get_rank()) % count
    local.Free()
    cupy.cuda.Device(device).use()
    return device
