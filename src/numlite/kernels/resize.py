"""Image resizing on NHWC tensors: RESIZE_BILINEAR and RESIZE_NEAREST_NEIGHBOR.

Sampling positions and weights follow LiteRT's reference kernels step by step
(resize_bilinear.h / resize_nearest_neighbor.h): they are where the flags (align_corners,
half_pixel_centers) change results, so they are computed exactly as there. Values are
interpolated raw: LiteRT ignores input/output quantization here.

RESIZE_BILINEAR picks a different reference function per type:

* float32: ``reference_ops::ResizeBilinear<float>`` — positions and weights in float32.
* uint8: the same float template ``ResizeBilinear<uint8_t>`` — the weighted sum of the uint8
  values in float32, plus 0.5, truncated to uint8. numlite repeats the float32 operations in the
  same order so the truncation sees the same value.
* int8 and int16: ``reference_ops::ResizeBilinearInteger`` — sampling positions in 10-bit fixed
  point, scale ``round(1024 * in / out)`` (or ``(in-1)/(out-1)`` with align_corners), weights in
  1/1024 units, a 20-bit fractional result rounded half away from zero by C division (the
  double-rounding build; TFLITE_SINGLE_ROUNDING is off).

RESIZE_NEAREST_NEIGHBOR is pure selection, the same for every type.
"""
import numpy as np

from .fixedpoint import round_half_away
from .operands import ValueShapedKernel, check_type, data_operands, int_values
from .registry import register

_F = np.float32
ONE = 1 << 10


def _c_div(a, b):
    """C integer division (truncates toward zero) on int64 arrays."""
    a = np.asarray(a, np.int64)
    return np.sign(a) * (np.abs(a) // b)


def _scale_f32(in_size, out_size, align_corners):
    if align_corners and out_size > 1:
        return _F(in_size - 1) / _F(out_size - 1)
    return _F(in_size) / _F(out_size)


def _axis_float(in_size, out_size, align_corners, half_pixel):
    """ComputeInterpolationValues in float32: (position, lower index, upper index)."""
    v = np.arange(out_size, dtype=_F)
    scale = _scale_f32(in_size, out_size, align_corners)
    pos = (v + _F(0.5)) * scale - _F(0.5) if half_pixel else v * scale
    lower = np.maximum(np.floor(pos).astype(np.int64), 0)
    upper = np.minimum(np.ceil(pos).astype(np.int64), in_size - 1)
    return pos, np.minimum(lower, in_size - 1), upper


def _axis_integer(in_size, out_size, align_corners, half_pixel):
    """ComputeInterpolationValuesInteger for every output index of one axis:
    (lower index, upper index, fraction in 1/1024 units)."""
    if align_corners and out_size > 1:
        scale = (ONE * (in_size - 1) + (out_size - 1) // 2) // (out_size - 1)
    else:
        scale = (ONE * in_size + out_size // 2) // out_size
    v = np.arange(out_size, dtype=np.int64)
    pos = v * scale + (scale // 2 - (1 << 9) if half_pixel else 0)
    lower = np.maximum(_c_div(pos, ONE), 0)
    upper = np.minimum(_c_div(pos + ONE - 1, ONE), in_size - 1)
    # Guard the reads: LiteRT never clamps ``lower`` from above (it cannot exceed in_size - 1
    # except for enormous align_corners upsampling, where LiteRT reads out of bounds).
    return np.minimum(lower, in_size - 1), upper, pos - ONE * lower


class _Resize(ValueShapedKernel):
    """Shared prepare: a 4-D input, a constant or runtime int32 [2] output size; the plan holds
    the sampling of both axes."""

    value_inputs = (1,)
    input_types = ()

    def check(self, node, inputs, outputs):
        x, size = data_operands(node, inputs, outputs, 2, self.input_types), inputs[1]
        check_type(node, size, ("INT32",), "size")
        if len(x.shape) != 4:
            raise node.error("input must be 4-D (NHWC), got shape %s" % (x.shape,))
        if len(size.shape) != 1 or size.shape[0] != 2:
            raise node.error("size must be a vector of 2 values")
        self.align = bool(node.options.align_corners)
        self.half = bool(node.options.half_pixel_centers)

    def plan(self, node, shapes, values):
        oh, ow = int_values(node, values[1], "size")
        if oh <= 0 or ow <= 0:
            raise node.error("output size must be positive, got %s" % ([oh, ow],))
        n, ih, iw, c = shapes[0]
        return [(n, oh, ow, c)], (self.sampling(ih, oh), self.sampling(iw, ow))


@register("RESIZE_NEAREST_NEIGHBOR", versions=(1, 4))
class ResizeNearestNeighbor(_Resize):
    input_types = ("FLOAT32", "INT8", "UINT8", "INT16", "INT32", "BOOL")

    def sampling(self, in_size, out_size):
        pos = (np.arange(out_size, dtype=_F) + _F(0.5 if self.half else 0.0)) * _scale_f32(in_size, out_size, self.align)
        # align_corners rounds to the nearest source pixel; otherwise the position is floored.
        idx = round_half_away(pos) if self.align else np.floor(pos)
        idx = np.minimum(idx.astype(np.int64), in_size - 1)
        if self.half:
            idx = np.maximum(idx, 0)
        return idx

    def run(self, node, plan, inputs, outputs):
        ys, xs = plan
        np.take(inputs[0][:, ys], xs, axis=2, out=outputs[0])


@register("RESIZE_BILINEAR", versions=(1, 4))
class ResizeBilinear(_Resize):
    input_types = ("FLOAT32", "INT8", "UINT8", "INT16")

    def check(self, node, inputs, outputs):
        super().check(node, inputs, outputs)
        # (Nearest neighbour accepts both flags together; bilinear does not.)
        if self.align and self.half:
            raise node.error("half_pixel_centers and align_corners cannot both be set")
        self.integer = inputs[0].type_name in ("INT8", "INT16")

    def sampling(self, in_size, out_size):
        axis = _axis_integer if self.integer else _axis_float
        return axis(in_size, out_size, self.align, self.half)

    def run(self, node, plan, inputs, outputs):
        x, out = inputs[0], outputs[0]
        if self.integer:
            out[...] = self.interpolate_integer(x, *plan)
        elif x.dtype == np.uint8:
            # The float template, truncated to uint8.
            out[...] = np.trunc(self.interpolate_float(x.astype(_F), *plan) + _F(0.5)).astype(np.int64)
        else:
            out[...] = self.interpolate_float(x, *plan)

    @staticmethod
    def interpolate_float(x, ys, xs):
        """Σ value · wy · wx in float32, term by term in LiteRT's order: ((v * wy) * wx) summed
        left to right."""
        (py, y0, y1), (px, x0, x1) = ys, xs
        rows0, rows1 = x[:, y0], x[:, y1]
        dy = (py - y0.astype(_F))[None, :, None, None]
        dx = (px - x0.astype(_F))[None, None, :, None]
        wy, wx = _F(1) - dy, _F(1) - dx
        with np.errstate(over="ignore", invalid="ignore"):      # inf * 0, inf - inf: IEEE results
            return (rows0[:, :, x0] * wy * wx + rows1[:, :, x0] * dy * wx + rows0[:, :, x1] * wy * dx
                    + rows1[:, :, x1] * dy * dx)

    @staticmethod
    def interpolate_integer(x, ys, xs):
        """Σ value · wy · wx in int64 with weights in 1/1024; the 2^-20 result rounds half away
        from zero: ``(acc + (acc > 0 ? 2^19 : -2^19)) / 2^20`` (C division)."""
        (y0, y1, dy), (x0, x1, dx) = ys, xs
        wy0, wy1 = (ONE - dy)[None, :, None, None], dy[None, :, None, None]
        wx0, wx1 = (ONE - dx)[None, None, :, None], dx[None, None, :, None]
        rows0, rows1 = x[:, y0].astype(np.int64), x[:, y1].astype(np.int64)
        acc = rows0[:, :, x0] * wy0 * wx0 + rows1[:, :, x0] * wy1 * wx0 + rows0[:, :, x1] * wy0 * wx1 \
            + rows1[:, :, x1] * wy1 * wx1
        return _c_div(acc + np.where(acc > 0, 1 << 19, -(1 << 19)), 1 << 20)
