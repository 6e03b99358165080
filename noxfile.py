"""Nox sessions: the test matrix over backends, lint, type check, examples, benchmarks.

    nox -l                      # list sessions
    nox -s "tests(backend='numpy')"
    nox -s lint typecheck examples
"""

from __future__ import annotations

import shutil
from pathlib import Path

import nox

nox.options.sessions = ["tests", "lint", "typecheck", "examples"]
nox.options.reuse_existing_virtualenvs = True

ROOT = Path(__file__).parent
EXAMPLES = ("xor.py", "xnor.py", "sine_regression.py", "circle.py", "gpu_compare.py")
BENCHMARKS = ("bench_train.py", "bench_activations.py", "bench_distributed.py")
GPU_PROBE = "from anynn.backend import cupy_available; print(cupy_available())"


@nox.session
@nox.parametrize("backend", ["numpy", "array_api_strict", "cupy"])
def tests(session: nox.Session, backend: str) -> None:
    """Run the test suite on one backend (cupy skips cleanly without a usable GPU)."""
    if backend == "cupy":
        if shutil.which("nvidia-smi") is None:  # no NVIDIA driver: skip before downloading
            session.skip("no NVIDIA GPU driver (nvidia-smi not found)")
        session.install("-e", ".[test,cupy]")
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
