"""The same network trained on the CPU (NumPy) and on the GPU (CuPy), side by side:
per-epoch losses and wall-clock times, and PyTorch CUDA's time where it is installed.
Exits 0 with a message when no CUDA GPU is usable.

    python examples/gpu_compare.py [--reference numpy] [--quick] [--dtype float64] [--tf32]

Synthetic MNIST-shaped data (784 features, 10 classes from a random linear teacher), a
784-256-128-10 relu/softmax network, categorical cross-entropy, SGD, batch 128. Both runs
start from the same seed, so their weights and shuffling are identical. CuPy multiplies in
full float32 by default (losses agree to about 1e-5); ``--tf32`` lets anynn's products use
TensorFloat-32 (about 1e-3).
"""
from __future__ import annotations

import time

import numpy as np
from _common import parser

import anynn
from anynn import Network
from anynn.backend import cupy_available


def synthetic_data(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """``n`` samples of 784 features and labels of a random linear teacher."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 784)).astype(np.float32)
    teacher = rng.normal(size=(784, 10))
    return X, np.argmax(X @ teacher, axis=1)


def build(backend: str | anynn.Backend, dtype: str, seed: int) -> Network:
    return Network(
        784,
        [(256, True, "relu"), (128, True, "relu"), (10, True, "softmax")],
        backend=backend, dtype=dtype, seed=seed,
    )


def timed_fit(
    backend: str | anynn.Backend, dtype: str, seed: int, X: np.ndarray, y: np.ndarray, epochs: int
) -> tuple[list[float], float, float]:
    """Train on ``backend``; return the epoch losses, the seconds taken and the accuracy.

    A short warm-up fit first keeps one-time costs (compilation, CUDA context, cuBLAS
    handles) out of the timing; ``fit`` reads the loss once per epoch, which synchronises.
    """
    build(backend, dtype, seed).fit(X[:256], y[:256], epochs=1, batch_size=128, loss="cce")
    net = build(backend, dtype, seed)
    X_dev, y_dev = net.backend.asarray(X), y  # data resident on the device before timing
    start = time.perf_counter()
    history = net.fit(X_dev, y_dev, epochs=epochs, lr=0.05, batch_size=128, loss="cce")
    seconds = time.perf_counter() - start
    predicted = np.argmax(anynn.to_numpy(net.predict(X_dev)), axis=1)
    return history.history["loss"], seconds, float(np.mean(predicted == y))


def torch_cuda_seconds(X: np.ndarray, y: np.ndarray, epochs: int, dtype: str) -> float | None:
    """Seconds for the same training in PyTorch CUDA eager mode, or None without it."""
    try:
        import torch
    except ImportError:
        return None
    if not torch.cuda.is_available():
        return None
    torch.backends.cuda.matmul.allow_tf32 = False  # the same full float32 as anynn's default
    kind = getattr(torch, dtype)
    model = torch.nn.Sequential(
        torch.nn.Linear(784, 256), torch.nn.ReLU(), torch.nn.Linear(256, 128), torch.nn.ReLU(),
        torch.nn.Linear(128, 10),
    ).to("cuda", kind)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.05)
    X_dev = torch.as_tensor(X, device="cuda", dtype=kind)
    y_dev = torch.as_tensor(y, device="cuda")
    loss_fn = torch.nn.CrossEntropyLoss()

    def run(n_epochs: int) -> None:
        for _ in range(n_epochs):
            order = torch.randperm(X_dev.shape[0], device="cuda")
            for start in range(0, X_dev.shape[0], 128):
                index = order[start : start + 128]
                optimizer.zero_grad(set_to_none=True)
                loss_fn(model(X_dev[index]), y_dev[index]).backward()
                optimizer.step()
            torch.cuda.synchronize()

    run(1)  # warm-up
    start = time.perf_counter()
    run(epochs)
    return time.perf_counter() - start


def main() -> int:
    p = parser(__doc__.splitlines()[0], seed=0)
    p.add_argument("--reference", default="numpy", help="the CPU backend to compare with")
    p.add_argument("--dtype", default="float32", choices=["float32", "float64"])
    p.add_argument("--tf32", action="store_true", help="TensorFloat-32 products on the GPU")
    args = p.parse_args()
    reference = "numpy" if args.backend == "cupy" else args.backend  # --backend: the CPU side
    reference = args.reference if args.reference != "numpy" else reference
    if not cupy_available():
        print(
            "no CUDA GPU available: cupy is not installed or cupy.cuda.is_available() is "
            "False; nothing to compare (install anynn[cuda12] or anynn[cuda13] on a machine "
            "with a GPU)"
        )
        return 0
    if reference == "cupy":
        print("the reference must be a CPU backend (numpy or array_api_strict), not cupy")
        return 2

    n, epochs = (4096, 2) if args.quick else (20000, 5)
    X, y = synthetic_data(n, args.seed)
    gpu_backend = anynn.Backend("cupy", args.dtype, args.tf32)
    cpu = timed_fit(reference, args.dtype, args.seed, X, y, epochs)
    gpu = timed_fit(gpu_backend, args.dtype, args.seed, X, y, epochs)
    precision = "tf32 products" if args.tf32 else "full precision"
    print(f"{n} samples, {epochs} epochs, batch 128, {args.dtype} ({precision} on the GPU)")
    print(f"{'epoch':>5}  {reference + ' loss':>16}  {'cupy loss':>16}  {'difference':>10}")
    for epoch, (a, b) in enumerate(zip(cpu[0], gpu[0], strict=True), start=1):
        print(f"{epoch:5d}  {a:16.6f}  {b:16.6f}  {abs(a - b):10.2e}")
    print(f"time: {reference} {cpu[1]:.2f} s, cupy {gpu[1]:.2f} s, "
          f"speed-up {cpu[1] / gpu[1]:.1f}x")
    torch_seconds = torch_cuda_seconds(X, y, epochs, args.dtype)
    if torch_seconds is not None:
        print(f"PyTorch CUDA eager: {torch_seconds:.2f} s (anynn cupy / PyTorch = "
              f"{gpu[1] / torch_seconds:.2f}x)")
    print(f"training accuracy: {reference} {100 * cpu[2]:.1f}%, cupy {100 * gpu[2]:.1f}%")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
