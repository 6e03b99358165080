"""Nox sessions: the test matrix over backends, lint, type check, examples, benchmarks.

    nox -l                      # list sessions
    nox -s "tests(backend='numpy')"
    nox -s lint typecheck examples
    nox -s kernels              # compile every generated CUDA kernel with nvcc (no GPU)
    nox -s gpu                  # everything that needs a GPU (skips cleanly without one)
    nox -s gpu -- cuda13        # the same with CuPy for CUDA 13 (default: cuda12)
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import nox

nox.options.sessions = ["tests", "lint", "typecheck", "examples"]
nox.options.reuse_existing_virtualenvs = True

ROOT = Path(__file__).parent
EXAMPLES = ("xor.py", "xnor.py", "sine_regression.py", "circle.py", "gpu_compare.py")
BENCHMARKS = ("bench_train.py", "bench_activations.py", "bench_distributed.py")
GPU_BENCHMARKS = ("bench_activations.py", "bench_gpu_step.py")
GPU_PROBE = "from anynn.backend import cupy_available; print(cupy_available())"


@nox.session
@nox.parametrize("backend", ["numpy", "array_api_strict", "cupy"])
def tests(session: nox.Session, backend: str) -> None:
    """Run the test suite on one backend (cupy skips cleanly without a usable GPU)."""
    if backend == "cupy":
        if shutil.which("nvidia-smi") is None:  # no NVIDIA driver: skip before downloading
            session.skip("no NVIDIA GPU driver (nvidia-smi not found)")
        session.install("-e", ".[test,cuda12]")
        if "True" not in str(session.run("python", "-c", GPU_PROBE, silent=True)):
            session.skip("no usable CUDA GPU: cupy.cuda.is_available() is False")
    else:
        session.install("-e", ".[test]")
    session.run(
        "python", "-m", "pytest", "-q", *session.posargs,
        env={"ANYNN_TEST_BACKENDS": backend},
    )


@nox.session
def lint(session: nox.Session) -> None:
    """ruff over the package, tests, examples and benchmarks."""
    session.install("ruff")
    session.run("ruff", "check", "anynn", "tests", "examples", "benchmarks")


@nox.session
def typecheck(session: nox.Session) -> None:
    """mypy over the package (settings in pyproject.toml)."""
    session.install("-e", ".", "mypy")
    session.run("mypy", "anynn")


@nox.session
def examples(session: nox.Session) -> None:
    """Run every example with --quick."""
    session.install("-e", ".")
    for script in EXAMPLES:
        session.run("python", f"examples/{script}", "--quick")


@nox.session
def benchmarks(session: nox.Session) -> None:
    """Run the benchmarks that exist with --quick (ratios, not pass/fail times).

    The PyTorch comparison runs where torch is installed; this session does not add it.
    """
    session.install("-e", ".[test]")
    for script in BENCHMARKS:
        if (ROOT / "benchmarks" / script).is_file():
            session.run("python", f"benchmarks/{script}", "--quick")
        else:
            session.log(f"benchmarks/{script} does not exist yet; skipped")


def _nvcc() -> str | None:
    found = shutil.which("nvcc")
    if found is None and os.path.exists("/usr/local/cuda/bin/nvcc"):
        found = "/usr/local/cuda/bin/nvcc"
    return found


@nox.session
def kernels(session: nox.Session) -> None:
    """Compile every generated CUDA kernel (every built-in, float32 and float64, every
    direction, and the fused optimizer updates) with nvcc: no GPU needed."""
    if _nvcc() is None:
        session.skip("nvcc not found (install a CUDA toolkit or set PATH)")
    session.install("-e", ".[test]")
    session.run("python", "-m", "pytest", "-q", "tests/test_kernels_nvcc.py", *session.posargs)


@nox.session
def gpu(session: nox.Session) -> None:
    """Everything that needs a GPU: the suite on cupy (GPU tests included), the GPU example,
    the GPU benchmarks, and per-step host and GPU time beside PyTorch CUDA eager.

    ``nox -s gpu -- cuda13`` installs CuPy for CUDA 13 (default cuda12). Skips cleanly
    without an NVIDIA driver or a usable GPU.
    """
    if shutil.which("nvidia-smi") is None:
        session.skip("no NVIDIA GPU driver (nvidia-smi not found)")
    extra = session.posargs[0] if session.posargs else "cuda12"
    session.install("-e", f".[test,{extra}]")
    if "True" not in str(session.run("python", "-c", GPU_PROBE, silent=True)):
        session.skip("no usable CUDA GPU: cupy.cuda.is_available() is False")
    session.run("python", "-c", "import cupy; cupy.show_config()")
    session.run("python", "-m", "pytest", "-q", env={"ANYNN_TEST_BACKENDS": "numpy,cupy"})
    session.run("python", "examples/gpu_compare.py", "--quick")
    for script in GPU_BENCHMARKS:
        session.run("python", f"benchmarks/{script}")
    session.run("python", "benchmarks/bench_gpu_step.py", "--compute-bound")
