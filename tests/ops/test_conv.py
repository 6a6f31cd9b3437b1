"""CONV_2D, DEPTHWISE_CONV_2D and TRANSPOSE_CONV against LiteRT's reference kernels."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import numlite
from harness import (Const, assert_model_refused, assert_outputs_match, check_op, examples, run_litert, run_numlite,
                     single_op_model)

ACTS = ["NONE", "RELU", "RELU6", "RELU_N1_TO_1", "TANH", "SIGN_BIT"]   # LiteRT ignores TANH/SIGN_BIT here


def rand(rng, *shape):
    return rng.uniform(-2, 2, shape).astype(np.float32)


def const_or_runtime(draw, value, what):
    return Const(value) if draw(st.booleans(), label=what + " is constant") else value


def draw_geometry(draw):
    """Filter size, stride, dilation and padding per spatial axis, plus an input size for which
    the output is not empty (LiteRT refuses empty conv outputs)."""
    padding = draw(st.sampled_from(["SAME", "VALID"]))
    geo = []
    for _ in range(2):
        k, s, d = draw(st.integers(1, 4)), draw(st.integers(1, 3)), draw(st.integers(1, 3))
        lo = (k - 1) * d + 1 if padding == "VALID" else 1
        geo.append((k, s, d, draw(st.integers(lo, 12))))
    (kh, sh, dh, h), (kw, sw, dw, w) = geo
    opts = dict(padding=padding, stride_h=sh, stride_w=sw, dilation_h_factor=dh, dilation_w_factor=dw)
    return (kh, kw), (h, w), opts


def check_with_zero_bias(opcode, inputs, version=1, **opts):
    """numlite with the bias omitted must equal LiteRT with an all-zero bias (LiteRT itself
    refuses an omitted conv bias)."""
    model, feed = single_op_model(opcode, inputs, [np.float32], version=version, **opts)
    w = inputs[1].value if isinstance(inputs[1], Const) else inputs[1]
    n_out = w.shape[0] if opcode == "CONV_2D" else w.shape[3]
    ref_model, ref_feed = single_op_model(opcode, inputs[:2] + [Const(np.zeros(n_out, np.float32))], [np.float32],
                                          version=version, **opts)
    want = run_litert(ref_model, ref_feed)
    for reference in (True, False):
        assert_outputs_match(run_numlite(model, feed, reference=reference), want, what=opcode)


# ---------------------------------------------------------------------------------------- CONV_2D
@settings(max_examples=examples(100), deadline=None)
@given(data=st.data())
def test_conv2d(data):
    draw = data.draw
    rng = np.random.default_rng(draw(st.integers(0, 2 ** 32 - 1), label="seed"))
    (kh, kw), (h, w), opts = draw_geometry(draw)
    groups = draw(st.sampled_from([1, 1, 2, 3]), label="groups")
    cg, ocg = draw(st.integers(1, 8 // groups)), draw(st.integers(1, 8 // groups))
    x = rand(rng, draw(st.integers(1, 2)), h, w, groups * cg)
    filt = rand(rng, groups * ocg, kh, kw, cg)
    bias = rand(rng, groups * ocg)
    check_op("CONV_2D", [x, const_or_runtime(draw, filt, "filter"), const_or_runtime(draw, bias, "bias")],
             [np.float32], version=draw(st.integers(1, 8)),
             fused_activation_function=draw(st.sampled_from(ACTS)), **opts)


@settings(max_examples=examples(10), deadline=None)
@given(data=st.data())
def test_conv2d_without_bias(data):
    draw = data.draw
    rng = np.random.default_rng(draw(st.integers(0, 2 ** 32 - 1), label="seed"))
    (kh, kw), (h, w), opts = draw_geometry(draw)
    x, filt = rand(rng, 1, h, w, 3), rand(rng, 4, kh, kw, 3)
    omitted = draw(st.sampled_from([[None], []]), label="bias index -1 or no third input")
    check_with_zero_bias("CONV_2D", [x, Const(filt)] + omitted, fused_activation_function="RELU", **opts)


@pytest.mark.parametrize("in_hw, k_hw, stride, padding", [
    ((5, 4), (5, 4), 1, "VALID"),    # filter covers the whole input: 1x1 output
    ((5, 4), (5, 4), 1, "SAME"),     # filter as large as the input, padded
    ((3, 3), (2, 2), 3, "SAME"),     # stride larger than the input: 1x1 output
    ((1, 1), (1, 1), 1, "VALID"),    # 1x1 image
    ((7, 9), (1, 1), 2, "VALID"),    # strided pointwise
])
def test_conv2d_edge_shapes(in_hw, k_hw, stride, padding):
    rng = np.random.default_rng(7)
    x, filt, bias = rand(rng, 2, *in_hw, 3), rand(rng, 5, *k_hw, 3), rand(rng, 5)
    out = check_op("CONV_2D", [x, Const(filt), Const(bias)], [np.float32], padding=padding,
                   stride_h=stride, stride_w=stride)
    if padding == "VALID" and in_hw == k_hw:
        assert out[0].shape == (2, 1, 1, 5)


def test_conv2d_mobilenet_pointwise_is_fast():
    import time
    rng = np.random.default_rng(3)
    x, filt, bias = rand(rng, 1, 112, 112, 32), rand(rng, 64, 1, 1, 32), rand(rng, 64)
    model, feed = single_op_model("CONV_2D", [x, Const(filt), Const(bias)], [np.float32], padding="SAME",
                                  stride_h=1, stride_w=1, fused_activation_function="RELU6")
    interp = numlite.Interpreter(model_content=model)
    interp.allocate_tensors()
    interp.set_tensor(interp.get_input_details()[0]["index"], feed[0])
    interp.invoke()
    t0 = time.perf_counter()
    interp.invoke()
    assert time.perf_counter() - t0 < 0.5
    got = interp.get_tensor(interp.get_output_details()[0]["index"])
    assert_outputs_match([got], run_litert(model, feed), what="CONV_2D 112x112x32 -> 64")


def _expect_refusal(opcode, inputs, error, **opts):
    """LiteRT and numlite both refuse the node."""
    model, feed = single_op_model(opcode, inputs, [np.float32], **opts)
    assert_model_refused(model, feed, error)


def test_conv2d_refusals():
    rng = np.random.default_rng(0)
    x = rand(rng, 1, 4, 4, 4)
    opts = dict(padding="SAME", stride_h=1, stride_w=1)
    # 4 input channels are not a multiple of 3 filter channels.
    _expect_refusal("CONV_2D", [x, Const(rand(rng, 2, 3, 3, 3)), Const(rand(rng, 2))], numlite.ModelError, **opts)
    # 3 filters cannot be split into 2 groups.
    _expect_refusal("CONV_2D", [x, Const(rand(rng, 3, 3, 3, 2)), Const(rand(rng, 3))], numlite.ModelError, **opts)
    with pytest.raises(numlite.ModelError, match="stride"):
        run_numlite(*single_op_model("CONV_2D", [x, Const(rand(rng, 2, 3, 3, 4)), Const(rand(rng, 2))],
                                     [np.float32], padding="SAME", stride_h=0, stride_w=1))


# ------------------------------------------------------------------------------ DEPTHWISE_CONV_2D
@settings(max_examples=examples(100), deadline=None)
@given(data=st.data())
def test_depthwise_conv2d(data):
    draw = data.draw
    rng = np.random.default_rng(draw(st.integers(0, 2 ** 32 - 1), label="seed"))
    (kh, kw), (h, w), opts = draw_geometry(draw)
    c, mult = draw(st.integers(1, 8)), draw(st.integers(1, 3))
    x = rand(rng, draw(st.integers(1, 2)), h, w, c)
    filt = rand(rng, 1, kh, kw, c * mult)
    bias = draw(st.sampled_from(["none", "const", "runtime"]), label="bias")
    bias_in = [] if bias == "none" else [Const(rand(rng, c * mult)) if bias == "const" else rand(rng, c * mult)]
    check_op("DEPTHWISE_CONV_2D", [x, const_or_runtime(draw, filt, "filter")] + bias_in, [np.float32],
             version=draw(st.integers(1, 6)), depth_multiplier=mult,
             fused_activation_function=draw(st.sampled_from(ACTS)), **opts)


def test_depthwise_ignores_depth_multiplier_option():
    # LiteRT takes the multiplier from the shapes (8 filter channels / 4 input channels).
    rng = np.random.default_rng(1)
    x, filt, bias = rand(rng, 1, 6, 5, 4), rand(rng, 1, 3, 3, 8), rand(rng, 8)
    check_op("DEPTHWISE_CONV_2D", [x, Const(filt), Const(bias)], [np.float32], padding="SAME",
             stride_h=1, stride_w=1, depth_multiplier=7)


def test_depthwise_bias_index_minus_one_is_zero_bias():
    rng = np.random.default_rng(2)
    check_with_zero_bias("DEPTHWISE_CONV_2D", [rand(rng, 2, 5, 6, 3), Const(rand(rng, 1, 2, 3, 6)), None],
                         padding="VALID", stride_h=2, stride_w=1, depth_multiplier=2)


@pytest.mark.parametrize("in_hw, k_hw, stride, padding", [
    ((4, 6), (4, 6), 1, "VALID"), ((4, 6), (4, 6), 2, "SAME"), ((2, 2), (3, 3), 3, "SAME"),
    ((1, 1), (1, 1), 1, "SAME")])
def test_depthwise_edge_shapes(in_hw, k_hw, stride, padding):
    rng = np.random.default_rng(4)
    x, filt, bias = rand(rng, 1, *in_hw, 2), rand(rng, 1, *k_hw, 4), rand(rng, 4)
    check_op("DEPTHWISE_CONV_2D", [x, Const(filt), Const(bias)], [np.float32], padding=padding,
             stride_h=stride, stride_w=stride, depth_multiplier=2, fused_activation_function="RELU_N1_TO_1")


def test_depthwise_refusals():
    rng = np.random.default_rng(0)
    x = rand(rng, 1, 4, 4, 3)
    opts = dict(padding="SAME", stride_h=1, stride_w=1, depth_multiplier=1)
    # 4 filter channels are not a multiple of 3 input channels.
    _expect_refusal("DEPTHWISE_CONV_2D", [x, Const(rand(rng, 1, 2, 2, 4)), Const(rand(rng, 4))],
                    numlite.ModelError, **opts)
    # The filter's first dimension must be 1.
    _expect_refusal("DEPTHWISE_CONV_2D", [x, Const(rand(rng, 2, 2, 2, 3)), Const(rand(rng, 3))],
                    numlite.ModelError, **opts)


# -------------------------------------------------------------------------------- TRANSPOSE_CONV
def _transpose_out_size(draw, in_size, k, s, padding):
    """An output size whose forward convolution gives ``in_size`` (LiteRT checks this)."""
    if padding == "SAME":
        return draw(st.integers((in_size - 1) * s + 1, in_size * s))
    lo = (in_size - 1) * s + k
    return draw(st.integers(lo, lo + s - 1))


@settings(max_examples=examples(100), deadline=None)
@given(data=st.data())
def test_transpose_conv(data):
    draw = data.draw
    rng = np.random.default_rng(draw(st.integers(0, 2 ** 32 - 1), label="seed"))
    padding = draw(st.sampled_from(["SAME", "VALID"]))
    n, h, w = draw(st.integers(1, 2)), draw(st.integers(1, 6)), draw(st.integers(1, 6))
    kh, kw = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    sh, sw = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    oh, ow = _transpose_out_size(draw, h, kh, sh, padding), _transpose_out_size(draw, w, kw, sw, padding)
    ic, oc = draw(st.integers(1, 8)), draw(st.integers(1, 8))
    out_shape = np.array([n, oh, ow, oc], np.int32)
    x, weights = rand(rng, n, h, w, ic), rand(rng, oc, kh, kw, ic)
    with_bias = draw(st.booleans(), label="bias")
    inputs = [const_or_runtime(draw, out_shape, "output_shape"), const_or_runtime(draw, weights, "weights"), x]
    if with_bias:
        inputs.append(const_or_runtime(draw, rand(rng, oc), "bias"))
    elif draw(st.booleans(), label="bias index -1"):
        inputs.append(None)
    version = draw(st.integers(3, 5)) if len(inputs) == 4 else draw(st.integers(1, 5))
    out = check_op("TRANSPOSE_CONV", inputs, [np.float32], version=version, padding=padding, stride_h=sh,
                   stride_w=sw, fused_activation_function=draw(st.sampled_from(ACTS)))
    assert out[0].shape == (n, oh, ow, oc)


def test_transpose_conv_refuses_inconsistent_output_shape():
    rng = np.random.default_rng(0)
    x, weights = rand(rng, 1, 4, 4, 2), rand(rng, 3, 3, 3, 2)
    for shape_input in (Const(np.array([1, 12, 8, 3], np.int32)), np.array([1, 12, 8, 3], np.int32)):
        _expect_refusal("TRANSPOSE_CONV", [shape_input, Const(weights), x], numlite.ModelError,
                        padding="SAME", stride_h=2, stride_w=2)


def _invoke_with_output_shapes(out_hws):
    rng = np.random.default_rng(5)
    x, weights = rand(rng, 1, 3, 4, 2), rand(rng, 3, 2, 2, 2)
    model, _ = single_op_model("TRANSPOSE_CONV", [np.zeros(4, np.int32), Const(weights), x], [np.float32],
                               padding="SAME", stride_h=2, stride_w=2)
    interp = numlite.Interpreter(model_content=model)
    interp.allocate_tensors()
    shape_idx, x_idx = (d["index"] for d in interp.get_input_details())
    for out_hw in out_hws:
        interp.set_tensor(shape_idx, np.array([1, *out_hw, 3], np.int32))
        interp.set_tensor(x_idx, x)
        interp.invoke()
        got = interp.get_tensor(interp.get_output_details()[0]["index"])
        want = run_litert(*single_op_model("TRANSPOSE_CONV", [Const(np.array([1, *out_hw, 3], np.int32)),
                                                              Const(weights), x], [np.float32],
                                           padding="SAME", stride_h=2, stride_w=2))
        assert_outputs_match([got], want)


def test_transpose_conv_runtime_output_shape():
    _invoke_with_output_shapes([(6, 8), (6, 8)])


def test_transpose_conv_runtime_output_shape_changes_between_invokes():
    _invoke_with_output_shapes([(6, 8), (5, 7), (6, 7)])
