"""Quantized FULLY_CONNECTED and BATCH_MATMUL against LiteRT's reference kernels (bit-exact)."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import numlite
from harness import (Const, In, assert_both_refuse, assert_model_refused, check_op, examples, run_litert,
                     run_numlite, single_op_model)
from numlite.builder import ModelBuilder
from numlite.schema.enums import TensorType
from test_requantize import draw_quant, random_values

# (input, weights, output, bias) dtypes
FC_KINDS = {"int8": (np.int8, np.int8, np.int8, np.int32), "uint8": (np.uint8, np.uint8, np.uint8, np.int32),
            "uint8_to_int16": (np.uint8, np.uint8, np.int16, np.int32),
            "int16_bias64": (np.int16, np.int8, np.int16, np.int64),
            "int16_bias32": (np.int16, np.int8, np.int16, np.int32)}


def draw_weights_quant(draw, wdt, units):
    """Per-tensor (any zero point for int8/uint8) or symmetric per-channel (axis 0) weights."""
    if wdt == np.int8 and draw(st.booleans(), label="per-channel"):
        logs = draw(st.lists(st.floats(-4, 0), min_size=units, max_size=units), label="weight log10 scales")
        scales = (10.0 ** np.array(logs)).astype(np.float32)
        return (scales, np.zeros(units, np.int64), 0), scales[0], True
    scale, zp = draw_quant(draw, wdt, "weights")
    if wdt == np.int8:
        zp = draw(st.sampled_from([0, 0, zp]), label="weights zp")
    return (scale, zp), np.float32(scale), False


@pytest.mark.parametrize("kind", list(FC_KINDS))
@settings(max_examples=examples(100), deadline=None)
@given(data=st.data())
def test_fully_connected(kind, data):
    draw = data.draw
    rng = np.random.default_rng(draw(st.integers(0, 2 ** 32 - 1), label="seed"))
    xdt, wdt, odt, bdt = FC_KINDS[kind]
    units, cols = draw(st.integers(1, 12), label="units"), draw(st.integers(1, 40), label="cols")
    lead = tuple(draw(st.lists(st.integers(1, 3), min_size=0, max_size=2), label="leading dims"))
    keep = draw(st.booleans(), label="keep_num_dims")
    in_q, out_q = draw_quant(draw, xdt, "in"), draw_quant(draw, odt, "out")
    wq, w0, per_channel = draw_weights_quant(draw, wdt, units)
    x = random_values(rng, xdt, lead + (cols,))
    w = random_values(rng, wdt, (units, cols), -127 if wdt == np.int8 and per_channel else None)
    opts = {}
    if xdt == np.int16:
        opts["quantized_bias_type"] = TensorType.INT64 if bdt == np.int64 else TensorType.INT32
    need_bias = kind == "uint8_to_int16"      # that reference kernel starts from the bias
    bias = None
    if need_bias or draw(st.booleans(), label="bias"):
        lim = 1 << (20 if bdt == np.int32 else 34)
        bias = Const(rng.integers(-lim, lim, units).astype(bdt), quantization=(float(np.float32(in_q[0]) * w0), 0))
    act = draw(st.sampled_from(["NONE", "RELU", "RELU6", "RELU_N1_TO_1"]), label="activation")
    weights = Const(w, quantization=wq) if draw(st.booleans(), label="constant weights") else In(w, quantization=wq)
    check_op("FULLY_CONNECTED", [In(x, quantization=in_q), weights, bias], [(odt, out_q)],
             version=5, keep_num_dims=keep, fused_activation_function=act, **opts)


def test_fully_connected_double_rounding_ties():
    # LiteRT's reference FULLY_CONNECTED rescales in double: round(acc * s) with halves away
    # from zero, not the fixed-point multiplier (which disagrees on some of these).
    acc = np.arange(-64, 64, dtype=np.int8).reshape(1, 128)
    eye = np.eye(128, dtype=np.int8)
    check_op("FULLY_CONNECTED", [In(acc, quantization=(0.5, 0)), Const(eye, quantization=(1.0, 0))],
             [(np.int8, (1.0, 0))], version=4)
    check_op("FULLY_CONNECTED", [In(acc, quantization=(0.3, 0)), Const(eye, quantization=(0.7, 0))],
             [(np.int8, (0.105, 3))], version=4)


def test_fully_connected_overflowing_scale():
    # A huge effective scale: double -> int32 conversion out of range gives INT32_MIN on x86,
    # so even large positive accumulators end at the activation minimum.
    x = np.array([[127, -128, 1, 0]], np.int8)
    check_op("FULLY_CONNECTED", [In(x, quantization=(10.0, 0)),
                                 Const(np.eye(4, dtype=np.int8), quantization=(10.0, 0))],
             [(np.int8, (1e-4, 0))], version=4)


def test_int16_fully_connected_without_options_refused():
    # No options table: LiteRT's quantized_bias_type stays unset and its 16x8 Prepare fails.
    x = np.zeros((1, 4), np.int16)
    w = Const(np.ones((2, 4), np.int8), quantization=(0.1, 0))
    assert_both_refuse("FULLY_CONNECTED", [In(x, quantization=(0.1, 0)), w], [(np.int16, (0.1, 0))], version=7)


def test_uint8_to_int16_with_output_zero_point():
    rng = np.random.default_rng(2)
    x = random_values(rng, np.uint8, (3, 6))
    check_op("FULLY_CONNECTED", [In(x, quantization=(0.05, 120)),
                                 Const(random_values(rng, np.uint8, (4, 6)), quantization=(0.02, 131)),
                                 Const(rng.integers(-999, 999, 4).astype(np.int32), quantization=(0.001, 0))],
             [(np.int16, (1e-4, 30))], version=4, fused_activation_function="RELU")


def test_fully_connected_bias_scale_mismatch_refused():
    x = np.zeros((1, 4), np.int8)
    assert_both_refuse("FULLY_CONNECTED", [In(x, quantization=(0.1, 0)),
                                           Const(np.ones((2, 4), np.int8), quantization=(0.1, 0)),
                                           Const(np.zeros(2, np.int32), quantization=(1.0, 0))],
                       [(np.int8, (0.1, 0))], version=4)


def test_fully_connected_tanh_refused():
    x = np.zeros((1, 4), np.int8)
    model_inputs = [In(x, quantization=(0.1, 0)), Const(np.ones((2, 4), np.int8), quantization=(0.1, 0))]
    model, feed = single_op_model("FULLY_CONNECTED", model_inputs, [(np.int8, (0.1, 0))], version=4,
                                  fused_activation_function="TANH")
    assert_model_refused(model, feed, numlite.UnsupportedOpError)


BMM_KINDS = {"int8": (np.int8, np.int8, np.int8), "int8_to_int32": (np.int8, np.int8, np.int32),
             "int16": (np.int16, np.int16, np.int16), "int16x8": (np.int16, np.int8, np.int16)}


@pytest.mark.parametrize("kind", list(BMM_KINDS))
@settings(max_examples=examples(100), deadline=None)
@given(data=st.data())
def test_batch_matmul(kind, data):
    draw = data.draw
    rng = np.random.default_rng(draw(st.integers(0, 2 ** 32 - 1), label="seed"))
    ldt, rdt, odt = BMM_KINDS[kind]
    m, k, n = draw(st.integers(1, 5)), draw(st.integers(1, 24)), draw(st.integers(1, 5))
    batch = tuple(draw(st.lists(st.integers(1, 3), min_size=0, max_size=2), label="batch"))
    rbatch = tuple(draw(st.sampled_from([d, 1])) for d in batch)[draw(st.integers(0, len(batch))):]
    adj_x, adj_y = draw(st.booleans(), label="adj_x"), draw(st.booleans(), label="adj_y")
    lhs = random_values(rng, ldt, batch + ((k, m) if adj_x else (m, k)))
    rhs = random_values(rng, rdt, rbatch + ((n, k) if adj_y else (k, n)))
    lq, rq = draw_quant(draw, ldt, "lhs"), draw_quant(draw, rdt, "rhs")
    if ldt == np.int16:
        rq = (rq[0], 0)
    oq = (1.0, 0) if odt == np.int32 else draw_quant(draw, odt, "out")
    rhs_in = Const(rhs, quantization=rq) if draw(st.booleans(), label="constant rhs") else In(rhs, quantization=rq)
    check_op("BATCH_MATMUL", [In(lhs, quantization=lq), rhs_in], [(odt, oq)], version=4, adj_x=adj_x, adj_y=adj_y)


@pytest.mark.parametrize("xdt", [np.int8, np.int16])
def test_int4_weights(xdt):
    rng = np.random.default_rng(6)
    b = ModelBuilder()
    x = random_values(rng, xdt, (3, 9))
    xi = b.input("x", x.shape, xdt, (0.05, 0))
    wi = b.const("w", rng.integers(-8, 8, (4, 9)), dtype="INT4", quantization=(np.float32(0.3), 0))
    y = b.tensor("y", (), xdt, (0.2, 0))
    b.op("FULLY_CONNECTED", [xi, wi, -1], [y], version=13, quantized_bias_type=TensorType.INT64)
    b.output(y)
    model = b.to_bytes()
    np.testing.assert_array_equal(run_numlite(model, [x])[0], run_litert(model, [x])[0])


@pytest.mark.parametrize("k", [1, 2, 3])
def test_int16_batch_matmul_products_beyond_float32(k):
    """int16 x int16 products need up to 30 bits: the exact integer product cannot be computed in
    float32 even for a single term (a short inner dimension once took that path and lost the low
    bits: a few outputs 1 LSB off). Many outputs, full-range values, a multiplier near 2^-16."""
    rng = np.random.default_rng(k)
    lhs = rng.integers(-32767, 32768, (1, 96, k)).astype(np.int16)
    rhs = rng.integers(-32767, 32768, (1, k, 96)).astype(np.int16)
    q = 1.0 / 4096
    out_q = q * q * 65536 * 1.37 * k
    check_op("BATCH_MATMUL", [In(lhs, quantization=(q, 0)), In(rhs, quantization=(q, 0))], [(np.int16, (out_q, 0))])
