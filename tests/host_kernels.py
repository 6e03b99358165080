"""Run elementwise-kernel sources on the host: each ``(in_params, out_params, body)`` as
``ElementwiseKernel`` takes it, compiled as a C99 loop (CUDA's device math and C99's
``math.h`` share the names the generated bodies use).

Inputs may be arrays or scalars and broadcast like CuPy's; outputs given are in-out (read,
then written, as CuPy's output references), outputs not given are allocated.
"""

from __future__ import annotations

import ctypes
import shutil
import subprocess
from pathlib import Path
from typing import Any

import numpy as np

CC = shutil.which("cc") or shutil.which("gcc")
C_TYPES = {"float32": "float", "float64": "double"}
KernelSpec = tuple[str, str, str, str]
"""``(name, in_params, out_params, body)``."""


def params(text: str) -> list[tuple[str, str]]:
    return [(p.split()[0], p.split()[1]) for p in text.split(",") if p.strip()]


def c_function(spec: KernelSpec) -> str:
    name, in_params, out_params, body = spec
    ins, outs = params(in_params), params(out_params)
    args = [f"const {C_TYPES[t]}* in_{n}" for t, n in ins]
    args += [f"{C_TYPES[t]}* out_{n}" for t, n in outs]
    loads = [f"const {C_TYPES[t]} {n} = in_{n}[i];" for t, n in ins]
    loads += [f"{C_TYPES[t]} {n} = out_{n}[i];" for t, n in outs]
    stores = [f"out_{n}[i] = {n};" for _, n in outs]
    return (
        f"void {name}(long n, {', '.join(args)}) {{\n"
        "  for (long i = 0; i < n; ++i) {\n    "
        + "\n    ".join(loads)
        + "\n    {\n    " + body.replace("\n", "\n    ") + "\n    }\n    "
        + "\n    ".join(stores)
        + "\n  }\n}\n"
    )


class HostKernels:
    """Kernel sources compiled into one shared library; call them by name."""

    def __init__(self, specs: list[KernelSpec], directory: Path) -> None:
        if CC is None:
            raise RuntimeError("needs a C compiler")
        self.specs = {spec[0]: spec for spec in specs}
        source = directory / "kernels.c"
        source.write_text("#include <math.h>\n" + "\n".join(map(c_function, specs)))
        library = directory / "kernels.so"
        subprocess.run(  # noqa: S603 - a fixed compiler command on our own file
            [CC, "-O1", "-shared", "-fPIC", "-std=c99", "-o", str(library), str(source), "-lm"],
            check=True, capture_output=True, timeout=300,
        )
        self.library = ctypes.CDLL(str(library))

    def __call__(self, name: str, *args: Any) -> list[np.ndarray]:
        """Run kernel ``name`` on ``args`` (inputs, then any in-out outputs); return the
        outputs (the in-out arrays are updated in place too)."""
        _, in_params, out_params, _ = self.specs[name]
        ins, outs = params(in_params), params(out_params)
        arrays = [np.asarray(a) for a in args]
        shape = np.broadcast_shapes(*(a.shape for a in arrays))
        dtype = C_TYPES[ins[0][0]] if ins else C_TYPES[outs[0][0]]
        np_dtype = np.float32 if dtype == "float" else np.float64
        inputs = [
            np.ascontiguousarray(np.broadcast_to(a.astype(np_dtype), shape))
            for a in arrays[: len(ins)]
        ]
        given = arrays[len(ins) :]
        outputs = [np.ascontiguousarray(np.broadcast_to(a, shape), dtype=np_dtype).copy()
                   for a in given]
        outputs += [np.zeros(shape, dtype=np_dtype) for _ in range(len(outs) - len(given))]
        pointer = ctypes.POINTER(ctypes.c_float if dtype == "float" else ctypes.c_double)
        getattr(self.library, name)(
            ctypes.c_long(int(np.prod(shape))),
            *[a.ctypes.data_as(pointer) for a in inputs + outputs],
        )
        for target, result in zip(given, outputs, strict=False):
            if isinstance(target, np.ndarray) and target.shape == shape:
                target[...] = result
        return outputs
