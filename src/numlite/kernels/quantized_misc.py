"""Quantized L2_NORMALIZATION (int8 / uint8), bit-exact with LiteRT (BUILTIN_REF): the inverse
square root of the row's sum of squares from TFLite's Newton-Raphson
GetInvSqrtQuantizedMultiplierExp, output scale 1/128. (Moved to the normalization family next.)
"""
import numpy as np

from ..schema.enums import ActivationFunctionType as Act
from .fixedpoint import (multiply_by_quantized_multiplier, multiply_by_quantized_multiplier_smaller_than_one_exp,
                         wrap_int32)
from .fixedpoint_nonlinear import inv_sqrt_quantized_multiplier
from .quantized_elementwise import (centred, check_arity, dtype_limits, model_error, qparams,
                                    quantized_input, refuse)
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
