"""Image resizing on NHWC tensors: RESIZE_BILINEAR and RESIZE_NEAREST_NEIGHBOR.

Index and weight computations follow LiteRT's reference kernels step by step in float32
(resize_bilinear.h / resize_nearest_neighbor.h): the sampling positions are where the flags
(align_corners, half_pixel_centers) change results, so they are computed exactly as there.
"""
import numpy as np

from .common import check_types
from .fixedpoint import round_half_away
from .registry import register
from .shape import ValueShapedKernel, expect_inputs, int_values, model_error, require, same_type

_F = np.float32


class _Resize(ValueShapedKernel):
    value_inputs = (1,)
    types = ()

    def check(self, inputs, outputs):
        expect_inputs(self, inputs, (2,), outputs, 1)
        x, size = require(self, inputs[0], "input"), require(self, inputs[1], "size")
        check_types(self, x, self.types)
        check_types(self, size, ("INT32",), "size")
        same_type(self, outputs[0], x)
        if len(x.shape) != 4:
            raise model_error(self, "input must be 4-D (NHWC), got shape %s" % (x.shape,))
        if len(size.shape) != 1 or size.shape[0] != 2:
            raise model_error(self, "size must be a vector of 2 values")
        self.align = bool(self.options.get("align_corners", False))
        self.half = bool(self.options.get("half_pixel_centers", False))

    def plan(self, shapes, values):
        oh, ow = int_values(self, values[1], "size")
        if oh <= 0 or ow <= 0:
            raise model_error(self, "output size must be positive, got %s" % ([oh, ow],))
        n, ih, iw, c = shapes[0]
        return [(n, oh, ow, c)], self.sampling(ih, oh) + self.sampling(iw, ow)

    def scale(self, in_size, out_size):
        if self.align and out_size > 1:
            return _F(in_size - 1) / _F(out_size - 1)
        return _F(in_size) / _F(out_size)


@register("RESIZE_NEAREST_NEIGHBOR", versions=(1, 4))
class ResizeNearestNeighbor(_Resize):
    types = ("FLOAT32", "INT8", "UINT8", "INT16", "INT32", "BOOL")

    def sampling(self, in_size, out_size):
        pos = (np.arange(out_size, dtype=_F) + _F(0.5 if self.half else 0.0)) * self.scale(in_size, out_size)
        # align_corners rounds to the nearest source pixel; otherwise the position is floored.
        idx = round_half_away(pos) if self.align else np.floor(pos)
        idx = np.minimum(idx.astype(np.int64), in_size - 1)
        if self.half:
            idx = np.maximum(idx, 0)
        return (idx,)

    def run(self, plan, inputs):
        ys, xs = plan
        return [inputs[0][:, ys][:, :, xs]]


@register("RESIZE_BILINEAR", versions=(1, 4))
class ResizeBilinear(_Resize):
    # Quantized inputs are handled by quantized_resize.py (LiteRT uses fixed-point math for them).
    types = ("FLOAT32",)

    def check(self, inputs, outputs):
        super().check(inputs, outputs)
        # (Nearest neighbour accepts both flags together; bilinear does not.)
        if self.align and self.half:
            raise model_error(self, "half_pixel_centers and align_corners cannot both be set")

    def sampling(self, in_size, out_size):
        scale = self.scale(in_size, out_size)
        v = np.arange(out_size, dtype=_F)
        pos = (v + _F(0.5)) * scale - _F(0.5) if self.half else v * scale
        lo = np.maximum(np.floor(pos).astype(np.int64), 0)
        hi = np.minimum(np.ceil(pos).astype(np.int64), in_size - 1)
        return (pos, lo, hi)

    def run(self, plan, inputs):
        py, y0, y1, px, x0, x1 = plan
        x = inputs[0]
        rows0, rows1 = x[:, y0], x[:, y1]
        dy = (py - y0.astype(_F))[None, :, None, None]
        dx = (px - x0.astype(_F))[None, None, :, None]
        wy, wx = _F(1) - dy, _F(1) - dx
        # Same association order as the reference: ((v * wy) * wx) summed left to right.
        return [rows0[:, :, x0] * wy * wx + rows1[:, :, x0] * dy * wx + rows0[:, :, x1] * wy * dx
                + rows1[:, :, x1] * dy * dx]
