"""The device seam holds: only ``anynn/backend/`` names device libraries or backend names.

Walks the AST of every module under ``anynn/`` (imports inside functions included) and
fails on an import of cupy, cupyx, array_api_compat, array_api_strict, torch or scipy,
an ``importlib.import_module``/``__import__`` of one of them, or a comparison with a
backend name (``backend.name == "cupy"``, ``xp.__name__ in (...)``) outside the seam.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import anynn

PACKAGE = Path(anynn.__file__).parent
SEAM = PACKAGE / "backend"
DEVICE_LIBRARIES = {"cupy", "cupyx", "array_api_compat", "array_api_strict", "torch", "scipy"}
BACKEND_NAMES = {"numpy", "cupy", "array_api_strict", "torch"}


def _outside_seam() -> list[Path]:
    return sorted(p for p in PACKAGE.rglob("*.py") if SEAM not in p.parents)


def _is_device_module(name: str) -> bool:
    return name.split(".")[0] in DEVICE_LIBRARIES


def _names_a_backend(node: ast.expr) -> bool:
    """A backend-name literal (or a collection of them), ``x.__name__`` or ``backend.name``."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value.split(".")[-1] in BACKEND_NAMES
    if isinstance(node, ast.Tuple | ast.List | ast.Set):
        return any(_names_a_backend(item) for item in node.elts)
    if isinstance(node, ast.Attribute):
        if node.attr == "__name__":
            return True
        owner = node.value
        owner_name = owner.id if isinstance(owner, ast.Name) else getattr(owner, "attr", "")
        return node.attr == "name" and "backend" in owner_name.lower()
    return False


def seam_violations(source: str) -> list[str]:
    """Every device-specific construct in ``source``, as ``"line: what"``."""
    found: list[str] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [
                f"{node.lineno}: import {a.name}" for a in node.names if _is_device_module(a.name)
            ]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            if _is_device_module(node.module):
                found.append(f"{node.lineno}: from {node.module} import ...")
        elif isinstance(node, ast.Call):
            func = node.func
            called = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            first = node.args[0] if node.args else None
            if (
                called in ("import_module", "__import__")
                and isinstance(first, ast.Constant)
                and isinstance(first.value, str)
                and _is_device_module(first.value)
            ):
                found.append(f"{node.lineno}: {called}({first.value!r})")
        elif isinstance(node, ast.Compare):
            if any(_names_a_backend(operand) for operand in [node.left, *node.comparators]):
                found.append(f"{node.lineno}: compares a backend name")
    return found


@pytest.mark.parametrize("path", _outside_seam(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_module_outside_the_seam_is_device_neutral(path: Path) -> None:
    assert seam_violations(path.read_text(encoding="utf-8")) == []


def test_the_seam_is_a_package_and_the_walk_covers_the_library() -> None:
    assert (SEAM / "__init__.py").is_file()
    walked = {p.name for p in _outside_seam()}
    assert {"layers.py", "activations.py", "data.py", "optimizers.py", "network.py"} <= walked


@pytest.mark.parametrize(
    "source",
    [
        "import cupy",
        "import scipy.special as s",
        "def f():\n    from array_api_compat import array_namespace",
        "def f():\n    import torch",
        "from cupyx.scipy import special",
        "import importlib\nimportlib.import_module('array_api_strict')",
        "if backend.name == 'cupy': pass",
        "if self.backend.name != other: pass",
        "ok = xp.__name__ in ('numpy', 'array_api_compat.numpy')",
        "ok = name in ('cupy', 'torch')",
    ],
)
def test_the_walk_catches_each_kind_of_leak(source: str) -> None:
    assert seam_violations(source)


@pytest.mark.parametrize(
    "source",
    [
        "import numpy as np",
        "from .backend import Backend",
        "if activation.name == 'softmax': pass",
        "if loss.name in ('bce', 'cce'): pass",
    ],
)
def test_the_walk_allows_neutral_code(source: str) -> None:
    assert seam_violations(source) == []
