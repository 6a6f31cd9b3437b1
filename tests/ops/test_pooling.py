"""AVERAGE_POOL_2D, MAX_POOL_2D and L2_POOL_2D against LiteRT's reference kernels."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import numlite
from harness import In, check_op, examples, run_numlite, single_op_model

ACTS = ["NONE", "RELU", "RELU6", "RELU_N1_TO_1", "TANH", "SIGN_BIT"]   # LiteRT ignores TANH/SIGN_BIT here
POOLS = ["AVERAGE_POOL_2D", "MAX_POOL_2D", "L2_POOL_2D"]


def draw_pool(draw):
    """Input shape and pooling options. A VALID window may be one stride larger than the input
    (an empty output); beyond that LiteRT computes a negative output size."""
    padding = draw(st.sampled_from(["SAME", "VALID"]))
    opts = dict(padding=padding, fused_activation_function=draw(st.sampled_from(ACTS)))
    sizes = []
    for axis in ("height", "width"):
        f, s = draw(st.integers(1, 4)), draw(st.integers(1, 3))
        opts.update({"filter_" + axis: f, "stride_" + axis[0]: s})
        sizes.append(draw(st.integers(max(1, f - 2 * s + 1) if padding == "VALID" else 1, 12)))
    return (draw(st.integers(1, 2)), *sizes, draw(st.integers(1, 8))), opts


@pytest.mark.parametrize("opcode", POOLS)
@settings(max_examples=examples(60), deadline=None)
@given(data=st.data())
def test_float_pool(opcode, data):
    rng = np.random.default_rng(data.draw(st.integers(0, 2 ** 32 - 1), label="seed"))
    shape, opts = draw_pool(data.draw)
    x = rng.uniform(-8, 8, shape).astype(np.float32)
    version = data.draw(st.integers(1, 1 if opcode == "L2_POOL_2D" else 3))
    check_op(opcode, [x], [np.float32], version=version, **opts)


@pytest.mark.parametrize("opcode", POOLS)
def test_average_divides_by_valid_positions(opcode):
    # All-ones input: with SAME padding every output is 1 only if padded cells are not counted.
    x = np.ones((1, 5, 4, 2), np.float32)
    out = check_op(opcode, [x], [np.float32], padding="SAME", filter_height=3, filter_width=3, stride_h=2,
                   stride_w=1)
    np.testing.assert_array_equal(out[0], np.ones_like(out[0]))


@pytest.mark.parametrize("opcode", POOLS)
@pytest.mark.parametrize("in_hw, k_hw, stride, padding", [
    ((5, 3), (5, 3), 1, "VALID"),    # filter equals the input: 1x1 output
    ((5, 3), (5, 3), 2, "SAME"),
    ((2, 2), (1, 1), 3, "SAME"),     # stride larger than the input
])
def test_pool_edge_shapes(opcode, in_hw, k_hw, stride, padding):
    x = np.random.default_rng(3).uniform(-3, 3, (2, *in_hw, 3)).astype(np.float32)
    check_op(opcode, [x], [np.float32], padding=padding, filter_height=k_hw[0], filter_width=k_hw[1],
             stride_h=stride, stride_w=stride, fused_activation_function="RELU_N1_TO_1")


@pytest.mark.parametrize("dtype", [np.int8, np.uint8, np.int16])
@settings(max_examples=examples(15), deadline=None)
@given(data=st.data())
def test_quantized_max_pool(dtype, data):
    """Raw max of quantized values, clamped to the activation range in the output's quantized domain."""
    rng = np.random.default_rng(data.draw(st.integers(0, 2 ** 32 - 1), label="seed"))
    shape, opts = draw_pool(data.draw)
    info = np.iinfo(dtype)
    x = rng.integers(info.min, info.max, shape, endpoint=True).astype(dtype)
    scale = data.draw(st.floats(0.001, 0.2), label="scale")
    zp = 0 if dtype == np.int16 else data.draw(st.integers(int(info.min), int(info.max)), label="zero point")
    q = (scale, zp)
    version = {np.int8: 2, np.uint8: 1, np.int16: 3}[dtype]
    check_op("MAX_POOL_2D", [In(x, q)], [(dtype, q)], version=version, **opts)


def test_quantized_l2_pool_is_refused():
    # LiteRT has no quantized L2_POOL_2D (its Prepare insists on float32).
    model, feed = single_op_model("L2_POOL_2D", [In(np.zeros((1, 4, 4, 2), np.int8), (0.1, 0))],
                                  [(np.int8, (0.1, 0))], padding="SAME", filter_height=2, filter_width=2,
                                  stride_h=1, stride_w=1)
    with pytest.raises(numlite.UnsupportedOpError, match="INT8"):
        run_numlite(model, feed)


def test_pool_refuses_bad_options():
    x = np.zeros((1, 4, 4, 2), np.float32)
    for bad in (dict(filter_height=0, filter_width=2, stride_h=1, stride_w=1),
                dict(filter_height=2, filter_width=2, stride_h=1, stride_w=0)):
        model, feed = single_op_model("MAX_POOL_2D", [x], [np.float32], padding="SAME", **bad)
        with pytest.raises(numlite.ModelError):
            run_numlite(model, feed)
