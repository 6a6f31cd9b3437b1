"""RESIZE_BILINEAR (and RESIZE_NEAREST_NEIGHBOR) on int8 / uint8 / int16 against LiteRT's reference
kernels (bit-exact)."""
import numpy as np
import pytest
from ai_edge_litert.interpreter import Interpreter, OpResolverType
from hypothesis import given, settings, strategies as st

import numlite
from harness import Const, In, assert_both_refuse, check_op, examples, single_op_model
from test_requantize import QUANT_DTYPES, draw_quant, random_values

MODES = [dict(align_corners=False, half_pixel_centers=False), dict(align_corners=True, half_pixel_centers=False),
         dict(align_corners=False, half_pixel_centers=True)]


def resize_case(data, dtype):
    rng = np.random.default_rng(data.draw(st.integers(0, 2 ** 32 - 1), label="seed"))
    n, c = data.draw(st.integers(1, 2), label="batch"), data.draw(st.integers(1, 3), label="channels")
    h, w = data.draw(st.integers(1, 8), label="in h"), data.draw(st.integers(1, 8), label="in w")
    size = np.array([data.draw(st.integers(1, 17), label="out h"), data.draw(st.integers(1, 17), label="out w")],
                    np.int32)
    q = draw_quant(data.draw, dtype)
    return random_values(rng, dtype, (n, h, w, c)), size, q, data.draw(st.sampled_from(MODES), label="mode")


@pytest.mark.parametrize("dtype", QUANT_DTYPES, ids=lambda t: np.dtype(t).name)
@settings(max_examples=examples(60), deadline=None)
@given(data=st.data())
def test_quantized_resize_bilinear(dtype, data):
    x, size, q, mode = resize_case(data, dtype)
    size_in = Const(size) if data.draw(st.booleans(), label="constant size") else size
    check_op("RESIZE_BILINEAR", [In(x, quantization=q), size_in], [(dtype, q)],
             version=data.draw(st.integers(1, 4)), **mode)


@pytest.mark.parametrize("dtype", QUANT_DTYPES, ids=lambda t: np.dtype(t).name)
def test_bilinear_rounding_edges(dtype):
    # 2x upsampling of extreme neighbours puts interpolated values exactly on .5: the int8/int16
    # path rounds half away from zero, the uint8 float path adds 0.5 and truncates.
    info = np.iinfo(dtype)
    row = np.array([info.min, info.min + 1, -1, 0, 1, info.max - 1, info.max])
    row = row[(row >= info.min) & (row <= info.max)].astype(dtype)
    x = np.stack([row, row[::-1]]).reshape(1, 2, len(row), 1)
    for mode in MODES:
        check_op("RESIZE_BILINEAR", [In(x, quantization=(0.1, 0)), Const(np.array([3, 2 * len(row)], np.int32))],
                 [(dtype, (0.1, 0))], **mode)


@pytest.mark.parametrize("dtype", QUANT_DTYPES, ids=lambda t: np.dtype(t).name)
@settings(max_examples=examples(60), deadline=None)
@given(data=st.data())
def test_quantized_resize_nearest_neighbor(dtype, data):
    # Pure selection, handled by the generic kernel; checked here for the quantized types.
    x, size, q, mode = resize_case(data, dtype)
    check_op("RESIZE_NEAREST_NEIGHBOR", [In(x, quantization=q), Const(size)], [(dtype, q)], version=3, **mode)


def test_align_corners_with_half_pixel_refused():
    x = np.zeros((1, 2, 2, 1), np.int8)
    assert_both_refuse("RESIZE_BILINEAR", [In(x, quantization=(0.1, 0)), Const(np.array([4, 4], np.int32))],
                       [(np.int8, (0.1, 0))], align_corners=True, half_pixel_centers=True)


def test_runtime_size_changes_between_invokes():
    # A non-constant size tensor: each invoke must use the current size values.
    x = random_values(np.random.default_rng(2), np.int8, (1, 3, 4, 2))
    model, _ = single_op_model("RESIZE_BILINEAR", [In(x, quantization=(0.1, 0)), np.array([2, 2], np.int32)],
                               [(np.int8, (0.1, 0))], half_pixel_centers=True)
    ours = numlite.Interpreter(model_content=model, experimental_op_resolver_type=numlite.OpResolverType.BUILTIN_REF)
    ref = Interpreter(model_content=model, experimental_op_resolver_type=OpResolverType.BUILTIN_REF)
    for interp in (ours, ref):
        interp.allocate_tensors()
    for size in ([5, 7], [2, 3], [6, 1]):
        got = []
        for interp in (ours, ref):
            d = interp.get_input_details()
            interp.set_tensor(d[0]["index"], x)
            interp.set_tensor(d[1]["index"], np.array(size, np.int32))
            interp.invoke()
            got.append(interp.get_tensor(interp.get_output_details()[0]["index"]))
        np.testing.assert_array_equal(got[0], got[1])
        assert got[0].shape == (1, size[0], size[1], 2)
