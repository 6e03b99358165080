"""Shared fixtures: every test that takes ``backend`` runs once per available backend.

Backends come from ``--backend`` (repeatable) or ``ANYNN_TEST_BACKENDS`` (comma separated),
default ``numpy,array_api_strict``; ``cupy`` is added where a CUDA GPU is usable.
"""

from __future__ import annotations

import os

import pytest
from hypothesis import settings

from anynn.backend import cupy_available

# Property tests explore new examples locally but are reproducible in CI (CI=true).
settings.register_profile("ci", derandomize=True, deadline=None, print_blob=True)
if os.environ.get("CI"):
    settings.load_profile("ci")

DEFAULT_BACKENDS = ("numpy", "array_api_strict")


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--backend",
        action="append",
        default=None,
        help="backend to test (repeatable): numpy, array_api_strict, cupy",
    )


def selected_backends(config: pytest.Config) -> list[str]:
    """The backends this run tests, from the option, the environment or the default."""
    chosen = config.getoption("--backend")
    if not chosen:
        env = os.environ.get("ANYNN_TEST_BACKENDS", "")
        chosen = [b.strip() for b in env.split(",") if b.strip()] or list(DEFAULT_BACKENDS)
        if "cupy" not in chosen and cupy_available():
            chosen.append("cupy")
    return chosen


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "backend" in metafunc.fixturenames:
        names = selected_backends(metafunc.config)
        params = [
            pytest.param(name, marks=[pytest.mark.gpu] if name == "cupy" else [])
            for name in names
        ]
        metafunc.parametrize("backend", params, indirect=True)


@pytest.fixture
def backend(request: pytest.FixtureRequest) -> str:
    """A backend name; cupy is skipped cleanly where no GPU is usable."""
    name: str = request.param
    if name == "cupy" and not cupy_available():
        pytest.skip("cupy backend needs CuPy and a CUDA GPU")
    return name


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if cupy_available():
        return
    skip_gpu = pytest.mark.skip(reason="needs CuPy and a CUDA GPU")
    for item in items:
        if item.get_closest_marker("gpu") is not None:  # not keywords: they hold path parts
            item.add_marker(skip_gpu)
