"""Train a classifier, export it to ONNX, run it in onnxruntime and compare with anynn.

    python examples/export_onnx.py [--quick] [--output model.onnx] [--dtype float64]

The hidden layers use a user-written activation, ``x * sigmoid(1.702 x)`` (the "quick
GELU"), as a SymPy expression: the exporter translates the stable form anynn verified
for it, node by node, so onnxruntime computes what anynn computes. The output layer is
a softmax trained with the fused cross-entropy; the model outputs probabilities. The
comparison is relative, ``|p_onnx - p| / (|p| + 2**-6)``, which must stay below 1e-5
(float32) or 1e-12 (float64).
"""

from __future__ import annotations

import os
import tempfile
import time

import numpy as np
import sympy
from _common import parser

import anynn


def spiral(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Three interleaved spirals in the plane (labels 0, 1, 2)."""
    rng = np.random.default_rng(seed)
    label = rng.integers(0, 3, size=n)
    radius = rng.uniform(0.1, 1.0, size=n)
    angle = 4.0 * radius + label * (2 * np.pi / 3) + rng.normal(scale=0.15, size=n)
    X = np.stack([radius * np.cos(angle), radius * np.sin(angle)], axis=1)
    return X, label


def best_time(function: object, repeats: int = 5) -> float:
    """The fastest of ``repeats`` calls, in milliseconds."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()  # type: ignore[operator]
        times.append(time.perf_counter() - start)
    return 1000 * min(times)


def main() -> int:
    p = parser(__doc__.splitlines()[0], seed=0)
    p.add_argument("--output", metavar="PATH", help="also keep the ONNX model there")
    p.add_argument("--dtype", default="float32", choices=["float32", "float64"])
    args = p.parse_args()
    try:
        import onnxruntime as ort
    except ImportError:
        print('onnxruntime is not installed: pip install "anynn[onnx]"')
        return 0

    x = sympy.Symbol("x", real=True)
    quick_gelu = x / (1 + sympy.exp(-1.702 * x))
    net = anynn.Network(
        inputs=2,
        layers=[(32, True, quick_gelu), (32, True, quick_gelu), (3, True, "softmax")],
        backend=args.backend, dtype=args.dtype, seed=args.seed,
    )
    X, y = spiral(600 if args.quick else 3000, args.seed)
    epochs = 30 if args.quick else 200
    net.fit(X, y, epochs=epochs, batch_size=32, loss="cce", optimizer="adam", lr=0.01)
    X_test, y_test = spiral(1000, args.seed + 1)
    accuracy = float(np.mean(np.argmax(anynn.to_numpy(net.predict(X_test)), axis=1) == y_test))
    print(f"anynn: trained {epochs} epochs, test accuracy {accuracy:.1%}")

    with tempfile.TemporaryDirectory() as folder:
        path = args.output or os.path.join(folder, "spiral.onnx")
        model = net.to_onnx(path)
        size = os.path.getsize(path)
        session = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    ops = sorted({node.op_type for node in model.graph.node})
    print(f"exported {size} bytes, {len(model.graph.node)} nodes ({', '.join(ops)})")

    batch = spiral(10_000, args.seed + 2)[0].astype(args.dtype)
    ours = anynn.to_numpy(net.predict(batch))
    theirs = session.run(None, {"X": batch})[0]
    # Relative difference, with anynn's accuracy floor: probabilities far below 2**-6
    # count in absolute terms (a logit's rounding error moves a 1e-9 probability by ~1e-7
    # of itself, in either library).
    difference = float(np.max(np.abs(theirs - ours) / (np.abs(ours) + 2.0**-6)))
    same_labels = float(np.mean(np.argmax(theirs, axis=1) == np.argmax(ours, axis=1)))
    print(f"onnxruntime vs anynn on {len(batch)} rows: max relative difference "
          f"{difference:.1e}, same predicted class for {same_labels:.1%}")
    print(f"one batch of {len(batch)}: anynn {best_time(lambda: net.predict(batch)):.2f} ms, "
          f"onnxruntime {best_time(lambda: session.run(None, {'X': batch})):.2f} ms")
    limit = 1e-5 if args.dtype == "float32" else 1e-12
    print("predictions agree" if difference <= limit else "predictions DIFFER")
    return 0 if difference <= limit else 1


if __name__ == "__main__":
    raise SystemExit(main())
