"""Data-parallel cost: the gradient allreduce against the step's compute (ratios, no pass/fail).

For the 784-256-128-10 network (float32, softmax + cce) at global batch 512 and 4096, on
1 and 2 processes (launched here with ``mpiexec``): per step, the compute of one process
(forward and backward on its ``batch / P`` rows) and the one allreduce of every gradient
(``n_parameters + 3`` values: the size does not depend on P). From the measured times it
predicts the step time on more processes: compute shrinks as ``1 / P`` while the
allreduce stays (a ring allreduce moves ``2 (P - 1) / P`` of the buffer per process, so
its time grows towards twice the 2-process one). Each process uses one BLAS thread, so
P processes use P cores. On one machine MPI moves the buffer through shared memory; the
prediction for processes on several nodes needs the allreduce measured across them.
With ``--backend cupy`` on a machine with several GPUs, the allreduce goes over NCCL
(one process per GPU).

Run: ``python benchmarks/bench_distributed.py [--quick] [--backend cupy] [--processes 1 2]``
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
from _timing import run_times

ROOT = Path(__file__).resolve().parent.parent
BATCHES = (512, 4096)
REPEAT = 20


def median_time(fn: Any, sync: Any, repeat: int = REPEAT) -> float:
    return float(np.median(run_times(fn, repeat, sync)))


def worker(backend_name: str, repeat: int) -> None:
    """Measure on every rank of MPI.COMM_WORLD; rank 0 prints one JSON line."""
    from mpi4py import MPI

    import anynn as nn
    from anynn.backend import to_numpy
    from anynn.backend.collectives import communicator, select_device
    from anynn.losses import LossHead

    world = MPI.COMM_WORLD
    if backend_name == "cupy":
        select_device(world)
    net = nn.Network(784, [(256, True, "relu"), (128, True, "relu"), (10, True, "softmax")],
                     backend=backend_name, seed=0)
    comm = communicator(world, net.backend)
    xp, n_values = net.backend.xp, net.n_parameters + 3
    head = LossHead.checked("cce", net.layers[-1].activation, 10)
    buffer = net.backend.asarray(np.zeros(n_values))

    def sync() -> None:
        to_numpy(xp.sum(buffer[:1]))  # a device read waits for the queued work

    rows = {}
    for batch in BATCHES:
        local = batch // comm.size
        rng = np.random.default_rng(comm.rank)
        X = net.backend.asarray(rng.normal(size=(local, 784)))
        Y = net.backend.asarray(np.eye(10)[rng.integers(0, 10, local)])
        compute = median_time(lambda X=X, Y=Y: net.loss_and_gradients(X, Y, head), sync, repeat)
        world.Barrier()
        reduce = median_time(lambda: comm.allreduce_sum(buffer), sync, repeat)
        rows[batch] = {"compute": compute, "allreduce": reduce}
    slowest = world.allreduce(max(r["compute"] for r in rows.values()), op=MPI.MAX)
    if comm.rank == 0:
        print(json.dumps({"P": comm.size, "path": comm.path, "n_values": n_values,
                          "rows": rows, "slowest": slowest, "repeat": repeat}))


def launch(processes: int, backend: str, repeat: int) -> dict[str, Any]:
    command = ["mpiexec", "-n", str(processes), sys.executable, __file__,
               "--worker", "--backend", backend, "--repeat", str(repeat)]
    path = os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])
    threads = {name: "1" for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")}
    env = {**os.environ, "PYTHONPATH": path, **threads}  # one core per process
    done = subprocess.run(command, capture_output=True, text=True, timeout=600, check=True, env=env)
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def report(results: list[dict[str, Any]]) -> None:
    first = results[0]
    print(f"784-256-128-10 float32, allreduce of {first['n_values']} values "
          f"({first['n_values'] * 4 / 1e6:.2f} MB) per step; median of {first['repeat']} steps")
    print(f"{'batch':>6} {'P':>2} {'path':>9} {'compute ms':>11} {'allreduce ms':>13} "
          f"{'allreduce/compute':>18}")
    for batch in BATCHES:
        for result in results:
            row = result["rows"][str(batch)]
            print(f"{batch:>6} {result['P']:>2} {result['path']:>9} {row['compute'] * 1e3:>11.3f} "
                  f"{row['allreduce'] * 1e3:>13.3f} {row['allreduce'] / row['compute']:>18.3f}")
    single = next((r for r in results if r["P"] == 1), None)
    multi = max(results, key=lambda r: r["P"])
    if single is None or multi["P"] < 2:
        return
    print("prediction (compute / P from the 1-process step; allreduce from the "
          f"{multi['P']}-process run, growing as 2(P-1)/P of it):")
    for batch in BATCHES:
        one = single["rows"][str(batch)]["compute"]
        base = multi["rows"][str(batch)]["allreduce"] / (2 * (multi["P"] - 1) / multi["P"])
        cells = []
        for p in (2, 4, 8, 16, 64):
            step = one / p + base * 2 * (p - 1) / p
            cells.append(f"P={p}: {one / step:.1f}x")
        print(f"  batch {batch}: speed-up " + ", ".join(cells))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", default="numpy")
    parser.add_argument("--processes", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--quick", action="store_true", help="5 steps per median")
    parser.add_argument("--repeat", type=int, default=REPEAT, help=argparse.SUPPRESS)
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args.backend, args.repeat)
        return
    if shutil.which("mpiexec") is None:
        print("bench_distributed: skipped (no mpiexec; pip install 'anynn[mpi]')")
        return
    if args.backend == "cupy":
        from anynn.backend import cupy_available

        if not cupy_available():
            print("bench_distributed: the NCCL part needs CuPy and GPUs; skipped")
            return
    repeat = 5 if args.quick else args.repeat
    report([launch(p, args.backend, repeat) for p in args.processes])


if __name__ == "__main__":
    main()
