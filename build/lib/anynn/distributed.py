"""Data-parallel training over MPI: what a training script needs besides ``fit(comm=)``.

Launch ``mpiexec -n P python train.py``; in the script, every process builds the same
network and calls ``net.fit(X, y, ..., comm=MPI.COMM_WORLD)`` (see
:mod:`anynn.training.distributed` for what is exact and why). On GPUs, one process per
GPU: call :func:`select_device` before building the network, so that each process
allocates on its own GPU and the gradients travel over NCCL::

    from mpi4py import MPI
    import anynn as nn
    from anynn.distributed import select_device

    select_device(MPI.COMM_WORLD)
    net = nn.Network(784, [256, 128, (10, True, "softmax")], backend="cupy", seed=0)
    net.fit(X, y, batch_size=4096, loss="cce", comm=MPI.COMM_WORLD)

Nothing here imports ``mpi4py`` before it is called.
"""

from __future__ import annotations

from .backend.collectives import communicator, select_device

__all__ = ["communicator", "select_device"]
