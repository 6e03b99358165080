"""The activation compiler: SymPy -> verified stable :class:`Form` -> code.

It knows nothing of layers, files or networks; it asks the backend only for the probing
namespace and for erf/erfc. Modules, bottom up:

- :mod:`.nodes`: THE table of supported math (one row per node, one column per consumer);
- :mod:`.saturation`: saturating mpmath functions and the per-call evaluation context;
- :mod:`.form`: :class:`Form`, the kink convention, ``check_supported``, straight-line code;
- :mod:`.xp_codegen`: Array API source, compiled per namespace;
- :mod:`.c_codegen`: C source of fused elementwise kernels (no GPU needed);
- :mod:`.reference`: the bounded mpmath reference at the probe points;
- :mod:`.budget`: the time budget of a verification, size limits on SymPy steps;
- :mod:`.probe`: compiled functions against the reference, the accuracy criterion;
- :mod:`.exp_rewrite`, :mod:`.cancellation`, :mod:`.tails`: the rewrite strategies
  (``t = exp(-r|x|)``; ``expm1``/``log1p``/conjugates/``sech**2``; affine tails);
- :mod:`.output_derivative`: ``f'`` from the output, where verified;
- :mod:`.stability`: :func:`stable_form`, trying the candidates under the budget;
- :mod:`.exprtree`: safe JSON expression trees for model files.
"""

from .c_codegen import C_TYPES, DIRECTIONS, KernelPrinter, kernel_params, kernel_source
from .exp_rewrite import T
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
from .output_derivative import Y
from .probe import probe_namespace
from .reference import PROBE_POINTS, reference_values
from .stability import stable_form
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
