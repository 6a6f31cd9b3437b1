"""Quantized and hybrid kernels that close the remaining gaps with LiteRT's reference resolver.

Found by tools/audit_quantized.py, each bit-exact with LiteRT (BUILTIN_REF):

* SQRT int8 / int16: dequantize, float32 sqrt, then a *truncating* requantization
  (``static_cast<int>(sqrt / output_scale) + zero_point``), unlike every other quantized op.
* RSQRT int16: a 513-entry interpolated table (LUTPopulate<int16_t>); a non-positive input
  maps to the largest output.
* GELU int16: the same interpolated table of the (exact or tanh-approximated) GELU.
* DIV int16: the int8 / uint8 recipe (reference_ops::DivElementwise) on int16 data.
* PRELU int16 ("16x8": int16 input and output, int8 alpha).
* L2_NORMALIZATION int8 / uint8: the inverse square root of the row's sum of squares from
  TFLite's Newton-Raphson GetInvSqrtQuantizedMultiplierExp, output scale 1/128.

Generic helpers defined here: :func:`dequantize_f32`, :func:`int8_bytes_of`.
"""
import numpy as np

from ..schema.enums import ActivationFunctionType as Act
from .common import broadcast_shape, invoke_error
from .fixedpoint import (float_to_int32_x86, multiply_by_quantized_multiplier,
                         multiply_by_quantized_multiplier_smaller_than_one_exp, quantize_multiplier_scalar,
                         wrap_int32)
from .fixedpoint_nonlinear import inv_sqrt_quantized_multiplier
from .quantized_activations import QuantizedGelu, QuantizedPrelu, _Int16TableActivation, _QuantizedUnary
from .quantized_elementwise import (QuantizedDiv, centred, check_arity, dtype_limits, model_error, qparams,
                                    quantized_input, refuse)
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
