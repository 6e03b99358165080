"""The activation compiler: SymPy -> verified stable :class:`Form` -> code.

It knows nothing of layers, files or networks; it asks the backend only for the probing
namespace and for erf/erfc. Modules, bottom up:

- :mod:`.nodes`: THE table of supported math (one row per node, one column per consumer);
- :mod:`.saturation`: saturating mpmath functions and the per-call evaluation context;
- :mod:`.form`: :class:`Form`, the kink convention, ``check_supported``, straight-line code;
- :mod:`.xp_codegen`: Array API source, compiled per namespace;
- :mod:`.c_codegen`: C source of fused elementwise kernels (no GPU needed);
- :mod:`.reference`: the bounded mpmath reference at the probe points;
- :mod:`.stability`: the probe, the ``t = exp(-|x|)`` rewrite, ``f'`` from the output,
  :func:`stable_form`;
- :mod:`.exprtree`: safe JSON expression trees for model files.
"""

from .c_codegen import C_TYPES, DIRECTIONS, KernelPrinter, kernel_params, kernel_source
from .form import (
    MAX_EXPANDED_POWER,
    Form,
    X,
    canonical_steps,
    check_supported,
    differentiate,
    float_value,
    heaviside_includes_zero,
)
from .nodes import BY_NAME, BY_TYPE, NODES, SUPPORTED_NODES, NodeSpec, spec_of
from .reference import PROBE_POINTS, reference_values
from .stability import T, Y, probe_namespace, stable_form
from .xp_codegen import (
    ArrayApiPrinter,
    CompiledExpression,
    compile_form,
    compile_function,
    generate_source,
)

__all__ = [
    "BY_NAME", "BY_TYPE", "C_TYPES", "DIRECTIONS", "MAX_EXPANDED_POWER", "NODES",
    "SUPPORTED_NODES", "ArrayApiPrinter", "CompiledExpression", "Form", "KernelPrinter",
    "PROBE_POINTS", "NodeSpec", "T", "X", "Y", "canonical_steps", "check_supported", "compile_form",
    "compile_function", "differentiate", "float_value", "generate_source",
    "heaviside_includes_zero", "kernel_params", "kernel_source", "probe_namespace",
    "reference_values", "spec_of", "stable_form",
]
