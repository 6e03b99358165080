"""Training-speed benchmark on the numpy backend: ratios measured in one run.

Three cases (issue 2):

1. one epoch of a 784-256-128-10 relu/softmax network, batch 128, plain SGD, on 60,000
   synthetic MNIST-shaped float32 samples: anynn vs the bare matrix products one epoch
   needs (the floor) and vs PyTorch CPU on the same network;
2. the same network trained one sample at a time (batch 1) for 2,000 steps;
3. a 2-4-1 tanh/sigmoid XOR network trained full batch for 10,000 epochs.

Targets: case 1 no slower than PyTorch (ratio <= 1); cases 2 and 3 at most half of
PyTorch's time (ratio <= 0.5). Only ratios are reported: absolute times on a shared
machine mean little. Each timing is the best of ``--repeats`` runs, the candidates
timed in alternation.

Usage: ``python benchmarks/bench_train.py [--quick] [--repeats N]``
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

import numpy as np

import anynn

SIZES = (784, 256, 128, 10)


def best_times(runs: list[Callable[[], object]], repeats: int) -> list[float]:
    """Best wall time of each of ``runs``, timed in alternation after one warm-up each.

    Interleaving the candidates spreads a noisy machine's slow spells evenly over them.
    """
    for run in runs:
        run()
    best = [float("inf")] * len(runs)
    for _ in range(repeats):
        for i, run in enumerate(runs):
            start = time.perf_counter()
            run()
            best[i] = min(best[i], time.perf_counter() - start)
    return best


def mnist_like(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Synthetic MNIST-shaped data: float32 pixels in [0, 1] and labels 0..9."""
    rng = np.random.default_rng(seed)
    X = rng.random((n, SIZES[0]), dtype=np.float32)
    y = rng.integers(0, SIZES[-1], size=n)
    return X, y


def anynn_mnist_net(seed: int = 0) -> anynn.Network:
    return anynn.Network(
        SIZES[0], [(SIZES[1], True, "relu"), (SIZES[2], True, "relu"), (SIZES[3], True, "softmax")],
        seed=seed,
    )


def matmul_floor(X: np.ndarray, batch: int) -> Callable[[], None]:
    """The bare GEMMs of one epoch: 3 forward, 3 weight gradients, 2 input gradients."""
    rng = np.random.default_rng(1)
    shapes = zip(SIZES[:-1], SIZES[1:], strict=True)
    W = [rng.standard_normal(shape, dtype=np.float32) for shape in shapes]

    def run() -> None:
        for start in range(0, len(X), batch):
            a = X[start : start + batch]
            acts = [a]
            for w in W:
                a = a @ w
                acts.append(a)
            delta = acts[-1]
            for i in range(len(W) - 1, -1, -1):
                acts[i].T @ delta
                if i:
                    delta = delta @ W[i].T

    return run


def torch_mnist(X: np.ndarray, y: np.ndarray, batch: int, steps: int | None):
    """PyTorch CPU training closure for the same network and plain SGD."""
    import torch

    torch.manual_seed(0)
    model = torch.nn.Sequential(
        torch.nn.Linear(SIZES[0], SIZES[1]), torch.nn.ReLU(),
        torch.nn.Linear(SIZES[1], SIZES[2]), torch.nn.ReLU(),
        torch.nn.Linear(SIZES[2], SIZES[3]),
    )
    opt = torch.optim.SGD(model.parameters(), lr=0.01)
    loss_fn = torch.nn.CrossEntropyLoss()
    Xt, yt = torch.from_numpy(X), torch.from_numpy(y)
    n = len(X) if steps is None else steps * batch

    def run() -> None:
        order = torch.randperm(len(X))[:n]
        Xs, ys = Xt[order], yt[order]
        total = torch.zeros(())
        for start in range(0, n, batch):
            opt.zero_grad(set_to_none=True)
            loss = loss_fn(model(Xs[start : start + batch]), ys[start : start + batch])
            loss.backward()
            opt.step()
            total += loss.detach()
        float(total)

    return run


def torch_xor(epochs: int):
    import torch

    torch.manual_seed(0)
    model = torch.nn.Sequential(
        torch.nn.Linear(2, 4), torch.nn.Tanh(), torch.nn.Linear(4, 1), torch.nn.Sigmoid()
    )
    opt = torch.optim.SGD(model.parameters(), lr=0.5)
    loss_fn = torch.nn.MSELoss()
    X = torch.tensor([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=torch.float32)
    y = torch.tensor([[0], [1], [1], [0]], dtype=torch.float32)

    def run() -> None:
        for _ in range(epochs):
            opt.zero_grad(set_to_none=True)
            loss = loss_fn(model(X), y)
            loss.backward()
            opt.step()
            float(loss.detach())  # one loss read per epoch, as anynn's history does

    return run


def compare_mnist(
    X: np.ndarray, y: np.ndarray, batch: int, steps: int | None, target: float,
    with_torch: bool, repeats: int,
) -> None:
    """Time one epoch of the MNIST-shaped network against the floor and PyTorch."""
    net = anynn_mnist_net()
    runs = [lambda: net.fit(X, y, epochs=1, lr=0.01, batch_size=batch, loss="cce")]
    runs.append(matmul_floor(X, batch))
    if with_torch:
        runs.append(torch_mnist(X, y, batch, steps))
    times = best_times(runs, repeats)
    report("anynn / bare matmuls (floor)", times[0], times[1], None)
    if with_torch:
        report("anynn / PyTorch", times[0], times[2], target)


def report(name: str, ours: float, reference: float, target: float | None) -> None:
    verdict = "" if target is None else ("  OK" if ours / reference <= target else "  MISSED")
    bound = "" if target is None else f" (target <= {target})"
    print(f"  {name:<42s} ratio {ours / reference:6.3f}{bound}{verdict}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller sizes (smoke run)")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    n = 6_000 if args.quick else 60_000
    single_steps = 200 if args.quick else 2_000
    xor_epochs = 1_000 if args.quick else 10_000
    repeats = 1 if args.quick else args.repeats
    try:
        import torch

        torch.set_num_threads(max(1, len(__import__("os").sched_getaffinity(0))))
    except ImportError:
        torch = None
        print("PyTorch not installed: torch ratios skipped (install a CPU build of torch)")

    X, y = mnist_like(n)
    print(f"case 1: one epoch, {n} samples, 784-256-128-10, batch 128")
    compare_mnist(X, y, 128, None, 1.0, torch is not None, repeats)
    print(f"case 2: {single_steps} single-sample steps, 784-256-128-10")
    compare_mnist(X[:single_steps], y[:single_steps], 1, single_steps, 0.5, torch is not None,
                  repeats)

    Xx = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float32)
    yx = np.array([[0], [1], [1], [0]], dtype=np.float32)
    xor = anynn.Network(2, [(4, True, "tanh"), (1, True, "sigmoid")], seed=0)
    runs = [lambda: xor.fit(Xx, yx, epochs=xor_epochs, lr=0.5, batch_size=4, shuffle=False)]
    if torch is not None:
        runs.append(torch_xor(xor_epochs))
    times = best_times(runs, repeats)
    print(f"case 3: XOR 2-4-1, {xor_epochs} full-batch epochs")
    if torch is not None:
        report("anynn / PyTorch", times[0], times[1], 0.5)
    else:
        print(f"  anynn: {times[0] / xor_epochs * 1e6:.1f} us per epoch (no reference)")

if __name__ == "__main__":
    main()
