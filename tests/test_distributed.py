"""Data-parallel fit over MPI: P processes give the weights of one process.

The MPI runs are batched: one ``mpiexec -n 2`` and one ``mpiexec -n 3`` launch run every
scenario of tests/mpi_scenarios.py (module-scoped fixtures), and each test compares one
scenario with its single-process reference computed here.
"""

from __future__ import annotations

import importlib.util
import os
import pickle
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import mpi_scenarios as scenarios
import numpy as np
import pytest
from repo_env import repo_env

import anynn as nn
from anynn.training.sharding import LocalSteps, count

HERE = Path(__file__).resolve().parent

HAVE_MPI = shutil.which("mpiexec") is not None and importlib.util.find_spec("mpi4py") is not None
needs_mpi = pytest.mark.skipif(not HAVE_MPI, reason="needs mpi4py and an mpiexec")
TIMEOUT = 120
TOLERANCE = 1e-12
PROCESSES = (2, 3)


def mpiexec(n: int, *args: str, timeout: float = TIMEOUT) -> subprocess.CompletedProcess[str]:
    """Run ``python ARGS`` under ``mpiexec -n n`` (bounded by ``timeout``)."""
    command = ["mpiexec", "-n", str(n), sys.executable, *args]
    return subprocess.run(  # noqa: S603 - fixed command line
        command, capture_output=True, text=True, timeout=timeout, env=repo_env(), check=False
    )


@pytest.fixture(scope="module", params=PROCESSES, ids=lambda n: f"P{n}")
def mpi_run(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Any:
    """Every scenario, run once on ``P`` processes: ``(P, folder, per-rank results)``."""
    if not HAVE_MPI:
        pytest.skip("needs mpi4py and an mpiexec")
    n = request.param
    folder = tmp_path_factory.mktemp(f"mpi{n}")
    done = mpiexec(n, str(HERE / "mpi_scenarios.py"), str(folder), *scenarios.SCENARIOS)
    assert done.returncode == 0, done.stdout + done.stderr
    return n, folder, pickle.loads((folder / "results.pkl").read_bytes())


@pytest.fixture(scope="module")
def references(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The single-process result of every training scenario."""
    folder = tmp_path_factory.mktemp("one")
    return {
        name: run(None, folder) for name, run in scenarios.SCENARIOS.items()
        if not name.startswith("fail_")
    } | {"folder": folder}


def assert_same_run(
    result: dict[str, Any], reference: dict[str, Any], relative: bool = False
) -> None:
    """Same weights and history to ``TOLERANCE`` (absolute, or ``relative`` to the values)."""
    tolerance = {"rtol": TOLERANCE, "atol": 0} if relative else {"rtol": 0, "atol": TOLERANCE}
    for got, want in zip(result["weights"], reference["weights"], strict=True):
        np.testing.assert_allclose(got, want, **tolerance)
    assert result["history"].keys() == reference["history"].keys()
    for key, values in reference["history"].items():
        np.testing.assert_allclose(result["history"][key], values, **tolerance)


@needs_mpi
@pytest.mark.parametrize(
    "name",
    ["sgd_shuffle", "momentum", "memmap", "adam_weights", "dropout", "sharded", "early_stop"],
)
def test_every_rank_matches_one_process(mpi_run: Any, references: Any, name: str) -> None:
    """SGD, Nesterov momentum + clip_norm, Adam with sample/class weights, dropout,
    unequal shards and early stopping, with shuffling and a last partial batch (of one
    sample: some ranks hold none of it), each against one process."""
    n, _folder, per_rank = mpi_run
    assert len(per_rank) == n
    for result in per_rank:
        assert_same_run(result[name], references[name])


@needs_mpi
def test_early_stopping_stops_every_rank_at_the_same_epoch(mpi_run: Any, references: Any) -> None:
    _n, _folder, per_rank = mpi_run
    want = references["early_stop"]
    assert 1 < want["epochs"] < 50
    assert {(r["early_stop"]["epochs"], r["early_stop"]["stopped_epoch"]) for r in per_rank} == {
        (want["epochs"], want["stopped_epoch"])
    }


@needs_mpi
def test_divergence_raises_on_every_rank_with_the_last_good_weights(
    mpi_run: Any, references: Any
) -> None:
    want = references["diverge"]
    assert want["diverged"] is not None and want["diverged"][0] > 0  # a later epoch
    for result in mpi_run[2]:
        assert result["diverge"]["diverged"] == want["diverged"]
        assert_same_run(result["diverge"], want, relative=True)  # weights near 1e139


@needs_mpi
def test_checkpoint_resume_round_trip(mpi_run: Any, references: Any) -> None:
    """Rank 0 alone writes; resuming from epoch 2 in P processes, or in one, gives the
    weights of the uninterrupted run."""
    n, folder, per_rank = mpi_run
    assert per_rank[0]["checkpoint"]["saved"] == [
        str(folder / "mpi" / "ckpt-2.anynn"), str(folder / "mpi" / "ckpt-4.anynn")
    ]
    assert all(r["checkpoint"]["saved"] == [] for r in per_rank[1:])
    want = references["checkpoint"]
    for result in per_rank:
        assert_same_run(result["checkpoint"], want)
        for got, full in zip(result["checkpoint"]["resumed"], want["weights"], strict=True):
            np.testing.assert_allclose(got, full, rtol=0, atol=TOLERANCE)
    X, y = scenarios.data("cls")
    alone = nn.load(folder / "mpi" / "ckpt-2.anynn", dtype="float64")
    alone.fit(X, y, epochs=2, batch_size=16, loss="cce", verbose=0)
    for got, full in zip(scenarios.weights(alone), want["weights"], strict=True):
        np.testing.assert_allclose(got, full, rtol=0, atol=TOLERANCE)


@needs_mpi
@pytest.mark.parametrize(
    ("name", "own_error", "phrase"),
    [
        ("fail_callback", "RuntimeError", "injected failure in a callback"),
        ("fail_step", "RuntimeError", "injected failure in the loss"),
        ("fail_data", "AnynnValueError", "non-finite"),
    ],
)
def test_a_failure_on_one_rank_ends_every_rank(
    mpi_run: Any, name: str, own_error: str, phrase: str
) -> None:
    n, _folder, per_rank = mpi_run
    last = per_rank[-1][name]
    assert last["error"] == own_error
    for result in per_rank[:-1]:
        assert result[name]["error"] == "DistributedError"
        assert f"rank {n - 1} failed with {own_error}" in result[name]["message"]
    assert phrase in last["message"] or phrase in last["message"].lower()


@needs_mpi
def test_processes_that_disagree_all_refuse(mpi_run: Any) -> None:
    _n, _folder, per_rank = mpi_run
    for result in per_rank:
        assert result["fail_mismatch"]["error"] == "AnynnValueError"
        assert "disagree on batch_size" in result["fail_mismatch"]["message"]
        assert result["fail_shards"]["error"] == "AnynnValueError"
        assert "disagree on data" in result["fail_shards"]["message"]
        assert "without sharded=True" in result["fail_shards"]["message"]


@needs_mpi
def test_an_uncaught_exception_on_one_rank_ends_the_launch(tmp_path: Path) -> None:
    done = mpiexec(2, str(HERE / "mpi_scenarios.py"), str(tmp_path), "--crash", timeout=60)
    assert done.returncode != 0
    assert "injected failure in a callback" in done.stderr
    assert "DistributedError" in done.stderr


@needs_mpi
def test_ctrl_c_stops_every_rank_after_the_same_step(tmp_path: Path) -> None:
    """A Ctrl-C seen by one rank stops every rank after the same step, with the warning of
    an interrupted fit and the same weights everywhere."""
    command = ["mpiexec", "-n", "2", sys.executable, str(HERE / "mpi_scenarios.py"),
               str(tmp_path), "--interrupt"]
    with subprocess.Popen(  # noqa: S603 - fixed command line
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=repo_env()
    ) as launch:
        try:
            files = [tmp_path / "pid0", tmp_path / "pid1"]
            deadline = time.monotonic() + TIMEOUT
            while not all(f.exists() and f.read_text() for f in files):
                assert launch.poll() is None and time.monotonic() < deadline
                time.sleep(0.1)
            time.sleep(1.0)  # inside fit on both ranks
            os.kill(int(files[0].read_text()), signal.SIGINT)  # rank 0 only
            _out, err = launch.communicate(timeout=TIMEOUT)
        finally:
            launch.kill()
    assert launch.returncode == 0, err
    stops = [(tmp_path / f"stopped{rank}").read_text().split() for rank in range(2)]
    assert stops[0] == stops[1]  # the same step
    _step, spread, warned = stops[0]
    assert float(spread) == 0.0 and warned == "True"


@needs_mpi
def test_distributed_demo_prints_the_single_process_result() -> None:
    one = subprocess.run(  # noqa: S603 - fixed command line
        [sys.executable, "-m", "anynn", "--epochs", "3"], capture_output=True, text=True,
        timeout=TIMEOUT, env=repo_env(), check=True,
    )
    two = mpiexec(2, "-m", "anynn", "--distributed", "--epochs", "3")
    assert two.returncode == 0, two.stderr

    def results(out: str) -> list[str]:
        return [line.split(" on backend")[-1] for line in out.splitlines() if "test loss" in line]

    assert results(two.stdout) == results(one.stdout) != []
    assert "2 processes" in two.stdout
    assert two.stdout.count("epoch 3/3") == 1  # rank 0 alone prints


# -- without mpiexec -----------------------------------------------------------------
@pytest.mark.parametrize("sharded", [False, True])
@pytest.mark.parametrize("shuffle", [False, True])
def test_the_ranks_share_every_batch_exactly_once(sharded: bool, shuffle: bool) -> None:
    """Over the ranks, each global batch is exactly one process's batch, row for row."""
    counts = [5, 0, 9] if sharded else [14, 14, 14]
    order = np.random.default_rng(0).permutation(14) if shuffle else None
    ordered = np.arange(14) if order is None else order
    offsets = np.cumsum([0, *counts]) if sharded else np.zeros(4, dtype=int)
    plans = [LocalSteps(rank, 3, counts, sharded).steps(order, 4) for rank in range(3)]
    start = 0
    for batch in zip(*plans, strict=True):
        size = batch[0][2]
        seen = np.full(size, -1)
        for rank, (rows, positions, _size) in enumerate(batch):
            ids = np.arange(counts[rank])[rows] + offsets[rank]
            assert count(rows) == ids.shape[0] == np.arange(size)[positions].shape[0]
            assert (seen[positions] == -1).all()
            seen[positions] = ids
        np.testing.assert_array_equal(seen, ordered[start : start + size])
        start += size
    assert start == 14


def test_fit_without_comm_imports_no_mpi() -> None:
    code = (
        "import sys, anynn as nn\n"
        "net = nn.Network(2, [(3, True, 'tanh'), (1, True, 'sigmoid')], seed=0)\n"
        "net.fit([[0, 0], [0, 1], [1, 0], [1, 1]], [0, 1, 1, 0], epochs=2, verbose=0)\n"
        "assert 'mpi4py' not in sys.modules, 'mpi4py imported'\n"
    )
    subprocess.run([sys.executable, "-c", code], env=repo_env(), check=True, timeout=TIMEOUT)  # noqa: S603


def test_comm_must_be_a_communicator() -> None:
    net = scenarios.network(2, "identity")
    with pytest.raises(nn.AnynnTypeError, match="comm must be an mpi4py communicator"):
        net.fit(*scenarios.data("reg"), comm="world", verbose=0)
    with pytest.raises(nn.AnynnValueError, match="sharded=True .* needs comm="):
        net.fit(*scenarios.data("reg"), sharded=True, verbose=0)


@needs_mpi
def test_one_process_communicator_is_exactly_a_plain_fit() -> None:
    from mpi4py import MPI

    plain, parallel = scenarios.network(3, "softmax", 0.2), scenarios.network(3, "softmax", 0.2)
    options = {"epochs": 2, "batch_size": 16, "loss": "cce", "optimizer": "adam", "verbose": 0}
    plain.fit(*scenarios.data("cls"), **options)
    parallel.fit(*scenarios.data("cls"), comm=MPI.COMM_SELF, **options)
    for got, want in zip(scenarios.weights(parallel), scenarios.weights(plain), strict=True):
        np.testing.assert_array_equal(got, want)


# -- GPU (one process per GPU; NCCL needs two GPUs, two ranks on one GPU stage through host)
@pytest.mark.gpu
@needs_mpi
def test_nccl_collectives_on_one_rank() -> None:
    from anynn.backend import cupy_available

    if not cupy_available():
        pytest.skip("needs CuPy and a CUDA GPU")
    from mpi4py import MPI

    from anynn.backend import Backend
    from anynn.backend.collectives import NcclCommunicator, _nccl_or_none

    backend = Backend("cupy", "float64")
    nccl = _nccl_or_none(MPI.COMM_SELF, backend)
    if nccl is None:
        pytest.skip("CuPy has no NCCL")
    comm = NcclCommunicator(MPI.COMM_SELF, backend, nccl)
    values = backend.asarray(np.arange(7.0))
    np.testing.assert_array_equal(nn.to_numpy(comm.allreduce_sum(values)), np.arange(7.0))
    np.testing.assert_array_equal(nn.to_numpy(comm.broadcast(values)), np.arange(7.0))


@pytest.mark.gpu
@needs_mpi
def test_cupy_data_parallel_matches_one_process(tmp_path: Path) -> None:
    from anynn.backend import cupy_available

    if not cupy_available():
        pytest.skip("needs CuPy and a CUDA GPU")
    done = mpiexec(2, str(HERE / "mpi_scenarios.py"), str(tmp_path), "cupy_fit")
    assert done.returncode == 0, done.stdout + done.stderr
    per_rank = pickle.loads((tmp_path / "results.pkl").read_bytes())
    reference = scenarios.cupy_fit(None, tmp_path)
    for result in per_rank:
        assert_same_run(result["cupy_fit"], reference)
