"""Command-line interface: ``anynn [demo]`` trains a small network on built-in data;
``anynn info MODEL`` describes a model file; ``anynn export-onnx MODEL OUT`` converts one
to ONNX. ``mpiexec -n P python -m anynn --distributed`` trains the demo data-parallel on
P processes (rank 0 prints) and prints the result of one process."""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from typing import Any, cast

import numpy as np

from .backend import available_backends, to_numpy
from .io import load
from .network import Network
from .summary import format_summary


def circle_data(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Points in [-1, 1]^2 labelled 1 outside the circle x1^2 + x2^2 = 0.5."""
    rng = np.random.default_rng(seed)
    X = rng.uniform(-1.0, 1.0, size=(n, 2))
    y = (X[:, 0] ** 2 + X[:, 1] ** 2 > 0.5).astype(np.float64)
    return X, y


def _world() -> Any:
    """``mpi4py.MPI.COMM_WORLD``, or a clear error naming what to install."""
    try:
        from mpi4py import MPI
    except ImportError as exc:
        raise SystemExit(
            f"anynn --distributed needs mpi4py: pip install 'anynn[mpi]' ({exc})"
        ) from exc
    return MPI.COMM_WORLD


def demo(backend: str = "numpy", epochs: int = 30, seed: int = 0, comm: Any = None) -> float:
    """Train a 2-16-8-1 network on the circular boundary; print progress; return accuracy.

    Uses Adam, a validation set, the accuracy metric and one line per epoch, then saves
    the network to a temporary ``.anynn`` file and checks the reloaded copy agrees. With
    ``comm`` (an mpi4py communicator) the fit is data-parallel and rank 0 alone prints.
    """
    root = comm is None or comm.Get_rank() == 0
    say: Callable[..., None] = print if root else _quiet
    X, y = circle_data(2000, seed)
    X_test, y_test = circle_data(1000, seed + 1)
    net = Network(
        inputs=2,
        layers=[(16, True, "tanh"), (8, True, "tanh"), (1, True, "sigmoid")],
        backend=backend,
        seed=seed,
    )
    say(f"anynn demo: {net}")
    if comm is not None:
        say(f"data-parallel over {comm.Get_size()} processes (global batch 32)")
    say(f"data: {len(X)} training / {len(X_test)} test points, label = x1^2 + x2^2 > 0.5")
    start = time.perf_counter()
    net.fit(
        X, y, epochs=epochs, batch_size=32, loss="bce", optimizer="adam", lr=0.01,
        metrics=["accuracy"], validation_data=(X_test, y_test), verbose=2, comm=comm,
    )
    seconds = time.perf_counter() - start
    scores = cast(dict[str, float], net.evaluate(X_test, y_test, loss="bce", metrics=["accuracy"]))
    say(f"trained {epochs} epochs in {seconds:.2f} s on backend {backend!r}: test loss "
        f"{scores['loss']:.4f}, test accuracy {scores['accuracy']:.1%}")
    if not root:
        return float(scores["accuracy"])
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "circle.anynn")
        net.save(path)
        same = np.allclose(to_numpy(load(path).predict(X_test)), to_numpy(net.predict(X_test)))
        say(f"saved and reloaded ({os.path.getsize(path)} bytes): predictions "
            f"{'identical' if same else 'DIFFER'}")
    return float(scores["accuracy"])


def _quiet(*args: Any, **kwargs: Any) -> None:
    """``print`` of the ranks other than 0."""


def info(path: str) -> int:
    """Print a model file's architecture, dtype, parameter count and format version.

    Returns the exit status: 0, or 1 (with the message on stderr) for an invalid file.
    """
    from .errors import ModelFileError
    from .io import inspect

    try:
        described = inspect(path)
    except ModelFileError as exc:
        print(f"anynn info: {exc}", file=sys.stderr)
        return 1
    print(f"{path}: anynn model, format version {described['format_version']}")
    print(format_summary(described["inputs"], described["layers"], described["dtype"]))
    if described["optimizer"] is not None or described["epochs"]:
        print(f"training state: optimizer {described['optimizer']}, {described['epochs']} epochs")
    return 0


def export_onnx(source: str, target: str, opset: int | None, dtype: str | None) -> int:
    """Convert a ``.anynn`` model file to an ONNX file; print what was written.

    Returns the exit status: 0, or 1 (with the message on stderr) for an invalid model
    file, a missing ``onnx`` package or a network that cannot be exported.
    """
    from .errors import AnynnError
    from .io import read_state
    from .onnx import DEFAULT_OPSET, export

    try:
        state = read_state(source)
        model = export(state, target, opset=DEFAULT_OPSET if opset is None else opset, dtype=dtype)
    except AnynnError as exc:
        print(f"anynn export-onnx: {exc}", file=sys.stderr)
        return 1
    print(f"{target}: ONNX model (opset {model.opset_import[0].version}, IR {model.ir_version}), "
          f"{len(model.graph.node)} nodes, input X (N, {state.inputs}), output Y "
          f"(N, {state.layers[-1].length}), {dtype or state.dtype}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``anynn`` and ``python -m anynn``."""
    parser = argparse.ArgumentParser(prog="anynn", description=__doc__)
    sub = parser.add_subparsers(dest="command")
    demo_parser = sub.add_parser("demo", help="train a small network on built-in data")
    for demo_options in (parser, demo_parser):
        demo_options.add_argument("--backend", default="numpy", choices=available_backends())
        demo_options.add_argument("--epochs", type=int, default=30)
        demo_options.add_argument(
            "--distributed", action="store_true",
            help="train data-parallel over MPI.COMM_WORLD (run under mpiexec -n P)",
        )
    info_parser = sub.add_parser("info", help="describe a .anynn model file")
    info_parser.add_argument("file", help="path of the .anynn file")
    onnx_parser = sub.add_parser("export-onnx", help="convert a .anynn model file to ONNX")
    onnx_parser.add_argument("model", help="path of the .anynn file")
    onnx_parser.add_argument("output", help="path of the .onnx file to write")
    onnx_parser.add_argument("--opset", type=int, default=None, help="ONNX opset (default 17)")
    onnx_parser.add_argument("--dtype", choices=["float32", "float64"], default=None,
                             help="the graph's dtype (default: the model's)")
    args = parser.parse_args(argv)
    if args.command in (None, "demo"):
        comm = _world() if args.distributed else None
        demo(args.backend, args.epochs, comm=comm)
        return 0
    if args.command == "info":
        return info(args.file)
    if args.command == "export-onnx":
        return export_onnx(args.model, args.output, args.opset, args.dtype)
    parser.print_help()
    return 2
