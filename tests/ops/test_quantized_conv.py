"""Quantized CONV_2D, DEPTHWISE_CONV_2D and TRANSPOSE_CONV against LiteRT's reference kernels
(bit-exact): int8 with per-channel / per-tensor int8 filters, uint8 with asymmetric uint8 filters,
16x8 with int64 or int32 biases."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from harness import Const, In, assert_both_refuse, check_op, examples, run_litert, run_numlite
from numlite.builder import ModelBuilder
from numlite.schema.enums import TensorType
from test_requantize import draw_pow2_scale, draw_quant, random_values, tie_values

ACTS = ["NONE", "RELU", "RELU6", "RELU_N1_TO_1", "TANH"]
# (input dtype, filter dtype, bias dtype, quantized_bias_type option)
KINDS = {"int8": (np.int8, np.int8, np.int32, None), "uint8": (np.uint8, np.uint8, np.int32, None),
         "int16_bias64": (np.int16, np.int8, np.int64, "INT64"), "int16_bias32": (np.int16, np.int8, np.int32, "INT32")}


def draw_window(draw, dilated=True):
    """(input H, W, conv options) with a non-empty output (LiteRT refuses empty ones)."""
    padding = draw(st.sampled_from(["SAME", "VALID"]), label="padding")
    opts, sizes, filt = dict(padding=padding), [], []
    for axis in ("h", "w"):
        f, s = draw(st.integers(1, 3)), draw(st.integers(1, 3))
        d = draw(st.integers(1, 2)) if dilated else 1
        sizes.append(draw(st.integers((f - 1) * d + 1 if padding == "VALID" else 1, 7)))
        filt.append(f)
        opts["stride_" + axis] = s
        if dilated:
            opts["dilation_%s_factor" % axis] = d
    return sizes, filt, opts


def draw_filter_quant(draw, kind, n, axis):
    """Filter quantization: symmetric per-channel (or one shared scale) for int8 / 16x8, a single
    asymmetric scale for uint8."""
    fdt = KINDS[kind][1]
    if fdt == np.uint8:
        scale, zp = draw_quant(draw, np.uint8, "filter")
        return (scale, zp), np.full(n, scale, np.float32)
    logs = draw(st.lists(st.floats(-4, 0), min_size=n, max_size=n), label="filter log10 scales")
    scales = (10.0 ** np.array(logs)).astype(np.float32)
    if draw(st.booleans(), label="per-tensor filter"):
        return (float(scales[0]), 0), np.full(n, scales[0], np.float32)
    return (scales, np.zeros(n, np.int64), axis), scales


def make_bias(rng, kind, n, in_scale, filter_scales):
    bdt = KINDS[kind][2]
    lim = 1 << (24 if bdt == np.int32 else 34)
    b = rng.integers(-lim, lim, n).astype(bdt)
    # The bias scale is input_scale * filter_scale (LiteRT checks it for uint8 inputs).
    return Const(b, quantization=(float(np.float32(in_scale) * filter_scales[0]), 0))


def draw_operands(draw, rng, kind, x_shape, f_shape, oc, axis):
    """(input, filter, bias operands and the output quantization) of a quantized convolution.

    A third of the examples are tie-prone: power-of-two scales (so every requantization
    multiplier is an exact power of two), values within a few steps of the zero points and a
    small bias. The accumulators then stay small and their rescaling meets exact halves, where
    the fixed-point rounding (SaturatingRoundingDoublingHighMul, RoundingDivideByPOT) shows."""
    xdt, fdt, bdt = KINDS[kind][:3]
    if draw(st.integers(0, 2), label="tie-prone") != 0:
        in_q, out_q = draw_quant(draw, xdt, "in"), draw_quant(draw, xdt, "out")
        fq, fscales = draw_filter_quant(draw, kind, oc, axis)
        x = random_values(rng, xdt, x_shape)
        f = random_values(rng, fdt, f_shape, -127 if fdt == np.int8 else None)
        return In(x, quantization=in_q), Const(f, quantization=fq), make_bias(rng, kind, oc, in_q[0], fscales), out_q
    in_q = (draw_pow2_scale(draw, "in"), draw_quant(draw, xdt, "in")[1])
    if fdt == np.uint8:
        fq = (draw_pow2_scale(draw, "filter"), draw_quant(draw, fdt, "filter")[1])
        fscales, fzp = np.full(oc, fq[0], np.float32), fq[1]
    else:
        fscales = np.array([draw_pow2_scale(draw, "filter %d" % k) for k in range(oc)], np.float32)
        fzp = 0
        if draw(st.booleans(), label="per-tensor filter"):
            fscales[:] = fscales[0]
            fq = (float(fscales[0]), 0)
        else:
            fq = (fscales, np.zeros(oc, np.int64), axis)
    out_q = (in_q[0] * float(fscales[0]) * 2.0 ** draw(st.integers(-1, 6), label="output log2 step"),
             draw_quant(draw, xdt, "out")[1])
    x = tie_values(rng, xdt, x_shape, in_q[1])
    f = tie_values(rng, fdt, f_shape, fzp)
    if fdt == np.int8:
        f = np.maximum(f, -127).astype(np.int8)
    bias = Const(rng.integers(-40, 40, oc, endpoint=True).astype(bdt), quantization=(in_q[0] * float(fscales[0]), 0))
    return In(x, quantization=in_q), Const(f, quantization=fq), bias, out_q


def bias_options(kind):
    opt = KINDS[kind][3]
    return {"quantized_bias_type": getattr(TensorType, opt)} if opt else {}


@pytest.mark.parametrize("kind", list(KINDS))
@settings(max_examples=examples(80), deadline=None)
@given(data=st.data())
def test_conv2d(kind, data):
    draw = data.draw
    rng = np.random.default_rng(draw(st.integers(0, 2 ** 32 - 1), label="seed"))
    xdt, fdt = KINDS[kind][:2]
    (h, w), (kh, kw), opts = draw_window(draw)
    groups = draw(st.sampled_from([1, 1, 2, 3]), label="groups")
    cg, per_group = draw(st.integers(1, 4)), draw(st.integers(1, 3))
    n, oc = draw(st.integers(1, 2)), groups * per_group
    x, f, bias, out_q = draw_operands(draw, rng, kind, (n, h, w, groups * cg), (oc, kh, kw, cg), oc, 0)
    act = draw(st.sampled_from(ACTS), label="activation")
    check_op("CONV_2D", [x, f, bias], [(xdt, out_q)], version=5, fused_activation_function=act, **opts,
             **bias_options(kind))


@pytest.mark.parametrize("kind", ["int8", "uint8", "int16_bias64"])
@settings(max_examples=examples(80), deadline=None)
@given(data=st.data())
def test_depthwise_conv2d(kind, data):
    draw = data.draw
    rng = np.random.default_rng(draw(st.integers(0, 2 ** 32 - 1), label="seed"))
    xdt, fdt = KINDS[kind][:2]
    (h, w), (kh, kw), opts = draw_window(draw)
    c, mult, n = draw(st.integers(1, 5)), draw(st.integers(1, 3)), draw(st.integers(1, 2))
    x, f, bias, out_q = draw_operands(draw, rng, kind, (n, h, w, c), (1, kh, kw, c * mult), c * mult, 3)
    act = draw(st.sampled_from(ACTS), label="activation")
    check_op("DEPTHWISE_CONV_2D", [x, f, bias], [(xdt, out_q)], version=5, depth_multiplier=mult,
             fused_activation_function=act, **opts)


@pytest.mark.parametrize("kind", list(KINDS))
@settings(max_examples=examples(80), deadline=None)
@given(data=st.data())
def test_transpose_conv(kind, data):
    draw = data.draw
    rng = np.random.default_rng(draw(st.integers(0, 2 ** 32 - 1), label="seed"))
    xdt, fdt = KINDS[kind][:2]
    (h, w), (kh, kw), opts = draw_window(draw, dilated=False)
    n, ic, oc = draw(st.integers(1, 2)), draw(st.integers(1, 4)), draw(st.integers(1, 4))
    sh, sw = opts["stride_h"], opts["stride_w"]
    if opts["padding"] == "SAME":
        out_hw = (h * sh, w * sw)
    else:
        out_hw = ((h - 1) * sh + kh, (w - 1) * sw + kw)
    x, f, bias, out_q = draw_operands(draw, rng, kind, (n, h, w, ic), (oc, kh, kw, ic), oc, 0)
    bias = bias if draw(st.booleans(), label="bias") else None
    act = draw(st.sampled_from(ACTS[:4]), label="activation")
    check_op("TRANSPOSE_CONV", [Const(np.array([n, *out_hw, oc], np.int32)), f, x, bias],
             [(xdt, out_q)], version=3, fused_activation_function=act, **opts, **bias_options(kind))


def test_1x1_conv_multiplier_above_one_and_saturation():
    # Output scale far below input x filter scale: multipliers > 1 (left shifts) and saturation.
    rng = np.random.default_rng(3)
    x = random_values(rng, np.int8, (1, 4, 4, 8))
    f = random_values(rng, np.int8, (6, 1, 1, 8), -127)
    scales = np.array([1.0, 0.5, 2e-3, 1e-4, 3.0, 0.25], np.float32)
    check_op("CONV_2D", [In(x, quantization=(0.9, -3)), Const(f, quantization=(scales, np.zeros(6, np.int64), 0)),
                         Const(rng.integers(-100, 100, 6).astype(np.int32), quantization=(0.9, 0))],
             [(np.int8, (0.05, 7))], version=3, padding="VALID", stride_h=1, stride_w=1)


def test_int4_filter():
    # int4 filters arrive unpacked as int8 values in [-8, 7]; LiteRT unpacks them the same way.
    rng = np.random.default_rng(4)
    b = ModelBuilder()
    x = rng.integers(-128, 128, (1, 5, 5, 3)).astype(np.int8)
    f = rng.integers(-8, 8, (4, 3, 3, 3)).astype(np.int8)
    xi = b.input("x", x.shape, "INT8", (0.1, 2))
    fi = b.const("f", f, dtype="INT4", quantization=(np.array([0.2, 0.1, 0.3, 0.05], np.float32), np.zeros(4), 0))
    bi = b.const("b", np.arange(4, dtype=np.int32) * 50, quantization=(0.02, 0))
    y = b.tensor("y", (), "INT8", (0.25, -1))
    b.op("CONV_2D", [xi, fi, bi], [y], version=7, padding="SAME", stride_w=1, stride_h=2)
    b.output(y)
    model = b.to_bytes()
    want = run_litert(model, [x])
    got = run_numlite(model, [x])
    np.testing.assert_array_equal(got[0], want[0])


def test_int8_filter_zero_point_refused():
    x = np.zeros((1, 3, 3, 2), np.int8)
    f = np.ones((2, 1, 1, 2), np.int8)
    assert_both_refuse("CONV_2D", [In(x, quantization=(0.1, 0)), Const(f, quantization=(0.1, 3)),
                                   Const(np.zeros(2, np.int32), quantization=(0.01, 0))],
                       [(np.int8, (0.1, 0))], version=3, padding="VALID", stride_h=1, stride_w=1)


def test_uint8_bias_scale_mismatch_refused():
    # GetQuantizedConvolutionMultipler: bias scale must match input x filter scale within 2% of
    # an output step.
    x = np.zeros((1, 3, 3, 2), np.uint8)
    f = np.ones((2, 1, 1, 2), np.uint8)
    assert_both_refuse("CONV_2D", [In(x, quantization=(0.1, 128)), Const(f, quantization=(0.1, 3)),
                                   Const(np.zeros(2, np.int32), quantization=(0.5, 0))],
                       [(np.uint8, (0.1, 0))], version=1, padding="VALID", stride_h=1, stride_w=1)


def test_int16_needs_zero_points_0():
    x = np.zeros((1, 3, 3, 2), np.int16)
    f = np.ones((1, 1, 1, 2), np.int8)
    assert_both_refuse("DEPTHWISE_CONV_2D", [In(x, quantization=(0.1, 5)), Const(f, quantization=(0.1, 0)),
                                             Const(np.zeros(2, np.int64), quantization=(0.01, 0))],
                       [(np.int16, (0.1, 0))], version=5, padding="VALID", stride_h=1, stride_w=1, depth_multiplier=1)


def test_quantized_kernels_are_selected():
    # The int8 kernels must not fall through to the float ones (which would refuse int8 data).
    x = np.zeros((1, 2, 2, 1), np.int8)
    out = check_op("CONV_2D", [In(x, quantization=(1.0, 0)),
                               Const(np.ones((1, 1, 1, 1), np.int8), quantization=(1.0, 0)),
                               Const(np.array([3], np.int32), quantization=(1.0, 0))],
                   [(np.int8, (1.0, 0))], version=3, padding="VALID", stride_h=1, stride_w=1)
    assert out[0].dtype == np.int8 and np.all(out[0] == 3)
