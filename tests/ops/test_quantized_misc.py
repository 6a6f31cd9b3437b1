"""The quantized_misc kernels against LiteRT's reference kernels, bit for bit: SQRT (int8 / int16),
RSQRT / GELU / DIV / PRELU (int16), L2_NORMALIZATION (int8 / uint8) and the hybrid TRANSPOSE_CONV."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from hypothesis.extra import numpy as hnp

from harness import Const, In, assert_model_refused, check_op, examples, run_litert, run_numlite, single_op_model
from test_quantized_conv import draw_window
from test_requantize import draw_quant, random_values
from test_hybrid import assert_hybrid, float_input

IDS = dict(ids=lambda t: np.dtype(t).name)
ACTS = ["NONE", "RELU", "RELU6", "RELU_N1_TO_1"]


def seeded(data):
    return np.random.default_rng(data.draw(st.integers(0, 2 ** 32 - 1), label="seed"))


def draw_shape(data, max_dims=4, max_side=6):
    return data.draw(hnp.array_shapes(min_dims=0, max_dims=max_dims, min_side=1, max_side=max_side), label="shape")


def with_edges(x, lo, hi):
    """Put the extreme values first (where the tensor has room), so every draw covers them."""
    flat = x.reshape(-1)
    edges = np.array([lo, hi, lo + 1, hi - 1], np.int64)[:flat.size]
    flat[:edges.size] = np.clip(edges, lo, hi)
    return x


def assert_invoke_fails_in_both(opcode, inputs, outputs, **options):
    """Data LiteRT rejects while invoking (a RuntimeError there); numlite raises RuntimeError too."""
    model, feed = single_op_model(opcode, inputs, outputs, **options)
    with pytest.raises(RuntimeError):
        run_litert(model, feed)
    with pytest.raises(RuntimeError):
        run_numlite(model, feed)


# ---------------------------------------------------------------------------------------------
# SQRT, RSQRT, GELU
# ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", [np.int8, np.int16], **IDS)
@settings(max_examples=examples(60), deadline=None)
@given(data=st.data())
def test_sqrt(dtype, data):
    # Truncating requantization: a rounding implementation fails about half of the values.
    rng = seeded(data)
    qi, qo = draw_quant(data.draw, dtype, "in"), draw_quant(data.draw, dtype, "out")
    hi = int(np.iinfo(dtype).max)
    x = with_edges(random_values(rng, dtype, draw_shape(data), lo=qi[1]), qi[1], hi)
    check_op("SQRT", [In(x, qi)], [(dtype, qo)], version=data.draw(st.integers(1, 2)))


@pytest.mark.parametrize("dtype", [np.int8, np.int16], **IDS)
def test_sqrt_of_negative_value_fails(dtype):
    zp = 5 if dtype == np.int8 else 0
    assert_invoke_fails_in_both("SQRT", [In(np.array([zp, zp - 1, 40], dtype), (0.1, zp))], [(dtype, (0.1, zp))])


def test_sqrt_quotient_beyond_int32():
    # sqrt / output_scale past 2^31: x86 converts it to INT32_MIN, clamped to the type's minimum.
    x = np.array([0, 1, 100, 32767], np.int16)
    out = check_op("SQRT", [In(x, (8.0, 0))], [(np.int16, (1e-7, 0))])
    assert out[0][0] == 0 and out[0][3] == -32768


@settings(max_examples=examples(60), deadline=None)
@given(data=st.data())
def test_rsqrt_int16(data):
    rng = seeded(data)
    qi, qo = draw_quant(data.draw, np.int16, "in"), draw_quant(data.draw, np.int16, "out")
    x = with_edges(random_values(rng, np.int16, draw_shape(data), lo=0), 0, 32767)
    check_op("RSQRT", [In(x, qi)], [(np.int16, qo)], version=data.draw(st.integers(1, 3)))


def test_rsqrt_int16_negative_value_fails():
    assert_invoke_fails_in_both("RSQRT", [In(np.array([3, -1], np.int16), (0.1, 0))], [(np.int16, (0.1, 0))])


@settings(max_examples=examples(60), deadline=None)
@given(data=st.data())
def test_gelu_int16(data):
    # Zero points need not be 0 for int16 GELU.
    rng = seeded(data)
    qi, qo = draw_quant(data.draw, np.int16, "in"), draw_quant(data.draw, np.int16, "out")
    zps = data.draw(st.tuples(st.integers(-300, 300), st.integers(-300, 300)), label="zero points")
    x = with_edges(random_values(rng, np.int16, draw_shape(data)), -32768, 32767)
    check_op("GELU", [In(x, (qi[0], zps[0]))], [(np.int16, (qo[0], zps[1]))], version=data.draw(st.integers(1, 2)),
             approximate=data.draw(st.booleans(), label="approximate"))


# ---------------------------------------------------------------------------------------------
# DIV int16, PRELU 16x8
# ---------------------------------------------------------------------------------------------

@settings(max_examples=examples(60), deadline=None)
@given(data=st.data())
def test_div_int16(data):
    rng = seeded(data)
    shapes = data.draw(hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=4, max_side=5),
                       label="shapes").input_shapes
    zps = data.draw(st.tuples(*[st.sampled_from([0, 0, 7, -1200, 32767]) for _ in range(3)]), label="zero points")
    scales = [float(np.float32(10.0 ** data.draw(st.floats(-4, 1), label="log10 scale"))) for _ in range(3)]
    a = random_values(rng, np.int16, shapes[0])
    b = random_values(rng, np.int16, shapes[1])
    b = np.where(b == zps[1], zps[1] + 1, b).astype(np.int16)
    check_op("DIV", [In(a, (scales[0], zps[0])), In(b, (scales[1], zps[1]))], [(np.int16, (scales[2], zps[2]))],
             version=data.draw(st.integers(1, 2)), fused_activation_function=data.draw(st.sampled_from(ACTS)))


@pytest.mark.parametrize("dtype,zp", [(np.int16, 4), (np.int8, 3), (np.uint8, 130)], ids=["int16", "int8", "uint8"])
def test_div_divisor_at_zero_point_fails(dtype, zp):
    assert_invoke_fails_in_both("DIV", [In(np.array([5, 6], dtype), (0.1, 0 if dtype == np.int16 else zp)),
                                        In(np.array([zp + 1, zp], dtype), (0.1, zp))],
                                [(dtype, (0.1, 0))])


@pytest.mark.parametrize("dtype", [np.int8, np.uint8, np.int16], **IDS)
def test_quantized_transpose_conv_inconsistent_output_shape_refused(dtype):
    # Quantized twin of the hybrid case below: the output_shape must invert the forward convolution.
    model, feed = single_op_model("TRANSPOSE_CONV", [Const(np.array([1, 1, 2, 1], np.int32)),
                                                     Const(np.ones((1, 1, 1, 1), np.int8), quantization=(1.0, 0)),
                                                     In(np.ones((1, 1, 1, 1), dtype), (1.0, 0)), None],
                                  [(dtype, (1.0, 0))], version=3, padding="SAME", stride_h=1, stride_w=1)
    assert_model_refused(model, feed)


def test_one_hot_int16_values_fail_in_both():
    model, feed = single_op_model("ONE_HOT", [np.array([0, 2], np.int32), Const(np.array(3, np.int32)),
                                              Const(np.array(1, np.int16)), Const(np.array(0, np.int16))],
                                  [np.int16], axis=-1)
    with pytest.raises(RuntimeError):
        run_litert(model, feed)
    with pytest.raises(RuntimeError):
        run_numlite(model, feed)


@settings(max_examples=examples(60), deadline=None)
@given(data=st.data())
def test_prelu_16x8(data):
    rng = seeded(data)
    shape = data.draw(hnp.array_shapes(min_dims=1, max_dims=4, max_side=5), label="shape")
    k = data.draw(st.integers(0, len(shape)), label="alpha rank")
    alpha_shape = tuple(d if data.draw(st.booleans(), label="keep dim") else 1 for d in shape[len(shape) - k:])
    qi, qo = draw_quant(data.draw, np.int16, "in"), draw_quant(data.draw, np.int16, "out")
    qa = draw_quant(data.draw, np.int8, "alpha")
    x = with_edges(random_values(rng, np.int16, shape), -32768, 32767)
    alpha = random_values(rng, np.int8, alpha_shape)
    check_op("PRELU", [In(x, qi), Const(alpha, quantization=qa)], [(np.int16, qo)])


def test_prelu_int16_alpha_is_read_as_int8_bytes():
    # LiteRT reads an int16 alpha through an int8 pointer: alpha [1, 2, 1000] acts as bytes [1, 0, 2].
    x = np.full((2, 3), -1000, np.int16)
    alpha = np.array([1, 2, 1000], np.int16)
    out = check_op("PRELU", [In(x, (0.002, 0)), Const(alpha, quantization=(0.001, 0))], [(np.int16, (0.003, 0))])
    np.testing.assert_array_equal(out[0][0], [-1, 0, -1])


# ---------------------------------------------------------------------------------------------
# L2_NORMALIZATION
# ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", [np.int8, np.uint8], **IDS)
@settings(max_examples=examples(60), deadline=None)
@given(data=st.data())
def test_l2_normalization(dtype, data):
    rng = seeded(data)
    shape = data.draw(hnp.array_shapes(min_dims=1, max_dims=4, max_side=6), label="shape")
    qi = draw_quant(data.draw, dtype, "in")
    x = random_values(rng, dtype, shape)
    style = data.draw(st.sampled_from(["random", "near zero point", "zero row"]), label="values")
    if style != "random":
        spread = 0 if style == "zero row" else 2
        info = np.iinfo(dtype)
        x = np.clip(qi[1] + rng.integers(-spread, spread + 1, shape), info.min, info.max).astype(dtype)
    zp = 0 if dtype == np.int8 else 128
    check_op("L2_NORMALIZATION", [In(x, qi)], [(dtype, (1.0 / 128, zp))], version=data.draw(st.integers(1, 2)))


def test_l2_normalization_long_rows():
    # Sums of squares near 2^31 exercise the Newton-Raphson normalisation at its top.
    rng = np.random.default_rng(7)
    x = rng.choice(np.array([-128, 127], np.int8), (2, 40000))
    check_op("L2_NORMALIZATION", [In(x, (0.5, 0))], [(np.int8, (1.0 / 128, 0))])


@pytest.mark.parametrize("out_q, act", [((1.0 / 128, 5), "NONE"), ((1.0 / 64, 0), "NONE"), ((1.0 / 128, 0), "RELU")])
def test_l2_normalization_refusals(out_q, act):
    model, feed = single_op_model("L2_NORMALIZATION", [In(np.ones((2, 3), np.int8), (0.1, 0))], [(np.int8, out_q)],
                                  fused_activation_function=act)
    assert_model_refused(model, feed)


# ---------------------------------------------------------------------------------------------
# Hybrid TRANSPOSE_CONV
# ---------------------------------------------------------------------------------------------

@settings(max_examples=examples(60), deadline=None)
@given(data=st.data())
def test_hybrid_transpose_conv(data):
    # Float sums depend on their order: every output must be identical, not just close.
    draw = data.draw
    rng = seeded(data)
    (h, w), (kh, kw), opts = draw_window(draw, dilated=False)
    n, ic, oc = draw(st.integers(1, 2)), draw(st.integers(1, 4)), draw(st.integers(1, 4))
    sh, sw = opts["stride_h"], opts["stride_w"]
    # Every output size whose forward convolution gives the input size (odd paddings included).
    if opts["padding"] == "SAME":
        out_hw = (h * sh - draw(st.integers(0, sh - 1)), w * sw - draw(st.integers(0, sw - 1)))
    else:
        out_hw = ((h - 1) * sh + kh + draw(st.integers(0, sh - 1)), (w - 1) * sw + kw + draw(st.integers(0, sw - 1)))
    logs = draw(st.lists(st.floats(-4, 0), min_size=oc, max_size=oc), label="filter log10 scales")
    scales = (10.0 ** np.array(logs)).astype(np.float32)
    fq = (float(scales[0]), 0) if draw(st.booleans(), label="per-tensor") else (scales, np.zeros(oc, np.int64), 0)
    x = float_input(rng, draw, (n, h, w, ic))
    f = random_values(rng, np.int8, (oc, kh, kw, ic), -127)
    bias = Const(rng.standard_normal(oc).astype(np.float32)) if draw(st.booleans(), label="bias") else None
    shape = np.array([n, *out_hw, oc], np.int32)
    shape_operand = Const(shape) if draw(st.booleans(), label="constant shape") else shape
    assert_hybrid("TRANSPOSE_CONV", [shape_operand, Const(f, quantization=fq), x, bias],
                  act=draw(st.sampled_from(ACTS + ["TANH"])), version=draw(st.integers(1, 5)), **opts)


def test_hybrid_transpose_conv_many_channels():
    # A long float accumulation (3x3 taps x 32 channels per output) makes the order matter.
    rng = np.random.default_rng(11)
    x = rng.standard_normal((1, 5, 5, 32)).astype(np.float32)
    f = random_values(rng, np.int8, (8, 3, 3, 32), -127)
    scales = (rng.random(8) * 0.05 + 1e-3).astype(np.float32)
    assert_hybrid("TRANSPOSE_CONV", [Const(np.array([1, 10, 10, 8], np.int32)),
                                     Const(f, quantization=(scales, np.zeros(8), 0)),
                                     x, Const(rng.standard_normal(8).astype(np.float32))],
                  version=3, padding="SAME", stride_h=2, stride_w=2)


@pytest.mark.parametrize("constant_shape", [True, False])
def test_hybrid_transpose_conv_inconsistent_output_shape_refused(constant_shape):
    shape = np.array([1, 3, 2, 1], np.int32)     # a 1x1 input with stride 1 and SAME padding gives 1x1
    model, feed = single_op_model("TRANSPOSE_CONV", [Const(shape) if constant_shape else shape,
                                                     Const(np.ones((1, 1, 1, 1), np.int8), quantization=(0.5, 0)),
                                                     np.ones((1, 1, 1, 1), np.float32)],
                                  [np.float32], version=3, padding="SAME", stride_h=1, stride_w=1)
    assert_model_refused(model, feed)
