"""Hybrid (dynamic-range) kernels: float32 activations with int8 weights, against LiteRT's
reference resolver. The on-the-fly input quantization, the integer products and the float32
rescaling follow LiteRT's exact operations (a fused TANH is Eigen's tanh, as in LiteRT), so outputs
are compared bit for bit."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from harness import Const, assert_both_refuse, check_op, examples, run_litert, run_numlite, single_op_model
from numlite.builder import ModelBuilder
from test_quantized_conv import draw_window
from test_requantize import random_values


def float_input(rng, draw, shape, what="input", log10_range=(-3, 3)):
    """Normal values over a drawn magnitude; sometimes all zeros (LiteRT skips the product),
    non-negative (asymmetric zero point at the edge) or exact quarters (rounding ties)."""
    style = draw(st.sampled_from(["normal", "normal", "positive", "zeros", "ties"]), label=what + " style")
    x = rng.standard_normal(shape) * 10.0 ** draw(st.floats(*log10_range), label=what + " log10 magnitude")
    if style == "positive":
        x = np.abs(x)
    elif style == "zeros":
        x[...] = 0
    elif style == "ties":
        x = np.round(x * 4) / 4
    return x.astype(np.float32)


def draw_scales(draw, n):
    """Weight scales: one, n different ones, or n equal ones (LiteRT's conv then takes the
    per-tensor path)."""
    kind = draw(st.sampled_from(["per-tensor", "per-channel", "equal"]), label="weight scales")
    logs = draw(st.lists(st.floats(-4, 0), min_size=n, max_size=n), label="weight log10 scales")
    scales = (10.0 ** np.array(logs)).astype(np.float32)
    if kind == "per-tensor":
        return kind, scales[:1]
    if kind == "equal":
        scales[:] = scales[0]
    return kind, scales


def weight_quant(scales, axis):
    if scales.size == 1:
        return float(scales[0]), 0
    return scales, np.zeros(scales.size, np.int64), axis


def assert_hybrid(opcode, inputs, act="NONE", **options):
    model, feed = single_op_model(opcode, inputs, [np.float32], fused_activation_function=act, **options)
    want = run_litert(model, feed)
    for reference in (True, False):
        got = run_numlite(model, feed, reference=reference)
        np.testing.assert_array_equal(got[0], want[0])


@settings(max_examples=examples(80), deadline=None)
@given(data=st.data())
def test_fully_connected(data):
    draw = data.draw
    rng = np.random.default_rng(draw(st.integers(0, 2 ** 32 - 1), label="seed"))
    units, cols = draw(st.integers(1, 12), label="units"), draw(st.integers(1, 70), label="cols")
    lead = tuple(draw(st.lists(st.integers(1, 3), min_size=0, max_size=2), label="leading dims"))
    _, scales = draw_scales(draw, units)
    x = float_input(rng, draw, lead + (cols,))
    w = random_values(rng, np.int8, (units, cols), -127)
    bias = Const(rng.standard_normal(units).astype(np.float32)) if draw(st.booleans(), label="bias") else None
    act = draw(st.sampled_from(["NONE", "RELU", "RELU6", "RELU_N1_TO_1", "TANH", "SIGN_BIT"]), label="activation")
    assert_hybrid("FULLY_CONNECTED", [x, Const(w, quantization=weight_quant(scales, 0)), bias], act=act, version=9,
                  keep_num_dims=draw(st.booleans(), label="keep_num_dims"),
                  asymmetric_quantize_inputs=draw(st.booleans(), label="asymmetric"))


@settings(max_examples=examples(80), deadline=None)
@given(data=st.data())
def test_conv2d(data):
    draw = data.draw
    rng = np.random.default_rng(draw(st.integers(0, 2 ** 32 - 1), label="seed"))
    (h, w), (kh, kw), opts = draw_window(draw)
    groups = draw(st.sampled_from([1, 1, 1, 2]), label="groups")
    cg, oc = draw(st.integers(1, 4)), groups * draw(st.integers(1, 3))
    kind, scales = draw_scales(draw, oc)
    if groups > 1 and kind == "per-tensor":
        scales = np.repeat(scales, oc)       # LiteRT's grouped hybrid path needs one scale per filter
    x = float_input(rng, draw, (draw(st.integers(1, 2)), h, w, groups * cg))
    f = random_values(rng, np.int8, (oc, kh, kw, cg), -127)
    act = draw(st.sampled_from(["NONE", "RELU", "RELU6", "RELU_N1_TO_1"]), label="activation")
    assert_hybrid("CONV_2D", [x, Const(f, quantization=weight_quant(scales, 0)),
                              Const(rng.standard_normal(oc).astype(np.float32))], act=act, version=2, **opts)


@settings(max_examples=examples(80), deadline=None)
@given(data=st.data())
def test_depthwise_conv2d(data):
    draw = data.draw
    rng = np.random.default_rng(draw(st.integers(0, 2 ** 32 - 1), label="seed"))
    (h, w), (kh, kw), opts = draw_window(draw)
    c, mult = draw(st.integers(1, 4)), draw(st.integers(1, 3))
    # Per-channel scales only: with a single scale LiteRT reads past the end of the scale array.
    logs = draw(st.lists(st.floats(-4, 0), min_size=c * mult, max_size=c * mult), label="filter log10 scales")
    scales = (10.0 ** np.array(logs)).astype(np.float32)
    x = float_input(rng, draw, (draw(st.integers(1, 2)), h, w, c))
    f = random_values(rng, np.int8, (1, kh, kw, c * mult), -127)
    act = draw(st.sampled_from(["NONE", "RELU", "RELU6", "RELU_N1_TO_1"]), label="activation")
    assert_hybrid("DEPTHWISE_CONV_2D", [x, Const(f, quantization=(scales, np.zeros(c * mult, np.int64), 3)),
                                        Const(rng.standard_normal(c * mult).astype(np.float32))],
                  act=act, version=6, depth_multiplier=mult, **opts)


@settings(max_examples=examples(80), deadline=None)
@given(data=st.data())
def test_batch_matmul(data):
    draw = data.draw
    rng = np.random.default_rng(draw(st.integers(0, 2 ** 32 - 1), label="seed"))
    m, k, n = draw(st.integers(1, 5)), draw(st.integers(1, 40)), draw(st.integers(1, 6))
    batch = tuple(draw(st.lists(st.integers(1, 3), min_size=0, max_size=2), label="batch"))
    rbatch = batch[draw(st.integers(0, len(batch))):]
    adj_x, adj_y = draw(st.booleans(), label="adj_x"), draw(st.booleans(), label="adj_y")
    _, scales = draw_scales(draw, n)
    rhs = random_values(rng, np.int8, rbatch + ((n, k) if adj_y else (k, n)), -127)
    axis = len(rhs.shape) - (2 if adj_y else 1)
    lhs = float_input(rng, draw, batch + ((k, m) if adj_x else (m, k)))
    model, feed = single_op_model("BATCH_MATMUL", [lhs, Const(rhs, quantization=weight_quant(scales, axis))],
                                  [np.float32], version=4, adj_x=adj_x, adj_y=adj_y,
                                  asymmetric_quantize_inputs=draw(st.booleans(), label="asymmetric"))
    want = run_litert(model, feed)
    np.testing.assert_array_equal(run_numlite(model, feed)[0], want[0])


def test_asymmetric_quantization_rounds_before_adding_the_zero_point():
    # Range [-127.5, 127.5]: scale 1, zero point -0.5 → -1. Inputs at exact halves tell
    # round(x / s) + zp (LiteRT's x86 build) from round(zp + x / s) (the portable code).
    x = np.array([[-127.5, 127.5, 0.5, 1.5, -0.5, -2.5, 2.5, 3.5, 0.0]], np.float32)
    out = check_op("FULLY_CONNECTED", [x, Const(np.eye(9, dtype=np.int8), quantization=(1.0, 0))], [np.float32],
                   version=9, asymmetric_quantize_inputs=True)
    np.testing.assert_array_equal(out[0], [[-127, 128, 1, 2, -1, -3, 3, 4, 0]])


def test_all_zero_input_gives_bias():
    x = np.zeros((2, 5), np.float32)
    b = np.array([1.5, -2.0, 0.25], np.float32)
    out = check_op("FULLY_CONNECTED", [x, Const(np.ones((3, 5), np.int8), quantization=(0.1, 0)), Const(b)],
                   [np.float32], version=9, fused_activation_function="RELU")
    np.testing.assert_array_equal(out[0], np.maximum(np.broadcast_to(b, (2, 3)), 0))


def test_grouped_conv_with_one_scale_refused():
    x = np.zeros((1, 3, 3, 4), np.float32)
    assert_both_refuse("CONV_2D", [x, Const(np.ones((2, 1, 1, 2), np.int8), quantization=(0.1, 0)),
                                   Const(np.zeros(2, np.float32))],
                       [np.float32], version=2, padding="VALID", stride_h=1, stride_w=1)


@pytest.mark.parametrize("opcode", ["FULLY_CONNECTED", "CONV_2D"])
def test_hybrid_kernel_selected(opcode):
    # A float input with int8 weights must reach the hybrid kernel (not the float one, which
    # refuses int8 weights): compare against the float computation with dequantized weights.
    rng = np.random.default_rng(0)
    x = rng.standard_normal((1, 2, 2, 3) if opcode == "CONV_2D" else (2, 3)).astype(np.float32)
    w = rng.integers(-127, 128, (4, 1, 1, 3) if opcode == "CONV_2D" else (4, 3)).astype(np.int8)
    ins = [x, Const(w, quantization=(0.01, 0)), Const(np.zeros(4, np.float32))]
    opts = dict(padding="VALID", stride_h=1, stride_w=1) if opcode == "CONV_2D" else {}
    out = check_op(opcode, ins, [np.float32], version=2, **opts)[0]
    wf = w.reshape(4, 3).astype(np.float64) * 0.01
    exact = x.reshape(-1, 3).astype(np.float64) @ wf.T
    # The input is quantized symmetrically to int8 (step <= max|x| / 127), so each input is off
    # by at most half a step: that bounds the distance to the float product with dequantized
    # weights (check_op above already compared with LiteRT bit for bit).
    bound = np.abs(wf).sum(axis=1) * np.abs(x).max() / 127 / 2 + 1e-6
    assert np.all(np.abs(out.reshape(-1, 4) - exact) <= bound)


@pytest.mark.parametrize("opcode", ["FULLY_CONNECTED", "BATCH_MATMUL"])
@pytest.mark.parametrize("k", [1000, 2100])
def test_asymmetric_row_sums_wrap_like_litert(opcode, k):
    # LiteRT's x86 ReductionSumVector adds weight rows in int16 lanes that wrap for long rows
    # of large weights; the asymmetric hybrid result then depends on the wrapped row sums.
    x = np.full((2, k), 0.5, np.float32)
    x[:, 0] = -1.0
    w = np.full((3, k), 127, np.int8)
    if opcode == "BATCH_MATMUL":
        ins = [x, Const(w.T.copy(), quantization=(0.01, 0))]
    else:
        ins = [x, Const(w, quantization=(0.01, 0))]
    model, feed = single_op_model(opcode, ins, [np.float32], version=4, asymmetric_quantize_inputs=True)
    np.testing.assert_array_equal(run_numlite(model, feed)[0], run_litert(model, feed)[0])


def test_int4_weights_fully_connected():
    rng = np.random.default_rng(1)
    b = ModelBuilder()
    x = rng.standard_normal((3, 10)).astype(np.float32)
    xi = b.input("x", x.shape)
    wi = b.const("w", rng.integers(-8, 8, (5, 10)), dtype="INT4", quantization=(np.float32(0.3), 0))
    y = b.tensor("y", ())
    b.op("FULLY_CONNECTED", [xi, wi, -1], [y], version=13)
    b.output(y)
    model = b.to_bytes()
    np.testing.assert_array_equal(run_numlite(model, [x])[0], run_litert(model, [x])[0])


def test_asymmetric_zero_point_from_float32_range():
    # This row's zero point (127 - max / scale) is 62.4999977 from the float32 max - min that
    # LiteRT's x86 build uses, 62.5000006 from a double difference: they round to 62 and 63.
    x = np.array([[-0.48437423, 0.16400072, 0.01525588, -0.1906985, 0.12967499]], np.float32)
    rmax = np.float64(x.max())
    assert round(127 - rmax / ((rmax - np.float64(x.min())) / 255)) == 63
    assert round(127 - rmax / (np.float64(x.max() - x.min()) / 255)) == 62
    w = np.random.default_rng(5).integers(-127, 128, (7, 5)).astype(np.int8)
    assert_hybrid("FULLY_CONNECTED", [x, Const(w, quantization=(0.02, 0)), None], version=9,
                  asymmetric_quantize_inputs=True)
