"""Quantized elementwise ops, bit-exact with LiteRT's reference kernels.

ADD, SUB (int8 / uint8 / int16), MUL (int8 / uint8 / int16, int16 x int16 -> int8 / uint8),
SQUARED_DIFFERENCE (int8), DIV (int8 / uint8), the comparisons EQUAL ... GREATER_EQUAL on
quantized inputs with possibly different scales, and the unary ABS (int8 / int16) and
RSQRT (int8).

The 8-bit ADD/SUB recipe (``reference_integer_ops::AddFunc``): both inputs are centred, shifted
left by 20 bits (15 for int16) for precision, each scaled by ``scale_i / (2 * max_scale)``, summed
and rescaled by ``2 * max_scale / (2^shift * output_scale)``. Every rescale there is
``MultiplyByQuantizedMultiplierSmallerThanOneExp`` (double rounding: rounding doubling high
multiply, then rounding right shift, both round-half-away). MUL uses
``MultiplyByQuantizedMultiplier`` (double rounding) on the product of centred inputs.

Shared quantization helpers (:func:`qparams`, :func:`activation_range`, ...) live here and are
used by :mod:`quantized_activations` as well.
"""
import numpy as np

from ..errors import ModelError, UnsupportedOpError
from ..schema.enums import ActivationFunctionType as Act
from .common import broadcast_shape, model_error
from .binary import division_by_zero
from .fixedpoint import (multiply_by_quantized_multiplier, multiply_by_quantized_multiplier_smaller_than_one_exp,
                         quantize_multiplier_scalar, quantized_activation_range, rounding_divide_by_pot,
                         saturating_rounding_doubling_high_mul, wrap_int32)
from .fixedpoint_nonlinear import (checked_log2, count_leading_sign_bits32, get_reciprocal,
                                   inv_sqrt_quantized_multiplier, srdhm16)
from .registry import Kernel, register

QUANTIZED_TYPES = ("INT8", "UINT8", "INT16")


# ---------------------------------------------------------------------------------------------
# Shared helpers
# ---------------------------------------------------------------------------------------------

def is_quantized(spec):
    q = spec.quantization if spec is not None else None
    return q is not None and q.scale is not None and q.scale.size > 0


def quantized_input(inputs):
    """Registry predicate: input 0 carries quantization parameters."""
    return bool(inputs) and is_quantized(inputs[0])


def qparams(kernel, spec, what="tensor"):
    """(float32 scale, int zero point) of a per-tensor quantized tensor."""
    if not is_quantized(spec):
        raise ModelError("%s (node %s): %s %r has no quantization parameters"
                         % (kernel.op.opcode, getattr(kernel, "node_index", None), what, spec.name))
    return np.float32(spec.quantization.scale[0]), int(spec.quantization.zero_point[0])


def refuse(kernel, message):
    return UnsupportedOpError(kernel.op.opcode, kernel.op.version, getattr(kernel, "node_index", None), message)


def check_arity(kernel, inputs, outputs, n_in, n_out=1):
    if len(inputs) != n_in or len(outputs) != n_out or any(s is None for s in inputs):
        raise model_error(kernel, "expected %d inputs and %d output, got %d and %d"
                        % (n_in, n_out, len(inputs), len(outputs)))


def dtype_limits(type_name):
    info = np.iinfo({"INT8": np.int8, "UINT8": np.uint8, "INT16": np.int16}[type_name])
    return int(info.min), int(info.max)


def activation_range(kernel, activation, spec):
    """CalculateActivationRangeQuantized on the output's integers (fixedpoint.quantized_activation_range)."""
    scale, zp = qparams(kernel, spec, "output")
    return quantized_activation_range(activation, scale, zp, spec.dtype)


def multiplier_smaller_than_one(kernel, real, what):
    """QuantizeMultiplierSmallerThanOneExp; LiteRT aborts on a multiplier >= 1, we refuse the node."""
    qm, shift = quantize_multiplier_scalar(real)
    if not 0 <= real < 1 or shift > 0:
        raise refuse(kernel, "%s multiplier %g must be in [0, 1) for this quantized kernel" % (what, real))
    return qm, shift


def centred(x, zero_point):
    return x.astype(np.int64) - zero_point


# ---------------------------------------------------------------------------------------------
# ADD / SUB
# ---------------------------------------------------------------------------------------------

class _QuantizedBinary(Kernel):
    """Common prepare: two same-typed quantized inputs, broadcast output shape."""

    types = QUANTIZED_TYPES

    def prepare_common(self, inputs, outputs):
        check_arity(self, inputs, outputs, 2)
        a, b = inputs
        if a.type_name not in self.types:
            raise refuse(self, "input type %s" % a.type_name)
        if b.type_name != a.type_name:
            raise model_error(self, "input types differ (%s vs %s)" % (a.type_name, b.type_name))
        outputs[0].shape = broadcast_shape(a.shape, b.shape, self.op.opcode)
        self.q1, self.q2 = qparams(self, a, "input 1"), qparams(self, b, "input 2")
        self.act = self.options.get("fused_activation_function", Act.NONE)


class _AddSub(_QuantizedBinary):
    sign = 1

    def prepare(self, inputs, outputs):
        self.prepare_common(inputs, outputs)
        a, out = inputs[0], outputs[0]
        if out.type_name != a.type_name:
            raise model_error(self, "output type %s differs from input type %s" % (out.type_name, a.type_name))
        self.qo = qparams(self, out, "output")
        self.lo, self.hi = activation_range(self, self.act, out)
        int16 = a.type_name == "INT16"
        if int16 and (self.q1[1] or self.q2[1] or self.qo[1]):
            raise model_error(self, "int16 quantization needs zero points 0")
        # The options default pot_scale_int16 to true, but a node without options reads false.
        self.pot = False
        if int16 and self.options.get("pot_scale_int_16", False):
            logs = [checked_log2(s) for s in (self.q1[0], self.q2[0], self.qo[0])]
            self.pot = all(ok for ok, _ in logs)
            if self.pot:
                self.prepare_pot([l for _, l in logs])
                return
        self.prepare_general(left_shift=15 if int16 else 20)

    def prepare_general(self, left_shift):
        s1, s2, so = self.q1[0], self.q2[0], self.qo[0]
        twice_max_input_scale = 2.0 * float(max(s1, s2))
        self.left_shift = left_shift
        self.m1 = multiplier_smaller_than_one(self, float(s1) / twice_max_input_scale, "input 1")
        self.m2 = multiplier_smaller_than_one(self, float(s2) / twice_max_input_scale, "input 2")
        self.mo = multiplier_smaller_than_one(self, twice_max_input_scale / (float(1 << left_shift) * float(so)),
                                              "output")

    def prepare_pot(self, log2s):
        """The LSTM-style int16 path: power-of-two scales, one input already at the output scale."""
        self.shift1, self.shift2 = log2s[0] - log2s[2], log2s[1] - log2s[2]
        if not (self.shift1 == 0 or self.shift2 == 0) or self.shift1 > 0 or self.shift2 > 0:
            raise model_error(self, "power-of-two int16 path needs one input at the output scale and the other finer")

    def eval(self, inputs, outputs):
        x1, x2 = inputs
        if self.pot:
            raw = rounding_divide_by_pot(x1.astype(np.int64), -self.shift1) + \
                self.sign * rounding_divide_by_pot(x2.astype(np.int64), -self.shift2)
            return [np.clip(raw, self.lo, self.hi)]
        smaller = multiply_by_quantized_multiplier_smaller_than_one_exp
        v1 = smaller(centred(x1, self.q1[1]) << self.left_shift, *self.m1)
        v2 = smaller(centred(x2, self.q2[1]) << self.left_shift, *self.m2)
        raw = wrap_int32(v1 + self.sign * v2)
        out = smaller(raw, *self.mo) + self.qo[1]
        return [np.clip(out, self.lo, self.hi)]


@register("ADD", versions=(1, 5), types=QUANTIZED_TYPES, match=quantized_input)
class QuantizedAdd(_AddSub):
    sign = 1


@register("SUB", versions=(1, 5), types=QUANTIZED_TYPES, match=quantized_input)
class QuantizedSub(_AddSub):
    sign = -1


# ---------------------------------------------------------------------------------------------
# MUL
# ---------------------------------------------------------------------------------------------

@register("MUL", versions=(1, 7), types=QUANTIZED_TYPES, match=quantized_input)
class QuantizedMul(_QuantizedBinary):
    def prepare(self, inputs, outputs):
        self.prepare_common(inputs, outputs)
        a, out = inputs[0], outputs[0]
        self.qo = qparams(self, out, "output")
        self.lo, self.hi = activation_range(self, self.act, out)
        # int16 x int16 -> 8-bit is the LSTM gate product: Q0.15 x Q0.15 rescaled by 2^-8.
        self.int16_to_8bit = a.type_name == "INT16" and out.type_name in ("INT8", "UINT8")
        if out.type_name != a.type_name and not self.int16_to_8bit:
            raise refuse(self, "%s inputs with %s output" % (a.type_name, out.type_name))
        if a.type_name == "INT16" and not self.int16_to_8bit and (self.q1[1] or self.q2[1] or self.qo[1]):
            raise model_error(self, "int16 quantization needs zero points 0")
        # LiteRT computes input1_scale * input2_scale / output_scale in float32.
        real = float(self.q1[0] * self.q2[0] / self.qo[0])
        self.m = quantize_multiplier_scalar(real)

    def eval(self, inputs, outputs):
        x1, x2 = inputs
        if self.int16_to_8bit:
            prod = rounding_divide_by_pot(srdhm16(x1.astype(np.int64), x2.astype(np.int64)), 8)
            zp = self.qo[1]
            return [np.clip(prod, self.lo - zp, self.hi - zp) + zp]
        prod = wrap_int32(centred(x1, self.q1[1]) * centred(x2, self.q2[1]))
        out = multiply_by_quantized_multiplier(prod, *self.m) + self.qo[1]
        return [np.clip(out, self.lo, self.hi)]


# ---------------------------------------------------------------------------------------------
# SQUARED_DIFFERENCE
# ---------------------------------------------------------------------------------------------

@register("SQUARED_DIFFERENCE", versions=(1, 2), types=("INT8",), match=quantized_input)
class QuantizedSquaredDifference(_QuantizedBinary):
    types = ("INT8",)
    left_shift = 7

    def prepare(self, inputs, outputs):
        self.prepare_common(inputs, outputs)
        self.qo = qparams(self, outputs[0], "output")
        s1, s2, so = self.q1[0], self.q2[0], self.qo[0]
        twice_max_input_scale = 2.0 * float(max(s1, s2))
        self.m1 = multiplier_smaller_than_one(self, float(s1) / twice_max_input_scale, "input 1")
        self.m2 = multiplier_smaller_than_one(self, float(s2) / twice_max_input_scale, "input 2")
        self.mo = multiplier_smaller_than_one(
            self, twice_max_input_scale * twice_max_input_scale / float(np.float32(1 << 2 * self.left_shift) * so),
            "output")

    def eval(self, inputs, outputs):
        smaller = multiply_by_quantized_multiplier_smaller_than_one_exp
        v1 = smaller(centred(inputs[0], self.q1[1]) << self.left_shift, *self.m1)
        v2 = smaller(centred(inputs[1], self.q2[1]) << self.left_shift, *self.m2)
        diff = v1 - v2
        out = smaller(wrap_int32(diff * diff), *self.mo) + self.qo[1]
        return [np.clip(out, -128, 127)]


# ---------------------------------------------------------------------------------------------
# DIV
# ---------------------------------------------------------------------------------------------

@register("DIV", versions=(1, 2), types=("INT8", "UINT8"), match=quantized_input)
class QuantizedDiv(_QuantizedBinary):
    """reference_ops::DivElementwise: the divisor's reciprocal comes from gemmlowp's Newton-Raphson
    ``GetReciprocal``; the dividend is normalised by its redundant sign bits first. LiteRT fails the
    invoke when a divisor equals its zero point (a real 0)."""
    types = ("INT8", "UINT8")

    def prepare(self, inputs, outputs):
        self.prepare_common(inputs, outputs)
        out = outputs[0]
        self.qo = qparams(self, out, "output")
        self.lo, self.hi = activation_range(self, self.act, out)
        # input1_scale / (input2_scale * output_scale), in float32 as LiteRT computes it.
        self.m = quantize_multiplier_scalar(float(self.q1[0] / (self.q2[0] * self.qo[0])))

    def eval(self, inputs, outputs):
        v1 = centred(inputs[0], self.q1[1])
        v2 = centred(inputs[1], self.q2[1])
        if not v2.all():
            raise division_by_zero(self)
        flip = v2 < 0          # keep the reciprocal positive
        v1 = np.where(flip, -v1, v1)
        v2 = np.where(flip, -v2, v2)
        inv, recip_shift = get_reciprocal(v2, 31)
        headroom = count_leading_sign_bits32(v1)
        unscaled = saturating_rounding_doubling_high_mul(wrap_int32(v1 << headroom), inv)
        total_shift = self.m[1] - recip_shift - headroom
        scaled = _rounding_divide_by_pot_x86(saturating_rounding_doubling_high_mul(unscaled, self.m[0]),
                                             -total_shift)
        return [np.clip(scaled + self.qo[1], self.lo, self.hi)]


def _rounding_divide_by_pot_x86(x, exponent):
    """gemmlowp RoundingDivideByPOT on int32 as compiled for x86, for any exponent.

    DIV's right shift exceeds 31 for dividends that are tiny next to the divisor. C++ leaves such
    shifts undefined; x86 masks the 64-bit mask's shift count to 6 bits and the int32 shift's to
    5 bits, so ``x >> 32`` is ``x`` and the quotient saturates instead of rounding to zero. LiteRT
    returns those saturated values, so we reproduce them.
    """
    x = np.asarray(x, np.int64)
    exponent = np.asarray(exponent, np.int64)
    mask = wrap_int32((np.int64(1) << (exponent & 63)) - 1)
    threshold = (mask >> 1) + (x < 0)
    return (x >> (exponent & 31)) + ((x & mask) > threshold)


# ---------------------------------------------------------------------------------------------
# Comparisons
# ---------------------------------------------------------------------------------------------

class _QuantizedCompare(_QuantizedBinary):
    """ComparisonWithScaling: each side becomes ``((q - zp) << 8) * scale`` as a fixed-point
    integer (MultiplyByQuantizedMultiplierSmallerThanOneExp), then the integers are compared.
    Distinct inputs can compare equal after that rounding, as in LiteRT."""
    func = None
    left_shift = 8

    def prepare(self, inputs, outputs):
        self.prepare_common(inputs, outputs)
        self.m1 = self._multiplier(self.q1[0])
        self.m2 = self._multiplier(self.q2[0])

    def _multiplier(self, scale):
        # LiteRT takes the "greater than one" branch for scales >= 1, which its comparison code
        # then uses as a negative right shift (undefined); we refuse those scales.
        if scale >= 1:
            raise refuse(self, "quantized comparison with scale %g >= 1" % scale)
        return quantize_multiplier_scalar(float(scale))

    def eval(self, inputs, outputs):
        smaller = multiply_by_quantized_multiplier_smaller_than_one_exp
        v1 = smaller(centred(inputs[0], self.q1[1]) << self.left_shift, *self.m1)
        v2 = smaller(centred(inputs[1], self.q2[1]) << self.left_shift, *self.m2)
        return [type(self).func(v1, v2)]


def _compare(opcode, versions, func, int16_rescaled):
    # LiteRT rescales int16 only in EQUAL / NOT_EQUAL; LESS ... compare raw int16 values, which the
    # generic comparison kernel already does.
    types = QUANTIZED_TYPES if int16_rescaled else ("INT8", "UINT8")

    @register(opcode, versions=versions, types=types, match=quantized_input)
    class Compare(_QuantizedCompare):
        pass
    Compare.func = staticmethod(func)
    Compare.types = types
    Compare.__name__ = Compare.__qualname__ = "Quantized" + opcode.title().replace("_", "")
    return Compare


QuantizedEqual = _compare("EQUAL", (1, 5), np.equal, True)
QuantizedNotEqual = _compare("NOT_EQUAL", (1, 4), np.not_equal, True)
QuantizedLess = _compare("LESS", (1, 3), np.less, False)
QuantizedLessEqual = _compare("LESS_EQUAL", (1, 2), np.less_equal, False)
QuantizedGreater = _compare("GREATER", (1, 2), np.greater, False)
QuantizedGreaterEqual = _compare("GREATER_EQUAL", (1, 3), np.greater_equal, False)


# ---------------------------------------------------------------------------------------------
# Unary: ABS, RSQRT
# ---------------------------------------------------------------------------------------------

class _QuantizedElementwiseUnary(Kernel):
    types = ("INT8", "INT16")

    def prepare(self, inputs, outputs):
        check_arity(self, inputs, outputs, 1)
        x, out = inputs[0], outputs[0]
        if x.type_name not in self.types:
            raise refuse(self, "input type %s" % x.type_name)
        if out.type_name != x.type_name:
            raise model_error(self, "output type %s differs from input type %s" % (out.type_name, x.type_name))
        out.shape = x.shape
        self.qi, self.qo = qparams(self, x, "input"), qparams(self, out, "output")
        if x.type_name == "INT16" and (self.qi[1] or self.qo[1]):
            raise model_error(self, "int16 quantization needs zero points 0")
        self.qmin, self.qmax = dtype_limits(x.type_name)
        self.prepare_quantized()


@register("ABS", versions=(1, 3), types=("INT8", "INT16"), match=quantized_input)
class QuantizedAbs(_QuantizedElementwiseUnary):
    def prepare_quantized(self):
        self.rescale = self.qi[0] != self.qo[0]
        self.m = quantize_multiplier_scalar(float(self.qi[0] / self.qo[0]))

    def eval(self, inputs, outputs):
        v = np.abs(centred(inputs[0], self.qi[1]))
        if self.rescale:
            v = multiply_by_quantized_multiplier(v, *self.m)
        return [np.clip(v + self.qo[1], self.qmin, self.qmax)]


@register("RSQRT", versions=(1, 3), types=("INT8",), match=quantized_input)
class QuantizedRsqrt(_QuantizedElementwiseUnary):
    """int8 RSQRT: 1/sqrt(q - zp) from TFLite's Newton-Raphson GetInvSqrtQuantizedMultiplierExp,
    then rescaled by 1 / (sqrt(input_scale) * output_scale); 20 extra bits keep it an integer."""
    types = ("INT8",)
    _SHIFT = 20

    def prepare_quantized(self):
        # 1. / (std::sqrt(float) * float): the product is float32, the division double.
        self.m = quantize_multiplier_scalar(1.0 / float(np.sqrt(self.qi[0]) * self.qo[0]))

    def eval(self, inputs, outputs):
        v = centred(inputs[0], self.qi[1])
        if np.any(v < 0):
            raise ModelError("RSQRT (node %s): Rsqrt is only defined for positive values"
                             % getattr(self, "node_index", None))
        inv_sqrt, shift = inv_sqrt_quantized_multiplier(v)
        data = multiply_by_quantized_multiplier(1, inv_sqrt, shift + self._SHIFT)
        out = multiply_by_quantized_multiplier(data, self.m[0], self.m[1] - self._SHIFT) + self.qo[1]
        # A zero input stands for "close to 0": the largest output.
        return [np.where(v == 0, self.qmax, np.clip(out, self.qmin, self.qmax))]
