"""CONCATENATION of quantized tensors against LiteRT's reference kernel (bit-exact): uint8 inputs
with their own scales / zero points are requantized to the output's; int8 and int16 are copied."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from harness import Const, In, assert_both_refuse, check_op, examples
from test_requantize import draw_quant, random_values


def concat_case(data, dtype, own_quant):
    rng = np.random.default_rng(data.draw(st.integers(0, 2 ** 32 - 1), label="seed"))
    base = data.draw(st.lists(st.integers(1, 4), min_size=1, max_size=4), label="shape")
    rank = len(base)
    axis = data.draw(st.integers(-rank, rank - 1), label="axis")
    out_q = draw_quant(data.draw, dtype, "out")
    inputs = []
    for k in range(data.draw(st.integers(1, 4), label="inputs")):
        shape = list(base)
        shape[axis] = data.draw(st.integers(0 if k else 1, 3), label="axis size")
        q = draw_quant(data.draw, dtype, "in") if own_quant and data.draw(st.booleans(), label="own q") else out_q
        x = random_values(rng, dtype, shape)
        inputs.append(Const(x, quantization=q) if data.draw(st.booleans(), label="const") else In(x, quantization=q))
    return inputs, out_q, axis


@settings(max_examples=examples(40), deadline=None)
@given(data=st.data())
def test_uint8_concat_requantizes(data):
    inputs, out_q, axis = concat_case(data, np.uint8, own_quant=True)
    check_op("CONCATENATION", inputs, [(np.uint8, out_q)], axis=axis, version=data.draw(st.integers(1, 7)))


@pytest.mark.parametrize("dtype", [np.int8, np.int16], ids=lambda t: np.dtype(t).name)
@settings(max_examples=examples(40), deadline=None)
@given(data=st.data())
def test_signed_concat_copies(dtype, data):
    inputs, out_q, axis = concat_case(data, dtype, own_quant=False)
    check_op("CONCATENATION", inputs, [(dtype, out_q)], axis=axis)


def test_uint8_requantize_rounding():
    # Every uint8 value through a map whose products land on .5: float32 scale * (1 / out_scale),
    # bias = -zp * scale, rounded half away from zero and clamped.
    x = np.arange(256, dtype=np.uint8).reshape(16, 16)
    for in_q, out_q in [((0.5, 0), (1.0, 0)), ((0.5, 3), (1.0, 128)), ((0.37, 77), (0.1, 200)), ((3.0, 255), (0.7, 1))]:
        check_op("CONCATENATION", [In(x, quantization=in_q), In(x, quantization=out_q)], [(np.uint8, out_q)], axis=1)


def test_int8_concat_with_different_quantization_refused():
    x = np.zeros((2, 2), np.int8)
    assert_both_refuse("CONCATENATION", [In(x, quantization=(0.5, 1)), In(x, quantization=(0.25, 1))],
                       [(np.int8, (0.5, 1))], axis=0)
