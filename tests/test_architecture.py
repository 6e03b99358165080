"""The layering rules of docs/ARCHITECTURE.md, checked by walking the package's AST.

- no import cycle at run time (imports inside functions count; ``TYPE_CHECKING`` blocks
  do not, since they never run);
- (the device seam, that only ``anynn/backend/`` imports device libraries or compares
  backend names, is ``tests/test_backend_seam.py``);
- ``anynn.io`` never imports ``anynn.network``; ``anynn.symbolic`` knows nothing of layers,
  networks, training or files;
- optional interop libraries are imported only inside their own modules, never at
  ``import anynn``;
- every module sits in one layer of :data:`LAYERS` (the table in docs/ARCHITECTURE.md)
  and imports only from its own layer or the ones below;
- every module stays under 400 lines.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest
from repo_env import repo_env

PACKAGE = Path(__file__).resolve().parent.parent / "anynn"
OPTIONAL_LIBRARIES = ("sklearn", "onnx", "onnxruntime", "mpi4py", "torch", "matplotlib", "tqdm")
MAX_LINES = 400

# docs/ARCHITECTURE.md's layers, bottom up, by top-level module or package of anynn.
LAYERS = (
    ("errors", "summary", "_checks", "files", "registry"),
    ("backend",),
    ("symbolic", "validation", "history", "schedules", "dropout", "callbacks", "distributed"),
    ("activation", "bound_activation", "initializers", "state", "fused_output",
     "update_kernels", "exprtree", "stability"),
    ("builtin_activations", "layers", "losses", "onnx"),
    ("activations", "backprop", "metrics", "optimizer_base", "specs"),
    ("architecture", "optimizers"),
    ("io", "training"),
    ("network", "clipping", "progress"),
    ("cli", "gradcheck", "sklearn"),
    ("__init__", "__main__"),
)


def module_name(path: Path) -> str:
    """``anynn/io/__init__.py`` -> ``anynn.io``; ``anynn/layers.py`` -> ``anynn.layers``."""
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def runtime_nodes(tree: ast.AST) -> list[ast.AST]:
    """Every node of ``tree`` except those inside ``if TYPE_CHECKING:`` blocks."""
    out: list[ast.AST] = []
    stack = [tree]
    while stack:
        node = stack.pop()
        out.append(node)
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and _is_type_checking(child):
                stack.extend(child.orelse)
                continue
            stack.append(child)
    return out


def imported_modules(name: str) -> set[str]:
    """Absolute names of everything module ``name`` imports at run time."""
    path = MODULES[name]
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in runtime_nodes(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                prefix = ".".join(base + ([node.module] if node.module else []))
            else:
                prefix = node.module or ""
            submodules = {f"{prefix}.{alias.name}" for alias in node.names}
            found.update(submodules)
            if not submodules & MODULES.keys():  # `from pkg import name`: imports pkg itself
                found.add(prefix)
    return found


def internal_graph() -> dict[str, set[str]]:
    """Module -> the anynn modules it imports at run time (a package counts as its __init__)."""
    graph: dict[str, set[str]] = {}
    for name in MODULES:
        graph[name] = {m for m in imported_modules(name) if m in MODULES and m != name}
    return graph


def test_no_import_cycle_at_run_time() -> None:
    graph = internal_graph()
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                cycle = stack[stack.index(nxt):] + [nxt]
                pytest.fail("import cycle at run time: " + " -> ".join(cycle))
            if nxt not in state:
                visit(nxt)
        stack.pop()
        state[node] = 2

    for name in sorted(graph):
        if name not in state:
            visit(name)


def layer_of(module: str) -> int:
    """The index in :data:`LAYERS` of ``anynn.<top>[.…]``'s top-level name."""
    parts = module.split(".")
    top = parts[1] if len(parts) > 1 else "__init__"
    for index, names in enumerate(LAYERS):
        if top in names:
            return index
    raise AssertionError(f"{module} is in no layer: add it to LAYERS and docs/ARCHITECTURE.md")


def test_modules_import_only_from_their_layer_or_below() -> None:
    upward = [
        f"{name} (layer {layer_of(name)}) imports {dep} (layer {layer_of(dep)})"
        for name, deps in internal_graph().items()
        for dep in sorted(deps)
        if layer_of(dep) > layer_of(name)
    ]
    assert not upward, upward


def test_io_never_imports_network() -> None:
    for name in MODULES:
        if name == "anynn.io" or name.startswith("anynn.io."):
            assert "anynn.network" not in imported_modules(name), name


def test_symbolic_knows_nothing_of_layers() -> None:
    forbidden = ("anynn.layers", "anynn.network", "anynn.training", "anynn.io", "anynn.losses")
    for name in MODULES:
        if name == "anynn.symbolic" or name.startswith("anynn.symbolic."):
            bad = [m for m in imported_modules(name) if m.startswith(forbidden)]
            assert not bad, f"{name} imports {bad}"


def test_modules_stay_small() -> None:
    long = {n: len(p.read_text().splitlines()) for n, p in MODULES.items()}
    assert not {n: c for n, c in long.items() if c > MAX_LINES}


def test_import_anynn_imports_no_optional_library() -> None:
    code = (
        "import sys, anynn, anynn.cli\n"
        f"print(','.join(m for m in {OPTIONAL_LIBRARIES!r} if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=repo_env(), timeout=120
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == ""
