"""Every bad input raises a clear anynn error before any work starts: one test per case.

Each error must be an ``anynn.AnynnError`` and the matching built-in type (``ValueError``
or ``TypeError``), and its message must name the problem.
"""

from __future__ import annotations

import math
import re

import numpy as np
import pytest

import anynn
from anynn.backend import cupy_available

X4 = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=float)
Y4 = np.array([[0], [1], [1], [0]], dtype=float)


def net(backend: str = "numpy") -> anynn.Network:
    return anynn.Network(2, [(3, True, "tanh"), (1, True, "sigmoid")], backend=backend, seed=0)


def raises(kind: type[Exception], pattern: str) -> pytest.RaisesContext:  # type: ignore[type-arg]
    """Expect an anynn error that is also ``kind`` and whose message matches ``pattern``."""
    assert issubclass(kind, (ValueError, TypeError))
    return pytest.raises((anynn.AnynnError,), match=re.compile(pattern, re.IGNORECASE | re.S))


def check_kind(info: pytest.ExceptionInfo, kind: type[Exception]) -> None:  # type: ignore[type-arg]
    assert isinstance(info.value, anynn.AnynnError)
    assert isinstance(info.value, kind), f"{type(info.value).__name__} is not a {kind.__name__}"


# -- data -----------------------------------------------------------------------------
def test_x_with_three_dimensions(backend: str) -> None:
    with raises(ValueError, r"X must have shape \(n_samples, 2\).*\(4, 2, 1\)") as info:
        net(backend).predict(X4[:, :, None])
    check_kind(info, ValueError)


def test_x_with_wrong_feature_count(backend: str) -> None:
    with raises(ValueError, r"X has 3 feature\(s\).*expects 2") as info:
        net(backend).fit(np.zeros((4, 3)), Y4)
    check_kind(info, ValueError)


def test_x_backend_array_with_wrong_feature_count(backend: str) -> None:
    model = net(backend)
    pattern = r"X (must have shape \(n_samples, 2\)|has 3 feature\(s\)).*\(4, 3\)"
    with raises(ValueError, pattern) as info:
        model.predict(model.backend.asarray(np.zeros((4, 3))))
    check_kind(info, ValueError)


def test_y_with_wrong_number_of_samples(backend: str) -> None:
    with raises(ValueError, r"same number of samples.*4 and 3") as info:
        net(backend).fit(X4, Y4[:3])
    check_kind(info, ValueError)


def test_y_with_wrong_number_of_outputs(backend: str) -> None:
    with raises(ValueError, r"y must have shape \(n_samples, 1\).*\(4, 2\)") as info:
        net(backend).fit(X4, np.zeros((4, 2)))
    check_kind(info, ValueError)


def test_string_x(backend: str) -> None:
    with raises(TypeError, r"X must hold real numbers") as info:
        net(backend).predict([["a", "b"]])
    check_kind(info, TypeError)


def test_ragged_x(backend: str) -> None:
    with raises(TypeError, r"X is not a rectangular numeric array") as info:
        net(backend).fit([[0.0, 1.0], [1.0], [0.0, 0.0], [1.0, 1.0]], Y4)
    check_kind(info, TypeError)


def test_ragged_x_in_predict(backend: str) -> None:
    with raises(TypeError, r"X is not a rectangular numeric array") as info:
        net(backend).predict([[0.0, 1.0], [1.0]])
    check_kind(info, TypeError)


def test_none_y(backend: str) -> None:
    with raises(TypeError, r"y is required") as info:
        net(backend).fit(X4, None)
    check_kind(info, TypeError)


def test_nan_in_x(backend: str) -> None:
    X = X4.copy()
    X[2, 1] = np.nan
    with raises(ValueError, r"X holds 1 non-finite.*index \(2, 1\)") as info:
        net(backend).fit(X, Y4)
    check_kind(info, ValueError)


def test_nan_in_x_on_the_device(backend: str) -> None:
    model = net(backend)
    X = X4.copy()
    X[0, 0] = np.nan
    if not model.backend.on_host:  # a GPU array: no check (it would wait); NaN rows out
        out = anynn.to_numpy(model.predict(model.backend.asarray(X)))
        assert np.isnan(out[0]).all() and np.isfinite(out[1:]).all()
        return
    with raises(ValueError, r"X holds .*non-finite") as info:
        model.predict(model.backend.asarray(X))
    check_kind(info, ValueError)


def test_inf_in_y(backend: str) -> None:
    y = Y4.copy()
    y[1, 0] = np.inf
    with raises(ValueError, r"y holds 1 non-finite.*index \(1, 0\)") as info:
        net(backend).fit(X4, y)
    check_kind(info, ValueError)


def test_bce_target_outside_unit_interval(backend: str) -> None:
    with raises(ValueError, r"bce targets.*\[0, 1\]") as info:
        net(backend).fit(X4, Y4 * 2.0, loss="bce")
    check_kind(info, ValueError)


def test_cce_label_out_of_range(backend: str) -> None:
    model = anynn.Network(2, [(3, True, "softmax")], backend=backend)
    with raises(ValueError, r"cce class labels.*\[0, 3\)") as info:
        model.fit(X4, [0, 1, 2, 3], loss="cce")
    check_kind(info, ValueError)


def test_fit_on_empty_data(backend: str) -> None:
    with raises(ValueError, r"X is empty") as info:
        net(backend).fit(np.zeros((0, 2)), np.zeros((0, 1)))
    check_kind(info, ValueError)


# -- training arguments ------------------------------------------------------------------
def test_negative_epochs() -> None:
    with raises(ValueError, r"epochs must be >= 0; got -1") as info:
        net().fit(X4, Y4, epochs=-1)
    check_kind(info, ValueError)


def test_float_epochs() -> None:
    with raises(TypeError, r"epochs must be an int; got float") as info:
        net().fit(X4, Y4, epochs=2.5)
    check_kind(info, TypeError)


def test_batch_size_zero() -> None:
    with raises(ValueError, r"batch_size must be >= 1; got 0") as info:
        net().fit(X4, Y4, batch_size=0)
    check_kind(info, ValueError)


def test_negative_learning_rate() -> None:
    with raises(ValueError, r"lr.*-0\.1") as info:
        net().fit(X4, Y4, lr=-0.1)
    check_kind(info, ValueError)


def test_unknown_loss() -> None:
    with raises(ValueError, r"unknown loss 'hinge'.*mse") as info:
        net().fit(X4, Y4, loss="hinge")
    check_kind(info, ValueError)


def test_unknown_loss_in_evaluate() -> None:
    with raises(ValueError, r"unknown loss 'l1'") as info:
        net().evaluate(X4, Y4, loss="l1")
    check_kind(info, ValueError)


def test_unknown_optimizer() -> None:
    with raises(ValueError, r"unknown optimizer 'lbfgs'") as info:
        net().fit(X4, Y4, optimizer="lbfgs")
    check_kind(info, ValueError)


def test_bad_arguments_leave_weights_untouched() -> None:
    model = net()
    before = [anynn.to_numpy(p.value).copy() for p in model.parameters()]
    X = X4.copy()
    X[3, 0] = np.nan
    with pytest.raises(anynn.AnynnError):
        model.fit(X, Y4, epochs=5)
    for old, p in zip(before, model.parameters(), strict=True):
        np.testing.assert_array_equal(old, anynn.to_numpy(p.value))


# -- construction ------------------------------------------------------------------------
def test_empty_layers() -> None:
    with raises(ValueError, r"at least one layer spec; got \[\]") as info:
        anynn.Network(2, [])
    check_kind(info, ValueError)


def test_no_layers_given() -> None:
    with raises(ValueError, r"needs layers=") as info:
        anynn.Network(2)
    check_kind(info, ValueError)


def test_both_layers_and_specs() -> None:
    with raises(ValueError, r"layers= or specs=, not both") as info:
        anynn.Network(2, layers=[1], specs=[1])
    check_kind(info, ValueError)


def test_dict_as_layers() -> None:
    with raises(TypeError, r"layers must be a list of layer specs; got dict") as info:
        anynn.Network(2, {"length": 1, "bias": True})  # type: ignore[arg-type]
    check_kind(info, TypeError)


def test_non_int_layer_length() -> None:
    with raises(TypeError, r"layers\[1\]: length must be an int; got float: 2\.5") as info:
        anynn.Network(2, [3, (2.5, True)])
    check_kind(info, TypeError)


def test_zero_layer_length() -> None:
    with raises(ValueError, r"layers\[0\]: length must be >= 1; got 0") as info:
        anynn.Network(2, [0])
    check_kind(info, ValueError)


def test_bias_of_wrong_type() -> None:
    with raises(TypeError, r"layers\[0\]: bias must be True or False; got str") as info:
        anynn.Network(2, [(3, "yes")])
    check_kind(info, TypeError)


def test_tuple_spec_of_wrong_length() -> None:
    with raises(ValueError, r"layers\[0\].*got 4 items") as info:
        anynn.Network(2, [(3, True, "tanh", "extra")])
    check_kind(info, ValueError)


def test_spec_of_unknown_type() -> None:
    with raises(TypeError, r"layers\[0\]: a layer spec must be.*got str") as info:
        anynn.Network(2, ["three"])
    check_kind(info, TypeError)


def test_dict_spec_with_unknown_key() -> None:
    with raises(ValueError, r"layers\[0\]: unknown key\(s\) \['size'\]") as info:
        anynn.Network(2, [{"size": 3}])
    check_kind(info, ValueError)


def test_dict_spec_without_length() -> None:
    with raises(ValueError, r"layers\[0\]: the dict needs a 'length' key") as info:
        anynn.Network(2, [{"bias": True}])
    check_kind(info, ValueError)


def test_non_int_inputs() -> None:
    with raises(TypeError, r"inputs must be an int; got str") as info:
        anynn.Network("2", [1])  # type: ignore[arg-type]
    check_kind(info, TypeError)


def test_zero_inputs() -> None:
    with raises(ValueError, r"inputs must be >= 1; got 0") as info:
        anynn.Network(0, [1])
    check_kind(info, ValueError)


def test_negative_seed() -> None:
    with raises(ValueError, r"seed must be >= 0; got -3") as info:
        anynn.Network(2, [1], seed=-3)
    check_kind(info, ValueError)


def test_unknown_activation_name() -> None:
    with raises(ValueError, r"unknown activation 'swishy'.*relu") as info:
        anynn.Network(2, [(3, True, "swishy")])
    check_kind(info, ValueError)
    assert isinstance(info.value, anynn.ActivationError)


def test_activation_that_is_not_sympy_callable() -> None:
    with raises(ValueError, r"could not be called with a SymPy symbol") as info:
        anynn.Network(2, [(3, True, lambda x: math.tanh(x))])
    check_kind(info, ValueError)
    assert isinstance(info.value, anynn.ActivationError)


def test_activation_of_wrong_type() -> None:
    with raises(ValueError, r"an activation must be.*got int: 3") as info:
        anynn.Network(2, [(3, True, 3)])
    check_kind(info, ValueError)


def test_activation_with_two_symbols() -> None:
    import sympy

    a, b = sympy.symbols("a b")
    with raises(ValueError, r"one free symbol.*2") as info:
        anynn.Network(2, [(3, True, a * b)])
    check_kind(info, ValueError)


# -- backends and dtypes ---------------------------------------------------------------
def test_unknown_backend_name() -> None:
    with raises(ValueError, r"unknown backend 'tensorflow'.*numpy") as info:
        anynn.Network(2, [1], backend="tensorflow")
    check_kind(info, ValueError)
    assert isinstance(info.value, anynn.BackendUnavailableError)


def test_module_that_is_not_an_array_namespace() -> None:
    with raises(ValueError, r"module 'math' is not an Array API namespace") as info:
        anynn.Network(2, [1], backend=math)
    check_kind(info, ValueError)


def test_backend_of_wrong_type() -> None:
    with raises(TypeError, r"backend must be a name.*got int") as info:
        anynn.Network(2, [1], backend=3)  # type: ignore[arg-type]
    check_kind(info, TypeError)


@pytest.mark.skipif(cupy_available(), reason="a CUDA GPU is usable here")
def test_cupy_without_a_gpu() -> None:
    with raises(ValueError, r"backend='cupy' needs CuPy and a CUDA GPU") as info:
        anynn.Network(2, [1], backend="cupy")
    check_kind(info, ValueError)
    assert isinstance(info.value, anynn.BackendUnavailableError)


@pytest.mark.parametrize("dtype", ["int32", "float16", "double precision"])
def test_bad_dtype(dtype: str) -> None:
    with raises(ValueError, rf"dtype must be one of float32, float64; got '{dtype}'") as info:
        anynn.Network(2, [1], dtype=dtype)
    check_kind(info, ValueError)


# -- parameters ------------------------------------------------------------------------
def test_wrong_shape_weight_assignment(backend: str) -> None:
    model = net(backend)
    with raises(ValueError, r"weights must have shape \(2, 3\); got \(3, 2\)") as info:
        model.layers[0].weights = np.zeros((3, 2))
    check_kind(info, ValueError)


def test_wrong_shape_bias_assignment(backend: str) -> None:
    model = net(backend)
    with raises(ValueError, r"biases must have shape \(3,\); got \(4,\)") as info:
        model.layers[0].biases = np.zeros(4)
    check_kind(info, ValueError)


def test_bias_assignment_on_layer_without_bias() -> None:
    model = anynn.Network(2, [(3, False, "tanh")])
    with raises(ValueError, r"bias=False; it has no biases") as info:
        model.layers[0].biases = np.zeros(3)
    check_kind(info, ValueError)
