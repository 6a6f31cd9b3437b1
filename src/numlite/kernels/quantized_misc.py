"""Quantized and hybrid kernels that close the remaining gaps with LiteRT's reference resolver.

Found by tools/audit_quantized.py, each bit-exact with LiteRT (BUILTIN_REF):

* SQRT int8 / int16: dequantize, float32 sqrt, then a *truncating* requantization
  (``static_cast<int>(sqrt / output_scale) + zero_point``), unlike every other quantized op.
* RSQRT int16: a 513-entry interpolated table (LUTPopulate<int16_t>); a non-positive input
  maps to the largest output.
* GELU int16: the same interpolated table of the (exact or tanh-approximated) GELU.
* DIV int16: the int8 / uint8 recipe (reference_ops::DivElementwise) on int16 data.
* PRELU int16 ("16x8": int16 input and output, int8 alpha).
* hybrid TRANSPOSE_CONV: float32 input, int8 filter (reference_ops::HybridTransposeConv).

Generic helpers defined here: :func:`dequantize_f32`, :func:`int8_bytes_of`.
"""
import numpy as np

from ..errors import ModelError
from ..schema.enums import ActivationFunctionType as Act
from .common import broadcast_shape, check_types, invoke_error
from .conv import transpose_conv_geometry
from .fixedpoint import (float_to_int32_x86, multiply_by_quantized_multiplier,
                         multiply_by_quantized_multiplier_smaller_than_one_exp, quantize_multiplier_scalar,
                         wrap_int32)
from .fixedpoint_nonlinear import inv_sqrt_quantized_multiplier
from .hybrid import apply_activation, asymmetric_quantize, fused_activation
from .quantized_activations import QuantizedGelu, QuantizedPrelu, _Int16TableActivation, _QuantizedUnary
from .conv import transpose_conv_operands
from .quantized_elementwise import (QuantizedDiv, centred, check_arity, dtype_limits, model_error, qparams,
                                    quantized_input, refuse)
from .quantized_matmul import optional_input, output_array
from .quantized_matmul import qparams as tensor_qparams
from .registry import Kernel, register

F32 = np.float32


# ---------------------------------------------------------------------------------------------
# Generic helpers
# ---------------------------------------------------------------------------------------------

def dequantize_f32(x, scale, zero_point):
    """``scale * (q - zero_point)`` in float32, as LiteRT writes it: the centred integer is
    converted to float (exact for 8/16-bit data) and multiplied once."""
    return F32(scale) * (np.asarray(x, np.int64) - int(zero_point)).astype(F32)


def int8_bytes_of(values):
    """The first ``values.size`` bytes of ``values`` read as int8, in its shape: what a LiteRT
    kernel sees when it reads a wider tensor through an ``int8_t*``."""
    flat = np.ascontiguousarray(values).view(np.int8).reshape(-1)
    return flat[:values.size].reshape(values.shape)


# ---------------------------------------------------------------------------------------------
# SQRT, RSQRT, GELU
# ---------------------------------------------------------------------------------------------

@register("SQRT", versions=(1, 2), types=("INT8", "INT16"), match=quantized_input)
class QuantizedSqrt(_QuantizedUnary):
    """elementwise.cc SqrtEvalQuantized: float32 arithmetic throughout and a truncating
    float→int conversion (x86 semantics: out-of-range quotients become INT32_MIN before the zero
    point is added) — no TfLiteRound, so results sit up to one step below the rounded value."""
    types = ("INT8", "INT16")

    def eval(self, inputs, outputs):
        deq = dequantize_f32(inputs[0], *self.qi)
        if not np.all(deq >= 0):
            raise invoke_error(self, "Sqrt is only defined for non-negative values")
        with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
            quotient = np.sqrt(deq) / self.qo[0]
        out = wrap_int32(float_to_int32_x86(quotient, np.int64) + self.qo[1])
        return [np.clip(out, self.qmin, self.qmax)]


def _rsqrt_f32(output_scale):
    """The int16 RSQRT table function: 1/sqrt(v) in float32; v <= 0 gives INT16_MAX * output_scale."""
    ceiling = F32(32767) * F32(output_scale)

    def transform(v):
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(v <= 0, ceiling, F32(1) / np.sqrt(v)).astype(F32)
    return transform


@register("RSQRT", versions=(1, 3), types=("INT16",), match=quantized_input)
class QuantizedRsqrtInt16(_Int16TableActivation):
    """int16 RSQRT (elementwise.cc): LUTPopulate<int16_t> of 1/sqrt in float32, then LUTLookup's
    interpolation; int8 RSQRT is quantized_elementwise's fixed-point kernel."""
    types = ("INT16",)

    def table_transform(self):
        return _rsqrt_f32(self.qo[0])

    def eval(self, inputs, outputs):
        # LiteRT checks the raw values against the input zero point (which int16 requires to be 0).
        if np.any(inputs[0] < self.qi[1]):
            raise invoke_error(self, "Rsqrt is only defined for positive values")
        return super().eval(inputs, outputs)


@register("GELU", versions=(1, 2), types=("INT16",), match=quantized_input)
class QuantizedGeluInt16(_Int16TableActivation, QuantizedGelu):
    """int16 GELU: LUTPopulate<int16_t> of QuantizedGelu's float32 transform. LiteRT does not
    require zero points 0 here."""
    types = ("INT16",)
    int16_symmetric = False


# ---------------------------------------------------------------------------------------------
# DIV int16, PRELU 16x8
# ---------------------------------------------------------------------------------------------

@register("DIV", versions=(1, 2), types=("INT16",), match=quantized_input)
class QuantizedDivInt16(QuantizedDiv):
    """int16 DIV: reference_ops::Div<int16_t>, the same GetReciprocal-based recipe as 8-bit
    (MultiplyByQuantizedMultiplierSmallerThanOneExp, double rounding); zero points may be
    non-zero."""
    types = ("INT16",)

    def prepare(self, inputs, outputs):
        super().prepare(inputs, outputs)
        if outputs[0].type_name != "INT16":
            raise model_error(self, "output type %s differs from input type INT16" % outputs[0].type_name)


@register("PRELU", versions=(1, 1), types=("INT16",), match=quantized_input)
class QuantizedPreluInt16(QuantizedPrelu):
    """16x8 PRELU: int16 input and output, int8 alpha, QuantizedPrelu's two multipliers
    (MultiplyByQuantizedMultiplier, double rounding). LiteRT reads the alpha tensor through an
    int8 pointer whatever its type, so an int16 alpha contributes its first bytes — reproduced."""

    def prepare(self, inputs, outputs):
        check_arity(self, inputs, outputs, 2)
        x, alpha, out = inputs[0], inputs[1], outputs[0]
        if out.type_name != "INT16":
            raise model_error(self, "output type %s differs from input type INT16" % out.type_name)
        if alpha.type_name not in ("INT8", "INT16"):
            raise refuse(self, "int16 input with %s alpha" % alpha.type_name)
        shape = broadcast_shape(x.shape, alpha.shape, "PRELU")
        if tuple(shape) != tuple(x.shape):
            raise model_error(self, "alpha %s does not broadcast to the input shape %s" % (alpha.shape, x.shape))
        out.shape = x.shape
        self.alpha_bytes = alpha.type_name == "INT16"
        self.qi, self.qa = qparams(self, x, "input"), qparams(self, alpha, "alpha")
        self.qo = qparams(self, out, "output")
        self.qmin, self.qmax = dtype_limits("INT16")
        # float32 products, as PreluPrepare computes them
        self.m1 = quantize_multiplier_scalar(float(self.qi[0] / self.qo[0]))
        self.m2 = quantize_multiplier_scalar(float(self.qi[0] * self.qa[0] / self.qo[0]))

    def eval(self, inputs, outputs):
        x, alpha = inputs
        if self.alpha_bytes:
            alpha = int8_bytes_of(alpha)
        return super().eval([x, alpha], outputs)


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
