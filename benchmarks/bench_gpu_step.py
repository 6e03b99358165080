"""GPU step timing: host time and GPU time per training step, beside PyTorch CUDA eager.

For the 784-256-128-10 relu/relu/softmax network, loss cce, batch 128, with SGD, SGD with
momentum and Adam: the host (wall) time per step and the GPU time per step (CUDA events
around the same steps). Host time well above GPU time means the step is launch-bound.
With ``--compute-bound`` also a 1024-4096-4096-10 network at batch 4096 against its bare
GEMMs (target: within 1.10x). Targets on an H100/H200: the batch-128 step at most 0.5x
PyTorch CUDA eager. Prints a message and exits 0 without a GPU.

Usage: ``python benchmarks/bench_gpu_step.py [--steps 200] [--compute-bound] [--tf32]``
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from typing import Any

import numpy as np
from _timing import bare_gemms as gemm_floor

import anynn
from anynn.backend import cupy_available

OPTIMIZERS: dict[str, Callable[[], Any]] = {
    "SGD": lambda: anynn.optimizers.SGD(lr=0.01),
    "SGD momentum": lambda: anynn.optimizers.SGD(lr=0.01, momentum=0.9),
    "Adam": lambda: anynn.optimizers.Adam(lr=1e-3),
}


def timed(run: Callable[[], object], cupy: Any) -> tuple[float, float]:
    """``(host seconds, GPU seconds)`` of ``run`` (GPU: CUDA events around it)."""
    cupy.cuda.Device().synchronize()
    start, end = cupy.cuda.Event(), cupy.cuda.Event()
    start.record()
    t0 = time.perf_counter()
    run()
    end.record()
    end.synchronize()
    host = time.perf_counter() - t0
    return host, cupy.cuda.get_elapsed_time(start, end) / 1e3


def anynn_steps(sizes: tuple[int, ...], batch: int, steps: int, tf32: bool, cupy: Any) -> None:
    rng = np.random.default_rng(0)
    X = rng.random((batch * steps, sizes[0]), dtype=np.float32)
    y = rng.integers(0, sizes[-1], batch * steps)
    layers = [(width, True, "relu") for width in sizes[1:-1]] + [(sizes[-1], True, "softmax")]
    for name, make in OPTIMIZERS.items():
        net = anynn.Network(sizes[0], layers, backend=anynn.Backend("cupy", tf32=tf32), seed=0)
        X_dev = net.backend.asarray(X)
        fit = dict(epochs=1, batch_size=batch, loss="cce", verbose=0, shuffle=False)
        net.fit(X_dev[: 4 * batch], y[: 4 * batch], optimizer=make(), **fit)  # warm-up
        host, gpu = timed(lambda net=net, X_dev=X_dev, fit=fit: net.fit(X_dev, y, **fit), cupy)
        print(f"  anynn {name:13s} host {1e6 * host / steps:8.1f} us/step   "
              f"GPU {1e6 * gpu / steps:8.1f} us/step")


def torch_steps(sizes: tuple[int, ...], batch: int, steps: int, tf32: bool) -> None:
    try:
        import torch
    except ImportError:
        print("  PyTorch not installed: no PyTorch CUDA reference")
        return
    if not torch.cuda.is_available():
        print("  PyTorch has no CUDA here: no PyTorch CUDA reference")
        return
    torch.backends.cuda.matmul.allow_tf32 = tf32
    rng = np.random.default_rng(0)
    X = torch.as_tensor(rng.random((batch * steps, sizes[0]), dtype=np.float32), device="cuda")
    y = torch.as_tensor(rng.integers(0, sizes[-1], batch * steps), device="cuda")
    makers = {
        "SGD": lambda p: torch.optim.SGD(p, lr=0.01),
        "SGD momentum": lambda p: torch.optim.SGD(p, lr=0.01, momentum=0.9),
        "Adam": lambda p: torch.optim.Adam(p, lr=1e-3),
    }
    for name, make in makers.items():
        modules: list[Any] = []
        for n_in, n_out in zip(sizes[:-2], sizes[1:-1], strict=True):
            modules += [torch.nn.Linear(n_in, n_out), torch.nn.ReLU()]
        model = torch.nn.Sequential(*modules, torch.nn.Linear(sizes[-2], sizes[-1])).cuda()
        opt, loss_fn = make(model.parameters()), torch.nn.CrossEntropyLoss()

        def run(
            n_steps: int = steps, model: Any = model, opt: Any = opt, loss_fn: Any = loss_fn
        ) -> None:
            total = torch.zeros((), device="cuda")
            for start in range(0, n_steps * batch, batch):
                opt.zero_grad(set_to_none=True)
                loss = loss_fn(model(X[start : start + batch]), y[start : start + batch])
                loss.backward()
                opt.step()
                total += loss.detach()
            float(total)  # one read, as anynn's epoch

        run(4)
        torch.cuda.synchronize()
        start_event = torch.cuda.Event(enable_timing=True)
        end_event = torch.cuda.Event(enable_timing=True)
        start_event.record()
        t0 = time.perf_counter()
        run()
        end_event.record()
        end_event.synchronize()
        host = time.perf_counter() - t0
        gpu = start_event.elapsed_time(end_event) / 1e3
        print(f"  torch {name:13s} host {1e6 * host / steps:8.1f} us/step   "
              f"GPU {1e6 * gpu / steps:8.1f} us/step")


def bare_gemms(sizes: tuple[int, ...], batch: int, steps: int, cupy: Any) -> None:
    """The GEMMs of the compute-bound steps alone (3 forward, 3 dW, 2 dX per step)."""
    rng = cupy.random.default_rng(0)
    W = [rng.standard_normal(s, dtype=cupy.float32) for s in zip(sizes[:-1], sizes[1:],
                                                                 strict=True)]
    X = rng.standard_normal((batch, sizes[0]), dtype=cupy.float32)

    def run() -> None:
        for _ in range(steps):
            gemm_floor(X, W)

    run()
    host, gpu = timed(run, cupy)
    print(f"  bare GEMMs          host {1e6 * host / steps:8.1f} us/step   "
          f"GPU {1e6 * gpu / steps:8.1f} us/step")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--compute-bound", action="store_true")
    parser.add_argument("--tf32", action="store_true", help="TF32 products (both libraries)")
    args = parser.parse_args()
    if not cupy_available():
        print("no CUDA GPU available (CuPy missing or cupy.cuda.is_available() is False); "
              "nothing to time")
        return 0
    import cupy

    print(f"CuPy {cupy.__version__}, {cupy.cuda.runtime.getDeviceProperties(0)['name']!r}")
    shapes = [((784, 256, 128, 10), 128, args.steps)]
    if args.compute_bound:
        shapes.append(((1024, 4096, 4096, 10), 4096, max(10, args.steps // 10)))
    for sizes, batch, steps in shapes:
        print(f"{'-'.join(map(str, sizes))}, batch {batch}, {steps} steps, "
              f"{'tf32' if args.tf32 else 'full float32'}:")
        anynn_steps(sizes, batch, steps, args.tf32, cupy)
        torch_steps(sizes, batch, steps, args.tf32)
        if batch > 128:
            bare_gemms(sizes, batch, steps, cupy)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
