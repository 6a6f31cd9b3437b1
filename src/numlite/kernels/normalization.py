"""Normalization: L2_NORMALIZATION (float32, int8, uint8) and LOCAL_RESPONSE_NORMALIZATION (float32).

Quantized L2_NORMALIZATION divides each row (last axis) by its L2 norm with output scale 1/128.
The input scale drops out: rows are centred, their int32 sum of squares goes through TFLite's
Newton-Raphson GetInvSqrtQuantizedMultiplierExp (reverse shift -1). int8
(reference_integer_ops) then applies MultiplyByQuantizedMultiplier (double rounding) with 7 more
left shifts; uint8 (reference_ops) multiplies 128 x value with
MultiplyByQuantizedMultiplierSmallerThanOneExp and adds 128.
"""
import numpy as np

from ..schema.enums import ActivationFunctionType as Act
from .contract import Kernel
from .fixedpoint import (multiply_by_quantized_multiplier, multiply_by_quantized_multiplier_smaller_than_one_exp,
                         wrap_int32)
from .fixedpoint_nonlinear import inv_sqrt_quantized_multiplier
from .fused import apply_activation
from .operands import arity, check_type, same_type
from .quant import centred, dtype_limits, is_quantized, qparams
from .registry import register


@register("L2_NORMALIZATION", versions=(1, 2))
class L2Normalization(Kernel):
    # float32, and int8 / uint8 with quantization (unquantized 8-bit inputs are refused).
    input_types = ("FLOAT32", "INT8", "UINT8")

    def prepare(self, node, inputs, outputs):
        arity(node, inputs, outputs, 1)
        x, out = inputs[0], outputs[0]
        self.activation = node.options.fused_activation_function
        self.quantized = x.type_name in ("INT8", "UINT8") and is_quantized(x)
        if self.quantized:
            self.prepare_quantized(node, x, out)
        else:
            check_type(node, x, ("FLOAT32",))
        out.shape = x.shape

    def prepare_quantized(self, node, x, out):
        same_type(node, out, x)
        if len(x.shape) < 1:
            raise node.error("input must have at least one dimension")
        self.in_zp = qparams(node, x, "input").tensor_zero_point
        scale, zp = qparams(node, out, "output").pair
        want_zp = 0 if x.type_name == "INT8" else 128
        if float(scale) != 1.0 / 128 or zp != want_zp:
            raise node.error("%s output needs scale 1/128 and zero point %d, got %g and %d"
                             % (x.type_name, want_zp, scale, zp))
        if self.activation != Act.NONE:
            raise node.error("fused activations are not supported")
        self.int8 = x.type_name == "INT8"
        self.qmin, self.qmax = dtype_limits(x.type_name)

    def eval(self, node, inputs, outputs):
        x, out = inputs[0], outputs[0]
        if not self.quantized:
            # LiteRT's reference: norm = max(sqrt(sum(x^2)), 1e-6) over the last axis, in float32.
            with np.errstate(over="ignore", invalid="ignore"):  # x^2 overflowing, inf / inf: IEEE results
                norm = np.sqrt(np.sum(x * x, axis=-1, keepdims=True, dtype=np.float32))
                np.divide(x, np.maximum(norm, np.float32(1e-6)), out=out)
            apply_activation(out, self.activation, out=out)
            return
        if x.size == 0:
            return
        rows = centred(x, self.in_zp).reshape(-1, x.shape[-1])
        sum_squares = wrap_int32((rows * rows).sum(axis=1, keepdims=True))
        mult, shift = inv_sqrt_quantized_multiplier(sum_squares)
        if self.int8:
            res = multiply_by_quantized_multiplier(rows, mult, shift + 7)
        else:
            res = multiply_by_quantized_multiplier_smaller_than_one_exp(128 * rows, mult, shift) + 128
        out[...] = np.clip(res, self.qmin, self.qmax).reshape(x.shape)


@register("LOCAL_RESPONSE_NORMALIZATION", versions=(1, 1))
class LocalResponseNormalization(Kernel):
    input_types = ("FLOAT32",)

    def prepare(self, node, inputs, outputs):
        arity(node, inputs, outputs, 1)
        x = inputs[0]
        check_type(node, x, self.input_types)
        if len(x.shape) != 4:
            raise node.error("needs a 4-D input")
        outputs[0].shape = x.shape
        o = node.options
        self.radius, self.bias = int(o.radius), np.float32(o.bias)
        self.alpha, self.beta = np.float32(o.alpha), np.float32(o.beta)
        # The per-position sum of squares over the channel window.
        self.window = node.scratch(x.shape, np.float32)

    def eval(self, node, inputs, outputs):
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):   # ±inf / NaN / huge: IEEE results
            self._eval(inputs[0], outputs[0])

    def _eval(self, x, out):
        depth = x.shape[-1]
        sq = x * x
        c = np.arange(depth)
        # LiteRT's reference sums channels [c - radius, c + radius): the upper end is exclusive
        # (so radius 0 sums nothing). Sum tap by tap as its loop does.
        window = self.window.array
        window.fill(0)
        r = min(self.radius, depth)
        for d in range(-r, r):
            src = c + d
            ok = (src >= 0) & (src < depth)
            window[..., ok] += sq[..., src[ok]]
        multiplier = np.power(self.bias + self.alpha * window, -self.beta, dtype=np.float32)
        np.multiply(x, multiplier, out=out)
