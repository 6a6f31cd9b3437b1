"""2-D pooling on NHWC data: AVERAGE_POOL_2D, MAX_POOL_2D, L2_POOL_2D (float), AVERAGE_POOL_2D
and MAX_POOL_2D on int8 / uint8 / int16 data (reference_integer_ops::AveragePool / MaxPool,
reference_ops::AveragePool<uint8>).

Like LiteRT, average and L2 pooling divide by the number of window positions inside the image,
not by the filter area, so SAME padding does not pull border outputs towards zero; positions
outside the image are read from a border holding the reduction's neutral value.

Quantized pooling works on raw quantized values: LiteRT only DCHECKs that input and output
share scale and zero point (not enforced in release builds), so the output reuses the input's
integers and only the fused activation is read from the output's quantization. L2_POOL_2D has
no quantized kernel in LiteRT (its Prepare insists on float32); the float kernel's type check
refuses quantized inputs.
"""
import numpy as np

from ..schema.enums import ActivationFunctionType as Act
from . import fixedpoint as fp
from .contract import Kernel
from .fused import clamp, float_clamp
from .geometry import window_from_options
from .operands import FLOAT, QUANTIZED, arity, check_rank, check_type, same_type
from .quant import c_div_round, tensor_params
from .registry import register


class _Pool(Kernel):
    """The shared prepare and eval: the window, the padded source (scratch, border re-filled at
    each eval), the reduction over the taps into the output (or an accumulator), ``finish``."""

    fill = 0.0
    input_types = FLOAT

    def prepare(self, node, inputs, outputs):
        arity(node, inputs, outputs, 1)
        x, out = inputs[0], outputs[0]
        check_type(node, x, self.input_types)
        same_type(node, out, x)
        check_rank(node, x, 4, "input")
        n, h, w, c = x.shape
        o = node.options
        self.win = window_from_options(node, (h, w), (o.filter_height, o.filter_width), dilated=False)
        out.shape = (n, self.win.out_h, self.win.out_w, c)
        self.acc = None
        self.setup(node, x, out)
        self.buf = self.win.scratch(node, n, c, x.dtype)

    def setup(self, node, x, out):
        self.clamp = float_clamp(node, node.options.fused_activation_function)

    def eval(self, node, inputs, outputs):
        out = outputs[0]
        if out.size == 0:
            return
        acc = out if self.acc is None else self.acc.array
        with np.errstate(over="ignore", invalid="ignore"):      # float sums / squares of ±inf or huge values
            taps = self.win.taps(*self.win.load(self.buf, self.source(inputs[0]), fill=self.fill))
            _, _, v = next(taps)
            acc[...] = v
            for _, _, v in taps:
                self.combine(acc, v, out=acc)
            self.finish(acc, out)

    def source(self, x):
        return x

    def finish(self, acc, out):
        clamp(out, self.clamp)


def _valid_counts(win, dtype):
    """Divisor per output position, shaped to broadcast over [N, OH, OW, C]."""
    return win.valid_counts().astype(dtype)[None, :, :, None]


@register("AVERAGE_POOL_2D", versions=(1, 3))
class AveragePool2D(_Pool):
    combine = staticmethod(np.add)

    def setup(self, node, x, out):
        super().setup(node, x, out)
        self.counts = _valid_counts(self.win, np.float32)

    def finish(self, acc, out):
        np.divide(out, self.counts, out=out)
        clamp(out, self.clamp)


@register("L2_POOL_2D", versions=(1, 1))
class L2Pool2D(AveragePool2D):
    def source(self, x):
        return np.square(x)

    def finish(self, acc, out):
        np.divide(out, self.counts, out=out)
        np.sqrt(out, out=out)
        clamp(out, self.clamp)


@register("MAX_POOL_2D", versions=(1, 3))
class MaxPool2D(_Pool):
    """Max over the window positions inside the image: padding cells hold -inf, so they never win."""

    combine = staticmethod(np.maximum)
    fill = -np.inf


def quantized_clamp(node, out):
    """CalculateActivationRangeQuantized (fixedpoint.quantized_activation_range) for the output."""
    act = node.options.fused_activation_function
    if act not in Act:
        raise node.error("unknown fused activation function %d" % act)
    if act in (Act.NONE, Act.TANH, Act.SIGN_BIT):
        return fp.dtype_range(out.dtype)
    scale, zp = tensor_params(out)
    if not scale > 0:
        raise node.error("a fused activation on quantized data needs a positive output scale")
    return fp.quantized_activation_range(act, scale, zp, out.dtype)


@register("AVERAGE_POOL_2D", versions=(1, 3), types=QUANTIZED)
class QuantizedAveragePool2D(AveragePool2D):
    """Sum of the taps inside the image (int32), divided by their count with C integer division
    rounding halves away from zero: ``acc > 0 ? (acc + n/2) / n : (acc - n/2) / n``."""

    fill = 0
    input_types = QUANTIZED

    def setup(self, node, x, out):
        self.lo, self.hi = quantized_clamp(node, out)
        counts = self.win.valid_counts()
        if counts.size and counts.min() <= 0:
            # LiteRT's AveragePool returns an error when a window holds no input position.
            raise node.error("a pooling window lies entirely in the padding")
        self.counts = _valid_counts(self.win, np.int64)
        self.acc = node.scratch(out.shape, np.int64)

    def finish(self, acc, out):
        np.copyto(out, np.clip(c_div_round(fp.wrap_int32(acc), self.counts), self.lo, self.hi), casting="unsafe")


@register("MAX_POOL_2D", versions=(1, 3), types=QUANTIZED)
class QuantizedMaxPool2D(MaxPool2D):
    """Max of the taps inside the image (padding holds the type's lowest value, so it never wins),
    then the fused activation as a clamp in the output's quantized domain."""

    input_types = QUANTIZED

    def setup(self, node, x, out):
        self.lo, self.hi = quantized_clamp(node, out)
        self.fill = np.iinfo(x.dtype).min

    def finish(self, acc, out):
        np.clip(out, self.lo, self.hi, out=out)
