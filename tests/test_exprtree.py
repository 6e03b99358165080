"""Safe JSON expression trees: round trips, coverage of the printer, hostile trees."""

from __future__ import annotations

import json
import os

import pytest
import sympy
from hypothesis import given, settings
from hypothesis import strategies as st
from sympy.codegen.cfunctions import expm1, log1p

from anynn import ActivationError, ModelFileError, activations, exprtree, symbolic
from anynn.exprtree import X, decode, encode

EXPRESSIONS = [
    X,
    1 / (1 + sympy.exp(-X)),
    sympy.tanh(X),
    sympy.Max(0, X),
    sympy.Min(X, 1) + sympy.Max(X, -1, 2 * X),
    X * (1 + sympy.erf(X / sympy.sqrt(2))) / 2,
    sympy.erfc(X) + sympy.pi + sympy.E,
    sympy.Piecewise((sympy.Float(0.01) * X, X < 0), (X, True)),
    sympy.Piecewise(
        (X, sympy.And(X > 0, X <= 1)), (1, sympy.Or(X >= 1, sympy.Eq(X, 5))), (0, True)
    ),
    sympy.Piecewise((X, sympy.Ne(X, 2)), (0, True)),
    sympy.Heaviside(X),
    sympy.DiracDelta(X),
    log1p(sympy.exp(X)) + expm1(X),
    sympy.Abs(X) * sympy.sign(X),
    sympy.sin(X) + sympy.cos(X) + sympy.tan(X),
    sympy.asin(X / 2) + sympy.acos(X / 3) + sympy.atan(X),
    sympy.sinh(X) + sympy.cosh(X) + sympy.asinh(X) + sympy.acosh(X + 2) + sympy.atanh(X / 2),
    sympy.log(1 + X**2) + X ** sympy.Rational(1, 3) + X**-2,
    sympy.Float(-0.0) + sympy.Float(1.5e-300) * X + sympy.Integer(2**53) * X,
    sympy.Float("1.05070098735548049341933498529", 30) * X + sympy.Float("-1e-300", 60),
]


@pytest.mark.parametrize("expr", EXPRESSIONS, ids=str)
def test_round_trip_is_identical(expr: sympy.Expr) -> None:
    tree = encode(expr)
    assert json.loads(json.dumps(tree)) == tree  # plain JSON
    assert decode(json.loads(json.dumps(tree))) == expr


def test_every_builtin_expression_round_trips() -> None:
    for name, act in activations.BUILTINS.items():
        if act.expr is not None:
            assert decode(encode(act.expr, act.symbol)) == act.expr.subs(act.symbol, X), name


def test_other_symbol_is_renamed_to_x() -> None:
    y = sympy.Symbol("weird_name")
    assert decode(encode(sympy.tanh(y) * 2, y)) == 2 * sympy.tanh(X)


@pytest.mark.parametrize("name", sorted(symbolic.SUPPORTED_NODES))
def test_every_compilable_node_round_trips(name: str) -> None:
    spec = symbolic.BY_NAME[name]
    if name == "Piecewise":
        expr = sympy.Piecewise((X, X > 0), (2 * X, True))
    elif spec.kinds[0] is not sympy.Expr:  # And, Or
        expr = sympy.Piecewise((X, spec.sympy_type(X > 0, X < 1)), (0, True))
    elif issubclass(spec.sympy_type, sympy.logic.boolalg.Boolean):  # relations
        expr = sympy.Piecewise((X, spec.sympy_type(X, 1)), (0, True))
    else:
        expr = spec.sympy_type(*[X + i for i in range(max(spec.arity[0], 1))])
    assert decode(encode(expr)) == expr


@pytest.mark.parametrize(
    ("expr", "message"),
    [
        (sympy.gamma(X), "gamma"),
        (X + sympy.Symbol("y"), "free symbol y"),
        (X * sympy.Integer(2**60), "too large"),
        (sympy.Add(*[X**k for k in range(2, 300)]), "too large to store"),
    ],
)
def test_encode_rejects_what_cannot_be_stored(expr: sympy.Expr, message: str) -> None:
    with pytest.raises(ActivationError, match=message):
        encode(expr)


def _deep(depth: int) -> list:
    tree: list = ["Symbol", "x"]
    for _ in range(depth):
        tree = ["exp", tree]
    return tree


def _chain(node: str, leaf: list, exponent: int, depth: int) -> list:
    tree = leaf
    for _ in range(depth):
        tree = [node, tree, ["Integer", exponent]]
    return tree


HOSTILE = {
    "import": ["__import__", ["Symbol", "x"]],
    "eval": ["eval", ["Symbol", "x"]],
    "symbol_code": ["Symbol", "__import__('os').environ.__setitem__('ANYNN_CANARY', '1')"],
    "symbol_other": ["Symbol", "y"],
    "not_a_list": {"Add": [1, 2]},
    "empty": [],
    "name_not_str": [1, 2],
    "bad_arity": ["exp", ["Symbol", "x"], ["Symbol", "x"]],
    "too_few": ["Add", ["Symbol", "x"]],
    "huge_int": ["Integer", 10**30],
    "int_as_str": ["Integer", "5"],
    "bool_int": ["Integer", True],
    "nan": ["Float", float("nan")],
    "inf": ["Float", float("inf")],
    "float_str": ["Float", "1e5"],
    "float_code": ["Float", "__import__('os')", 0, 60],
    "float_huge_exponent": ["Float", "3", 10**6, 60],
    "float_huge_precision": ["Float", "3", 0, 10**6],
    "float_long_mantissa": ["Float", "f" * 10_000, 0, 256],
    "zero_denominator": ["Rational", 1, 0],
    "huge_power": ["Pow", ["Integer", 2**53], ["Integer", 2**53]],
    "huge_symbolic_power": ["Pow", ["Symbol", "x"], ["Integer", 10**9]],
    "power_chain": _chain("Pow", ["Integer", 3], 200, 40),
    "exact_power_chain": _chain("Pow", ["Rational", 2**53 - 1, 2**53], 200, 40),
    "exp_tower": ["exp", ["exp", ["exp", ["Integer", 100]]]],
    "complex_constant": ["log", ["Integer", -1]],
    "division_by_zero": ["Pow", ["Integer", 0], ["Integer", -1]],
    "deep": _deep(100_000),
    "wide": ["Add", *([["Symbol", "x"]] * 1_000_000)],
    "boolean_root": ["StrictGreaterThan", ["Symbol", "x"], ["Integer", 0]],
    "bad_piecewise": ["Piecewise", ["Symbol", "x"]],
    "pair_outside_piecewise": ["Add", ["ExprCondPair", ["Symbol", "x"], ["true"]], ["Integer", 1]],
    "constant_with_args": ["pi", ["Integer", 1]],
    "dirac_at_zero": ["DiracDelta", ["Integer", 0]],
}


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_hostile_trees_raise_model_file_error(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ANYNN_CANARY", raising=False)
    with pytest.raises(ModelFileError, match="expression tree"):
        decode(HOSTILE[name])
    assert "ANYNN_CANARY" not in os.environ


_NAMES = st.sampled_from([*exprtree.NODES, *exprtree.LEAVES, "x", "__import__", ""])
_ATOMS = st.one_of(
    st.integers(-(2**60), 2**60), st.floats(allow_nan=True), st.booleans(), st.none(),
    st.text(max_size=8), _NAMES,
)
_TREES = st.recursive(
    _ATOMS,
    lambda inner: st.builds(lambda name, args: [name, *args], _NAMES, st.lists(inner, max_size=4)),
    max_leaves=30,
)


@settings(max_examples=300, deadline=None)
@given(_TREES)
def test_arbitrary_json_decodes_or_raises_model_file_error(tree: object) -> None:
    try:
        expr = decode(tree)
    except ModelFileError:
        return
    assert isinstance(expr, sympy.Expr) and expr.free_symbols <= {X}
