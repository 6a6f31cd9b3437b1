"""Quantized ADD / SUB / MUL / SQUARED_DIFFERENCE / DIV and comparisons against LiteRT's
reference kernels (bit-exact)."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from hypothesis.extra import numpy as hnp

from harness import In, assert_both_refuse, check_op, examples
from test_requantize import QUANT_DTYPES, draw_quant, random_values

ACTS = ["NONE", "RELU", "RELU6", "RELU_N1_TO_1"]
IDS = dict(ids=lambda t: np.dtype(t).name)


def draw_operands(data, dtype, rng, max_dims=4):
    shapes = data.draw(hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=max_dims, max_side=5),
                       label="shapes")
    return [random_values(rng, dtype, s) for s in shapes.input_shapes]


def seeded(data):
    return np.random.default_rng(data.draw(st.integers(0, 2 ** 32 - 1), label="seed"))


def output_scale_near(data, scale, lo, hi):
    """An output scale ``scale * 10^u`` with u drawn in [lo, hi]."""
    return float(np.float32(scale * 10.0 ** data.draw(st.floats(lo, hi), label="log10 output/input scale")))


@pytest.mark.parametrize("opcode", ["ADD", "SUB"])
@pytest.mark.parametrize("dtype", QUANT_DTYPES, **IDS)
@settings(max_examples=examples(80), deadline=None)
@given(data=st.data())
def test_add_sub_general(opcode, dtype, data):
    # 8-bit: inputs shifted left by 20 bits; int16 with pot_scale_int16=false: by 15 bits.
    rng = seeded(data)
    a, b = draw_operands(data, dtype, rng)
    qa, qb = draw_quant(data.draw, dtype, "a"), draw_quant(data.draw, dtype, "b")
    qo = (output_scale_near(data, max(qa[0], qb[0]), -1, 2), draw_quant(data.draw, dtype, "out")[1])
    check_op(opcode, [In(a, qa), In(b, qb)], [(dtype, qo)], version=data.draw(st.integers(1, 5)),
             fused_activation_function=data.draw(st.sampled_from(ACTS)), pot_scale_int_16=False)


@pytest.mark.parametrize("opcode", ["ADD", "SUB"])
@settings(max_examples=examples(80), deadline=None)
@given(data=st.data())
def test_add_sub_int16_power_of_two(opcode, data):
    # LSTM-style int16 path: power-of-two scales, one input at the output scale, the other finer
    # (a rounding right shift). LiteRT's ADD aborts on broadcasting here, so only SUB broadcasts.
    rng = seeded(data)
    e_out = data.draw(st.integers(-14, -6), label="output exponent")
    e_other = data.draw(st.integers(e_out - 5, e_out), label="finer exponent")
    exps = [e_out, e_other] if data.draw(st.booleans(), label="first at output scale") else [e_other, e_out]
    if opcode == "ADD":
        shape = data.draw(hnp.array_shapes(min_dims=0, max_dims=4, max_side=5), label="shape")
        a, b = random_values(rng, np.int16, shape), random_values(rng, np.int16, shape)
    else:
        a, b = draw_operands(data, np.int16, rng)
    check_op(opcode, [In(a, (2.0 ** exps[0], 0)), In(b, (2.0 ** exps[1], 0))], [(np.int16, (2.0 ** e_out, 0))],
             fused_activation_function=data.draw(st.sampled_from(ACTS)), pot_scale_int_16=True)


@pytest.mark.parametrize("dtype", QUANT_DTYPES, **IDS)
@settings(max_examples=examples(80), deadline=None)
@given(data=st.data())
def test_mul(dtype, data):
    rng = seeded(data)
    a, b = draw_operands(data, dtype, rng)
    qa, qb = draw_quant(data.draw, dtype, "a"), draw_quant(data.draw, dtype, "b")
    qo = (output_scale_near(data, qa[0] * qb[0], -1, 3), draw_quant(data.draw, dtype, "out")[1])
    check_op("MUL", [In(a, qa), In(b, qb)], [(dtype, qo)], version=data.draw(st.integers(1, 7)),
             fused_activation_function=data.draw(st.sampled_from(ACTS)))


@pytest.mark.parametrize("out_dtype", [np.int8, np.uint8], **IDS)
def test_mul_int16_to_8bit(out_dtype):
    # The LSTM gate product: Q0.15 x Q0.15, rounding-shifted right by 8, offset by the zero point.
    rng = np.random.default_rng(0)
    a, b = random_values(rng, np.int16, (6, 50)), random_values(rng, np.int16, (6, 50))
    zp = 3 if out_dtype == np.int8 else 128
    for act in ACTS:
        check_op("MUL", [In(a, (2.0 ** -15, 0)), In(b, (2.0 ** -15, 0))], [(out_dtype, (2.0 ** -7, zp))],
                 fused_activation_function=act)


@settings(max_examples=examples(80), deadline=None)
@given(data=st.data())
def test_squared_difference_int8(data):
    rng = seeded(data)
    a, b = draw_operands(data, np.int8, rng)
    qa, qb = draw_quant(data.draw, np.int8, "a"), draw_quant(data.draw, np.int8, "b")
    qo = (output_scale_near(data, max(qa[0], qb[0]) ** 2, 0, 3), draw_quant(data.draw, np.int8, "out")[1])
    check_op("SQUARED_DIFFERENCE", [In(a, qa), In(b, qb)], [(np.int8, qo)], version=data.draw(st.integers(1, 2)))


@pytest.mark.parametrize("dtype", [np.int8, np.uint8], **IDS)
@settings(max_examples=examples(80), deadline=None)
@given(data=st.data())
def test_div(dtype, data):
    # Includes dividends tiny next to the divisor, where LiteRT's right shift exceeds 31 bits and
    # the result saturates instead of rounding to 0 (x86 shift-count masking).
    rng = seeded(data)
    a, b = draw_operands(data, dtype, rng)
    qa, qb, qo = (draw_quant(data.draw, dtype, k) for k in ("a", "b", "out"))
    b[b == qb[1]] = qb[1] + 1 if qb[1] < np.iinfo(dtype).max else qb[1] - 1   # no zero divisor
    check_op("DIV", [In(a, qa), In(b, qb)], [(dtype, qo)], version=data.draw(st.integers(1, 2)),
             fused_activation_function=data.draw(st.sampled_from(ACTS)))


@pytest.mark.parametrize("opcode", ["EQUAL", "NOT_EQUAL", "LESS", "LESS_EQUAL", "GREATER", "GREATER_EQUAL"])
@pytest.mark.parametrize("dtype", QUANT_DTYPES, **IDS)
@settings(max_examples=examples(30), deadline=None)
@given(data=st.data())
def test_comparisons(opcode, dtype, data):
    # Both sides are rescaled to ((q - zp) << 8) * scale in fixed point, so values of different
    # scales compare by real value and close values can tie. int16 LESS etc. compare raw values.
    rng = seeded(data)
    a, b = draw_operands(data, dtype, rng, max_dims=3)
    qa = draw_quant(data.draw, dtype, "a")
    qa = (min(qa[0], 0.9), qa[1])
    qb = (qa[0], draw_quant(data.draw, dtype, "b")[1]) if data.draw(st.booleans(), label="same scale") else \
        (float(np.float32(qa[0] * 10.0 ** data.draw(st.floats(-2, 0), label="scale ratio"))),
         draw_quant(data.draw, dtype, "b")[1])
    if a.size and b.size:
        a.flat[0] = b.flat[0]          # some equal raw values
    check_op(opcode, [In(a, qa), In(b, qb)], [np.bool_])


def test_comparison_rounding_ties():
    # 0.1 and 0.3 scales: many distinct real values become equal fixed-point integers.
    a = np.arange(-128, 128, dtype=np.int8).reshape(16, 16)
    b = ((a.astype(np.int32) * 3 + 7) % 256 - 128).astype(np.int8)
    for op in ["EQUAL", "LESS", "GREATER_EQUAL"]:
        check_op(op, [In(a, (0.003, -5)), In(b, (0.001, 17))], [np.bool_])


@pytest.mark.parametrize("dtype", [np.int8, np.int16], **IDS)
@settings(max_examples=examples(80), deadline=None)
@given(data=st.data())
def test_abs(dtype, data):
    x = random_values(seeded(data), dtype, (4, 64))
    q_in = draw_quant(data.draw, dtype, "in")
    q_out = (q_in[0], draw_quant(data.draw, dtype, "out")[1]) if data.draw(st.booleans(), label="same scale") \
        else draw_quant(data.draw, dtype, "out")
    check_op("ABS", [In(x, q_in)], [(dtype, q_out)], version=data.draw(st.integers(1, 3)))


@settings(max_examples=examples(80), deadline=None)
@given(data=st.data())
def test_rsqrt_int8(data):
    # Every value from the zero point up (LiteRT rejects inputs below it); zero maps to 127.
    q_in, q_out = draw_quant(data.draw, np.int8, "in"), draw_quant(data.draw, np.int8, "out")
    x = np.arange(q_in[1], 128).astype(np.int8)
    check_op("RSQRT", [In(x, q_in)], [(np.int8, q_out)], version=data.draw(st.integers(1, 2)))


def test_refusals():
    x8 = np.zeros((2, 3), np.int8)
    x16 = np.zeros((2, 3), np.int16)
    # int16 zero points must be 0
    assert_both_refuse("ADD", [In(x16, (0.1, 2)), In(x16, (0.1, 0))], [(np.int16, (0.2, 0))],
                       pot_scale_int_16=False)
    assert_both_refuse("MUL", [In(x16, (0.1, 0)), In(x16, (0.1, 0))], [(np.int16, (0.2, 1))])
    # power-of-two int16 ADD needs one input at the output scale
    assert_both_refuse("ADD", [In(x16, (2.0 ** -12, 0)), In(x16, (2.0 ** -12, 0))], [(np.int16, (2.0 ** -10, 0))],
                       pot_scale_int_16=True)
    # mixed input types
    assert_both_refuse("SUB", [In(x8, (0.1, 0)), In(x8.astype(np.uint8), (0.1, 0))], [(np.int8, (0.1, 0))])
