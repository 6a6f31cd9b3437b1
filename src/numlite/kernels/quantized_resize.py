"""RESIZE_BILINEAR on int8 / int16 / uint8 data, as LiteRT's kReference kernel computes it.

LiteRT picks different reference functions per type:

* int8 and int16: ``reference_ops::ResizeBilinearInteger`` — sampling positions in 10-bit fixed
  point, scale ``round(1024 * in / out)`` (or ``(in-1)/(out-1)`` with align_corners), weights in
  1/1024 units, a 20-bit fractional result rounded half away from zero by C division (the
  double-rounding build; TFLITE_SINGLE_ROUNDING is off).
* uint8: the float template ``reference_ops::ResizeBilinear<uint8_t>`` — positions and weights in
  float32, the weighted sum plus 0.5 truncated to uint8. numlite repeats the float32 operations in
  the same order so the truncation sees the same value.

Values are interpolated raw: LiteRT ignores input/output quantization here.
RESIZE_NEAREST_NEIGHBOR is pure selection and handled by the generic kernel.
"""
import numpy as np

from .registry import Kernel, register
from .requantize import model_error, node_io, same_type

QUANT = ("INT8", "UINT8", "INT16")
ONE = 1 << 10


def _c_div(a, b):
    """C integer division (truncates toward zero) on int64 arrays."""
    a = np.asarray(a, np.int64)
    return np.sign(a) * (np.abs(a) // b)


def _axis_integer(in_size, out_size, align_corners, half_pixel):
    """ComputeInterpolationValuesInteger for every output index of one axis:
    (position in 1/1024 units, lower index, upper index)."""
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
    return pos, np.minimum(lower, in_size - 1), upper, pos - ONE * lower


def _axis_float(in_size, out_size, align_corners, half_pixel):
    """ComputeInterpolationValues in float32: (position, lower index, upper index)."""
    f32 = np.float32
    if align_corners and out_size > 1:
        scale = f32(in_size - 1) / f32(out_size - 1)
    else:
        scale = f32(in_size) / f32(out_size)
    v = np.arange(out_size, dtype=np.float32)
    pos = (v + f32(0.5)) * scale - f32(0.5) if half_pixel else v * scale
    lower = np.maximum(np.floor(pos).astype(np.int64), 0)
    upper = np.minimum(np.ceil(pos).astype(np.int64), in_size - 1)
    return pos, np.minimum(lower, in_size - 1), upper


@register("RESIZE_BILINEAR", versions=(1, 4), types=QUANT)
class QuantizedResizeBilinear(Kernel):
    def prepare(self, inputs, outputs):
        x, size = node_io(self, inputs, outputs, 2)
        out = outputs[0]
        same_type(self, out, x)
        if x.shape is None or len(x.shape) != 4:
            raise model_error(self, "input must have rank 4, got shape %s" % (x.shape,))
        if size.type_name != "INT32" or size.shape is None or tuple(size.shape) != (2,):
            raise model_error(self, "size must be an int32 tensor of shape [2]")
        self.align = bool(self.options.get("align_corners", False))
        self.half = bool(self.options.get("half_pixel_centers", False))
        if self.align and self.half:
            raise model_error(self, "half_pixel_centers and align_corners cannot both be set")
        self.dtype = x.dtype
        self.integer = x.type_name != "UINT8"
        self.plan = None
        if size.data is None:
            out.shape = None
            return
        out.shape = self.setup(x.shape, size.data)

    def setup(self, in_shape, size):
        oh, ow = (int(v) for v in np.asarray(size).reshape(-1)[:2])
        if oh <= 0 or ow <= 0:
            raise model_error(self, "output size must be positive, got %dx%d" % (oh, ow))
        n, h, w, c = in_shape
        axis = _axis_integer if self.integer else _axis_float
        self.plan = ((tuple(in_shape), (oh, ow)), axis(h, oh, self.align, self.half),
                     axis(w, ow, self.align, self.half))
        return (n, oh, ow, c)

    def eval(self, inputs, outputs):
        x = inputs[0]
        key = (x.shape, tuple(int(v) for v in np.asarray(inputs[1]).reshape(-1)[:2]))
        if self.plan is None or self.plan[0] != key:
            self.setup(x.shape, inputs[1])
        shape = (x.shape[0],) + key[1] + (x.shape[3],)
        res = self._integer(x) if self.integer else self._float(x)
        if outputs[0] is None or outputs[0].shape != shape:
            return [res]
        outputs[0][...] = res

    def _corners(self, x, ys, xs):
        (_, y0, y1), (_, x0, x1) = ys, xs
        top, bottom = x[:, y0], x[:, y1]
        return top[:, :, x0], bottom[:, :, x0], top[:, :, x1], bottom[:, :, x1]

    def _integer(self, x):
        """Σ value · wy · wx in int64 with weights in 1/1024; the 2^-20 result rounds half away
        from zero: ``(acc + (acc > 0 ? 2^19 : -2^19)) / 2^20`` (C division)."""
        _, (py, y0, y1, dy), (px, x0, x1, dx) = self.plan
        wy0, wy1 = (ONE - dy)[None, :, None, None], dy[None, :, None, None]
        wx0, wx1 = (ONE - dx)[None, None, :, None], dx[None, None, :, None]
        ll, lu, rl, ru = (v.astype(np.int64) for v in self._corners(x, (py, y0, y1), (px, x0, x1)))
        acc = ll * wy0 * wx0 + lu * wy1 * wx0 + rl * wy0 * wx1 + ru * wy1 * wx1
        res = _c_div(acc + np.where(acc > 0, 1 << 19, -(1 << 19)), 1 << 20)
        return res.astype(self.dtype)

    def _float(self, x):
        """The float template in float32, term by term in LiteRT's order, truncated to uint8."""
        f32 = np.float32
        _, ys, xs = self.plan
        (py, y0, _), (px, x0, _) = ys, xs
        dy = (py - y0.astype(np.float32))[None, :, None, None]
        dx = (px - x0.astype(np.float32))[None, None, :, None]
        ll, lu, rl, ru = (v.astype(np.float32) for v in self._corners(x, ys, xs))
        one = f32(1)
        acc = ll * (one - dy) * (one - dx)
        acc = acc + lu * dy * (one - dx)
        acc = acc + rl * (one - dy) * dx
        acc = acc + ru * dy * dx
        acc = acc + f32(0.5)
        return np.trunc(acc).astype(np.int64).astype(self.dtype)
