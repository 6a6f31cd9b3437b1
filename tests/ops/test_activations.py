"""Float activations (SOFTMAX, LOG_SOFTMAX, LOGISTIC, TANH, RELU*, LEAKY_RELU, PRELU, HARD_SWISH,
ELU, GELU) against LiteRT's reference kernels."""
import math

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from hypothesis.extra import numpy as hnp

import numlite
from harness import Const, check_op, examples, run_litert, run_numlite, single_op_model
from numlite.kernels.activations import erfc
from test_unary import check_builtin

SIMPLE = ["LOGISTIC", "TANH", "RELU", "RELU6", "RELU_N1_TO_1", "RELU_0_TO_1", "HARD_SWISH"]
HALF_REF = ["SOFTMAX", "LOGISTIC", "TANH", "GELU"]
SPECIAL = np.array([np.nan, np.inf, -np.inf, 0.0, -0.0, 1e30, -1e30, 3.5, -2.5, 0.5, 1.5, 2.5, -0.5, 1e-30, -7.0,
                    100.0, 16.6, 16.7, -8.9, -9.1], np.float32)


def _input(data, dtype=np.float32, min_dims=0, max_dims=5, lo=-20, hi=20):
    shape = data.draw(hnp.array_shapes(min_dims=min_dims, max_dims=max_dims, min_side=1, max_side=5))
    elems = st.one_of(st.floats(lo, hi, width=np.finfo(dtype).bits), st.sampled_from([0.0, -0.0, -3.0, 3.0]))
    return data.draw(hnp.arrays(dtype, shape, elements=elems))


def _options(opcode, data):
    if opcode == "SOFTMAX":
        return {"beta": data.draw(st.sampled_from([1.0, 0.5, 2.0, 0.0, -1.0]))}
    if opcode == "LEAKY_RELU":
        return {"alpha": data.draw(st.sampled_from([0.2, 0.01, 1.5, -0.5, 0.0]))}
    if opcode == "GELU":
        return {"approximate": data.draw(st.booleans())}
    return {}


@pytest.mark.parametrize("opcode", SIMPLE + ["SOFTMAX", "LOG_SOFTMAX", "LEAKY_RELU", "GELU"])
@settings(max_examples=examples(15), deadline=None)
@given(data=st.data())
def test_activation_float32(opcode, data):
    min_dims = 1 if "SOFTMAX" in opcode else 0
    x = _input(data, min_dims=min_dims)
    version = data.draw(st.integers(1, 2)) if opcode in ("SOFTMAX", "LOG_SOFTMAX", "LEAKY_RELU", "GELU") else 1
    tolerance = {}
    if opcode == "GELU":
        # LiteRT's tanh / erfc are not NumPy's: numlite is a few float32 ulps off where
        # 0.5 x (1 + tanh(..)) cancels for negative x (measured: |error| <= 2e-7 |x|, up to
        # 100% of a tiny output, e.g. 2.9e-7 vs 7.2e-7 at x = -4.82). Bound the error by the
        # input's magnitude instead of the (possibly tiny) output range.
        tolerance = {"atol": 1e-6 * float(np.abs(x).max(initial=0.0))}
    check_op(opcode, [x], [np.float32], version=version, **_options(opcode, data), **tolerance)


@settings(max_examples=examples(10), deadline=None)
@given(data=st.data())
def test_elu_float32(data):
    # ELU is only in LiteRT's optimized resolver.
    check_builtin("ELU", [_input(data)], [np.float32])


@pytest.mark.parametrize("opcode", HALF_REF)
@settings(max_examples=examples(8), deadline=None)
@given(data=st.data())
def test_activation_float16(opcode, data):
    x = _input(data, np.float16, min_dims=1 if opcode == "SOFTMAX" else 0, max_dims=4, lo=-8, hi=8)
    check_op(opcode, [x], [np.float16], **_options(opcode, data))


def test_softmax_float16_exp_overflows_like_litert():
    # exp(12) exceeds half's range: LiteRT stores it as inf in the output before dividing.
    check_op("SOFTMAX", [np.array([7.0, -5.0], np.float16)], [np.float16], beta=-1.0)


@pytest.mark.parametrize("opcode", SIMPLE + ["SOFTMAX", "LOG_SOFTMAX", "LEAKY_RELU", "GELU", "ELU"])
def test_special_values(opcode):
    """NaN/inf land where LiteRT puts them (e.g. HARD_SWISH(-inf) = NaN, RELU6(NaN) = NaN,
    LOGISTIC's cutoffs at 16.62 and -9, a NaN or +inf anywhere making a softmax row NaN)."""
    opts = {"beta": 1.0} if opcode == "SOFTMAX" else {"alpha": 0.2} if opcode == "LEAKY_RELU" else {}
    for x in (SPECIAL, SPECIAL[3:].reshape(1, -1), SPECIAL[7:].reshape(1, -1) * 3):
        if opcode == "ELU":
            want = check_builtin(opcode, [x], [np.float32])
        else:
            model, feed = single_op_model(opcode, [x], [np.float32], **opts)
            want = run_litert(model, feed)
        got = run_numlite(*single_op_model(opcode, [x], [np.float32], **opts))
        np.testing.assert_allclose(got[0], want[0], rtol=2e-6, atol=1e-30, equal_nan=True)


def test_softmax_rows_and_constant_rows():
    x = np.array([[-np.inf, -np.inf, -np.inf], [1e30, -1e30, 0], [5, 5, 5], [-100, 0, 100]], np.float32)
    for beta in (1.0, 0.0, 1e-3):
        check_op("SOFTMAX", [x], [np.float32], beta=beta)
    check_op("LOG_SOFTMAX", [x[1:]], [np.float32])


def test_softmax_needs_a_rank():
    model, feed = single_op_model("SOFTMAX", [np.array(1.0, np.float32)], [np.float32], beta=1.0)
    with pytest.raises(numlite.ModelError):
        run_numlite(model, feed)


@settings(max_examples=examples(20), deadline=None)
@given(data=st.data())
def test_prelu(data):
    x = _input(data, min_dims=1, max_dims=4)
    # alpha broadcasts to the input: a suffix of its shape with some dims collapsed to 1.
    k = data.draw(st.integers(0, x.ndim))
    a_shape = tuple(d if data.draw(st.booleans()) else 1 for d in x.shape[x.ndim - k:])
    alpha = data.draw(hnp.arrays(np.float32, a_shape, elements=st.floats(-2, 2, width=32)))
    check_op("PRELU", [x, Const(alpha) if data.draw(st.booleans()) else alpha], [np.float32])


def test_prelu_alpha_must_not_grow_the_input():
    model, feed = single_op_model("PRELU", [np.ones((1, 3), np.float32), np.ones((2, 3), np.float32)], [np.float32])
    with pytest.raises(numlite.ModelError):
        run_numlite(model, feed)


def test_erfc_helper_accuracy():
    xs = np.concatenate([np.linspace(-30, 30, 20001), [0.0, -0.0, 1.999999, 2.0, 2.000001, np.inf, -np.inf]])
    want = np.array([math.erfc(v) for v in xs])
    got = erfc(xs)
    assert np.abs(got - want).max() < 1e-13
    pos = want > 1e-300
    assert (np.abs(got - want)[pos] / want[pos]).max() < 1e-11
    assert np.isnan(erfc(np.array([np.nan])))[0]
