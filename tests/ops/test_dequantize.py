"""DEQUANTIZE (float16, int8/uint8/int16 per-tensor and per-channel → float32) and float32 →
int8/uint8/int16 QUANTIZE against LiteRT's reference kernels."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from hypothesis.extra import numpy as hnp

from harness import Const, In, check_op, examples, run_litert, run_numlite, single_op_model
from numlite.ir import Quantization

QTYPES = [np.int8, np.uint8, np.int16]


def _scale(data):
    return data.draw(st.sampled_from([0.1, 1 / 128, 0.0039215689, 2.5, 1e-3, 0.37]))


def _exact(model, feed):
    want = run_litert(model, feed)[0]
    for reference in (True, False):
        got = run_numlite(model, feed, reference=reference)[0]
        assert got.dtype == want.dtype and got.shape == want.shape
        np.testing.assert_array_equal(got, want)


@settings(max_examples=examples(25), deadline=None)
@given(data=st.data())
def test_dequantize_per_tensor(data):
    dtype = data.draw(st.sampled_from(QTYPES))
    info = np.iinfo(dtype)
    # LiteRT requires a zero zero-point for int16.
    zp = 0 if dtype == np.int16 else data.draw(st.integers(int(info.min), int(info.max)))
    shape = data.draw(hnp.array_shapes(min_dims=0, max_dims=4, max_side=5))
    q = data.draw(hnp.arrays(dtype, shape))
    params = (_scale(data), zp)
    x = Const(q, quantization=params) if data.draw(st.booleans()) else In(q, params)
    _exact(*single_op_model("DEQUANTIZE", [x], [np.float32], version=data.draw(st.integers(1, 4))))


@settings(max_examples=examples(20), deadline=None)
@given(data=st.data())
def test_dequantize_per_channel(data):
    dtype = data.draw(st.sampled_from([np.int8, np.uint8]))
    info = np.iinfo(dtype)
    shape = data.draw(hnp.array_shapes(min_dims=1, max_dims=4, min_side=1, max_side=5))
    axis = data.draw(st.integers(0, len(shape) - 1))
    n = shape[axis]
    scales = data.draw(hnp.arrays(np.float32, n, elements=st.floats(1e-4, 4).map(np.float32)))
    zps = data.draw(hnp.arrays(np.int64, n, elements=st.integers(int(info.min), int(info.max))))
    q = data.draw(hnp.arrays(dtype, shape))
    quant = Quantization.make(scales, zps, axis)
    x = Const(q, quantization=quant) if data.draw(st.booleans()) else In(q, quant)
    _exact(*single_op_model("DEQUANTIZE", [x], [np.float32], version=4))


@settings(max_examples=examples(10), deadline=None)
@given(x=hnp.arrays(np.float16, hnp.array_shapes(min_dims=0, max_dims=4, max_side=5)), const=st.booleans())
def test_dequantize_float16(x, const):
    _exact(*single_op_model("DEQUANTIZE", [Const(x) if const else x], [np.float32], version=3))


def _quantize_input(data, scale, dtype):
    info = np.iinfo(dtype)
    shape = data.draw(hnp.array_shapes(min_dims=0, max_dims=4, max_side=5))
    # Exact halves (k + 0.5) * scale exercise the rounding; the rest spans past the type's range.
    halves = st.integers(-2 * int(info.max), 2 * int(info.max)).map(lambda k: (k + 0.5) * scale)
    wide = st.floats(-1.5 * scale * info.max, 1.5 * scale * info.max)
    return data.draw(hnp.arrays(np.float32, shape, elements=st.one_of(halves, wide)))


@settings(max_examples=examples(30), deadline=None)
@given(data=st.data())
def test_quantize_per_tensor(data):
    dtype = data.draw(st.sampled_from(QTYPES))
    info = np.iinfo(dtype)
    scale = _scale(data)
    zp = data.draw(st.integers(int(info.min), int(info.max))) if dtype != np.int16 else 0
    x = _quantize_input(data, scale, dtype)
    _exact(*single_op_model("QUANTIZE", [x], [(dtype, (scale, zp))], version=data.draw(st.integers(1, 3))))


@settings(max_examples=examples(15), deadline=None)
@given(data=st.data())
def test_quantize_per_channel(data):
    dtype = data.draw(st.sampled_from([np.int8, np.uint8]))
    shape = data.draw(hnp.array_shapes(min_dims=1, max_dims=4, min_side=1, max_side=5))
    axis = data.draw(st.integers(0, len(shape) - 1))
    scales = data.draw(hnp.arrays(np.float32, shape[axis], elements=st.sampled_from([0.1, 0.25, 0.02, 1.5])))
    zps = data.draw(hnp.arrays(np.int64, shape[axis], elements=st.integers(-10, 10).map(
        lambda v: v if dtype == np.int8 else v + 128)))
    x = data.draw(hnp.arrays(np.float32, shape, elements=st.floats(-40, 40, width=32)))
    _exact(*single_op_model("QUANTIZE", [x], [(dtype, Quantization.make(scales, zps, axis))]))


def test_quantize_overflow_follows_x86_conversion():
    """x / scale beyond int32 converts to INT32_MIN before the zero point is added (x86), so
    1e9 quantizes to the type's minimum, or wraps to the maximum with a negative zero point."""
    x = np.array([1e9, -1e9, 3e9, 12.75, -12.85, 0.05, -0.05, 0.15, -0.25], np.float32)
    for dtype, zp in [(np.int8, 0), (np.int8, -3), (np.uint8, 128), (np.int16, 0)]:
        _exact(*single_op_model("QUANTIZE", [x], [(dtype, (0.1, zp))]))
    got = check_op("QUANTIZE", [x], [(np.int8, (0.1, 0))])[0]
    np.testing.assert_array_equal(got, [-128, -128, -128, 127, -128, 1, -1, 2, -3])


@pytest.mark.parametrize("dtype", [np.int8, np.int16])
def test_quantize_dequantize_roundtrip(dtype):
    x = np.linspace(-3, 3, 60, dtype=np.float32).reshape(3, 20)
    q = check_op("QUANTIZE", [x], [(dtype, (0.05, 0))])[0]
    back = check_op("DEQUANTIZE", [In(q, (0.05, 0))], [np.float32])[0]
    np.testing.assert_allclose(back, x, atol=0.025 + 1e-6)


@pytest.mark.parametrize("opcode,per_channel", [("DEQUANTIZE", False), ("DEQUANTIZE", True), ("CAST", False)])
def test_int4_constants(opcode, per_channel):
    """INT4 weights arrive packed in the file; numlite unpacks them on load."""
    from numlite.builder import ModelBuilder
    vals = np.arange(-8, 8, dtype=np.int8).reshape(4, 4)[:, ::-1].copy()
    quant = None
    if opcode == "DEQUANTIZE":
        quant = Quantization.make([0.5, 0.25, 2.0, 1.0], [0, 1, -1, 0], 0) if per_channel else (0.3, 2)
    b = ModelBuilder()
    c = b.const("w", vals, dtype="INT4", quantization=quant)
    out = b.tensor("out", vals.shape, "FLOAT32")
    b.op(opcode, [c], [out], version=5 if opcode == "DEQUANTIZE" else 1)
    b.output(out)
    _exact(b.to_bytes(), [])
