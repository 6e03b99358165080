"""Every generated CUDA kernel compiles, without a GPU (``nox -s kernels``).

Each kernel the CuPy backend would build (``ElementwiseKernel(in_params, out_params,
body, name)``: the activation kernels of every built-in in float32 and float64, every
direction, the bias-folded forward, every fused optimizer update and the softmax + cce
output layer) is wrapped the way CuPy wraps an elementwise body (inputs as ``const T``,
outputs as ``T &`` references, a grid-stride loop) and compiled to PTX with ``nvcc`` for
sm_90; a float32 kernel must contain no double-precision instruction. Skipped where
``nvcc`` is missing; on a GPU machine the GPU tests build the real kernels through CuPy.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from anynn import activations, fused_output, optimizers
from anynn.bound_activation import bias_kernel
from anynn.symbolic import kernel_params, kernel_source

NVCC = shutil.which("nvcc") or (
    "/usr/local/cuda/bin/nvcc" if os.path.exists("/usr/local/cuda/bin/nvcc") else None
)
pytestmark = pytest.mark.skipif(NVCC is None, reason="needs nvcc (the CUDA toolkit)")

CUDA_TYPES = {"float32": "float", "float64": "double"}
KernelSpec = tuple[str, str, str, str]
"""``(name, in_params, out_params, body)`` as given to ``ElementwiseKernel``."""


def activation_kernels(dtype: str) -> Iterator[KernelSpec]:
    """Every fused activation kernel of every elementwise built-in (with the bias
    folded-in forward)."""
    for name, act in sorted(activations.BUILTINS.items()):
        if not act.elementwise:
            continue
        form = act.form
        directions = ["forward", "backward"]
        if form.df_from_output is not None:
            directions.append("backward_from_output")
        for direction in directions:
            in_params, out_params = kernel_params(direction, dtype)
            body = kernel_source(form, direction, dtype)
            yield f"anynn_{name}_{direction}", in_params, out_params, body
        in_params, out_params, body = bias_kernel(kernel_source(form, "forward", dtype), dtype)
        yield f"anynn_{name}_forward_with_bias", in_params, out_params, body


def optimizer_kernels(dtype: str) -> Iterator[KernelSpec]:
    """Every variant of every fused optimizer update."""
    variants = [optimizers.SGD(momentum=m, nesterov=n, weight_decay=wd)
                for m, n in ((0.0, False), (0.9, False), (0.9, True)) for wd in (0.0, 0.1)]
    variants += [cls(weight_decay=wd) for cls in (optimizers.Adam, optimizers.AdamW)
                 for wd in (0.0, 0.1)]
    variants += [optimizers.RMSprop(momentum=m, weight_decay=wd)
                 for m in (0.0, 0.9) for wd in (0.0, 0.1)]
    seen: set[str] = set()
    for optimizer in variants:
        for spec in (optimizer.update_kernel(dtype), optimizer.outer_update_kernel(dtype)):
            if spec is not None and spec.name not in seen:
                seen.add(spec.name)
                yield spec.name, spec.in_params, spec.out_params, spec.body


def all_kernels(dtype: str) -> list[KernelSpec]:
    """Activations, optimizer updates and the softmax + cce output layer."""
    return [*activation_kernels(dtype), *optimizer_kernels(dtype),
            *fused_output.kernel_sources(dtype)]


def _params(params: str) -> list[tuple[str, str]]:
    return [(p.split()[0], p.split()[1]) for p in params.split(",") if p.strip()]


def cuda_source(kernel: KernelSpec) -> str:
    """The kernel as CuPy's elementwise template would write it (simplified indexing)."""
    name, in_params, out_params, body = kernel
    ins, outs = _params(in_params), _params(out_params)
    out_names = {n for _, n in outs}
    args = [f"const {CUDA_TYPES[t]}* __restrict__ _raw_{n}" for t, n in ins if n not in out_names]
    args += [f"{CUDA_TYPES[t]}* _raw_{n}" for t, n in outs]
    loads = [f"const {CUDA_TYPES[t]} {n} = _raw_{n}[i];" for t, n in ins if n not in out_names]
    loads += [f"{CUDA_TYPES[t]} &{n} = _raw_{n}[i];" for t, n in outs]
    return (
        f'extern "C" __global__ void {name}({", ".join(args)}, long long _n) {{\n'
        "  for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < _n;\n"
        "       i += (long long)blockDim.x * gridDim.x) {\n    "
        + "\n    ".join(loads)
        + "\n    "
        + body.replace("\n", "\n    ")
        + "\n  }\n}\n"
    )


@pytest.mark.parametrize("dtype", sorted(CUDA_TYPES))
def test_every_kernel_compiles_with_nvcc(dtype: str, tmp_path: Path) -> None:
    kernels = all_kernels(dtype)
    assert len({k[0] for k in kernels}) == len(kernels)
    source = tmp_path / f"kernels_{dtype}.cu"
    source.write_text("#include <cuda_runtime.h>\n" + "\n".join(map(cuda_source, kernels)))
    ptx = tmp_path / f"kernels_{dtype}.ptx"
    result = subprocess.run(  # noqa: S603 - a fixed compiler command on our own file
        [str(NVCC), "-arch=sm_90", "--ptx", "-ftz=true", "-o", str(ptx), str(source)],
        capture_output=True, text=True, timeout=600, check=False,
    )
    assert result.returncode == 0, result.stderr[-4000:]
    text = ptx.read_text()
    for name, *_ in kernels:
        assert f".entry {name}(" in text, name
    if dtype == "float32":
        doubles = re.findall(r"^\s*\S+\.f64\b.*$", text, flags=re.MULTILINE)
        assert not doubles, doubles[:5]
