"""2-D pooling on NHWC data: AVERAGE_POOL_2D, MAX_POOL_2D, L2_POOL_2D (float), and MAX_POOL_2D on
quantized data (a max of raw values, no arithmetic).

Like LiteRT, average and L2 pooling divide by the number of window positions inside the image,
not by the filter area, so SAME padding does not pull border outputs towards zero.
"""
import numpy as np

from ..errors import ModelError
from ..schema.enums import ActivationFunctionType as Act
from .common import check_types
from .conv import FLOAT, float_clamp, node_arity, output_buffer, window_from_options
from .registry import Kernel, register


class _Pool(Kernel):
    types = FLOAT
    fill = 0.0

    def prepare(self, inputs, outputs):
        node_arity(self, inputs, outputs, (1, 1))
        x, out = inputs[0], outputs[0]
        check_types(self, x, self.types)
        if out.type_name != x.type_name:
            raise ModelError("%s: output type %s differs from input type %s"
                             % (self.op.opcode, out.type_name, x.type_name))
        if x.shape is None or len(x.shape) != 4:
            raise ModelError("%s: input must have rank 4, got shape %s" % (self.op.opcode, x.shape))
        n, h, w, c = x.shape
        o = self.options
        self.win = window_from_options(self, (h, w), (o.get("filter_height", 0), o.get("filter_width", 0)),
                                       dilated=False)
        outputs[0].shape = self.out_shape = (n, self.win.out_h, self.win.out_w, c)
        self.dtype = x.dtype
        self.clamp = self.clamp_range(o.get("fused_activation_function", Act.NONE), x, out)
        self.buf = self.win.buffer(n, c, x.dtype, self.fill)
        # Divisor per output position, shaped to broadcast over [N, OH, OW, C].
        self.counts = self.win.valid_counts().astype(np.float32)[None, :, :, None]

    def clamp_range(self, act, x, out):
        return float_clamp(act)

    def eval(self, inputs, outputs):
        out = output_buffer(outputs, self.out_shape, self.dtype)
        if out.size == 0:
            return [out]
        src = self.win.load(self.buf, self.source(inputs[0]))
        first = True
        for _, _, v in self.win.taps(src):
            if first:
                out[...] = v
                first = False
            else:
                self.combine(out, v, out=out)
        self.finish(out)
        if self.clamp is not None:
            np.clip(out, *self.clamp, out=out)
        return [out]

    def source(self, x):
        return x

    def finish(self, out):
        pass


@register("AVERAGE_POOL_2D", versions=(1, 3))
class AveragePool2D(_Pool):
    combine = staticmethod(np.add)

    def finish(self, out):
        np.divide(out, self.counts, out=out)


@register("L2_POOL_2D", versions=(1, 1))
class L2Pool2D(_Pool):
    combine = staticmethod(np.add)

    def source(self, x):
        return np.square(x)

    def finish(self, out):
        np.divide(out, self.counts, out=out)
        np.sqrt(out, out=out)


def _round_half_away(v):
    return np.sign(v) * np.floor(np.abs(v) + np.float32(0.5))


@register("MAX_POOL_2D", versions=(1, 3))
class MaxPool2D(_Pool):
    """Max over the window positions inside the image. Padding cells hold the type's lowest value,
    so they never win. Quantized inputs take the max of raw values, then clamp to the fused
    activation's range in the output's quantized domain (LiteRT's CalculateActivationRangeQuantized)."""

    types = ("FLOAT32", "INT8", "UINT8", "INT16")
    combine = staticmethod(np.maximum)

    def prepare(self, inputs, outputs):
        x = inputs[0] if inputs else None
        if x is not None and x.dtype is not None:
            self.fill = -np.inf if x.dtype.kind == "f" else np.iinfo(x.dtype).min
        super().prepare(inputs, outputs)

    def clamp_range(self, act, x, out):
        if x.type_name == "FLOAT32":
            return float_clamp(act)
        float_clamp(act)   # validates the enum value
        info = np.iinfo(x.dtype)
        lo, hi = int(info.min), int(info.max)
        bounds = {Act.RELU: (0.0, None), Act.RELU6: (0.0, 6.0), Act.RELU_N1_TO_1: (-1.0, 1.0)}.get(act)
        if bounds is None:
            return None
        q = out.quantization
        if q is None or q.scale.size == 0 or not float(q.scale[0]) > 0:
            raise ModelError("MAX_POOL_2D: a fused activation on %s data needs a positive output scale"
                             % x.type_name)
        scale, zp = np.float32(q.scale[0]), int(q.zero_point[0]) if q.zero_point.size else 0

        def quantize(f):
            # float32 division then round-half-away-from-zero, as TFLite's Quantize helper.
            return zp + int(_round_half_away(np.float32(f) / scale))
        lo = max(lo, quantize(bounds[0]))
        if bounds[1] is not None:
            hi = min(hi, quantize(bounds[1]))
        return lo, hi
