"""Training-speed benchmark on the numpy backend: ratios, each library in its own process.

Cases (issues 2 and 9):

1. one epoch of a 784-256-128-10 relu/relu/softmax network, batch 128, plain SGD, on
   60,000 synthetic MNIST-shaped float32 samples: anynn vs the bare matrix products one
   epoch needs (the floor; target <= 1.3) and vs PyTorch CPU (target <= 0.8);
2. the same epoch with Adam, against PyTorch's Adam (target <= 0.6);
3. the same network trained one sample at a time (batch 1) for 2,000 steps (target <= 0.4);
4. a 2-4-1 tanh/sigmoid XOR network trained full batch for 10,000 epochs (target <= 0.12).

Every timing runs in a fresh process (PyTorch's OpenMP threads keep spinning after each
parallel region and slow whatever runs next in the same process), after a warm-up run in
that process; the candidates of a case are timed in alternation, ``--repeats`` times, and
the best time of each is kept. Only ratios are reported: absolute times on a shared machine
mean little.

``--cpu-time`` measures the worker's CPU time on one thread (BLAS and PyTorch limited to
one thread): ratios that a machine shared with other work disturbs much less than wall
time.

Usage: ``python benchmarks/bench_train.py [--quick] [--repeats N] [--cases sgd,adam,...]
[--cpu-time]``
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable

import numpy as np
from _timing import bare_gemms

SIZES = (784, 256, 128, 10)
CASES: dict[str, tuple[str, ...]] = {
    "sgd": ("anynn", "floor", "torch"),
    "adam": ("anynn", "torch"),
    "single": ("anynn", "torch"),
    "xor": ("anynn", "torch"),
}
TARGETS = {("sgd", "floor"): 1.3, ("sgd", "torch"): 0.8, ("adam", "torch"): 0.6,
           ("single", "torch"): 0.4, ("xor", "torch"): 0.12}
DESCRIPTIONS = {
    "sgd": "one epoch, 784-256-128-10, batch 128, SGD",
    "adam": "one epoch, 784-256-128-10, batch 128, Adam",
    "single": "single-sample steps, 784-256-128-10, SGD",
    "xor": "XOR 2-4-1, full-batch epochs, SGD",
}


def sizes(quick: bool) -> dict[str, int]:
    return {"samples": 6_000 if quick else 60_000, "single": 200 if quick else 2_000,
            "xor": 1_000 if quick else 10_000}


def mnist_like(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Synthetic MNIST-shaped data: float32 pixels in [0, 1] and labels 0..9."""
    rng = np.random.default_rng(seed)
    return rng.random((n, SIZES[0]), dtype=np.float32), rng.integers(0, SIZES[-1], size=n)


XOR_X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float32)
XOR_Y = np.array([[0], [1], [1], [0]], dtype=np.float32)


# -- candidates (each built and run inside its own worker process) -------------------------
def anynn_run(case: str, n: dict[str, int]) -> Callable[[], object]:
    import anynn

    if case == "xor":
        xor = anynn.Network(2, [(4, True, "tanh"), (1, True, "sigmoid")], seed=0)
        return lambda: xor.fit(XOR_X, XOR_Y, epochs=n["xor"], lr=0.5, batch_size=4,
                               shuffle=False, verbose=0)
    layers = [(SIZES[1], True, "relu"), (SIZES[2], True, "relu"), (SIZES[3], True, "softmax")]
    net = anynn.Network(SIZES[0], layers, seed=0)
    X, y = mnist_like(n["single"] if case == "single" else n["samples"])
    batch = 1 if case == "single" else 128
    optimizer = "adam" if case == "adam" else "sgd"
    lr = 1e-3 if case == "adam" else 0.01
    return lambda: net.fit(X, y, epochs=1, lr=lr, batch_size=batch, loss="cce",
                           optimizer=optimizer, verbose=0)


def floor_run(case: str, n: dict[str, int]) -> Callable[[], object]:
    """The bare GEMMs of one epoch: 3 forward, 3 weight gradients, 2 input gradients."""
    X, _ = mnist_like(n["samples"])
    rng = np.random.default_rng(1)
    W = [rng.standard_normal(s, dtype=np.float32) for s in zip(SIZES[:-1], SIZES[1:], strict=True)]

    def run() -> None:
        for start in range(0, len(X), 128):
            bare_gemms(X[start : start + 128], W)

    return run


def torch_run(case: str, n: dict[str, int]) -> Callable[[], object]:
    import torch

    torch.manual_seed(0)
    if case == "xor":
        model = torch.nn.Sequential(torch.nn.Linear(2, 4), torch.nn.Tanh(),
                                    torch.nn.Linear(4, 1), torch.nn.Sigmoid())
        opt = torch.optim.SGD(model.parameters(), lr=0.5)
        loss_fn = torch.nn.MSELoss()
        X, y = torch.from_numpy(XOR_X), torch.from_numpy(XOR_Y)

        def run_xor() -> None:
            for _ in range(n["xor"]):
                opt.zero_grad(set_to_none=True)
                loss = loss_fn(model(X), y)
                loss.backward()
                opt.step()
                float(loss.detach())  # one loss read per epoch, as anynn's history does

        return run_xor
    model = torch.nn.Sequential(
        torch.nn.Linear(SIZES[0], SIZES[1]), torch.nn.ReLU(),
        torch.nn.Linear(SIZES[1], SIZES[2]), torch.nn.ReLU(), torch.nn.Linear(SIZES[2], SIZES[3]),
    )
    opt = (torch.optim.Adam(model.parameters(), lr=1e-3) if case == "adam"
           else torch.optim.SGD(model.parameters(), lr=0.01))
    loss_fn = torch.nn.CrossEntropyLoss()
    Xn, yn = mnist_like(n["single"] if case == "single" else n["samples"])
    Xt, yt = torch.from_numpy(Xn), torch.from_numpy(yn)
    batch = 1 if case == "single" else 128

    def run() -> None:
        order = torch.randperm(len(Xt))
        Xs, ys = Xt[order], yt[order]
        total = torch.zeros(())
        for start in range(0, len(Xs), batch):
            opt.zero_grad(set_to_none=True)
            loss = loss_fn(model(Xs[start : start + batch]), ys[start : start + batch])
            loss.backward()
            opt.step()
            total += loss.detach()
        float(total)

    return run


BUILDERS = {"anynn": anynn_run, "floor": floor_run, "torch": torch_run}


THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


def worker(case: str, candidate: str, quick: bool, cpu_time: bool) -> None:
    """Build, warm up once, time one run; print the seconds as JSON."""
    if candidate == "torch":
        import torch

        torch.set_num_threads(1 if cpu_time else max(1, len(os.sched_getaffinity(0))))
    clock = time.process_time if cpu_time else time.perf_counter
    run = BUILDERS[candidate](case, sizes(quick))
    run()
    start = clock()
    run()
    print(json.dumps({"seconds": clock() - start}))


def measure(case: str, candidate: str, quick: bool, cpu_time: bool) -> float:
    command = [sys.executable, __file__, "--worker", case, candidate]
    command += ["--quick"] if quick else []
    environment = dict(os.environ)
    if cpu_time:
        command.append("--cpu-time")
        environment.update(dict.fromkeys(THREAD_VARIABLES, "1"))
    result = subprocess.run(  # noqa: S603 - this script, with fixed arguments
        command, capture_output=True, text=True, check=False, env=environment
    )
    if result.returncode != 0:
        raise RuntimeError(f"{case}/{candidate} failed:\n{result.stderr[-2000:]}")
    return float(json.loads(result.stdout.strip().splitlines()[-1])["seconds"])


def torch_installed() -> bool:
    import importlib.util

    return importlib.util.find_spec("torch") is not None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller sizes (smoke run)")
    parser.add_argument("--repeats", type=int, default=None,
                        help="timings per candidate (default 5; 1 with --quick)")
    parser.add_argument("--cases", default=",".join(CASES), help="comma-separated cases")
    parser.add_argument("--cpu-time", action="store_true",
                        help="one thread each, CPU time (robust on a busy machine)")
    parser.add_argument("--worker", nargs=2, metavar=("CASE", "CANDIDATE"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(*args.worker, args.quick, args.cpu_time)
        return
    with_torch = torch_installed()
    if not with_torch:
        print("PyTorch not installed: torch ratios skipped (install a CPU build of torch)")
    repeats = args.repeats or (1 if args.quick else 5)
    n = sizes(args.quick)
    for case in args.cases.split(","):
        candidates = [c for c in CASES[case] if with_torch or c != "torch"]
        best = dict.fromkeys(candidates, float("inf"))
        for _ in range(repeats):
            for candidate in candidates:
                best[candidate] = min(
                    best[candidate], measure(case, candidate, args.quick, args.cpu_time)
                )
        count = {"single": n["single"], "xor": n["xor"]}.get(case, n["samples"])
        clock = "CPU time, one thread" if args.cpu_time else "wall time"
        print(f"case {case}: {DESCRIPTIONS[case]} ({count}), best of {repeats}, one process "
              f"each, {clock}")
        print(f"  anynn {best['anynn'] * 1e3:9.1f} ms")
        for candidate in candidates[1:]:
            ratio = best["anynn"] / best[candidate]
            target = TARGETS.get((case, candidate))
            verdict = "" if target is None else (
                f" (target <= {target}) " + ("OK" if ratio <= target else "MISSED")
            )
            print(f"  anynn / {candidate:<6s} ratio {ratio:6.3f}{verdict}")


if __name__ == "__main__":
    main()
