"""The node table: every row is understood by every printer, the reference and the codec."""

from __future__ import annotations

import math

import numpy as np
import pytest
import sympy

from anynn.backend import Backend
from anynn.symbolic import c_codegen, exprtree, nodes, reference, xp_codegen
from anynn.symbolic.c_codegen import KernelPrinter
from anynn.symbolic.form import X, check_supported
from anynn.symbolic.saturation import Evaluation
from anynn.symbolic.xp_codegen import ArrayApiPrinter, compile_function

HOST_XP = Backend("numpy").xp  # NumPy, or array-api-compat's wrapper before NumPy 2.1
ROWS = [pytest.param(spec, id=spec.name) for spec in nodes.NODES]


@pytest.mark.parametrize("spec", ROWS)
def test_every_row_is_handled_by_every_consumer(spec: nodes.NodeSpec) -> None:
    assert spec.xp is not None or spec.name in xp_codegen.STRUCTURAL_RULES
    assert spec.c is not None or spec.name in c_codegen.STRUCTURAL_RULES
    assert spec.mp is not None or spec.name in reference.STRUCTURAL_RULES
    assert spec.py is not None
    assert exprtree.NODES[spec.name] is spec
    assert nodes.BY_TYPE[spec.sympy_type] is spec


def test_every_table_row_has_an_onnx_spelling() -> None:
    """The node table's ``onnx`` column, or a structural rule of the exporter, covers every
    row; lower-case spellings name functions of anynn.onnx.elementary, capitalised ones
    ONNX operators (with float64 kernels in the float64 spelling)."""
    onnx = pytest.importorskip("onnx")
    from anynn.onnx import elementary
    from anynn.onnx.nodes import STRUCTURAL

    for spec in nodes.NODES:
        if spec.name == "ExprCondPair":  # only inside a Piecewise
            continue
        assert (spec.onnx is not None) != (spec.name in STRUCTURAL), spec.name
        for spelling in spec.onnx or ():
            if spelling[0].isupper():
                assert onnx.defs.has(spelling), spelling
            else:
                assert callable(getattr(elementary, spelling)), spelling
        if spec.onnx is not None:
            assert spec.onnx[1] not in {"Erf", "Tan", "Atan", "Asin", "Acos", "Sinh", "Cosh",
                                        "Asinh", "Acosh", "Atanh"}, spec.name


@pytest.mark.parametrize("rules", [xp_codegen.STRUCTURAL_RULES, c_codegen.STRUCTURAL_RULES])
def test_structural_rules_name_table_rows_with_a_printer_method(rules: frozenset[str]) -> None:
    printer = ArrayApiPrinter if rules is xp_codegen.STRUCTURAL_RULES else KernelPrinter
    for name in rules:
        assert name in nodes.BY_NAME
        assert name == "ExprCondPair" or hasattr(printer, f"_print_{name}")


def test_names_and_types_are_unique() -> None:
    assert len(nodes.BY_NAME) == len(nodes.BY_TYPE) == len(nodes.NODES)
    assert set(nodes.SUPPORTED_NODES) <= set(nodes.BY_NAME)


UNARY = [
    pytest.param(spec, id=spec.name)
    for spec in nodes.NODES
    if spec.arity == (1, 1) and spec.xp is not None and spec.name != "sign"
]


@pytest.mark.parametrize("spec", UNARY)
def test_unary_rows_agree_between_array_api_mpmath_and_float(spec: nodes.NodeSpec) -> None:
    point = 1.5 if spec.name == "acosh" else 0.375
    expr = spec.sympy_type(X)
    check_supported(expr)
    function, _ = compile_function(expr, X, HOST_XP)
    compiled = float(function(np.asarray([point]))[0])
    ev = Evaluation(30)
    exact = float(reference.mp_function(expr, X, ev)(ev.mp.mpf(point)))
    assert spec.py is not None
    assert compiled == pytest.approx(exact, rel=1e-14)
    assert spec.py(point) == pytest.approx(exact, rel=1e-14)


@pytest.mark.parametrize("spec", UNARY)
def test_unary_rows_have_float_and_double_c_spellings(spec: nodes.NodeSpec) -> None:
    expr = spec.sympy_type(X)
    single = KernelPrinter("float", X, "x").doprint(expr)
    double = KernelPrinter("double", X, "x").doprint(expr)
    assert "x" in single and "x" in double
    if spec.name not in ("Abs",):
        assert single != double or "?" in single


def test_float_spelling_never_computes_in_double() -> None:
    printed = KernelPrinter("float", X, "x").doprint(sympy.exp(X) + sympy.erf(X) + abs(X))
    assert "expf(x)" in printed and "erff(x)" in printed and "fabsf(x)" in printed


def test_sign_is_nan_propagating_everywhere() -> None:
    function, _ = compile_function(sympy.sign(X), X, HOST_XP)
    np.testing.assert_array_equal(function(np.array([-2.0, 0.0, 3.0])), [-1.0, 0.0, 1.0])
    assert math.isnan(float(function(np.array([np.nan]))[0]))
