"""CONV_2D: float, quantized (int8 / uint8 / int16) and hybrid (float input, int8 filter).

im2col plus one matmul per group: grouped when input channels = groups x filter channels
(LiteRT's reference kernel is the only one that runs groups). A 1x1, stride-1, unpadded filter
reads the input rows as its columns. Constant filters are rearranged into matmul layout once,
at prepare; integer products run as exact float32 BLAS products (quant.exact_layout).
"""
import numpy as np

from ..fixedpoint import wrap_int32
from ..fused import add_bias_and_clamp
from ..hybrid import hybrid_match, nonfinite_ok
from ..quant import exact_layout, qparams, weight_bound, weight_operand
from ..registry import register
from .shared import QUANTIZED, HybridOutput, Requantizer, WindowedConv, exact_grouped_matmul, im2col, quantize_images

F32 = np.float32


def weight_matrix(w, groups, zero_point=0, dtype=F32):
    """[OC, KH, KW, Cg] filter → contiguous [G, K, OC/G] matmul operand, zero point removed."""
    layout = np.asarray(w).reshape(groups, w.shape[0] // groups, -1).transpose(0, 2, 1)
    return weight_operand(layout, zero_point, dtype)


@register("CONV_2D", versions=(1, 8))
class Conv2D(WindowedConv):
    """Float CONV_2D. The output is one matmul (per group), so its float sums are those of one
    BLAS call; the quantized and hybrid kernels below work tile by tile."""

    def filter_shape(self, node, x_shape, w_shape):
        c = x_shape[3]
        oc, kh, kw, cg = w_shape
        if cg <= 0 or c % cg:
            raise node.error("input channels %d are not a multiple of filter channels %d" % (c, cg))
        self.groups = c // cg
        if oc % self.groups:
            raise node.error("%d filters cannot be split into %d groups" % (oc, self.groups))
        return oc, kh, kw

    def tiling(self, out_h, per_line):
        return [(0, out_h)]

    def request(self, node, x_shape, w_shape, lines):
        cols = (x_shape[0], lines, self.win.out_w, self.groups) + tuple(w_shape[1:])
        self.cols = None if self.win.pointwise else node.scratch(cols, self.dtype)

    def weights(self, w):
        return weight_matrix(w, self.groups)

    def compute(self, tile, rows, wmat, b, out, context):
        self.product(im2col(self.win, tile, self.cols, self.groups, rows), wmat, b, out, context)

    def product(self, cols, wmat, b, out, context):
        m, g, k = cols.shape
        flat = out.reshape(m, -1)
        with np.errstate(over="ignore", invalid="ignore"):      # ±inf / NaN inputs: IEEE results
            if g == 1:
                np.matmul(cols.reshape(m, k), wmat[0], out=flat)
            else:
                # [G, M, K] @ [G, K, OC/G] → [G, M, OC/G], output channels are group-major.
                flat.reshape(m, g, -1)[...] = np.matmul(cols.transpose(1, 0, 2), wmat).transpose(1, 0, 2)
        add_bias_and_clamp(out, b, self.clamp)


@register("CONV_2D", versions=(1, 8), types=QUANTIZED)
class QuantizedConv2D(Conv2D):
    """Quantized CONV_2D (shared.Requantizer), tile by tile. Out-of-image taps are skipped by
    LiteRT: with the zero point removed first, a zero border contributes nothing, exactly like
    a skipped tap."""

    converts = True
    input_types = QUANTIZED

    def check_types(self, node, x, w, out):
        pass    # the Requantizer checks them

    def setup(self, node, x, w, b, out, oc):
        self.rq = Requantizer(node, x, w, b, out, oc)
        self.offset = self.rq.in_zp
        self.dtype, self.chunk = self.rq.layout(np.prod(w.shape[1:]))

    tiling = WindowedConv.tiling

    def weights(self, w):
        return weight_matrix(w, self.groups, self.rq.w_zp, self.dtype)

    def product(self, cols, wmat, b, out, context):
        self.rq(exact_grouped_matmul(cols, wmat, self.chunk).reshape(out.shape), b, out)


@register("CONV_2D", versions=(1, 8), match=hybrid_match(("INT8", "INT4")))
class HybridConv2D(QuantizedConv2D):
    """Hybrid CONV_2D. Per-tensor weights → HybridConv: the whole image of each batch is
    quantized symmetrically, im2col + integer GEMM, then ``float(acc) * (input_scale *
    filter_scale)``. Per-channel weights with differing scales, or grouped convolutions →
    HybridConvPerChannel: asymmetric quantization per batch, ``float(acc) * channel_scale *
    input_scale``. The int32 accumulators wrap, as in LiteRT."""

    input_types = ("FLOAT32",)      # with int8 / int4 filters

    def setup(self, node, x, w, b, out, oc):
        self.output = HybridOutput(node, x, b, out, oc)
        scale = qparams(node, w, "filter").scale
        if scale.size not in (1, oc):
            raise node.error("filter has %d scales, expected 1 or %d" % (scale.size, oc))
        if self.groups != 1 and scale.size != oc:
            # LiteRT sends grouped hybrid convolutions down the per-channel path, which insists on
            # one scale per filter.
            raise node.error("a grouped hybrid convolution needs %d filter scales, got %d" % (oc, scale.size))
        self.per_channel = bool(np.any(scale != scale[0])) or self.groups != 1
        self.scales = np.broadcast_to(scale, (oc,)).astype(F32)
        # Symmetric inputs lie in [-127, 127]; asymmetric ones minus their offset in [-255, 255].
        self.dtype, self.chunk = exact_layout(np.prod(w.shape[1:]), 255 if self.per_channel else 127,
                                              weight_bound(w))
        self.converts, self.offset = self.dtype != F32, 0

    def weights(self, w):
        return weight_matrix(w, self.groups, 0, self.dtype)

    def source(self, x):
        q, scales = quantize_images(x, asymmetric=self.per_channel)
        if not self.per_channel:
            with nonfinite_ok():
                scales = (scales * self.scales[0]).astype(F32)
        return q, scales[:, None, None, None]

    def product(self, cols, wmat, b, out, batch_scales):
        acc = wrap_int32(exact_grouped_matmul(cols, wmat, self.chunk)).astype(F32).reshape(out.shape)
        with nonfinite_ok():
            if self.per_channel:
                res = acc * self.scales * batch_scales
            else:
                res = acc * batch_scales
        self.output(res, b, out)
