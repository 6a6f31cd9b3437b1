"""Comparisons, LOGICAL_AND/OR/NOT and SELECT/SELECT_V2 against LiteRT's reference kernels."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from hypothesis.extra import numpy as hnp

import numlite
from harness import Const, In, check_op, examples, run_litert, run_numlite, single_op_model

COMPARISONS = ["EQUAL", "NOT_EQUAL", "LESS", "LESS_EQUAL", "GREATER", "GREATER_EQUAL"]
PLAIN_TYPES = [np.float32, np.float16, np.int32, np.int64, np.int16]
SELECT_TYPES = [np.float32, np.float16, np.int32, np.int64, np.int16, np.int8, np.uint8, np.bool_, np.uint32]


def _values(dtype):
    # Few distinct values, so equal elements are common.
    if np.dtype(dtype) == np.bool_:
        return st.booleans()
    if np.dtype(dtype).kind == "f":
        return st.sampled_from([0.0, -0.0, 1.5, -2.0, 3.25, np.inf, -np.inf, np.nan, 7.0])
    info = np.iinfo(dtype)
    return st.one_of(st.integers(-3, 3).filter(lambda v: info.min <= v <= info.max),
                     st.sampled_from([int(info.min), int(info.max)]))


def _broadcast_arrays(data, dtypes, n=2, max_dims=5):
    shapes = data.draw(hnp.mutually_broadcastable_shapes(num_shapes=n, min_dims=0, max_dims=max_dims, max_side=4))
    return [data.draw(hnp.arrays(dt, s, elements=_values(dt))) for dt, s in zip(dtypes, shapes.input_shapes)]


@pytest.mark.parametrize("opcode", COMPARISONS)
@settings(max_examples=examples(20), deadline=None)
@given(data=st.data())
def test_comparison_plain(opcode, data):
    types = PLAIN_TYPES + ([np.bool_] if opcode in ("EQUAL", "NOT_EQUAL") else [])
    if opcode == "NOT_EQUAL":
        # LiteRT's NOT_EQUAL has no int16 case and leaves the output uninitialised.
        types.remove(np.int16)
    dtype = data.draw(st.sampled_from(types))
    a, b = _broadcast_arrays(data, [dtype, dtype])
    check_op(opcode, [a, b], [np.bool_], version=2 if dtype == np.int64 else 1)


def test_int16_comparison_ignores_zero_points():
    a = np.array([1, 2, 3, -4], np.int16)
    b = np.array([2, 2, 2, 2], np.int16)
    got = check_op("LESS", [In(a, (0.5, 0)), In(b, (0.5, 0))], [np.bool_])[0]
    np.testing.assert_array_equal(got, [True, False, False, True])


@pytest.mark.parametrize("opcode", ["LOGICAL_AND", "LOGICAL_OR"])
@settings(max_examples=examples(15), deadline=None)
@given(data=st.data())
def test_logical_binary(opcode, data):
    a, b = _broadcast_arrays(data, [np.bool_, np.bool_])
    check_op(opcode, [a, b], [np.bool_])


@settings(max_examples=examples(10), deadline=None)
@given(x=hnp.arrays(np.bool_, hnp.array_shapes(min_dims=0, max_dims=5, min_side=0, max_side=4)))
def test_logical_not(x):
    check_op("LOGICAL_NOT", [x], [np.bool_])


def test_logical_ops_need_bool():
    model, feed = single_op_model("LOGICAL_AND", [np.ones(3, np.float32), np.ones(3, np.float32)], [np.float32])
    with pytest.raises(numlite.UnsupportedOpError):
        run_numlite(model, feed)


@settings(max_examples=examples(25), deadline=None)
@given(data=st.data())
def test_select_v2_broadcasts(data):
    dtype = data.draw(st.sampled_from(SELECT_TYPES))
    cond, x, y = _broadcast_arrays(data, [np.bool_, dtype, dtype], n=3)
    if data.draw(st.booleans()):
        x = Const(x)
    check_op("SELECT_V2", [cond, x, y], [dtype], version=data.draw(st.integers(1, 2)))


@settings(max_examples=examples(25), deadline=None)
@given(data=st.data())
def test_select_v1(data):
    dtype = data.draw(st.sampled_from(SELECT_TYPES))
    shape = data.draw(hnp.array_shapes(min_dims=1, max_dims=4, min_side=1, max_side=4))
    x = data.draw(hnp.arrays(dtype, shape, elements=_values(dtype)))
    y = data.draw(hnp.arrays(dtype, shape, elements=_values(dtype)))
    kind = data.draw(st.sampled_from(["same", "rows", "scalar"]))
    cshape = {"same": shape, "rows": shape[:1], "scalar": ()}[kind]
    cond = data.draw(hnp.arrays(np.bool_, cshape))
    check_op("SELECT", [cond, x, y], [dtype], version=data.draw(st.integers(1, 4)))


@pytest.mark.parametrize("cond_shape,x_shape,y_shape", [((2,), (3, 2), (3, 2)), ((3, 1), (3, 2), (3, 2)),
                                                        ((3, 2), (3, 2), (1, 2))])
def test_select_v1_shape_errors(cond_shape, x_shape, y_shape):
    model, feed = single_op_model("SELECT", [np.ones(cond_shape, np.bool_), np.ones(x_shape, np.float32),
                                             np.ones(y_shape, np.float32)], [np.float32])
    with pytest.raises(RuntimeError):
        run_litert(model, feed)
    with pytest.raises(numlite.ModelError):
        run_numlite(model, feed)


@pytest.mark.parametrize("opcode", ["SELECT", "SELECT_V2"])
def test_select_single_elements_give_a_scalar(opcode):
    for shapes in [((1,), (1,), (1,)), ((), (1, 1), (1,)), ((1, 1), (), ())]:
        c, x, y = (np.full(s, v) for s, v in zip(shapes, [False, np.float32(2), np.float32(3)]))
        got = check_op(opcode, [c, x, y], [np.float32])[0]
        assert got.shape == () and got == 3
