"""AVERAGE_POOL_2D / MAX_POOL_2D on int8, uint8 and int16 against LiteRT's reference kernels
(bit-exact)."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from harness import In, assert_both_refuse, check_op, examples
from test_requantize import QUANT_DTYPES, draw_quant, random_values

ACTS = ["NONE", "RELU", "RELU6", "RELU_N1_TO_1", "TANH", "SIGN_BIT"]


def draw_geometry(draw):
    padding = draw(st.sampled_from(["SAME", "VALID"]), label="padding")
    opts = dict(padding=padding)
    sizes = []
    for axis in ("height", "width"):
        f, s = draw(st.integers(1, 4)), draw(st.integers(1, 3))
        opts.update({"filter_" + axis: f, "stride_" + axis[0]: s})
        sizes.append(draw(st.integers(f if padding == "VALID" else 1, 9)))
    return (draw(st.integers(1, 2)), *sizes, draw(st.integers(1, 4))), opts


@pytest.mark.parametrize("opcode", ["AVERAGE_POOL_2D", "MAX_POOL_2D"])
@pytest.mark.parametrize("dtype", QUANT_DTYPES, ids=lambda t: np.dtype(t).name)
@settings(max_examples=examples(60), deadline=None)
@given(data=st.data())
def test_quantized_pool(opcode, dtype, data):
    rng = np.random.default_rng(data.draw(st.integers(0, 2 ** 32 - 1), label="seed"))
    shape, opts = draw_geometry(data.draw)
    q = draw_quant(data.draw, dtype)
    x = random_values(rng, dtype, shape)
    act = data.draw(st.sampled_from(ACTS), label="activation")
    check_op(opcode, [In(x, quantization=q)], [(dtype, q)], version=data.draw(st.integers(1, 3)),
             fused_activation_function=act, **opts)


@pytest.mark.parametrize("dtype", QUANT_DTYPES, ids=lambda t: np.dtype(t).name)
def test_average_rounds_half_away_from_zero(dtype):
    # Windows of 2 or 4 values whose sums are odd/even multiples of half the count: every
    # rounding direction of LiteRT's ``(acc ± n/2) / n`` is exercised, negative sums included.
    info = np.iinfo(dtype)
    vals = np.array([info.min, info.min + 1, -3, -2, -1, 0, 1, 2, 3, info.max - 1, info.max])
    vals = vals[(vals >= info.min) & (vals <= info.max)].astype(dtype)
    x = np.stack(np.meshgrid(vals, vals), -1).reshape(1, len(vals), len(vals) * 2, 1)
    for fh, fw in [(1, 2), (2, 2), (1, 3)]:
        check_op("AVERAGE_POOL_2D", [In(x, quantization=(0.5, 0))], [(dtype, (0.5, 0))], padding="SAME",
                 filter_height=fh, filter_width=fw, stride_h=1, stride_w=1)


def test_activation_bound_uses_float32_division():
    # 6 / scale is 16807.5 in float32 but just below .5 in float64; LiteRT divides in float32.
    s = 0.00035698350984603167
    x = np.full((1, 2, 2, 1), 20000, np.int16)
    out = check_op("MAX_POOL_2D", [In(x, quantization=(s, 0))], [(np.int16, (s, 0))], padding="VALID",
                   filter_height=2, filter_width=2, stride_h=1, stride_w=1, fused_activation_function="RELU6")
    assert out[0].item() == 16808


@pytest.mark.parametrize("dtype", QUANT_DTYPES, ids=lambda t: np.dtype(t).name)
def test_quantized_l2_pool_refused(dtype):
    # LiteRT has no quantized L2_POOL_2D.
    x = np.zeros((1, 4, 4, 1), dtype)
    assert_both_refuse("L2_POOL_2D", [In(x, quantization=(0.1, 0))], [(dtype, (0.1, 0))], padding="VALID",
                       filter_height=2, filter_width=2, stride_h=2, stride_w=2)
