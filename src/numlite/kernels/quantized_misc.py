"""Quantized and hybrid kernels that close the remaining gaps with LiteRT's reference resolver.

Found by tools/audit_quantized.py, each bit-exact with LiteRT (BUILTIN_REF):

* L2_NORMALIZATION int8 / uint8: the inverse square root of the row's sum of squares from
  TFLite's Newton-Raphson GetInvSqrtQuantizedMultiplierExp, output scale 1/128.
* hybrid TRANSPOSE_CONV: float32 input, int8 filter (reference_ops::HybridTransposeConv).
"""
import numpy as np

from ..errors import ModelError
from ..schema.enums import ActivationFunctionType as Act
from .common import check_types
from .conv import transpose_conv_geometry
from .fixedpoint import (multiply_by_quantized_multiplier, multiply_by_quantized_multiplier_smaller_than_one_exp,
                         wrap_int32)
from .fixedpoint_nonlinear import inv_sqrt_quantized_multiplier
from .hybrid import apply_activation, asymmetric_quantize, fused_activation
from .conv import transpose_conv_operands
from .quantized_elementwise import (centred, check_arity, dtype_limits, model_error, qparams,
                                    quantized_input, refuse)
from .quantized_matmul import optional_input, output_array
from .quantized_matmul import qparams as tensor_qparams
from .registry import Kernel, register

F32 = np.float32


# ---------------------------------------------------------------------------------------------
# L2_NORMALIZATION
# ---------------------------------------------------------------------------------------------

@register("L2_NORMALIZATION", versions=(1, 2), types=("INT8", "UINT8"), match=quantized_input)
class QuantizedL2Normalization(Kernel):
    """Each row (last axis) divided by its L2 norm, output scale 1/128. The input scale drops
    out: rows are centred, their int32 sum of squares goes through GetInvSqrtQuantizedMultiplierExp
    (reverse shift -1). int8 (reference_integer_ops) then applies MultiplyByQuantizedMultiplier
    (double rounding) with 7 more left shifts; uint8 (reference_ops) multiplies 128 x value
    with MultiplyByQuantizedMultiplierSmallerThanOneExp and adds 128."""

    def prepare(self, inputs, outputs):
        check_arity(self, inputs, outputs, 1)
        x, out = inputs[0], outputs[0]
        if x.type_name not in ("INT8", "UINT8"):
            raise refuse(self, "input type %s" % x.type_name)
        if out.type_name != x.type_name:
            raise model_error(self, "output type %s differs from input type %s" % (out.type_name, x.type_name))
        if len(x.shape) < 1:
            raise model_error(self, "input must have at least one dimension")
        self.qi = qparams(self, x, "input")
        scale, zp = qparams(self, out, "output")
        want_zp = 0 if x.type_name == "INT8" else 128
        if float(scale) != 1.0 / 128 or zp != want_zp:
            raise model_error(self, "%s output needs scale 1/128 and zero point %d, got %g and %d"
                            % (x.type_name, want_zp, scale, zp))
        if self.options.get("fused_activation_function", Act.NONE) != Act.NONE:
            raise model_error(self, "fused activations are not supported")
        self.int8 = x.type_name == "INT8"
        self.qmin, self.qmax = dtype_limits(x.type_name)
        out.shape = x.shape

    def eval(self, inputs, outputs):
        x = inputs[0]
        if x.size == 0:
            return None
        rows = centred(x, self.qi[1]).reshape(-1, x.shape[-1])
        sum_squares = wrap_int32((rows * rows).sum(axis=1, keepdims=True))
        multiplier, shift = inv_sqrt_quantized_multiplier(sum_squares)
        if self.int8:
            res = multiply_by_quantized_multiplier(rows, multiplier, shift + 7)
        else:
            res = multiply_by_quantized_multiplier_smaller_than_one_exp(128 * rows, multiplier, shift) + 128
        return [np.clip(res, self.qmin, self.qmax).reshape(x.shape)]


# ---------------------------------------------------------------------------------------------
# Hybrid TRANSPOSE_CONV
# ---------------------------------------------------------------------------------------------

def _hybrid_transpose_conv(inputs):
    # The data input is input 2 (input 0 is the int32 output shape).
    return (len(inputs) > 2 and inputs[1] is not None and inputs[2] is not None
            and inputs[2].type_name == "FLOAT32" and inputs[1].type_name == "INT8")


@register("TRANSPOSE_CONV", versions=(1, 5), match=_hybrid_transpose_conv)
class HybridTransposeConv(Kernel):
    """transpose_conv.cc EvalHybrid: each batch's image is quantized asymmetrically
    (AsymmetricQuantizeFloats, hybrid.asymmetric_quantize); then, unlike the other hybrid
    kernels, every product ``(q - offset) * w`` is scaled to float on its own —
    ``float(product) * channel_scale * batch_scale`` in float32 — and scattered into a float32
    output in the reference loop order. Float sums depend on their order, so numlite adds the
    taps in the same order per output element: input row, then column ascending (filter taps
    descending), input channels ascending. Then the float bias and the activation clamp. Like
    LiteRT, an output_shape whose forward convolution would not give the input's size is refused."""

    def prepare(self, inputs, outputs):
        shape_spec, w, x, b = transpose_conv_operands(self, inputs, outputs)
        if outputs[0].type_name != "FLOAT32":
            raise ModelError("TRANSPOSE_CONV: hybrid output must be FLOAT32, got %s" % outputs[0].type_name)
        oc, kh, kw, ic = w.shape
        if ic == 0 or x.shape[0] == 0:
            raise ModelError("TRANSPOSE_CONV: hybrid input needs channels and a batch")
        if b is not None:
            check_types(self, b, ("FLOAT32",), "bias")
            if int(np.prod(b.shape)) != oc:
                raise ModelError("TRANSPOSE_CONV: bias has %d elements, expected %d" % (int(np.prod(b.shape)), oc))
        self.scales = self._channel_scales(w, oc)
        o = self.options
        self.strides = (o.get("stride_h", 0), o.get("stride_w", 0))
        if min(self.strides) <= 0:
            raise ModelError("TRANSPOSE_CONV: strides must be positive, got %s" % (self.strides,))
        self.padding = o.get("padding", 0)
        self.act = fused_activation(self, clamps_only=True)
        self.in_shape, self.w_shape = tuple(x.shape), tuple(w.shape)
        self.wtaps = self._weights(w.data) if w.data is not None else None
        self.geometry = None
        if shape_spec.data is not None:
            self.geometry = transpose_conv_geometry(self, shape_spec.data)
            outputs[0].shape = self.geometry[0]
        else:
            outputs[0].shape = None

    def _channel_scales(self, w, oc):
        """Per output channel scales. LiteRT widens a single scale to the quantized axis; with
        one scale per channel of another axis it would index them by output channel."""
        scale, _ = tensor_qparams(self, w, "filter")
        qdim = w.quantization.quantized_dimension
        if scale.size == 1:
            return np.full(oc, scale[0], F32)
        if not (0 <= qdim < 4 and scale.size == w.shape[qdim]):
            raise ModelError("TRANSPOSE_CONV: %d filter scales do not match axis %d of the %s filter"
                             % (scale.size, qdim, tuple(w.shape)))
        if scale.size != oc:
            refuse(self, "hybrid filter scales on axis %d, not the output channels" % qdim)
        return scale.astype(F32)

    @staticmethod
    def _weights(w):
        """[OC, KH, KW, IC] → [KH, KW, IC, OC] float32 (exact small integers)."""
        return np.asarray(w, F32).transpose(1, 2, 3, 0)

    def eval(self, inputs, outputs):
        shape_t, w, x, b = inputs[0], inputs[1], inputs[2], optional_input(inputs, 3)
        geometry = self.geometry or transpose_conv_geometry(self, shape_t)
        out_shape, pad_h, pad_w, full_shape = geometry
        out = output_array(outputs, out_shape, F32)
        if out.size == 0:
            return [out]
        wtaps = self.wtaps if self.wtaps is not None else self._weights(w)
        n, h, wd, ic = x.shape
        kh, kw = self.w_shape[1:3]
        sh, sw = self.strides
        q, batch_scales, offsets = asymmetric_quantize(np.asarray(x, F32).reshape(n, -1))
        centred_in = (q - offsets[:, None].astype(F32)).reshape(n, h, wd, ic)
        batch_scales = batch_scales.reshape(n, 1, 1, 1)
        full = np.zeros(full_shape, F32)
        ys, xs = (h - 1) * sh + 1, (wd - 1) * sw + 1
        # Per output element LiteRT adds in (input row, input column, input channel) order:
        # a later input row meets it through an earlier filter row, hence the reversed taps.
        for ky in range(kh - 1, -1, -1):
            for kx in range(kw - 1, -1, -1):
                dst = full[:, ky:ky + ys:sh, kx:kx + xs:sw, :]
                for c in range(ic):
                    dst += (centred_in[..., c, None] * wtaps[ky, kx, c] * self.scales) * batch_scales
        res = full[:, pad_h:pad_h + out_shape[1], pad_w:pad_w + out_shape[2], :]
        if b is not None:
            res = res + np.asarray(b, F32).reshape(-1)
        out[...] = res
        apply_activation(out, self.act)
        return [out]
