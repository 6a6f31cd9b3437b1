"""Differential tests for RESIZE_BILINEAR (float32) and RESIZE_NEAREST_NEIGHBOR (all types)."""
import numpy as np
from hypothesis import given, strategies as st

from harness import Const, check_op
from test_shape import SETTINGS, expect_both_fail, operand, out_of, rand, runtime_or_const, seeded

FLAGS = [dict(), dict(align_corners=True), dict(half_pixel_centers=True)]


def _case(data, dtype):
    rng = seeded(data)
    n, c = data.draw(st.integers(1, 2)), data.draw(st.integers(1, 3))
    ih, iw, oh, ow = (data.draw(st.integers(1, 9)) for _ in range(4))
    x = rand(rng, (n, ih, iw, c), dtype)
    size = runtime_or_const(np.array([oh, ow], np.int32), data.draw(st.booleans()))
    return x, size, data.draw(st.sampled_from(FLAGS))


@SETTINGS
@given(data=st.data())
def test_resize_bilinear(data):
    x, size, flags = _case(data, np.float32)
    check_op("RESIZE_BILINEAR", [x, size], [np.float32], version=3, **flags)


@SETTINGS
@given(data=st.data())
def test_resize_nearest_neighbor(data):
    dtype = data.draw(st.sampled_from([np.float32, np.int8, np.uint8, np.int16, np.int32, np.bool_]))
    x, size, flags = _case(data, dtype)
    if data.draw(st.booleans()):
        flags = dict(align_corners=True, half_pixel_centers=True)  # allowed here, unlike bilinear
    check_op("RESIZE_NEAREST_NEIGHBOR", [operand(x), size], [out_of(dtype)], version=3, **flags)


def test_resize_nearest_neighbor_rounding_boundaries():
    """Scales whose sample positions land exactly on .5 (align_corners rounds half away from zero)."""
    x = np.arange(2 * 7, dtype=np.float32).reshape(1, 2, 7, 1)
    for oh, ow in [(3, 13), (4, 5), (1, 1), (5, 3)]:
        for flags in FLAGS + [dict(align_corners=True, half_pixel_centers=True)]:
            check_op("RESIZE_NEAREST_NEIGHBOR", [x, Const(np.array([oh, ow], np.int32))], [np.float32],
                     version=3, **flags)


def test_resize_both_flags_fail():
    x = np.zeros((1, 2, 2, 1), np.float32)
    expect_both_fail("RESIZE_BILINEAR", [x, Const(np.array([3, 3], np.int32))], [np.float32],
                     align_corners=True, half_pixel_centers=True)


def test_resize_zero_size_fails():
    x = np.zeros((1, 2, 2, 1), np.float32)
    expect_both_fail("RESIZE_BILINEAR", [x, Const(np.array([0, 3], np.int32))], [np.float32])
