"""The same network trained on a CPU backend and on CuPy, side by side: per-epoch losses
and wall-clock times. Exits 0 with a message when no CUDA GPU is usable.

    python examples/gpu_compare.py [--backend numpy] [--quick] [--dtype float64]

Synthetic MNIST-shaped data (784 features, 10 classes from a random linear teacher), a
784-256-128-10 relu/softmax network, categorical cross-entropy, SGD, batch 128. Both runs
start from the same seed, so their weights and shuffling are identical; in float32 the
GPU multiplies with TF32 (CUPY_TF32=1), so losses agree to about 1e-3, in float64 closely.
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


def build(backend: str, dtype: str, seed: int) -> Network:
    return Network(
        784,
        [(256, True, "relu"), (128, True, "relu"), (10, True, "softmax")],
        backend=backend, dtype=dtype, seed=seed,
    )


def timed_fit(
    backend: str, dtype: str, seed: int, X: np.ndarray, y: np.ndarray, epochs: int
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


def main() -> int:
    p = parser(__doc__.splitlines()[0], seed=0)
    p.add_argument("--dtype", default="float32", choices=["float32", "float64"])
    args = p.parse_args()
    if not cupy_available():
        print(
            "no CUDA GPU available: cupy is not installed or cupy.cuda.is_available() is "
            "False; nothing to compare (install anynn[cupy] on a machine with a GPU)"
        )
        return 0

    n, epochs = (4096, 2) if args.quick else (20000, 5)
    X, y = synthetic_data(n, args.seed)
    runs = {
        name: timed_fit(name, args.dtype, args.seed, X, y, epochs)
        for name in (args.backend, "cupy")
    }
    cpu, gpu = runs[args.backend], runs["cupy"]
    print(f"{n} samples, {epochs} epochs, batch 128, {args.dtype}")
    print(f"{'epoch':>5}  {args.backend + ' loss':>16}  {'cupy loss':>16}  {'difference':>10}")
    for epoch, (a, b) in enumerate(zip(cpu[0], gpu[0], strict=True), start=1):
        print(f"{epoch:5d}  {a:16.6f}  {b:16.6f}  {abs(a - b):10.2e}")
    print(f"time: {args.backend} {cpu[1]:.2f} s, cupy {gpu[1]:.2f} s, "
          f"speed-up {cpu[1] / gpu[1]:.1f}x")
    print(f"training accuracy: {args.backend} {100 * cpu[2]:.1f}%, cupy {100 * gpu[2]:.1f}%")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
