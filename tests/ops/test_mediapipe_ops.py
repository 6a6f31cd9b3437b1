"""MediaPipe's Convolution2DTransposeBias custom op against LiteRT's reference kernels.

LiteRT's Python package cannot run the custom op, so the oracle is what the op is made of: a
TRANSPOSE_CONV (version 3, which takes the bias as a fourth input) with the custom options'
padding and strides, and the output size MediaPipe's kernel derives from them (SAME: in * stride,
VALID: (in - 1) * stride + filter). The custom options are MediaPipe's raw
TfLiteTransposeConvParams struct: int32 padding (1 = SAME, 2 = VALID), int32 stride_width,
int32 stride_height.
"""
import struct

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import numlite
from harness import Const, assert_outputs_match, examples, run_litert, run_numlite, single_op_model
from numlite.builder import ModelBuilder

OP = "Convolution2DTransposeBias"
TFLITE_PADDING = {"SAME": 1, "VALID": 2}


def custom_model(x_shape, weights, bias, options, inputs=("x", "w", "b")):
    """The custom op on a runtime input ``x`` with constant weights and bias; ``options`` are the
    raw custom options bytes."""
    b = ModelBuilder()
    operands = {"x": b.input("x", x_shape), "w": b.const("w", weights), "b": b.const("b", bias)}
    y = b.tensor("y", ())
    b.op(OP, [operands[k] for k in inputs], [y], custom_options=options)
    b.output(y)
    return b.to_bytes()


def options_bytes(padding, stride_h, stride_w):
    return struct.pack("<iii", TFLITE_PADDING[padding], stride_w, stride_h)


def out_size(n, k, s, padding):
    return n * s if padding == "SAME" else (n - 1) * s + k


@settings(max_examples=examples(100), deadline=None)
@given(data=st.data())
def test_matches_transpose_conv_with_bias(data):
    draw = data.draw
    rng = np.random.default_rng(draw(st.integers(0, 2 ** 32 - 1), label="seed"))
    padding = draw(st.sampled_from(["SAME", "VALID"]), label="padding")
    n = draw(st.integers(1, 2), label="batch")
    h, w = draw(st.integers(1, 6), label="height"), draw(st.integers(1, 6), label="width")
    kh, kw = draw(st.integers(1, 4), label="kh"), draw(st.integers(1, 4), label="kw")
    sh, sw = draw(st.integers(1, 3), label="stride h"), draw(st.integers(1, 3), label="stride w")
    ic, oc = draw(st.integers(1, 6), label="in channels"), draw(st.integers(1, 6), label="out channels")
    x = rng.uniform(-2, 2, (n, h, w, ic)).astype(np.float32)
    weights = rng.uniform(-2, 2, (oc, kh, kw, ic)).astype(np.float32)
    bias = rng.uniform(-2, 2, oc).astype(np.float32)
    out_shape = np.array([n, out_size(h, kh, sh, padding), out_size(w, kw, sw, padding), oc], np.int32)
    builtin, feed = single_op_model("TRANSPOSE_CONV", [Const(out_shape), Const(weights), x, Const(bias)],
                                    [np.float32], version=3, padding=padding, stride_h=sh, stride_w=sw)
    want = run_litert(builtin, feed)
    assert want[0].shape == tuple(out_shape)
    model = custom_model(x.shape, weights, bias, options_bytes(padding, sh, sw))
    for reference in (True, False):
        assert_outputs_match(run_numlite(model, [x], reference=reference), want, what="%s %s" % (OP, padding))


def test_bias_is_added_per_output_channel():
    """A zero input leaves only the bias: a direct check of the third operand's role."""
    weights = np.ones((3, 2, 2, 1), np.float32)
    bias = np.array([0.5, -1.0, 2.0], np.float32)
    got = run_numlite(custom_model((1, 2, 2, 1), weights, bias, options_bytes("SAME", 2, 2)),
                      [np.zeros((1, 2, 2, 1), np.float32)])[0]
    assert got.shape == (1, 4, 4, 3)
    np.testing.assert_array_equal(got, np.broadcast_to(bias, got.shape))


def _refused(model, match):
    with pytest.raises(numlite.ModelError, match=match):
        it = numlite.Interpreter(model_content=model)
        it.allocate_tensors()


@pytest.mark.parametrize("options", [b"", b"\x01\x00\x00\x00", struct.pack("<ii", 1, 2)],
                         ids=["none", "4 bytes", "8 bytes"])
def test_short_options_refused(options):
    w, b = np.ones((2, 3, 3, 1), np.float32), np.zeros(2, np.float32)
    _refused(custom_model((1, 4, 4, 1), w, b, options), "12 bytes of options")


@pytest.mark.parametrize("padding, stride_w, stride_h", [(0, 2, 2), (3, 2, 2), (1, 0, 2), (2, 2, -1)],
                         ids=["padding unknown", "padding 3", "stride_w 0", "stride_h negative"])
def test_invalid_options_refused(padding, stride_w, stride_h):
    w, b = np.ones((2, 3, 3, 1), np.float32), np.zeros(2, np.float32)
    _refused(custom_model((1, 4, 4, 1), w, b, struct.pack("<iii", padding, stride_w, stride_h)), "invalid options")


def test_missing_bias_refused():
    w, b = np.ones((2, 3, 3, 1), np.float32), np.zeros(2, np.float32)
    _refused(custom_model((1, 4, 4, 1), w, b, options_bytes("SAME", 2, 2), inputs=("x", "w")), "expected 3 inputs")
