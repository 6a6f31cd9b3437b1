import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from hypothesis.extra import numpy as hnp

from harness import Const, check_op, examples

floats = st.floats(-5, 5, width=32)


@settings(max_examples=examples(15), deadline=None)
@given(hnp.array_shapes(min_dims=0, max_dims=3, max_side=4), st.data())
def test_atan2(shape, data):
    a = data.draw(hnp.arrays(np.float32, shape, elements=floats))
    b = data.draw(hnp.arrays(np.float32, shape, elements=floats))
    check_op("ATAN2", [a, b], [np.float32])


@pytest.mark.parametrize("dtype", [np.float32, np.int32])
def test_sign(dtype):
    x = np.array([[-3, 0, 2], [5, -1, 0]], dtype)
    check_op("SIGN", [x], [dtype])


@settings(max_examples=examples(10), deadline=None)
@given(hnp.array_shapes(min_dims=1, max_dims=4, max_side=6), st.data())
def test_l2_normalization(shape, data):
    x = data.draw(hnp.arrays(np.float32, shape, elements=floats))
    check_op("L2_NORMALIZATION", [x], [np.float32])


@settings(max_examples=examples(10), deadline=None)
@given(st.integers(0, 4), st.floats(0.1, 2), st.floats(0.001, 1), st.floats(0.1, 1), st.integers(1, 9))
def test_local_response_normalization(radius, bias, alpha, beta, depth):
    x = np.random.default_rng(depth).uniform(-2, 2, (1, 3, 2, depth)).astype(np.float32)
    check_op("LOCAL_RESPONSE_NORMALIZATION", [x], [np.float32], radius=radius, bias=bias, alpha=alpha, beta=beta)


@pytest.mark.parametrize("exclusive", [False, True])
@pytest.mark.parametrize("reverse", [False, True])
@pytest.mark.parametrize("dtype", [np.float32, np.int32, np.int64])
def test_cumsum(exclusive, reverse, dtype):
    x = np.random.default_rng(1).integers(-9, 9, (2, 3, 4)).astype(dtype)
    for axis in (0, 2, -1):
        check_op("CUMSUM", [x, Const(np.array(axis, np.int32))], [dtype], exclusive=exclusive, reverse=reverse)


@pytest.mark.parametrize("axis", [-1, 0, 1])
def test_one_hot(axis):
    idx = np.array([[0, 2, -1], [3, 1, 5]], np.int32)
    check_op("ONE_HOT", [idx, Const(np.array(4, np.int32)), Const(np.array(2.5, np.float32)),
                         Const(np.array(-1.0, np.float32))], [np.float32], axis=axis)


@settings(max_examples=examples(15), deadline=None)
@given(st.integers(1, 8), st.integers(1, 3), st.data())
def test_topk(n, rows, data):
    x = data.draw(hnp.arrays(np.int32, (rows, n), elements=st.integers(-3, 3)))  # many ties
    k = data.draw(st.integers(0, n))
    check_op("TOPK_V2", [x, Const(np.array(k, np.int32))], [np.int32, np.int32])
    check_op("TOPK_V2", [x.astype(np.float32), Const(np.array(k, np.int32))], [np.float32, np.int32])


@settings(max_examples=examples(15), deadline=None)
@given(st.integers(1, 3), st.integers(1, 3), st.integers(0, 2), st.integers(0, 2), st.data())
def test_space_batch_roundtrip(bh, bw, ph, pw, data):
    h = data.draw(st.integers(1, 5)) * bh - ph
    w = data.draw(st.integers(1, 5)) * bw - pw
    if h <= 0 or w <= 0:
        return
    x = np.random.default_rng(h * 7 + w).uniform(-1, 1, (2, h, w, 3)).astype(np.float32)
    block = Const(np.array([bh, bw], np.int32))
    pads = Const(np.array([[ph, 0], [0, pw]], np.int32))
    y = check_op("SPACE_TO_BATCH_ND", [x, block, pads], [np.float32])[0]
    check_op("BATCH_TO_SPACE_ND", [y, block, pads], [np.float32])
