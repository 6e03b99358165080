"""The CuPy kernel sources, compiled as plain C99 on the host, agree with the standard path.

CUDA's device math library and C99's ``math.h`` share names and semantics for what the
generated kernels use (``expf``, ``log1pf``, ``erff``, ``isnan`` ...), so compiling each
kernel body into a small C loop checks its syntax, its types and its arithmetic on every
machine, GPU or not. The GPU tests in ``test_kernels.py`` check the real kernels.
"""

from __future__ import annotations

import ctypes
import shutil
import subprocess
import warnings

import numpy as np
import pytest
from activation_corpus import CORPUS

from anynn import activations
from anynn.errors import ActivationWarning
from anynn.symbolic import kernel_source

CC = shutil.which("cc") or shutil.which("gcc")
pytestmark = pytest.mark.skipif(CC is None, reason="needs a C compiler")

ELEMENTWISE = sorted(n for n, a in activations.BUILTINS.items() if a.elementwise)
CUSTOM = {
    "naive_softplus": lambda x: __import__("sympy").log(1 + __import__("sympy").exp(x)),
    "gaussian": lambda x: x * __import__("sympy").exp(-(x**2)),
}
CUSTOM.update({f"corpus_{n}": e for n, e, expected in CORPUS if expected != "refused"})
GRID = np.concatenate(
    [np.linspace(-30.0, 30.0, 601), [-1e4, -800.0, -90.0, -1e-3, 0.0, 1e-3, 90.0, 800.0, 1e4]]
)
CTYPES = {"float32": "float", "float64": "double"}


def _c_function(name: str, body: str, ctype: str) -> str:
    return (
        f"void {name}(const {ctype}* xs, const {ctype}* gs, const {ctype}* ys, "
        f"{ctype}* outs, long n) {{\n"
        "  for (long i = 0; i < n; ++i) {\n"
        f"    const {ctype} x = xs[i]; const {ctype} g = gs[i]; const {ctype} y = ys[i];\n"
        f"    {ctype} out;\n"
        "    (void)x; (void)g; (void)y;\n"
        f"    {body}\n"
        "    outs[i] = out;\n  }\n}\n"
    )


@pytest.fixture(scope="module")
def compiled(tmp_path_factory: pytest.TempPathFactory) -> dict[tuple[str, str, str], object]:
    """Every kernel of every activation and dtype in one shared library."""
    acts = {n: activations.get(n) for n in ELEMENTWISE}
    with warnings.catch_warnings():  # corpus entries with a vanishing derivative warn
        warnings.simplefilter("ignore", ActivationWarning)
        acts.update({n: activations.get(fn) for n, fn in CUSTOM.items()})
    chunks = ["#include <math.h>\n"]
    names: dict[tuple[str, str, str], str] = {}
    for index, (act_name, act) in enumerate(acts.items()):
        form = act.form
        dirs = ["forward", "backward"] + (
            ["backward_from_output"] if form.df_from_output is not None else []
        )
        for dtype, ctype in CTYPES.items():
            for direction in dirs:
                c_name = f"k{index}_{direction}_{dtype}"
                chunks.append(_c_function(c_name, kernel_source(form, direction, dtype), ctype))
                names[(act_name, direction, dtype)] = c_name
    folder = tmp_path_factory.mktemp("kernels")
    source, library = folder / "kernels.c", folder / "kernels.so"
    source.write_text("\n".join(chunks))
    result = subprocess.run(
        [str(CC), "-std=c99", "-O1", "-shared", "-fPIC", "-Werror=implicit-function-declaration",
         str(source), "-o", str(library), "-lm"],
        capture_output=True, text=True, check=False,
    )
    assert result.returncode == 0, result.stderr
    lib = ctypes.CDLL(str(library))
    return {key: (getattr(lib, c_name), acts[key[0]]) for key, c_name in names.items()}


def _run(function: object, dtype: str, x: np.ndarray, g: np.ndarray, y: np.ndarray) -> np.ndarray:
    out = np.empty_like(x)
    pointer = ctypes.POINTER(ctypes.c_float if dtype == "float32" else ctypes.c_double)
    function(  # type: ignore[operator]
        x.ctypes.data_as(pointer), g.ctypes.data_as(pointer), y.ctypes.data_as(pointer),
        out.ctypes.data_as(pointer), ctypes.c_long(x.size),
    )
    return out


@pytest.mark.parametrize("dtype", sorted(CTYPES))
@pytest.mark.parametrize("name", ELEMENTWISE + sorted(CUSTOM))
def test_c_kernels_match_the_standard_path(compiled: dict, name: str, dtype: str) -> None:
    x = GRID.astype(dtype)
    g = np.linspace(0.5, 1.5, x.size).astype(dtype)
    act = compiled[(name, "forward", dtype)][1]
    with np.errstate(all="ignore"):
        f_ref = np.asarray(act(x))
        df_ref = np.asarray(act.derivative(x))
    tol = {"float32": 2e-5, "float64": 1e-12}[dtype]
    f_c = _run(compiled[(name, "forward", dtype)][0], dtype, x, g, x)
    np.testing.assert_allclose(f_c, f_ref, rtol=tol, atol=tol)
    back = _run(compiled[(name, "backward", dtype)][0], dtype, x, g, f_c)
    np.testing.assert_allclose(back, g * df_ref, rtol=tol, atol=tol)
    if (name, "backward_from_output", dtype) in compiled:
        from_output = _run(compiled[(name, "backward_from_output", dtype)][0], dtype, x, g, f_c)
        np.testing.assert_allclose(from_output, g * df_ref, rtol=tol, atol=tol)


@pytest.mark.parametrize("name", ["relu", "leaky_relu", "elu", "sigmoid", "gelu"])
def test_c_kernels_propagate_nan(compiled: dict, name: str) -> None:
    x = np.array([np.nan, 1.0], dtype=np.float32)
    for direction in ("forward", "backward"):
        out = _run(compiled[(name, direction, "float32")][0], "float32", x, np.ones_like(x), x)
        assert np.isnan(out[0]) and np.isfinite(out[1])
