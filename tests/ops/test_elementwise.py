"""Binary arithmetic (ADD, SUB, MUL, DIV, MAXIMUM, MINIMUM, SQUARED_DIFFERENCE, POW, FLOOR_DIV,
FLOOR_MOD) against LiteRT's reference kernels."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from hypothesis.extra import numpy as hnp

import numlite
from harness import check_op, examples, run_litert, run_numlite, single_op_model

FUSED = ("ADD", "SUB", "MUL", "DIV")
ACTS = ["NONE", "RELU", "RELU6", "RELU_N1_TO_1", "TANH"]
# Integer types each op accepts without quantization (LiteRT's supported set).
INT_TYPES = {
    "ADD": [np.int32, np.int64, np.int16], "SUB": [np.int32, np.int64],
    "MUL": [np.int32, np.int64, np.int16, np.uint32], "DIV": [np.int32],
    "MAXIMUM": [np.int32, np.int64, np.int16, np.int8, np.uint8],
    "MINIMUM": [np.int32, np.int64, np.int16, np.int8, np.uint8],
    "SQUARED_DIFFERENCE": [np.int32], "POW": [np.int32],
    "FLOOR_DIV": [np.int32, np.int16, np.int8], "FLOOR_MOD": [np.int32, np.int64, np.int16, np.int8],
}
NONZERO_DIVISOR = ("DIV", "FLOOR_DIV", "FLOOR_MOD")


def _pair(data, dtype, lo, hi, max_dims=5, nonzero=False):
    shapes = data.draw(hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=max_dims, max_side=4))
    if np.dtype(dtype).kind == "f":
        elems = st.floats(lo, hi, width=np.finfo(dtype).bits)
    else:
        elems = st.integers(lo, hi)
    a = data.draw(hnp.arrays(dtype, shapes.input_shapes[0], elements=elems))
    b = data.draw(hnp.arrays(dtype, shapes.input_shapes[1], elements=elems.filter(bool) if nonzero else elems))
    return a, b


@pytest.mark.parametrize("opcode", list(INT_TYPES))
@settings(max_examples=examples(20), deadline=None)
@given(data=st.data())
def test_binary_float32(opcode, data):
    lo, hi = (-4, 4) if opcode == "POW" else (-10, 10)
    a, b = _pair(data, np.float32, lo, hi, nonzero=opcode in NONZERO_DIVISOR)
    opts = {"fused_activation_function": data.draw(st.sampled_from(ACTS))} if opcode in FUSED else {}
    check_op(opcode, [a, b], [np.float32], **opts)


@pytest.mark.parametrize("opcode", list(INT_TYPES))
@settings(max_examples=examples(20), deadline=None)
@given(data=st.data())
def test_binary_integer(opcode, data):
    dtype = data.draw(st.sampled_from(INT_TYPES[opcode]))
    info = np.iinfo(dtype)
    if opcode == "POW":
        a, b = _pair(data, dtype, -6, 6)
        b = np.abs(b) % 8       # LiteRT refuses negative integer exponents
    else:
        span = 300 if opcode in ("MUL", "SQUARED_DIFFERENCE") else 10000
        a, b = _pair(data, dtype, max(info.min, -span), min(info.max, span), nonzero=opcode in NONZERO_DIVISOR)
    opts = {"fused_activation_function": data.draw(st.sampled_from(ACTS))} if opcode in FUSED else {}
    version = 4 if dtype == np.int64 and opcode in ("ADD", "SUB") else 1
    check_op(opcode, [a, b], [dtype], version=version, **opts)


def test_integer_wraparound():
    """Overflow wraps (int16/int32 add and mul); POW's int32 overflow gives INT32_MIN (x86)."""
    i16 = np.array([32767, -32768, 100], np.int16)
    check_op("ADD", [i16, np.array([1, -1, 5], np.int16)], [np.int16])
    check_op("MUL", [i16, np.array([2, 2, 5], np.int16)], [np.int16])
    i32 = np.array([2 ** 31 - 1, -2 ** 31, 100], np.int32)
    check_op("ADD", [i32, np.array([1, -1, 5], np.int32)], [np.int32])
    got = check_op("POW", [np.array([[3, 2, -3, 7, 0, -2]], np.int32), np.array([[25], [31], [3]], np.int32)],
                   [np.int32])[0]
    assert got[0, 0] == np.iinfo(np.int32).min and got[2, 2] == -27


# Special values: LiteRT clamps ADD/SUB/MUL/DIV float results to ±FLT_MAX (its activation
# range is [lowest, max] even for NONE), while MAXIMUM/MINIMUM keep a NaN only from input 2.
SPECIAL_A = np.array([np.nan, 1, np.inf, -np.inf, 0, -0.0, 1e30, -1e30, 3.5, -3.5, 7, -7, 5, 0, np.inf, 2, -2, 0.5],
                     np.float32)
SPECIAL_B = np.array([1, np.nan, 1, np.inf, 0, 0, 1e30, 1e30, 2, 2, -2, -2, 0, -3, np.inf, 0.5, 0.5, -3], np.float32)


@pytest.mark.parametrize("opcode,act", [(op, act) for op in FUSED for act in ("NONE", "RELU")]
                         + [(op, None) for op in ("MAXIMUM", "MINIMUM", "SQUARED_DIFFERENCE", "POW", "FLOOR_MOD")])
def test_special_values_exact(opcode, act):
    opts = {} if act is None else {"fused_activation_function": act}
    model, feed = single_op_model(opcode, [SPECIAL_A, SPECIAL_B], [np.float32], **opts)
    want = run_litert(model, feed)[0]
    got = run_numlite(model, feed)[0]
    np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("opcode", ["ADD", "MUL", "MAXIMUM", "MINIMUM"])
@settings(max_examples=examples(10), deadline=None)
@given(data=st.data())
def test_binary_float16(opcode, data):
    a, b = _pair(data, np.float16, -300, 300, max_dims=4)
    if data.draw(st.booleans()):
        a.flat[:1] = 60000          # saturates to ±65504 in ADD/MUL
    opts = {"fused_activation_function": data.draw(st.sampled_from(ACTS))} if opcode in FUSED else {}
    check_op(opcode, [a, b], [np.float16], **opts)


@pytest.mark.parametrize("opcode,dtype", [("FLOOR_DIV", np.float32), ("FLOOR_DIV", np.int32),
                                          ("FLOOR_MOD", np.int32), ("FLOOR_MOD", np.int64)])
def test_division_by_zero_fails(opcode, dtype):
    model, feed = single_op_model(opcode, [np.array([1, 2], dtype), np.array([1, 0], dtype)], [dtype])
    for run in (run_litert, run_numlite):
        with pytest.raises(RuntimeError, match="Division by 0"):
            run(model, feed)


def test_integer_div_truncates_and_pow_rejects_negative_exponent():
    a = np.array([-7, 7, -7, 7, 50, -50, 1, -1], np.int32)
    b = np.array([2, -2, -2, 2, 3, 3, 3, -3], np.int32)
    got = check_op("DIV", [a, b], [np.int32])[0]
    np.testing.assert_array_equal(got, [-3, -3, 3, 3, 16, -16, 0, 0])
    model, feed = single_op_model("POW", [np.array([2], np.int32), np.array([-1], np.int32)], [np.int32])
    for run in (run_litert, run_numlite):
        with pytest.raises(RuntimeError, match="negative"):
            run(model, feed)


def test_floor_div_rounds_in_double():
    # 1 / 0.1f is 9.99999985… in double but rounds to 10.0 in float32: LiteRT floors the double.
    a = np.array([1.0, -1.0, 3.0, 0.3], np.float32)
    b = np.array([0.1, 0.1, 0.3, 0.1], np.float32)
    got = check_op("FLOOR_DIV", [a, b], [np.float32])[0]
    assert got[0] == 9.0 and got[1] == -10.0


def test_mismatched_input_types_are_a_model_error():
    model, feed = single_op_model("ADD", [np.ones(3, np.float32), np.ones(3, np.int32)], [np.float32])
    with pytest.raises(numlite.ModelError):
        run_numlite(model, feed)


def test_uint32_mul_relu_n1_to_1_clamps_like_litert():
    # LiteRT's int activation bound -1 becomes UINT32_MAX, so min(max(x, lo), 1) is 1 everywhere.
    a = np.array([0, 3, 7, 100], np.uint32)
    got = check_op("MUL", [a, np.array([0, 1, 2, 3], np.uint32)], [np.uint32], fused_activation_function="RELU_N1_TO_1")
    assert (got[0] == 1).all()
