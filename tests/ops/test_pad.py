"""Differential tests for PAD, PADV2 and MIRROR_PAD."""
import numpy as np
from hypothesis import given, strategies as st
from hypothesis.extra import numpy as hnp

from harness import Const, In, check_op
from test_shape import DATA_TYPES, SETTINGS, expect_both_fail, operand, out_of, rand, runtime_or_const, seeded


def _paddings(data, shape, limit):
    pads = [[data.draw(st.integers(0, limit(d))) for _ in range(2)] for d in shape]
    return np.array(pads, data.draw(st.sampled_from([np.int32, np.int64]))).reshape(len(shape), 2)


@SETTINGS
@given(data=st.data())
def test_pad(data):
    rng = seeded(data)
    dtype = data.draw(st.sampled_from(DATA_TYPES))
    shape = data.draw(hnp.array_shapes(min_dims=1, max_dims=5, min_side=1, max_side=3))
    pads = _paddings(data, shape, lambda d: 2)
    x = rand(rng, shape, dtype)
    # Quantized PAD fills with the output zero point; unquantized int8/int16 fill with 0.
    quantized = data.draw(st.booleans())
    src = operand(x) if quantized or dtype == np.uint8 else x
    out = out_of(dtype) if quantized or dtype == np.uint8 else dtype
    check_op("PAD", [src, runtime_or_const(pads, data.draw(st.booleans()))], [out])


@SETTINGS
@given(data=st.data())
def test_padv2(data):
    rng = seeded(data)
    dtype = data.draw(st.sampled_from(DATA_TYPES))
    shape = data.draw(hnp.array_shapes(min_dims=1, max_dims=5, min_side=1, max_side=3))
    pads = _paddings(data, shape, lambda d: 2)
    value = rand(rng, (), dtype)
    check_op("PADV2", [operand(rand(rng, shape, dtype)), runtime_or_const(pads, data.draw(st.booleans())),
                       operand(value, const=data.draw(st.booleans()))], [out_of(dtype)])


def test_padv2_constant_needs_output_quantization():
    x = In(np.zeros((2, 2), np.int8), quantization=(0.5, 1))
    value = Const(np.array(3, np.int8), quantization=(0.5, 2))
    expect_both_fail("PADV2", [x, Const(np.ones((2, 2), np.int32)), value], [(np.int8, (0.5, 1))])


def test_pad_negative_fails():
    expect_both_fail("PAD", [np.zeros((2, 2), np.float32), Const(np.array([[0, -1], [0, 0]], np.int32))],
                     [np.float32])


@SETTINGS
@given(data=st.data())
def test_mirror_pad(data):
    rng = seeded(data)
    dtype = data.draw(st.sampled_from(DATA_TYPES))
    mode = data.draw(st.sampled_from(["REFLECT", "SYMMETRIC"]))
    shape = data.draw(hnp.array_shapes(min_dims=1, max_dims=4, min_side=1, max_side=4))
    edge = 1 if mode == "REFLECT" else 0
    pads = _paddings(data, shape, lambda d: d - edge)
    check_op("MIRROR_PAD", [operand(rand(rng, shape, dtype)), runtime_or_const(pads, data.draw(st.booleans()))],
             [out_of(dtype)], mode=mode, version=2)


def test_mirror_pad_requires_equal_quantization():
    x = In(np.zeros((2, 2), np.uint8), quantization=(0.5, 1))
    expect_both_fail("MIRROR_PAD", [x, Const(np.ones((2, 2), np.int32))], [(np.uint8, (0.5, 2))], mode="REFLECT")
