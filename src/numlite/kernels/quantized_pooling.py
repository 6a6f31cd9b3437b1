"""AVERAGE_POOL_2D and MAX_POOL_2D on int8 / uint8 / int16 data (reference_integer_ops::AveragePool /
MaxPool, reference_ops::AveragePool<uint8>).

Both work on raw quantized values: LiteRT only DCHECKs that input and output share scale and
zero point (not enforced in release builds), so the output reuses the input's integers and only
the fused activation is read from the output's quantization.

L2_POOL_2D has no quantized kernel in LiteRT (its Prepare insists on float32); the float kernel's
type check refuses quantized inputs.
"""
import numpy as np

from ..schema.enums import ActivationFunctionType as Act
from . import fixedpoint as fp
from .conv import window_from_options
from .registry import Kernel, register
from .requantize import c_div_round, model_error, node_io, qparams, same_type

QUANT = ("INT8", "UINT8", "INT16")


def quantized_clamp(kernel, act, out):
    """CalculateActivationRangeQuantized (fixedpoint.quantized_activation_range) for the output."""
    if act not in Act:
        raise model_error(kernel, "unknown fused activation function %d" % act)
    if act in (Act.NONE, Act.TANH, Act.SIGN_BIT):
        return fp.dtype_range(out.dtype)
    scale, zp = qparams(out)
    if not scale > 0:
        raise model_error(kernel, "a fused activation on quantized data needs a positive output scale")
    return fp.quantized_activation_range(act, scale, zp, out.dtype)


class _QuantizedPool(Kernel):
    def prepare(self, inputs, outputs):
        (x,) = node_io(self, inputs, outputs, 1)
        out = outputs[0]
        same_type(self, out, x)
        if x.shape is None or len(x.shape) != 4:
            raise model_error(self, "input must have rank 4, got shape %s" % (x.shape,))
        n, h, w, c = x.shape
        o = self.options
        self.win = window_from_options(self, (h, w), (o.get("filter_height", 0), o.get("filter_width", 0)),
                                       dilated=False)
        out.shape = self.out_shape = (n, self.win.out_h, self.win.out_w, c)
        self.dtype = x.dtype
        self.lo, self.hi = quantized_clamp(self, o.get("fused_activation_function", Act.NONE), out)
        self.buf = self.win.buffer(n, c, x.dtype, self.fill(x.dtype))
        self.setup()

    def setup(self):
        pass

    def eval(self, inputs, outputs):
        if 0 in self.out_shape:
            res = np.empty(self.out_shape, self.dtype)
        else:
            res = np.clip(self.reduce(self.win.load(self.buf, inputs[0])), self.lo, self.hi)
        if outputs[0] is None:
            return [res.astype(self.dtype)]
        outputs[0][...] = res


@register("AVERAGE_POOL_2D", versions=(1, 3), types=QUANT)
class QuantizedAveragePool2D(_QuantizedPool):
    """Sum of the taps inside the image (int32), divided by their count with C integer division
    rounding halves away from zero: ``acc > 0 ? (acc + n/2) / n : (acc - n/2) / n``."""

    @staticmethod
    def fill(dtype):
        return 0

    def setup(self):
        counts = self.win.valid_counts()
        if counts.size and counts.min() <= 0:
            # LiteRT's AveragePool returns an error when a window holds no input position.
            raise model_error(self, "a pooling window lies entirely in the padding")
        self.counts = counts.astype(np.int64)[None, :, :, None]

    def reduce(self, src):
        acc = None
        for _, _, v in self.win.taps(src):
            acc = v.astype(np.int64) if acc is None else np.add(acc, v, out=acc)
        return c_div_round(fp.wrap_int32(acc), self.counts)


@register("MAX_POOL_2D", versions=(1, 3), types=QUANT)
class QuantizedMaxPool2D(_QuantizedPool):
    """Max of the taps inside the image (padding holds the type's lowest value, so it never wins),
    then the fused activation as a clamp in the output's quantized domain."""

    @staticmethod
    def fill(dtype):
        return np.iinfo(dtype).min

    def reduce(self, src):
        acc = None
        for _, _, v in self.win.taps(src):
            acc = v.copy() if acc is None else np.maximum(acc, v, out=acc)
        return acc
