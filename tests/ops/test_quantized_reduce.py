"""MEAN, SUM, REDUCE_PROD, REDUCE_MAX, REDUCE_MIN on int8 / uint8 / int16 against LiteRT's
reference kernels (bit-exact)."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import numlite
from harness import Const, In, assert_both_refuse, check_op, examples, run_numlite, single_op_model
from test_requantize import QUANT_DTYPES, draw_quant, random_values

VERSIONS = {"MEAN": 3, "SUM": 2, "REDUCE_PROD": 2, "REDUCE_MAX": 3, "REDUCE_MIN": 3}


def draw_reduction(draw, max_side=6):
    """Shape (rank 1-4) and an axis list: some dims, negative or duplicated entries allowed."""
    shape = tuple(draw(st.lists(st.integers(1, max_side), min_size=1, max_size=4), label="shape"))
    rank = len(shape)
    axes = draw(st.lists(st.integers(-rank, rank - 1), min_size=1, max_size=rank + 1), label="axes")
    return shape, np.array(axes, np.int32), draw(st.booleans(), label="keep_dims")


def reduce_case(opcode, dtype, data, max_side=6):
    rng = np.random.default_rng(data.draw(st.integers(0, 2 ** 32 - 1), label="seed"))
    shape, axes, keep = draw_reduction(data.draw, max_side)
    in_q = draw_quant(data.draw, dtype, "in")
    out_q = draw_quant(data.draw, dtype, "out") if data.draw(st.booleans(), label="requantize") else in_q
    return rng, shape, axes, keep, in_q, out_q


@pytest.mark.parametrize("opcode", ["MEAN", "SUM"])
@pytest.mark.parametrize("dtype", QUANT_DTYPES, ids=lambda t: np.dtype(t).name)
@settings(max_examples=examples(60), deadline=None)
@given(data=st.data())
def test_mean_sum(opcode, dtype, data):
    if opcode == "SUM" and dtype == np.int16:
        return   # refused, see test_int16_sum_refused
    rng, shape, axes, keep, in_q, out_q = reduce_case(opcode, dtype, data)
    x = random_values(rng, dtype, shape)
    check_op(opcode, [In(x, quantization=in_q), Const(axes)], [(dtype, out_q)],
             version=data.draw(st.integers(1, VERSIONS[opcode])), keep_dims=keep)


@pytest.mark.parametrize("dtype", QUANT_DTYPES, ids=lambda t: np.dtype(t).name)
def test_mean_4d_spatial(dtype):
    # The global-average-pool pattern of real models (axes 1 and 2, keep_dims) over a large
    # reduction (2^16 elements: the 1/count factor folded into the multiplier is 2^-16) with scale
    # ratios from tiny to 1.
    rng = np.random.default_rng(7)
    zp = 0 if dtype == np.int16 else int(np.iinfo(dtype).min)
    x = random_values(rng, dtype, (1, 256, 256, 2))
    for in_q, out_q in [((1e-4, zp), (10.0, zp)), ((0.02, zp), (0.01, zp)), ((0.5, zp), (0.5, zp))]:
        for axes in ([1, 2], [2, 1]):
            check_op("MEAN", [In(x, quantization=in_q), Const(np.array(axes, np.int32))], [(dtype, out_q)],
                     keep_dims=True)


@pytest.mark.parametrize("dtype, zp", [(np.uint8, 0), (np.int8, -128)], ids=["uint8", "int8"])
def test_mean_multiplier_truncates(dtype, zp):
    # Scale ratio 7/64 over 10 elements: these zero-point-shifted sums land on a rounding edge
    # that only the truncating (mult << 3) / 10 of LiteRT's 1/count fold gets right.
    sums = np.array([45, 685, 1325, 1965])
    x = np.repeat(sums[:, None] // 10, 10, axis=1)
    x[:, 0] += sums - x.sum(axis=1)
    x = (x + zp).astype(dtype)
    check_op("MEAN", [In(x, quantization=(0.109375, zp)), Const(np.array([1], np.int32))], [(dtype, (1.0, zp))])


@pytest.mark.parametrize("dtype", [np.int8, np.int16], ids=lambda t: np.dtype(t).name)
@settings(max_examples=examples(60), deadline=None)
@given(data=st.data())
def test_quantized_prod(dtype, data):
    rng, shape, axes, keep, _, _ = reduce_case("REDUCE_PROD", dtype, data, max_side=4)
    # Scale ratios below 2^14 (LiteRT's int64 rescale shifts by 15 - shift) and values close to
    # the zero point, so that products stay meaningful.
    in_q, out_q = draw_quant(data.draw, dtype, "in"), draw_quant(data.draw, dtype, "out")
    in_q = (min(in_q[0], 1.0), in_q[1])
    out_q = (max(out_q[0], 1e-3), out_q[1])
    span = data.draw(st.sampled_from([2, 5, 40]), label="span")
    zp = in_q[1]
    info = np.iinfo(dtype)
    x = random_values(rng, dtype, shape, max(info.min, zp - span), min(info.max, zp + span))
    check_op("REDUCE_PROD", [In(x, quantization=in_q), Const(axes)], [(dtype, out_q)], keep_dims=keep,
             version=data.draw(st.integers(1, 2)))


@pytest.mark.parametrize("dtype", QUANT_DTYPES, ids=lambda t: np.dtype(t).name)
def test_prod_without_quantization(dtype):
    # Plain integer product in the tensor's type, wrapping.
    x = np.random.default_rng(3).integers(0, 6, (3, 4, 2)).astype(dtype)
    check_op("REDUCE_PROD", [x, Const(np.array([1], np.int32))], [dtype])


@pytest.mark.parametrize("opcode", ["REDUCE_MAX", "REDUCE_MIN"])
@pytest.mark.parametrize("dtype", QUANT_DTYPES, ids=lambda t: np.dtype(t).name)
@settings(max_examples=examples(60), deadline=None)
@given(data=st.data())
def test_max_min(opcode, dtype, data):
    rng, shape, axes, keep, in_q, _ = reduce_case(opcode, dtype, data)
    x = random_values(rng, dtype, shape)
    check_op(opcode, [In(x, quantization=in_q), Const(axes)], [(dtype, in_q)], keep_dims=keep,
             version=data.draw(st.integers(1, VERSIONS[opcode])))


@pytest.mark.parametrize("opcode", ["MEAN", "SUM", "REDUCE_PROD", "REDUCE_MAX"])
def test_runtime_axis(opcode):
    # A non-constant axis makes the output shape dynamic.
    x = random_values(np.random.default_rng(5), np.int8, (2, 3, 4), -3, 3)
    check_op(opcode, [In(x, quantization=(0.5, -1)), np.array([2, 0], np.int32)], [(np.int8, (0.5, -1))],
             keep_dims=False)


def test_int8_sum_reads_uint8():
    # LiteRT 2.3's reference SUM runs its uint8 code on int8 data; numlite reproduces it.
    x = np.array([[1, 2, 3], [-4, 5, 6]], np.int8)
    out = check_op("SUM", [In(x, quantization=(1.0, 0)), Const(np.array([1], np.int32))], [(np.int8, (1.0, 0))])
    np.testing.assert_array_equal(out[0], np.array([6, -1], np.int8))   # 252 + 11 clamps to 255


def test_int16_sum_refused():
    x = np.ones((2, 3), np.int16)
    model, feed = single_op_model("SUM", [In(x, quantization=(1.0, 0)), Const(np.array([1], np.int32))],
                                  [(np.int16, (1.0, 0))])
    with pytest.raises(numlite.UnsupportedOpError):
        run_numlite(model, feed)


@pytest.mark.parametrize("opcode", ["REDUCE_MAX", "REDUCE_MIN"])
def test_max_min_need_same_quantization(opcode):
    x = np.zeros((2, 3), np.int8)
    assert_both_refuse(opcode, [In(x, quantization=(0.5, 1)), Const(np.array([1], np.int32))],
                       [(np.int8, (0.25, 1))])


def test_quantized_uint8_prod_refused():
    x = np.zeros((2, 3), np.uint8)
    assert_both_refuse("REDUCE_PROD", [In(x, quantization=(0.5, 1)), Const(np.array([1], np.int32))],
                       [(np.uint8, (0.5, 1))])


def test_axis_out_of_range_refused():
    x = np.zeros((2, 3), np.int8)
    assert_both_refuse("MEAN", [In(x, quantization=(0.5, 1)), Const(np.array([2], np.int32))],
                       [(np.int8, (0.5, 1))])
