"""Activations: float and quantized variants side by side.

SOFTMAX, LOG_SOFTMAX, LOGISTIC, TANH, RELU, RELU6, RELU_N1_TO_1, RELU_0_TO_1, LEAKY_RELU, PRELU,
HARD_SWISH, ELU, GELU. (Quantized EXP and LOG, table functions like the ones here, live beside
their float kernels in :mod:`numlite.kernels.unary`.)

The quantized variants are bit-exact with LiteRT's reference kernels:

* 8-bit LOGISTIC, TANH, ELU, GELU: a 256-entry table built in float32 at prepare time
  (``LUTPopulate``), then a lookup; int16 GELU: a 513-entry interpolated table.
* int16 LOGISTIC / TANH: linear interpolation in LiteRT's ``sigmoid_table_uint16``.
* SOFTMAX (8-bit input): gemmlowp fixed point, exp in Q0.31 of the beta-scaled differences to the
  row maximum in Q5.26, sums in Q12.19, a Newton-Raphson reciprocal. int16 SOFTMAX: two
  513-entry interpolated tables (exp on [-10, 0] and 1/(1+x) on [0, 1]).
* LOG_SOFTMAX (8-bit): the same sum of exps, then a fixed-point log.
* HARD_SWISH: LiteRT's 16-bit fixed-point recipe. LEAKY_RELU / PRELU (8-bit, and 16x8: int16
  input and output, int8 alpha) / RELU*: per-branch requantization with
  ``MultiplyByQuantizedMultiplier`` (double rounding).
"""
import math

import numpy as np

from .contract import Kernel
from .fixedpoint import (multiply_by_quantized_multiplier, multiply_by_quantized_multiplier_greater_than_one,
                         quantize_bound, quantize_multiplier_scalar, rounding_divide_by_pot,
                         saturating_rounding_doubling_high_mul, wrap_int32)
from .fixedpoint_nonlinear import (INT16_MAX, INT16_MIN, calculate_input_radius, checked_log2,
                                   count_leading_zeros32, exp_on_negative_values, get_reciprocal, libm,
                                   log_x_for_x_greater_than_or_equal_to_1, logistic_int16, lookup_int16, lut_int16,
                                   preprocess_softmax_scaling, rescale, rounding_divide_by_pot16,
                                   saturating_doubling_high_mul16, saturating_left_shift16, srdhm16, tanh_int16,
                                   wrap_int16)
from .operands import arity, broadcast_shape, check_type, refuse_quantized, same_type, unary_operands
from .quant import centred, dtype_limits, elementwise_params, lut, lut_lookup, qparams, quantized_input
from .registry import register

f32 = np.float32
EIGHT_BIT = ("INT8", "UINT8")
ALL_QUANTIZED = ("INT8", "UINT8", "INT16")
_SQRT_PI = math.sqrt(math.pi)


def erfc(x):
    """Complementary error function in float64, vectorised (max abs error ~1e-15).

    NumPy has no erf; |x| < 2 uses the Maclaurin series of erf (40 terms converge to double
    precision there), larger |x| the Laplace continued fraction of erfc evaluated bottom-up
    (40 levels suffice from x = 2 on), and erfc(-x) = 2 - erfc(x).
    """
    x = np.asarray(x, np.float64)
    ax = np.abs(x)
    small = ax < 2.0
    xs = np.where(small, ax, 0.0)
    x2 = xs * xs
    term = xs.copy()
    total = xs.copy()
    for n in range(1, 40):
        term = term * (-x2) / n
        total = total + term / (2 * n + 1)
    erfc_small = 1.0 - total * (2.0 / _SQRT_PI)
    xl = np.where(small, 2.0, ax)
    t = xl.copy()
    for k in range(40, 0, -1):
        t = xl + (0.5 * k) / t
    erfc_large = np.exp(-xl * xl) / (_SQRT_PI * t)
    r = np.where(small, erfc_small, erfc_large)
    return np.where(x < 0, 2.0 - r, r)


# -- float variants ----------------------------------------------------------------------------

class _Float(Kernel):
    """One float input, one output of the same type and shape; quantized tensors are refused
    (their kernels, registered by type, take precedence when they apply). ``input_types``: the
    input types it runs: FLOAT16 only where LiteRT's reference kernel has a half version.

    ``compute(x, out)`` returns the result: ``out`` filled in place or a new array (``out`` is
    None when the op computes in a wider type: float32 for half inputs, float64 for ``wide``
    ops). ``rowwise`` ops work along the last axis, so the input needs a rank."""
    input_types = ("FLOAT32",)
    func = None
    # LiteRT's tanh is libm's (nearly correctly rounded) float function, NumPy's float32 SIMD
    # one can be an ulp off: compute in float64 and round once.
    wide = False
    # Some LiteRT half kernels are Eigen expressions on Eigen::half, rounding to half after
    # every step; those ops compute in float16 directly (NumPy's half ufuncs do the same).
    half_steps = False
    rowwise = False

    def prepare(self, node, inputs, outputs):
        x = unary_operands(node, inputs, outputs, self.input_types)
        refuse_quantized(node, x, outputs[0])
        if self.rowwise and len(x.shape) < 1:
            raise node.error("input must have rank >= 1")
        self.work = np.dtype(np.float64) if self.wide else None
        if x.type_name == "FLOAT16" and not (self.wide or self.half_steps):
            self.work = np.dtype(np.float32)
        self.prepare_float(node, x)

    def prepare_float(self, node, x):
        pass

    def compute(self, x, out):
        return type(self).func(x, out=out)

    def eval(self, node, inputs, outputs):
        out = outputs[0]
        with np.errstate(all="ignore"):       # exp overflow, inf - inf … are defined results
            res = self.compute(inputs[0], out) if self.work is None else self.compute(inputs[0].astype(self.work), None)
            if res is not out:
                np.copyto(out, res, casting="unsafe")

    @staticmethod
    def shifted(x):
        # LiteRT starts the running max at the lowest finite float, not -inf.
        return x - np.max(x, axis=-1, keepdims=True, initial=np.finfo(x.dtype).min)


@register("SOFTMAX", versions=(1, 4))
class Softmax(_Float):
    input_types = ("FLOAT32", "FLOAT16")
    rowwise = True

    def prepare_float(self, node, x):
        self.beta = node.options.beta
        self.store = x.dtype

    def compute(self, x, out):
        e = np.exp(self.shifted(x) * x.dtype.type(self.beta))
        total = np.sum(e, axis=-1, keepdims=True)
        if e.dtype != self.store:
            # LiteRT parks each exp in the (half) output buffer before dividing by the float sum,
            # so an exp beyond half's range becomes inf there.
            e = e.astype(self.store).astype(e.dtype)
        return np.divide(e, total, out=out)


@register("LOG_SOFTMAX", versions=(1, 2))
class LogSoftmax(_Float):
    input_types = ("FLOAT32",)
    rowwise = True

    def compute(self, x, out):
        d = self.shifted(x)
        return np.subtract(d, np.log(np.sum(np.exp(d), axis=-1, keepdims=True)), out=out)


@register("LOGISTIC", versions=(1, 3))
class Logistic(_Float):
    input_types = ("FLOAT32", "FLOAT16")
    # LiteRT's reference kernel saturates above this cutoff and uses exp(x) below -9.
    _UPPER = np.float32(16.619047164916992188)
    _LOWER = np.float32(-9.0)

    def compute(self, x, out):
        one = x.dtype.type(1)
        mid = one / (one + np.exp(-x))
        return np.where(x > self._UPPER, one, np.where(x < self._LOWER, np.exp(x), mid))


@register("TANH", versions=(1, 3))
class Tanh(_Float):
    input_types = ("FLOAT32", "FLOAT16")
    wide = True
    func = np.tanh


class _Clamp(_Float):
    bounds = (None, None)

    def compute(self, x, out):
        lo, hi = self.bounds
        if hi is None:
            return np.maximum(x, x.dtype.type(lo), out=out)
        return np.clip(x, x.dtype.type(lo), x.dtype.type(hi), out=out)


@register("RELU", versions=(1, 3))
class Relu(_Clamp):
    bounds = (0, None)


@register("RELU6", versions=(1, 3))
class Relu6(_Clamp):
    bounds = (0, 6)


@register("RELU_N1_TO_1", versions=(1, 1))
class ReluN1To1(_Clamp):
    bounds = (-1, 1)


@register("RELU_0_TO_1", versions=(1, 1))
class Relu0To1(_Clamp):
    input_types = ("FLOAT32",)
    bounds = (0, 1)


@register("LEAKY_RELU", versions=(1, 2))
class LeakyRelu(_Float):
    input_types = ("FLOAT32",)

    def prepare_float(self, node, x):
        self.alpha = node.options.alpha

    def compute(self, x, out):
        return np.where(x > 0, x, x * x.dtype.type(self.alpha))


@register("HARD_SWISH", versions=(1, 1))
class HardSwish(_Float):
    def compute(self, x, out):
        f = x.dtype.type
        relu6 = np.minimum(f(6), np.maximum(f(0), x + f(3)))
        return np.divide(x * relu6, f(6), out=out)


@register("ELU", versions=(1, 1))
class Elu(_Float):
    def compute(self, x, out):
        return np.where(x < 0, np.expm1(x), x)


@register("GELU", versions=(1, 3))
class Gelu(_Float):
    input_types = ("FLOAT32", "FLOAT16")
    half_steps = True
    _SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)

    def prepare_float(self, node, x):
        self.approximate = node.options.approximate

    def compute(self, x, out):
        # LiteRT's Eigen expressions, operation by operation.
        f = x.dtype.type
        if self.approximate:
            inner = f(self._SQRT_2_OVER_PI) * (x + f(0.044715) * (x * x * x))
            return (f(0.5) * x) * (f(1) + np.tanh(inner))
        # 0.5·x·erfc(-x/√2): the erfc form avoids cancellation for large negative x. The
        # float64 erfc is rounded through float32 as Eigen's half erfc is.
        tail = erfc(x * f(-math.sqrt(0.5))).astype(np.float32).astype(x.dtype)
        return (f(0.5) * x) * tail


# -- PRELU -------------------------------------------------------------------------------------

class _Prelu(Kernel):
    """x >= 0 ? x : x * alpha, with alpha broadcast against x (the output keeps x's shape)."""
    input_types = ("FLOAT32",)

    def prepare(self, node, inputs, outputs):
        arity(node, inputs, outputs, 2)
        x, alpha = inputs
        out = outputs[0]
        check_type(node, x, self.input_types)
        same_type(node, out, x)
        self.check_alpha(node, x, alpha)
        if broadcast_shape(node, x.shape, alpha.shape) != tuple(x.shape):
            raise node.error("alpha %s does not broadcast to the input shape %s" % (tuple(alpha.shape), tuple(x.shape)))
        out.shape = x.shape
        self.prepare_variant(node, x, alpha, out)

    def check_alpha(self, node, x, alpha):
        same_type(node, alpha, x, "alpha")


@register("PRELU", versions=(1, 1))
class Prelu(_Prelu):
    def prepare_variant(self, node, x, alpha, out):
        pass

    def eval(self, node, inputs, outputs):
        x, alpha = inputs
        with np.errstate(all="ignore"):
            np.copyto(outputs[0], np.where(x >= 0, x, x * alpha))


def _int8_bytes_of(values):
    """The first ``values.size`` bytes of ``values`` read as int8, in its shape: what a LiteRT
    kernel sees when it reads a wider tensor through an ``int8_t*``."""
    flat = np.ascontiguousarray(values).view(np.int8).reshape(-1)
    return flat[:values.size].reshape(values.shape)


@register("PRELU", versions=(1, 1), types=ALL_QUANTIZED, match=quantized_input)
class QuantizedPrelu(_Prelu):
    """x >= 0: x * input_scale / output_scale; else x * alpha * input_scale * alpha_scale /
    output_scale (MultiplyByQuantizedMultiplier, double rounding; float32 products, as
    PreluPrepare computes them). 16x8 PRELU takes int16 input and output with an int8 alpha;
    LiteRT reads the alpha tensor through an int8 pointer whatever its type, so an int16 alpha
    contributes its first bytes — reproduced."""
    input_types = ALL_QUANTIZED

    def check_alpha(self, node, x, alpha):
        if x.type_name != "INT16":
            same_type(node, alpha, x, "alpha")
        elif alpha.type_name not in ("INT8", "INT16"):
            raise node.unsupported("int16 input with %s alpha" % alpha.type_name)
        self.alpha_bytes = x.type_name == "INT16" and alpha.type_name == "INT16"

    def prepare_variant(self, node, x, alpha, out):
        self.qi, self.qa = qparams(node, x, "input").pair, qparams(node, alpha, "alpha").pair
        self.qo = qparams(node, out, "output").pair
        self.qmin, self.qmax = dtype_limits(x.type_name)
        self.m1 = quantize_multiplier_scalar(float(self.qi[0] / self.qo[0]))
        self.m2 = quantize_multiplier_scalar(float(self.qi[0] * self.qa[0] / self.qo[0]))

    def eval(self, node, inputs, outputs):
        x, alpha = inputs
        v = centred(x, self.qi[1])
        a = centred(_int8_bytes_of(alpha) if self.alpha_bytes else alpha, self.qa[1])
        out = np.where(v >= 0, multiply_by_quantized_multiplier(v, *self.m1),
                       multiply_by_quantized_multiplier(wrap_int32(v * a), *self.m2))
        np.copyto(outputs[0], np.clip(out + self.qo[1], self.qmin, self.qmax), casting="unsafe")


# -- quantized one-input activations -----------------------------------------------------------

class _Quantized(Kernel):
    """One quantized input, one output of the same type and shape; int16 zero points 0 unless
    ``int16_symmetric`` is off."""

    input_types = ALL_QUANTIZED
    int16_symmetric = True

    def prepare(self, node, inputs, outputs):
        x = unary_operands(node, inputs, outputs, self.input_types)
        self.type_name = x.type_name
        self.qi, self.qo = elementwise_params(node, x, outputs[0], self.int16_symmetric)
        self.qmin, self.qmax = dtype_limits(x.type_name)
        self.prepare_quantized(node, x, outputs[0])

    def prepare_quantized(self, node, x, out):
        pass

    def store(self, out, values, lo=None, hi=None):
        lo, hi = (self.qmin, self.qmax) if lo is None else (lo, hi)
        np.copyto(out, np.clip(values, lo, hi), casting="unsafe")


# Table activations: LOGISTIC, TANH, ELU, GELU

def _logistic_f32(v):
    return f32(1) / (f32(1) + libm("expf", -v))


def _tanh_f32(v):
    return libm("tanhf", v)


def _elu_f32(v):
    return np.where(v < 0, libm("expm1f", v), v).astype(f32)


_SQRT1_2 = f32(-0.7071067811865476)             # static_cast<float>(-M_SQRT1_2)
_SQRT_2_OVER_PI = f32(1.1283791670955126 * 0.7071067811865476)   # float(M_2_SQRTPI * M_SQRT1_2)


def _gelu_f32(v):
    # 0.5 x erfc(-x / sqrt 2): the erfc form avoids cancellation for large negative x.
    return (f32(0.5) * v) * libm("erfcf", v * _SQRT1_2)


def _gelu_approximate_f32(v):
    inner = _SQRT_2_OVER_PI * (v + ((f32(0.044715) * v) * v) * v)
    return (f32(0.5) * v) * (f32(1) + libm("tanhf", inner))


class _Table(_Quantized):
    """A function tabulated at prepare (LUTPopulate): 256 entries for 8-bit types, 513
    interpolated ones for int16 unless the op's int16 kernel is its own (``eval_int16``)."""
    transform = None
    half_to_even = False
    int16_table = True

    def prepare_quantized(self, node, x, out):
        self.table = None
        if x.type_name == "INT16" and not self.int16_table:
            self.prepare_int16(node)
            return
        self.table = lut(self.table_transform(node), self.qi, self.qo, x.type_name, self.half_to_even)

    def table_transform(self, node):
        return type(self).transform

    def eval(self, node, inputs, outputs):
        if self.table is None:
            np.copyto(outputs[0], self.eval_int16(inputs[0]), casting="unsafe")
        else:
            np.copyto(outputs[0], lut_lookup(self.table, inputs[0]), casting="unsafe")


def _int16_table_input_scaling(input_scale, pot_shifts):
    """int16 LOGISTIC/TANH prepare: (input_multiplier, input_left_shift) mapping the input to the
    table's scale of 3 * 2^12 per unit. A power-of-two input scale whose shift is in ``pot_shifts``
    is marked by multiplier 0; otherwise the multiplier 3 * 4096 * scale is doubled into
    (16383.5, 32767]."""
    ok, log2 = checked_log2(input_scale)
    left_shift = (15 - 3) + log2
    if ok and left_shift in pot_shifts:
        return 0, left_shift
    multiplier, left_shift = float(input_scale) * 4096.0 * 3.0, 0
    while multiplier <= 32767.0 / 2.0 and left_shift <= 30:
        left_shift += 1
        multiplier *= 2.0
    return int(multiplier), left_shift


def _check_q015_output(node, output_scale):
    ok, log2 = checked_log2(output_scale)
    if not ok or log2 != -15:
        raise node.error("int16 output scale must be 2^-15, got %g" % output_scale)


@register("LOGISTIC", versions=(1, 3), types=ALL_QUANTIZED, match=quantized_input)
class QuantizedLogistic(_Table):
    transform = staticmethod(_logistic_f32)
    int16_table = False

    def prepare_quantized(self, node, x, out):
        if self.type_name != "INT16" and float(self.qo[0]) != 1.0 / 256:
            raise node.error("8-bit LOGISTIC output scale must be 1/256, got %g" % self.qo[0])
        super().prepare_quantized(node, x, out)

    def prepare_int16(self, node):
        if float(self.qo[0]) != 1.0 / 32768:
            raise node.error("int16 LOGISTIC output scale must be 1/32768, got %g" % self.qo[0])
        self.scaling = _int16_table_input_scaling(self.qi[0], (0,))
        _check_q015_output(node, self.qo[0])

    def eval_int16(self, x):
        return logistic_int16(x, *self.scaling)


@register("TANH", versions=(1, 3), types=ALL_QUANTIZED, match=quantized_input)
class QuantizedTanh(_Table):
    transform = staticmethod(_tanh_f32)
    int16_table = False

    def prepare_int16(self, node):
        self.scaling = _int16_table_input_scaling(self.qi[0], (0, 1))
        _check_q015_output(node, self.qo[0])

    def eval_int16(self, x):
        return tanh_int16(x, *self.scaling)


@register("ELU", versions=(1, 1), types=("INT8",), match=quantized_input)
class QuantizedElu(_Table):
    """int8 ELU. LiteRT's BUILTIN_REF resolver has no ELU kernel; we follow its builtin one, whose
    table rounds ties to even."""
    input_types = ("INT8",)
    half_to_even = True
    transform = staticmethod(_elu_f32)


@register("GELU", versions=(1, 2), types=ALL_QUANTIZED, match=quantized_input)
class QuantizedGelu(_Table):
    """8-bit GELU: a 256-entry table; int16 GELU: LUTPopulate<int16_t> of the same float32
    function. LiteRT does not require int16 zero points 0 here."""
    int16_symmetric = False

    def table_transform(self, node):
        return _gelu_approximate_f32 if node.options.approximate else _gelu_f32


# RELU family, LEAKY_RELU

class _QuantizedReluX(_Quantized):
    """QuantizedReluX: requantize (MultiplyByQuantizedMultiplier) and clamp to [low, high]; the
    clamp bounds are quantized like fused activation bounds."""
    low, high = 0.0, None

    def prepare_quantized(self, node, x, out):
        self.lo = max(self.qmin, quantize_bound(self.low, *self.qo))
        self.hi = self.qmax if self.high is None else min(self.qmax, quantize_bound(self.high, *self.qo))
        self.m = quantize_multiplier_scalar(float(self.qi[0] / self.qo[0]))

    def eval(self, node, inputs, outputs):
        out = self.qo[1] + multiply_by_quantized_multiplier(centred(inputs[0], self.qi[1]), *self.m)
        self.store(outputs[0], out, self.lo, self.hi)


@register("RELU", versions=(1, 3), types=ALL_QUANTIZED, match=quantized_input)
class QuantizedRelu(_QuantizedReluX):
    low, high = 0.0, None


@register("RELU6", versions=(1, 3), types=ALL_QUANTIZED, match=quantized_input)
class QuantizedRelu6(_QuantizedReluX):
    low, high = 0.0, 6.0


@register("RELU_N1_TO_1", versions=(1, 1), types=EIGHT_BIT, match=quantized_input)
class QuantizedReluN1To1(_QuantizedReluX):
    input_types = EIGHT_BIT
    low, high = -1.0, 1.0


@register("RELU_0_TO_1", versions=(1, 1), types=EIGHT_BIT, match=quantized_input)
class QuantizedRelu0To1(_QuantizedReluX):
    input_types = EIGHT_BIT
    low, high = 0.0, 1.0


def _signed_multiplier(real):
    """QuantizeMultiplier of a possibly negative multiplier, as (sign, Q31 magnitude, shift):
    LiteRT's LEAKY_RELU applies a negative alpha as the negated product with |multiplier|."""
    qm, shift = quantize_multiplier_scalar(real)
    return (-1 if qm < 0 else 1), abs(qm), shift


@register("LEAKY_RELU", versions=(1, 2), types=ALL_QUANTIZED, match=quantized_input)
class QuantizedLeakyRelu(_Quantized):
    def prepare_quantized(self, node, x, out):
        alpha = f32(node.options.alpha)
        si, so = self.qi[0], self.qo[0]
        self.alpha = _signed_multiplier(float(si * alpha / so))      # float32 arithmetic, as LiteRT
        self.identity = quantize_multiplier_scalar(float(si / so))

    def eval(self, node, inputs, outputs):
        v = centred(inputs[0], self.qi[1])
        sign, qm, shift = self.alpha
        out = np.where(v >= 0, multiply_by_quantized_multiplier(v, *self.identity),
                       sign * multiply_by_quantized_multiplier(v, qm, shift))
        self.store(outputs[0], out + self.qo[1])


# HARD_SWISH

def _int16_multiplier(real):
    """QuantizeMultiplier then DownScaleInt32ToInt16Multiplier: a Q15 multiplier and exponent."""
    qm, exponent = quantize_multiplier_scalar(real)
    q15 = 32767 if qm >= (1 << 31) - 1 - (1 << 15) else (qm + (1 << 15)) >> 16
    return q15, exponent


@register("HARD_SWISH", versions=(1, 1), types=EIGHT_BIT, match=quantized_input)
class QuantizedHardSwish(_Quantized):
    """reference_ops::HardSwish: x * relu6(x + 3) / 6 in 16-bit fixed point. The input moves to a
    "high resolution" scale (x 2^7); a "relu-ish" factor in [0, 1] is the input rescaled so that
    3.0 maps to 2^15, saturated, and shifted to [0, 1]; the product uses a truncating doubling
    multiply, which LiteRT picked because it cancels the rounding bias of the other factors."""
    input_types = EIGHT_BIT

    def prepare_quantized(self, node, x, out):
        hires_input_scale = f32(1.0 / 128.0) * self.qi[0]
        reluish_scale = f32(3.0 / 32768.0)
        self.out_mult, self.out_exp = _int16_multiplier(float(hires_input_scale / self.qo[0]))
        if self.out_exp > 0:
            raise node.error("HARD_SWISH output scale too small for the input scale")
        self.reluish_mult, self.reluish_exp = _int16_multiplier(float(hires_input_scale / reluish_scale))

    def eval(self, node, inputs, outputs):
        hires = wrap_int16(centred(inputs[0], self.qi[1]) * (1 << 7))
        preshift_output = srdhm16(hires, self.out_mult)
        reluish = hires
        e = self.reluish_exp
        if e > 0:   # left shift in two steps so that any saturation happens in the last one
            reluish = saturating_left_shift16(reluish, e - 1)
        reluish = srdhm16(reluish, self.reluish_mult)
        if e > 0:
            reluish = saturating_left_shift16(reluish, 1)
        if e < 0:
            reluish = rounding_divide_by_pot16(reluish, -e)
        reluish = (reluish + (1 << 15)) >> 1          # [-1, 1] -> [0, 1]
        out = rounding_divide_by_pot16(saturating_doubling_high_mul16(reluish, preshift_output), -self.out_exp)
        self.store(outputs[0], wrap_int16(out + self.qo[1]))


# -- quantized SOFTMAX / LOG_SOFTMAX -----------------------------------------------------------

_SCALED_DIFF_INTEGER_BITS = 5      # exp() input in Q5.26: differences down to -32 are representable
_ACCUMULATION_INTEGER_BITS = 12    # sum of exps in Q12.19: up to 4096 terms


def _rows(x):
    """View as (rows, depth) over the last axis; LiteRT reduces over the last dimension."""
    return x.reshape(-1, x.shape[-1])


class _QuantizedSoftmaxBase(Kernel):
    def prepare_io(self, node, inputs, outputs):
        arity(node, inputs, outputs, 1)
        x, out = inputs[0], outputs[0]
        if len(x.shape) < 1:
            raise node.error("input must have at least one dimension")
        out.shape = x.shape
        self.qi, self.qo = qparams(node, x, "input").pair, qparams(node, out, "output").pair
        return x, out

    def prepare_scaling(self, node, beta):
        """Multiplier taking input differences to Q5.26 with beta applied, and the smallest
        difference whose exp still counts (larger magnitudes would overflow the Q5 format)."""
        self.input_multiplier, self.input_left_shift = preprocess_softmax_scaling(
            beta, float(self.qi[0]), _SCALED_DIFF_INTEGER_BITS)
        if self.input_left_shift < 0:    # LiteRT requires beta * scale * 2^26 > 1 (CHECK)
            raise node.unsupported("beta * input scale %g too small for quantized softmax" % (beta * self.qi[0]))
        self.diff_min = -calculate_input_radius(_SCALED_DIFF_INTEGER_BITS, self.input_left_shift)

    def exps(self, x):
        """Per row (last axis): differences to the row maximum, the mask of those that count, their
        exp (Q0.31) and the Q12.19 sum of exps, as in reference_ops::Softmax / LogSoftmax."""
        rows = _rows(x.astype(np.int64))
        diff = rows - rows.max(axis=1, keepdims=True)
        valid = diff >= self.diff_min
        scaled = self.rescale_diff(np.where(valid, diff, 0))
        exp = np.where(valid, exp_on_negative_values(scaled, _SCALED_DIFF_INTEGER_BITS), 0)
        total = wrap_int32(rescale(exp, 0, _ACCUMULATION_INTEGER_BITS).sum(axis=1, keepdims=True))
        return diff, valid, exp, total

    def rescale_diff(self, diff):
        return multiply_by_quantized_multiplier_greater_than_one(diff, self.input_multiplier, self.input_left_shift)


@register("SOFTMAX", versions=(1, 3), types=ALL_QUANTIZED, match=quantized_input)
class QuantizedSoftmax(_QuantizedSoftmaxBase):
    def prepare(self, node, inputs, outputs):
        x, out = self.prepare_io(node, inputs, outputs)
        tin, tout = x.type_name, out.type_name
        beta = f32(node.options.beta)
        if (tin, tout) == ("INT8", "INT8") and (self.qo[1] != -128 or abs(float(self.qo[0]) - 1 / 256) > 0.001 / 256):
            raise node.error("int8 SOFTMAX output must have scale 1/256 and zero point -128")
        if tin == "INT16":
            if tout != "INT16":
                raise node.unsupported("int16 input with %s output" % tout)
            if self.qi[1] or self.qo[1] or abs(float(self.qo[0]) - 1 / 32768) > 0.001 / 32768:
                raise node.error("int16 SOFTMAX needs zero points 0 and output scale 1/32768")
            if not 1 <= len(x.shape) <= 4:
                raise node.unsupported("int16 SOFTMAX supports 1-4 dimensions, got %d" % len(x.shape))
            self.prepare_int16(beta)
            return
        if tout not in (tin, "INT16"):
            raise node.unsupported("%s input with %s output" % (tin, tout))
        self.out_min, self.out_max = dtype_limits(tout)
        self.out_bits = 16 if tout == "INT16" else 8
        self.prepare_scaling(node, float(beta))
        self.int16 = False

    def eval(self, node, inputs, outputs):
        if inputs[0].size == 0:
            return
        res = self.eval_int16(inputs[0]) if self.int16 else self.eval_8bit(node, inputs[0])
        np.copyto(outputs[0], res.reshape(outputs[0].shape), casting="unsafe")

    def eval_8bit(self, node, x):
        diff, valid, exp, total = self.exps(x)
        shifted_scale, num_bits_over_unit = get_reciprocal(total, _ACCUMULATION_INTEGER_BITS)
        exponent = num_bits_over_unit + 31 - self.out_bits
        if np.any((exponent < 0) | (exponent > 31)):
            raise node.error("softmax normalisation shift out of range")
        unsat = rounding_divide_by_pot(saturating_rounding_doubling_high_mul(shifted_scale, exp), exponent)
        out = np.clip(unsat + self.out_min, self.out_min, self.out_max)
        return np.where(valid, out, self.out_min)

    # int16: two interpolated tables instead of gemmlowp fixed point.
    def prepare_int16(self, beta):
        # exp on [-10, 0] and 1/(1+x) on [0, 1], both with outputs on [-1, 1]; double precision.
        span = INT16_MAX - INT16_MIN
        self.exp_table = lut_int16(lambda v: libm("exp", v), 10.0 / span, INT16_MAX, 2.0 / span, 0, np.float64)
        self.recip_table = lut_int16(lambda v: 1.0 / (1.0 + v), 1.0 / span, INT16_MIN, 2.0 / span, 0, np.float64)
        # Differences are scaled so that [-65535, 0] covers [-10, 0] (input_scale * beta in float32).
        self.diff_multiplier = quantize_multiplier_scalar(float(self.qi[0] * beta) / (10.0 / 65535.0))
        self.int16 = True

    def eval_int16(self, x):
        rows = _rows(x.astype(np.int64))
        diff = rows - rows.max(axis=1, keepdims=True)
        scaled = multiply_by_quantized_multiplier(diff, *self.diff_multiplier) + 32767
        exp_q015 = lookup_int16(self.exp_table, np.clip(scaled, INT16_MIN, INT16_MAX))
        total = wrap_int32(exp_q015.sum(axis=1, keepdims=True))        # Q16.15
        headroom_plus_one = count_leading_zeros32(total)
        shifted_sum = ((total << (headroom_plus_one - 1)) + (1 << 13)) >> 14
        # 1/(1 + x) with x = normalised sum - 1, recentred to the table's symmetric input range
        sym_shifted_sum = np.clip(shifted_sum - ((1 << 15) + (1 << 16)), INT16_MIN, INT16_MAX)
        reciprocal_q015 = lookup_int16(self.recip_table, sym_shifted_sum)
        right_shift = 31 - headroom_plus_one
        result = (exp_q015 * reciprocal_q015 + (np.int64(1) << (right_shift - 1))) >> right_shift
        return np.clip(result, 0, 32767)


@register("LOG_SOFTMAX", versions=(1, 2), types=EIGHT_BIT, match=quantized_input)
class QuantizedLogSoftmax(_QuantizedSoftmaxBase):
    """log(softmax) = diff - log(sum of exps); output scale 16/256 with zero point at the type's
    maximum, so the output covers [-255/16, 0]."""
    _OUTPUT_INTEGER_BITS = 4

    def prepare(self, node, inputs, outputs):
        x, out = self.prepare_io(node, inputs, outputs)
        check_type(node, x, EIGHT_BIT)
        same_type(node, out, x)
        self.out_min, self.out_max = dtype_limits(x.type_name)
        if float(self.qo[0]) != 16.0 / 256 or self.qo[1] != self.out_max:
            raise node.error("LOG_SOFTMAX output needs scale 16/256 and zero point %d" % self.out_max)
        self.prepare_scaling(node, 1.0)
        # PreprocessLogSoftmaxScalingExp: the inverse scaling, for comparing log sums with inputs.
        numerator = wrap_int32(1 << (31 - self.input_left_shift))   # an int shift in C++
        real_reverse = float(numerator) / float(self.input_multiplier)
        self.reverse_multiplier, self.reverse_shift = quantize_multiplier_scalar(real_reverse)
        if not 0 <= real_reverse < 1 or self.reverse_shift > 0:
            raise node.unsupported("input scale %g out of range for quantized LOG_SOFTMAX" % self.qi[0])

    def eval(self, node, inputs, outputs):
        x = inputs[0]
        if x.size == 0:
            return
        diff, valid, exp, total = self.exps(x)
        log_sum = log_x_for_x_greater_than_or_equal_to_1(total, _ACCUMULATION_INTEGER_BITS,
                                                         _SCALED_DIFF_INTEGER_BITS)
        # Differences at or below this give outputs below the representable range.
        shifted_log_sum = wrap_int32(log_sum + (-(1 << 31)))
        adjusted_diff_min = np.maximum(self.diff_min - 1, multiply_by_quantized_multiplier(
            shifted_log_sum, self.reverse_multiplier, self.reverse_shift))
        keep = diff > adjusted_diff_min
        out = rounding_divide_by_pot(wrap_int32(self.rescale_diff(diff) - log_sum),
                                     31 - _SCALED_DIFF_INTEGER_BITS - self._OUTPUT_INTEGER_BITS) + self.out_max
        out = np.clip(out, self.out_min, self.out_max)
        np.copyto(outputs[0], np.where(keep, out, self.out_min).reshape(x.shape), casting="unsafe")
