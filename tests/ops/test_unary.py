"""Unary math (SQRT … ROUND, ABS, NEG, ZEROS_LIKE) and CAST against LiteRT."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from hypothesis.extra import numpy as hnp

from harness import _run, assert_outputs_match, check_op, examples, run_litert, run_numlite, single_op_model

FLOAT_OPS = ["SQRT", "RSQRT", "EXP", "LOG", "ABS", "NEG", "SIN", "COS", "SQUARE", "FLOOR", "ZEROS_LIKE"]
# Ops LiteRT registers only in its optimized resolver.
BUILTIN_ONLY = ["CEIL", "ROUND"]
# Float16 kernels LiteRT's reference resolver has. The other float ops refuse float16 in both
# runtimes (LiteRT runs them only through XNNPACK, whose half approximations are no reference).
HALF_REF = ["NEG", "SIN", "COS", "FLOOR"]
SPECIAL = np.array([np.nan, np.inf, -np.inf, 0.0, -0.0, 1e30, -1e30, 3.5, -2.5, 0.5, 1.5, 2.5, -0.5, 1e-30, -7.0,
                    100.0], np.float32)


def check_builtin(opcode, inputs, outputs, version=1, **options):
    """Like check_op, but against LiteRT's optimized builtin resolver (without delegates), for
    ops its reference resolver does not register."""
    from ai_edge_litert.interpreter import Interpreter, OpResolverType
    model, feed = single_op_model(opcode, inputs, outputs, version=version, **options)
    kind = OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES
    want = _run(Interpreter(model_content=model, experimental_op_resolver_type=kind), feed)
    got = None
    for reference in (True, False):
        got = run_numlite(model, feed, reference=reference)
        assert_outputs_match(got, want, what=opcode)
    return got


def _float_array(data, dtype, lo=-20, hi=20, max_dims=5):
    shape = data.draw(hnp.array_shapes(min_dims=0, max_dims=max_dims, min_side=0, max_side=5))
    elems = st.one_of(st.floats(lo, hi, width=np.finfo(dtype).bits), st.sampled_from([0.0, -0.0, 0.5, -1.5, 2.5]))
    return data.draw(hnp.arrays(dtype, shape, elements=elems))


@pytest.mark.parametrize("opcode", FLOAT_OPS)
@settings(max_examples=examples(15), deadline=None)
@given(data=st.data())
def test_unary_float32(opcode, data):
    x = _float_array(data, np.float32)
    check_op(opcode, [x], [np.float32], version=data.draw(st.integers(1, 2)) if opcode in ("SQRT", "EXP") else 1)


@pytest.mark.parametrize("opcode", BUILTIN_ONLY)
@settings(max_examples=examples(10), deadline=None)
@given(data=st.data())
def test_ceil_round_float32(opcode, data):
    x = _float_array(data, np.float32, -8, 8)
    check_builtin(opcode, [x], [np.float32])


def test_round_is_half_to_even():
    x = np.array([0.5, 1.5, 2.5, -0.5, -1.5, -2.5, 3.5, 0.49999997], np.float32)
    got = check_builtin("ROUND", [x], [np.float32])[0]
    np.testing.assert_array_equal(got, [0, 2, 2, -0.0, -2, -2, 4, 0])


@pytest.mark.parametrize("opcode", FLOAT_OPS + BUILTIN_ONLY)
def test_special_values(opcode):
    model, feed = single_op_model(opcode, [SPECIAL], [np.float32])
    if opcode in BUILTIN_ONLY:
        want = check_builtin(opcode, [SPECIAL], [np.float32])
    else:
        want = run_litert(model, feed)
    got = run_numlite(model, feed)[0]
    # inf/NaN must sit in the same places (e.g. LOG(0) = -inf, RSQRT(-0) = -inf, SQRT(-1) = NaN).
    np.testing.assert_array_equal(got, want[0])


@pytest.mark.parametrize("opcode,dtypes", [("ABS", [np.int32, np.int16]),
                                           ("NEG", [np.int32, np.int64, np.int16, np.int8]),
                                           ("ZEROS_LIKE", [np.int32, np.int64])])
@settings(max_examples=examples(10), deadline=None)
@given(data=st.data())
def test_unary_integer(opcode, dtypes, data):
    dtype = data.draw(st.sampled_from(dtypes))
    shape = data.draw(hnp.array_shapes(min_dims=0, max_dims=4, max_side=5))
    x = data.draw(hnp.arrays(dtype, shape))       # full range, so -MIN wraps to MIN
    check_op(opcode, [x], [dtype])


@pytest.mark.parametrize("opcode", HALF_REF + ["ROUND"])
@settings(max_examples=examples(8), deadline=None)
@given(data=st.data())
def test_unary_float16(opcode, data):
    x = _float_array(data, np.float16, -10, 10, max_dims=4)
    if opcode in HALF_REF:
        check_op(opcode, [x], [np.float16])
    else:
        check_builtin(opcode, [x], [np.float16])


# -- CAST ---------------------------------------------------------------------------------------
CAST_TYPES = [np.bool_, np.uint8, np.int8, np.int16, np.uint16, np.int32, np.uint32, np.int64,
              np.float16, np.float32, np.float64, np.complex64]
FLOAT_EDGES = [np.nan, np.inf, -np.inf, 0.0, -0.0, 0.5, -0.5, 2.7, -2.7, 255.5, -129.0, 65504.0, 70000.0,
               3e9, -3e9, 1e19, -1e19, 1e-8]


def _cast_input(data, dtype):
    shape = data.draw(hnp.array_shapes(min_dims=0, max_dims=3, max_side=6))
    if dtype == np.bool_:
        return data.draw(hnp.arrays(dtype, shape))
    if np.dtype(dtype).kind in "iu":
        return data.draw(hnp.arrays(dtype, shape))
    vals = data.draw(hnp.arrays(np.float64, shape, elements=st.one_of(
        st.sampled_from(FLOAT_EDGES), st.floats(-1e6, 1e6), st.floats(-300, 300))))
    with np.errstate(over="ignore", invalid="ignore"):      # inf * 0.5j has a NaN real part
        if dtype == np.complex64:
            return (vals - 0.5j * vals).astype(dtype)
        return vals.astype(dtype)


@settings(max_examples=examples(60), deadline=None)
@given(data=st.data())
def test_cast(data):
    src = data.draw(st.sampled_from(CAST_TYPES))
    dst = data.draw(st.sampled_from(CAST_TYPES))
    model, feed = single_op_model("CAST", [_cast_input(data, src)], [dst])
    want = run_litert(model, feed)[0]
    for reference in (True, False):
        got = run_numlite(model, feed, reference=reference)[0]
        assert got.dtype == want.dtype
        np.testing.assert_array_equal(got, want)   # exact, NaN for NaN, imaginary parts included


def test_cast_float_to_int_saturates():
    x = np.array([1e10, -1e10, np.nan, np.inf, -np.inf, 2.7, -2.7, 300.0, -5.5], np.float32)
    got = check_op("CAST", [x], [np.int32])[0]
    np.testing.assert_array_equal(got, [2 ** 31 - 1, -2 ** 31, 2 ** 31 - 1, 2 ** 31 - 1, -2 ** 31, 2, -2, 300, -5])
    got = check_op("CAST", [x], [np.uint8])[0]
    np.testing.assert_array_equal(got, [255, 0, 255, 255, 0, 2, 0, 255, 0])
