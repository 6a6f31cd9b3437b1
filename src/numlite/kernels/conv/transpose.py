"""TRANSPOSE_CONV: float, quantized (int8 / uint8 / int16) and hybrid (float input, int8 filter).

Inputs: output_shape (int32 [4]), weights [OC, KH, KW, IC], input, optional bias. One matmul
gives every input pixel's contribution to each tap, then a scatter-add of the taps (col2im,
geometry.TransposeWindow) and a crop. A non-constant output_shape makes the output dynamic: its
geometry and scatter buffer are then worked out at every eval and the output is returned. LiteRT
applies the fused activation in every op version and refuses an output_shape whose forward
convolution would not give the input's size.
"""
import numpy as np

from ..contract import Kernel
from ..fused import add_bias_and_clamp, float_clamp
from ..geometry import TransposeWindow, transpose_weight_matrix
from ..hybrid import hybrid_match, nonfinite_ok
from ..operands import FLOAT, arity, check_bias, check_float_operands, check_rank, optional_input
from ..quant import exact_matmul_chunked, qparams
from ..registry import register
from .shared import INT8_FILTERS, QUANTIZED, HybridOutput, Requantizer, quantize_images

F32 = np.float32


def transpose_conv_operands(node, inputs, outputs):
    """(output_shape, weights, input, optional bias) of a TRANSPOSE_CONV node, checked for arity,
    ranks, matching input channels and positive strides."""
    arity(node, inputs, outputs, (3, 4))
    shape_spec, w, x, b = inputs[0], inputs[1], inputs[2], optional_input(inputs, 3)
    if shape_spec.type_name != "INT32":
        raise node.error("output_shape must be INT32, got %s" % shape_spec.type_name)
    check_rank(node, shape_spec, 1, "output_shape")
    check_rank(node, x, 4, "input")
    check_rank(node, w, 4, "weights")
    if x.shape[3] != w.shape[3]:
        raise node.error("input has %d channels, weights expect %d" % (x.shape[3], w.shape[3]))
    if min(node.options.stride_h, node.options.stride_w) <= 0:
        raise node.error("strides must be positive, got %s" % ((node.options.stride_h, node.options.stride_w),))
    return shape_spec, w, x, b


@register("TRANSPOSE_CONV", versions=(1, 5))
class TransposeConv(Kernel):
    """Float TRANSPOSE_CONV. The quantized and hybrid kernels below share its prepare and eval
    and differ in the hooks ``setup``, ``weights`` and ``compute``."""

    input_types = ("INT32",)    # input 0 is the output shape (the data is input 2), for every variant

    def prepare(self, node, inputs, outputs):
        shape_spec, w, x, b = transpose_conv_operands(node, inputs, outputs)
        out = outputs[0]
        self.setup(node, x, w, b, out)
        o = node.options
        self.strides, self.padding = (o.stride_h, o.stride_w), o.padding
        self.in_shape, self.w_shape, self.out_dtype = tuple(x.shape), tuple(w.shape), out.dtype
        self.wmat = self.weights(w.data) if w.data is not None else None
        if shape_spec.data is None:
            self.window = self.full = out.shape = None
        else:
            self.window = self.geometry(node, shape_spec.data)
            self.full = node.scratch(self.window.full_shape, self.full_dtype)
            out.shape = self.window.out_shape

    def setup(self, node, x, w, b, out):
        check_float_operands(node, x, w, out)
        check_bias(node, b, w.shape[0], FLOAT)
        self.clamp = float_clamp(node, node.options.fused_activation_function)
        self.full_dtype = F32
        self.contrib = node.scratch((int(np.prod(x.shape[:3])), int(np.prod(w.shape[:3]))), F32)

    def weights(self, w):
        return transpose_weight_matrix(w)

    def geometry(self, node, shape_values):
        oc, kh, kw, _ = self.w_shape
        return TransposeWindow(node, self.in_shape, (kh, kw), oc, self.strides, self.padding, shape_values)

    def eval(self, node, inputs, outputs):
        shape_t, w, x, b = inputs[0], inputs[1], inputs[2], optional_input(inputs, 3)
        if self.window is None:
            # output_shape is a runtime input: this invoke's geometry, scatter buffer and output.
            tw = self.geometry(node, shape_t)
            full, out = np.empty(tw.full_shape, self.full_dtype), np.empty(tw.out_shape, self.out_dtype)
        else:
            tw, full, out = self.window, self.full.array, outputs[0]
        if out.size:
            self.compute(tw, full, x, self.wmat if self.wmat is not None else self.weights(w), b, out)
        return [out] if self.window is None else None

    def compute(self, tw, full, x, wmat, b, out):
        with np.errstate(over="ignore", invalid="ignore"):      # ±inf / NaN inputs: IEEE results
            contrib = np.matmul(x.reshape(-1, x.shape[3]), wmat, out=self.contrib.array)
            out[...] = tw.crop(tw.scatter(full, contrib.reshape(x.shape[:3] + self.w_shape[1:3] + self.w_shape[:1])))
        add_bias_and_clamp(out, b, self.clamp)


# The data input of TRANSPOSE_CONV is input 2 (input 0 is the int32 output shape).
@register("TRANSPOSE_CONV", versions=(1, 5),
          match=lambda inputs: len(inputs) > 2 and inputs[2] is not None and inputs[2].type_name in QUANTIZED)
class QuantizedTransposeConv(TransposeConv):
    """Quantized TRANSPOSE_CONV (reference_integer_ops::TransposeConv, reference_ops for uint8;
    shared.Requantizer): every input pixel scatters input x filter products into an int32
    (int64 for 16x8) scratch output, then bias, requantization and the fused-activation clamp."""

    def setup(self, node, x, w, b, out):
        self.rq = Requantizer(node, x, w, b, out, w.shape[0], INT8_FILTERS)
        self.dtype, self.chunk = self.rq.layout(x.shape[3])
        self.full_dtype = np.int64

    def weights(self, w):
        return transpose_weight_matrix(w, self.rq.w_zp, self.dtype)

    def compute(self, tw, full, x, wmat, b, out):
        rows = np.asarray(x, self.dtype).reshape(-1, x.shape[3]) - self.rq.in_zp
        contrib = exact_matmul_chunked(rows, wmat, self.chunk)
        tw.scatter(full, contrib.reshape(x.shape[:3] + self.w_shape[1:3] + self.w_shape[:1]))
        self.rq(tw.crop(full).copy(), b, out)


@register("TRANSPOSE_CONV", versions=(1, 5), match=hybrid_match(("INT8",), data=2, weights=1))
class HybridTransposeConv(TransposeConv):
    """transpose_conv.cc EvalHybrid: each batch's image is quantized asymmetrically
    (AsymmetricQuantizeFloats, hybrid.asymmetric_quantize); then, unlike the other hybrid
    kernels, every product ``(q - offset) * w`` is scaled to float on its own —
    ``float(product) * channel_scale * batch_scale`` in float32 — and scattered into a float32
    output in the reference loop order. Float sums depend on their order, so numlite adds the
    taps in the same order per output element: input row, then column ascending (filter taps
    descending), input channels ascending. Then the float bias and the activation clamp."""

    def setup(self, node, x, w, b, out):
        oc = w.shape[0]
        self.output = HybridOutput(node, x, b, out, oc)
        if w.shape[3] == 0 or x.shape[0] == 0:
            raise node.error("hybrid input needs channels and a batch")
        self.scales = self.channel_scales(node, w, oc)
        self.full_dtype = F32

    @staticmethod
    def channel_scales(node, w, oc):
        """Per output channel scales. LiteRT widens a single scale to the quantized axis; with
        one scale per channel of another axis it would index them by output channel."""
        wq = qparams(node, w, "filter")
        qdim = wq.quantized_dimension
        if wq.scale.size == 1:
            return np.full(oc, wq.scale[0], F32)
        if not (0 <= qdim < 4 and wq.scale.size == w.shape[qdim]):
            raise node.error("%d filter scales do not match axis %d of the %s filter"
                             % (wq.scale.size, qdim, tuple(w.shape)))
        if wq.scale.size != oc:
            raise node.unsupported("hybrid filter scales on axis %d, not the output channels" % qdim)
        return wq.scale.astype(F32)

    def weights(self, w):
        """[OC, KH, KW, IC] → [KH, KW, IC, OC] float32 (exact small integers)."""
        return np.asarray(w, F32).transpose(1, 2, 3, 0)

    def compute(self, tw, full, x, wtaps, b, out):
        centred, batch_scales = quantize_images(x, asymmetric=True)
        batch_scales = batch_scales.reshape(-1, 1, 1, 1)
        full.fill(0)
        # Per output element LiteRT adds in (input row, input column, input channel) order:
        # a later input row meets it through an earlier filter row, hence the reversed taps.
        with nonfinite_ok():
            for ky, kx, dst in tw.tap_targets(full, reverse=True):
                for c in range(x.shape[3]):
                    dst += (centred[..., c, None] * wtaps[ky, kx, c] * self.scales) * batch_scales
        self.output(tw.crop(full), b, out)
