"""Quantized and hybrid convolutions on outputs large enough to be worked through in several
tiles of output rows (numlite.kernels.conv.shared.TILE), with padding at the first and last
tiles, and a K long enough for the exact float32 products to run in chunks; bit-exact against
LiteRT's reference kernels."""
import numpy as np
import pytest

from harness import Const, In, check_op
from numlite.kernels.conv.shared import TILE
from numlite.kernels.quant import exact_layout, exact_matmul_chunked
from test_requantize import random_values

SHAPE = (2, 57, 53, 24)     # N, H, W, C: every conv below has several tiles of output values


def quantized_operands(rng, oc, filter_hw, depthwise=False):
    x = random_values(rng, np.int8, SHAPE)
    fshape = (1,) + filter_hw + (oc,) if depthwise else (oc,) + filter_hw + (SHAPE[3],)
    f = random_values(rng, np.int8, fshape, -127)
    scales = (rng.random(oc) * 0.01 + 1e-3).astype(np.float32)
    fq = (scales, np.zeros(oc, np.int64), 3 if depthwise else 0)
    b = Const(rng.integers(-9999, 9999, oc).astype(np.int32), quantization=(float(np.float32(0.05) * scales[0]), 0))
    return [In(x, quantization=(0.05, -3)), Const(f, quantization=fq), b]


@pytest.mark.parametrize("padding, stride, filter_hw", [("SAME", 1, (3, 3)), ("SAME", 2, (3, 5)),
                                                        ("VALID", 1, (1, 1)), ("VALID", 2, (4, 2))])
def test_quantized_conv2d_tiles(padding, stride, filter_hw):
    rng = np.random.default_rng(stride)
    got = check_op("CONV_2D", quantized_operands(rng, 64, filter_hw), [(np.int8, (0.1, 2))], version=5,
                   padding=padding, stride_h=stride, stride_w=stride, fused_activation_function="RELU6")
    assert got[0].size > TILE


@pytest.mark.parametrize("padding, stride", [("SAME", 1), ("VALID", 2)])
def test_quantized_depthwise_tiles(padding, stride):
    rng = np.random.default_rng(7)
    got = check_op("DEPTHWISE_CONV_2D", quantized_operands(rng, 3 * SHAPE[3], (3, 3), depthwise=True),
                   [(np.int8, (0.1, -5))], version=5, padding=padding, stride_h=stride, stride_w=stride,
                   dilation_h_factor=2)
    assert got[0].size > TILE


@pytest.mark.parametrize("opcode", ["CONV_2D", "DEPTHWISE_CONV_2D"])
def test_hybrid_tiles(opcode):
    rng = np.random.default_rng(3)
    x = rng.standard_normal(SHAPE).astype(np.float32)
    oc = 48
    f = random_values(rng, np.int8, (1, 3, 3, oc) if opcode == "DEPTHWISE_CONV_2D" else (oc, 3, 3, SHAPE[3]), -127)
    scales = (rng.random(oc) * 0.01 + 1e-3).astype(np.float32)
    fq = (scales, np.zeros(oc, np.int64), 3 if opcode == "DEPTHWISE_CONV_2D" else 0)
    model_inputs = [x, Const(f, quantization=fq), Const(rng.standard_normal(oc).astype(np.float32))]
    got = check_op(opcode, model_inputs, [np.float32], version=5, rtol=0, atol=0, padding="SAME",
                   stride_h=1, stride_w=1)
    assert got[0].size > TILE


def test_quantized_pointwise_chunked_products():
    # 1x1 conv over 2000 channels of |x - zp| <= 255 and |w| <= 127: one float32 sum would not be
    # exact, so the product runs in chunks of the inner dimension.
    rng = np.random.default_rng(5)
    x = random_values(rng, np.int8, (1, 6, 5, 2000))
    f = random_values(rng, np.int8, (8, 1, 1, 2000), -127)
    f[:, :, :, ::2] = 127
    x[..., ::2] = 127
    check_op("CONV_2D", [In(x, quantization=(0.05, -128)), Const(f, quantization=(0.01, 0)),
                         Const(np.zeros(8, np.int32), quantization=(0.0005, 0))],
             [(np.int8, (1000.0, 0))], version=5, padding="VALID", stride_h=1, stride_w=1)


def test_exact_matmul_chunked_is_exact_where_one_float32_sum_is_not():
    # Sums up to 2000 x 255 x 127 > 2^24: one float32 BLAS product may round them (it does with
    # OpenBLAS on x86 for these values); the chunked product is exact.
    a = np.random.default_rng(0).integers(0, 256, (3, 2000)).astype(np.float32)
    b = np.random.default_rng(1).integers(-127, 128, (2000, 5)).astype(np.float32)
    b[:, 0] = 127
    dtype, chunk = exact_layout(2000, 255, 127)
    assert dtype is np.float32 and chunk < 2000
    np.testing.assert_array_equal(exact_matmul_chunked(a, b, chunk), a.astype(np.int64) @ b.astype(np.int64))
