"""DEPTHWISE_CONV_2D: float, quantized (int8 / uint8 / int16) and hybrid (float input, int8
filter).

Output channel c*M + m filters input channel c; like LiteRT, the multiplier M comes from the
shapes (filter channels / input channels) and the ``depth_multiplier`` option is not used. An
omitted bias (-1) counts as zero. The kernels sum strided views of the padded input times
per-tap weights, tile by tile, in the reference kernel's order (filter y, then x; bias last);
integer sums are exact in the compute type (quant.exact_dtype).
"""
import numpy as np

from ..fixedpoint import wrap_int32
from ..fused import add_bias_and_clamp
from ..hybrid import hybrid_match, nonfinite_ok
from ..quant import exact_dtype, qparams, weight_bound, weight_operand
from ..registry import register
from .shared import FILTER_TYPES, QUANTIZED, HybridOutput, Requantizer, WindowedConv, quantize_images, view

F32 = np.float32


@register("DEPTHWISE_CONV_2D", versions=(1, 7))
class DepthwiseConv2D(WindowedConv):
    """Float DEPTHWISE_CONV_2D; the quantized and hybrid kernels below differ in ``setup``,
    ``source`` and ``finish``."""

    w_zp = 0

    def filter_shape(self, node, x_shape, w_shape):
        c = x_shape[3]
        one, kh, kw, oc = w_shape
        if one != 1:
            raise node.error("filter must have shape [1, H, W, C], got %s" % (tuple(w_shape),))
        if c <= 0 or oc % c:
            raise node.error("filter channels %d are not a multiple of input channels %d" % (oc, c))
        return oc, kh, kw

    def request(self, node, x_shape, w_shape, lines):
        self.split = (x_shape[0], lines, self.win.out_w, x_shape[3], w_shape[3] // x_shape[3])
        self.acc = node.scratch(self.split, self.dtype)
        self.tmp = node.scratch(self.split, self.dtype) if w_shape[1] * w_shape[2] > 1 else None

    def weights(self, w):
        """[1, KH, KW, C*M] → [KH, KW, C, M] in the compute type, zero point removed."""
        taps = np.asarray(w).reshape(w.shape[1], w.shape[2], *self.split[3:])
        if taps.dtype == self.dtype and not self.w_zp:
            return taps     # float weights are read in place
        return weight_operand(taps, self.w_zp, self.dtype)

    def compute(self, tile, rows, wtaps, b, out, context):
        n, _, ow, c, m = self.split
        shape = (n, rows[1] - rows[0], ow, c, m)
        acc = view(self.acc, shape)
        taps = self.win.taps(tile, rows)
        with np.errstate(over="ignore", invalid="ignore"):      # ±inf / NaN float inputs: IEEE results
            _, _, v = next(taps)
            np.multiply(v[..., None], wtaps[0, 0], out=acc)
            if self.tmp is not None:
                tmp = view(self.tmp, shape)
                for ky, kx, v in taps:
                    np.multiply(v[..., None], wtaps[ky, kx], out=tmp)
                    acc += tmp
        self.finish(acc, b, out, context)

    def finish(self, acc, b, out, context):
        out[...] = acc.reshape(out.shape)
        add_bias_and_clamp(out, b, self.clamp)


@register("DEPTHWISE_CONV_2D", versions=(1, 7), types=QUANTIZED)
class QuantizedDepthwiseConv2D(DepthwiseConv2D):
    """Quantized DEPTHWISE_CONV_2D (shared.Requantizer). int16 needs an int64 bias (LiteRT's
    depthwise kernel has no int32-bias 16x8 path)."""

    converts = True
    input_types = QUANTIZED

    def check_types(self, node, x, w, out):
        pass    # the Requantizer checks them

    def setup(self, node, x, w, b, out, oc):
        self.rq = Requantizer(node, x, w, b, out, oc, dict(FILTER_TYPES, INT16=("INT8",)))
        self.w_zp, self.offset = self.rq.w_zp, self.rq.in_zp
        self.dtype = self.rq.elementwise_dtype(w.shape[1] * w.shape[2])

    def finish(self, acc, b, out, context):
        self.rq(acc.astype(np.int64).reshape(out.shape), b, out)


@register("DEPTHWISE_CONV_2D", versions=(1, 7), match=hybrid_match(("INT8",)))
class HybridDepthwiseConv2D(QuantizedDepthwiseConv2D):
    """Hybrid DEPTHWISE_CONV_2D (DepthwiseConvHybridPerChannel): asymmetric per-batch input
    quantization, ``float(acc) * (channel_scale * input_scale)``; one filter scale is broadcast
    over the channels (LiteRT reads past it)."""

    input_types = ("FLOAT32",)      # with int8 filters

    def setup(self, node, x, w, b, out, oc):
        self.output = HybridOutput(node, x, b, out, oc)
        wq = qparams(node, w, "filter")
        qdim = wq.quantized_dimension
        if not (0 <= qdim < 4 and wq.scale.size == w.shape[qdim]):
            raise node.error("%d filter scales do not match axis %d of the %s filter"
                             % (wq.scale.size, qdim, tuple(w.shape)))
        self.scales = np.broadcast_to(wq.scale, (oc,)).astype(F32)
        self.dtype = exact_dtype(w.shape[1] * w.shape[2], 255, weight_bound(w))
        self.converts, self.offset = self.dtype != F32, 0

    def source(self, x):
        q, scales = quantize_images(x, asymmetric=True)
        with nonfinite_ok():
            factor = (self.scales[None, :] * scales[:, None]).astype(F32)      # [N, OC]
        return q, factor[:, None, :]

    def finish(self, acc, b, out, factor):
        acc = wrap_int32(acc.astype(np.int64)).astype(F32).reshape(out.shape[0], -1, factor.shape[-1])
        with nonfinite_ok():
            res = acc * factor
        self.output(res, b, out)
