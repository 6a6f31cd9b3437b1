"""Two-operand elementwise ops with broadcasting: float, plain-integer and quantized variants side by side.

* Arithmetic: ADD, SUB, MUL, DIV (with a fused activation), SQUARED_DIFFERENCE, MAXIMUM, MINIMUM,
  POW, FLOOR_DIV, FLOOR_MOD, ATAN2 (equal shapes only).
* Comparisons EQUAL ... GREATER_EQUAL, LOGICAL_AND, LOGICAL_OR; SELECT and SELECT_V2 (three
  operands).

One prepare (:class:`_Binary`) checks the operands of every two-input op: counts, types, output
type, broadcast shape. Each variant then precomputes what its small eval needs.

Float and plain-integer variants: FLOAT16 tensors are computed in float32 and rounded once to
half, which is what LiteRT's half kernels produce for single-step ops; the fused activation is
:func:`numlite.kernels.fused.fused_clamp` (float results clamped to the type's finite range).

Quantized variants, bit-exact with LiteRT's reference kernels: ADD, SUB (int8 / uint8 / int16),
MUL (int8 / uint8 / int16, int16 x int16 -> int8 / uint8), SQUARED_DIFFERENCE (int8), DIV (int8 /
uint8 / int16) and the comparisons on quantized inputs with possibly different scales. The
8-bit ADD/SUB recipe (``reference_integer_ops::AddFunc``): both inputs are centred, shifted left
by 20 bits (15 for int16) for precision, each scaled by ``scale_i / (2 * max_scale)``, summed and
rescaled by ``2 * max_scale / (2^shift * output_scale)``. Every rescale there is
``MultiplyByQuantizedMultiplierSmallerThanOneExp`` (double rounding: rounding doubling high
multiply, then rounding right shift, both round-half-away). MUL uses
``MultiplyByQuantizedMultiplier`` (double rounding) on the product of centred inputs.
"""
import numpy as np

from .contract import Kernel
from .fixedpoint import (float_to_int32_x86, multiply_by_quantized_multiplier,
                         multiply_by_quantized_multiplier_smaller_than_one_exp, quantize_multiplier_scalar,
                         rounding_divide_by_pot, saturating_rounding_doubling_high_mul, wrap_int32)
from .fixedpoint_nonlinear import checked_log2, count_leading_sign_bits32, get_reciprocal, srdhm16
from .fused import fused_clamp
from .operands import QUANTIZED, arity, broadcast_shape, check_type, refuse_quantized, same_type
from .quant import activation_bounds, centred, multiplier_smaller_than_one, qparams, quantized_input
from .registry import register

FLOAT_INT = ("FLOAT32", "FLOAT16", "INT32", "INT64")
ORDERED = FLOAT_INT + ("INT16", "INT8", "UINT8")

smaller_than_one = multiply_by_quantized_multiplier_smaller_than_one_exp


# -- the shared prepare ------------------------------------------------------------------------

class _Binary(Kernel):
    """Two same-typed inputs broadcast against each other, one output.

    ``input_types``: the accepted input types; ``output_type``: the output's type (None: the inputs').
    ``prepare_variant(node, a, b, out)`` precomputes what the variant's eval needs."""
    input_types = FLOAT_INT
    output_type = None
    broadcast = True

    def prepare(self, node, inputs, outputs):
        arity(node, inputs, outputs, 2)
        a, b = inputs
        out = outputs[0]
        check_type(node, a, self.input_types)
        same_type(node, b, a, "input 2")
        self.check_output(node, a, out)
        if self.broadcast:
            out.shape = broadcast_shape(node, a.shape, b.shape)
        elif tuple(a.shape) != tuple(b.shape):
            raise node.error("operands must have equal shapes, got %s and %s" % (tuple(a.shape), tuple(b.shape)))
        else:
            out.shape = a.shape
        self.prepare_variant(node, a, b, out)

    def check_output(self, node, a, out):
        want = self.output_type or a.type_name
        if out.type_name != want:
            raise node.error("output type %s, expected %s" % (out.type_name, want))


# -- float and plain-integer variants ----------------------------------------------------------

class _Plain(_Binary):
    """Float and plain-integer math: ``func`` (a ufunc) or ``compute(node, a, b, out)``, which
    returns the result: ``out`` filled in place or a new array (``out`` is None when half inputs
    are computed in float32). ``plain_quantized``: integer types whose quantization LiteRT
    ignores for this op; other quantized tensors are refused (their kernels take precedence
    when they apply)."""
    fused = False
    plain_quantized = ()
    func = None

    def prepare_variant(self, node, a, b, out):
        if a.type_name not in self.plain_quantized:
            refuse_quantized(node, a, b, out)
        self.work = np.dtype(np.float32) if a.type_name == "FLOAT16" else None
        self.clamp = fused_clamp(node, out.dtype) if self.fused else None

    def compute(self, node, a, b, out):
        return type(self).func(a, b, out=out)

    def eval(self, node, inputs, outputs):
        a, b = inputs
        out = outputs[0]
        with np.errstate(all="ignore"):       # 0/0, inf - inf ... are defined results
            if self.work is not None:
                res = self.compute(node, a.astype(self.work), b.astype(self.work), None)
            else:
                res = self.compute(node, a, b, out)
            if self.clamp is not None:
                res = np.clip(res, self.clamp[0], self.clamp[1], out=res if res is out else None)
            if res is not out:
                np.copyto(out, res, casting="unsafe")


def _division_by_zero(node, b):
    if not np.all(b):
        raise node.invoke_error("Division by 0")


@register("ADD", versions=(1, 6))
class Add(_Plain):
    input_types = FLOAT_INT + ("INT16",)
    fused = True
    func = np.add


@register("SUB", versions=(1, 5))
class Sub(_Plain):
    input_types = ("FLOAT32", "INT32", "INT64")
    fused = True
    func = np.subtract


@register("MUL", versions=(1, 8))
class Mul(_Plain):
    input_types = FLOAT_INT + ("INT16", "UINT32")
    fused = True
    func = np.multiply


@register("DIV", versions=(1, 2))
class Div(_Plain):
    input_types = ("FLOAT32", "INT32")
    fused = True

    def compute(self, node, a, b, out):
        if a.dtype.kind == "f":
            return np.divide(a, b, out=out)
        _division_by_zero(node, b)
        # C++ integer division truncates toward zero.
        q, r = np.divmod(a, b)
        return np.add(q, (r != 0) & ((a < 0) != (b < 0)), out=out, casting="unsafe")


class _Extremum(_Plain):
    """MAXIMUM/MINIMUM: LiteRT picks ``a if a OP b else b``, so a NaN wins only as ``b``."""
    input_types = ORDERED
    plain_quantized = QUANTIZED
    pick = None

    def compute(self, node, a, b, out):
        return np.where(type(self).pick(a, b), a, b)


@register("MAXIMUM", versions=(1, 4))
class Maximum(_Extremum):
    pick = np.greater


@register("MINIMUM", versions=(1, 4))
class Minimum(_Extremum):
    pick = np.less


@register("SQUARED_DIFFERENCE", versions=(1, 2))
class SquaredDifference(_Plain):
    input_types = ("FLOAT32", "INT32")

    def compute(self, node, a, b, out):
        d = np.subtract(a, b, out=out)
        return np.multiply(d, d, out=d)


@register("POW", versions=(1, 1))
class Pow(_Plain):
    input_types = ("FLOAT32", "INT32")

    def compute(self, node, a, b, out):
        if a.dtype.kind == "f":
            # std::pow on floats is libm's (nearly correctly rounded) powf; a float64 power
            # rounded once reproduces it where NumPy's float32 power can be an ulp off.
            return np.power(a.astype(np.float64), b)
        if (b < 0).any():
            raise node.invoke_error("POW does not support negative value for int32.")
        # LiteRT evaluates std::pow in double and converts the result to int32.
        return float_to_int32_x86(np.power(a.astype(np.float64), b.astype(np.float64)))


@register("FLOOR_DIV", versions=(1, 3))
class FloorDiv(_Plain):
    input_types = ("FLOAT32", "INT32", "INT16", "INT8")
    plain_quantized = QUANTIZED

    def compute(self, node, a, b, out):
        _division_by_zero(node, b)          # LiteRT refuses a zero divisor for every type, floats included
        if a.dtype.kind == "f":
            # floor(double(a) / double(b)): the double quotient can floor differently from
            # the float32 one when float32 rounding lands on an integer.
            return np.floor(a.astype(np.float64) / b.astype(np.float64))
        return np.floor_divide(a, b, out=out)


@register("FLOOR_MOD", versions=(1, 2))
class FloorMod(_Plain):
    input_types = ("FLOAT32", "INT32", "INT64", "INT16", "INT8")
    plain_quantized = QUANTIZED

    def compute(self, node, a, b, out):
        if a.dtype.kind != "f":
            _division_by_zero(node, b)
        # Truncated remainder, moved into the divisor's sign when they disagree (as LiteRT's
        # FloorMod does; a float remainder of x % 0 stays NaN).
        m = np.fmod(a, b, out=out)
        return np.add(m, b, out=m, where=(m != 0) & ((m < 0) != (b < 0)))


@register("ATAN2", versions=(1, 1))
class Atan2(_Plain):
    # LiteRT's ATAN2 does not broadcast: both operands must have the same shape.
    input_types = ("FLOAT32",)
    broadcast = False
    func = np.arctan2


@register("LOGICAL_AND", versions=(1, 1))
class LogicalAnd(_Plain):
    input_types = ("BOOL",)
    func = np.logical_and


@register("LOGICAL_OR", versions=(1, 1))
class LogicalOr(_Plain):
    input_types = ("BOOL",)
    func = np.logical_or


# -- quantized variants ------------------------------------------------------------------------

class _Quantized(_Binary):
    """8/16-bit inputs with quantization parameters (registered by type, taking precedence over
    the float kernels when they apply)."""
    input_types = QUANTIZED

    def prepare_variant(self, node, a, b, out):
        self.q1, self.q2 = qparams(node, a, "input 1").pair, qparams(node, b, "input 2").pair
        self.prepare_quantized(node, a, out)

    def prepare_output(self, node, out, fused=True):
        """The output's (scale, zero point) and the clamp of the fused activation."""
        self.qo = qparams(node, out, "output").pair
        act = node.options.fused_activation_function if fused else 0
        self.lo, self.hi = activation_bounds(node, act, *self.qo, out.dtype)

    def require_symmetric_int16(self, node, a):
        if a.type_name == "INT16" and (self.q1[1] or self.q2[1] or self.qo[1]):
            raise node.error("int16 quantization needs zero points 0")

    def rescaled_inputs(self, x1, x2):
        """AddFunc's first step: centred inputs shifted left and scaled to a common scale."""
        v1 = smaller_than_one(centred(x1, self.q1[1]) << self.left_shift, *self.m1)
        v2 = smaller_than_one(centred(x2, self.q2[1]) << self.left_shift, *self.m2)
        return v1, v2

    def store(self, out, values):
        np.copyto(out, np.clip(values, self.lo, self.hi), casting="unsafe")


def _pot_scale_int16(node):
    """ADD/SUB's pot_scale_int16. The schema's default is true, but LiteRT's ParseAdd/ParseSub
    leave it false (zero-initialised params) when the operator carries no options table at all.
    The Node says so once the contract tells (``node.has_options``); until then a table-less
    node reads the schema default."""
    return bool(node.options.pot_scale_int_16) and node.has_options


class _QuantizedAddSub(_Quantized):
    sign = 1

    def prepare_quantized(self, node, a, out):
        self.prepare_output(node, out)
        self.require_symmetric_int16(node, a)
        int16 = a.type_name == "INT16"
        self.pot = False
        if int16 and _pot_scale_int16(node):
            logs = [checked_log2(s) for s in (self.q1[0], self.q2[0], self.qo[0])]
            self.pot = all(ok for ok, _ in logs)
            if self.pot:
                self.prepare_pot(node, [log2 for _, log2 in logs])
                return
        self.left_shift = 15 if int16 else 20
        s1, s2, so = self.q1[0], self.q2[0], self.qo[0]
        twice_max_input_scale = 2.0 * float(max(s1, s2))
        self.m1 = multiplier_smaller_than_one(node, float(s1) / twice_max_input_scale, "input 1")
        self.m2 = multiplier_smaller_than_one(node, float(s2) / twice_max_input_scale, "input 2")
        self.mo = multiplier_smaller_than_one(node, twice_max_input_scale / (float(1 << self.left_shift) * float(so)),
                                              "output")

    def prepare_pot(self, node, log2s):
        """The LSTM-style int16 path: power-of-two scales, one input already at the output scale."""
        self.shift1, self.shift2 = log2s[0] - log2s[2], log2s[1] - log2s[2]
        if not (self.shift1 == 0 or self.shift2 == 0) or self.shift1 > 0 or self.shift2 > 0:
            raise node.error("power-of-two int16 path needs one input at the output scale and the other finer")

    def eval(self, node, inputs, outputs):
        x1, x2 = inputs
        if self.pot:
            raw = rounding_divide_by_pot(x1.astype(np.int64), -self.shift1) + \
                self.sign * rounding_divide_by_pot(x2.astype(np.int64), -self.shift2)
            self.store(outputs[0], raw)
            return
        v1, v2 = self.rescaled_inputs(x1, x2)
        raw = wrap_int32(v1 + self.sign * v2)
        self.store(outputs[0], smaller_than_one(raw, *self.mo) + self.qo[1])


@register("ADD", versions=(1, 5), types=QUANTIZED, match=quantized_input)
class QuantizedAdd(_QuantizedAddSub):
    sign = 1


@register("SUB", versions=(1, 5), types=QUANTIZED, match=quantized_input)
class QuantizedSub(_QuantizedAddSub):
    sign = -1


@register("MUL", versions=(1, 7), types=QUANTIZED, match=quantized_input)
class QuantizedMul(_Quantized):
    def check_output(self, node, a, out):
        pass        # after the output's quantization, below

    def prepare_quantized(self, node, a, out):
        self.prepare_output(node, out)
        # int16 x int16 -> 8-bit is the LSTM gate product: Q0.15 x Q0.15 rescaled by 2^-8.
        self.int16_to_8bit = a.type_name == "INT16" and out.type_name in ("INT8", "UINT8")
        if out.type_name != a.type_name and not self.int16_to_8bit:
            raise node.unsupported("%s inputs with %s output" % (a.type_name, out.type_name))
        if not self.int16_to_8bit:
            self.require_symmetric_int16(node, a)
        # LiteRT computes input1_scale * input2_scale / output_scale in float32.
        self.m = quantize_multiplier_scalar(float(self.q1[0] * self.q2[0] / self.qo[0]))

    def eval(self, node, inputs, outputs):
        x1, x2 = inputs
        if self.int16_to_8bit:
            prod = rounding_divide_by_pot(srdhm16(x1.astype(np.int64), x2.astype(np.int64)), 8)
            zp = self.qo[1]
            np.copyto(outputs[0], np.clip(prod, self.lo - zp, self.hi - zp) + zp, casting="unsafe")
            return
        prod = wrap_int32(centred(x1, self.q1[1]) * centred(x2, self.q2[1]))
        self.store(outputs[0], multiply_by_quantized_multiplier(prod, *self.m) + self.qo[1])


@register("SQUARED_DIFFERENCE", versions=(1, 2), types=("INT8",), match=quantized_input)
class QuantizedSquaredDifference(_Quantized):
    input_types = ("INT8",)
    left_shift = 7

    def prepare_quantized(self, node, a, out):
        self.prepare_output(node, out, fused=False)
        s1, s2, so = self.q1[0], self.q2[0], self.qo[0]
        twice_max_input_scale = 2.0 * float(max(s1, s2))
        self.m1 = multiplier_smaller_than_one(node, float(s1) / twice_max_input_scale, "input 1")
        self.m2 = multiplier_smaller_than_one(node, float(s2) / twice_max_input_scale, "input 2")
        self.mo = multiplier_smaller_than_one(
            node, twice_max_input_scale * twice_max_input_scale / float(np.float32(1 << 2 * self.left_shift) * so),
            "output")

    def eval(self, node, inputs, outputs):
        v1, v2 = self.rescaled_inputs(*inputs)
        diff = v1 - v2
        self.store(outputs[0], smaller_than_one(wrap_int32(diff * diff), *self.mo) + self.qo[1])


@register("DIV", versions=(1, 2), types=QUANTIZED, match=quantized_input)
class QuantizedDiv(_Quantized):
    """reference_ops::DivElementwise (``Div<int16_t>`` for int16, zero points may be non-zero):
    the divisor's reciprocal comes from gemmlowp's Newton-Raphson ``GetReciprocal``; the dividend
    is normalised by its redundant sign bits first; the rescale is
    MultiplyByQuantizedMultiplierSmallerThanOneExp's double rounding. LiteRT fails the invoke when
    a divisor equals its zero point (a real 0)."""

    def prepare_quantized(self, node, a, out):
        self.prepare_output(node, out)
        # input1_scale / (input2_scale * output_scale), in float32 as LiteRT computes it.
        self.m = quantize_multiplier_scalar(float(self.q1[0] / (self.q2[0] * self.qo[0])))

    def eval(self, node, inputs, outputs):
        v1 = centred(inputs[0], self.q1[1])
        v2 = centred(inputs[1], self.q2[1])
        _division_by_zero(node, v2)
        flip = v2 < 0          # keep the reciprocal positive
        v1 = np.where(flip, -v1, v1)
        v2 = np.where(flip, -v2, v2)
        inv, recip_shift = get_reciprocal(v2, 31)
        headroom = count_leading_sign_bits32(v1)
        unscaled = saturating_rounding_doubling_high_mul(wrap_int32(v1 << headroom), inv)
        total_shift = self.m[1] - recip_shift - headroom
        scaled = _rounding_divide_by_pot_x86(saturating_rounding_doubling_high_mul(unscaled, self.m[0]),
                                             -total_shift)
        self.store(outputs[0], scaled + self.qo[1])


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


# -- comparisons -------------------------------------------------------------------------------

class _Compare(_Plain):
    output_type = "BOOL"
    # LiteRT's LESS … GREATER_EQUAL compare int16 values raw whatever their quantization.
    # Quantized 8-bit inputs (and int16 EQUAL/NOT_EQUAL) are rescaled first, by _QuantizedCompare.
    plain_quantized = ("INT16",)


class _QuantizedCompare(_Quantized):
    """ComparisonWithScaling: each side becomes ``((q - zp) << 8) * scale`` as a fixed-point
    integer (MultiplyByQuantizedMultiplierSmallerThanOneExp), then the integers are compared.
    Distinct inputs can compare equal after that rounding, as in LiteRT."""
    output_type = "BOOL"
    left_shift = 8
    func = None

    def prepare_quantized(self, node, a, out):
        self.m1, self.m2 = self.multiplier(node, self.q1[0]), self.multiplier(node, self.q2[0])

    @staticmethod
    def multiplier(node, scale):
        # LiteRT takes the "greater than one" branch for scales >= 1, which its comparison code
        # then uses as a negative right shift (undefined); we refuse those scales.
        if scale >= 1:
            raise node.unsupported("quantized comparison with scale %g >= 1" % scale)
        return quantize_multiplier_scalar(float(scale))

    def eval(self, node, inputs, outputs):
        type(self).func(*self.rescaled_inputs(*inputs), out=outputs[0])


def _comparison(opcode, versions, func, equality):
    """The float/integer and the quantized kernel of one comparison. LiteRT rescales int16 only
    in EQUAL / NOT_EQUAL (which also take BOOL); LESS ... compare raw int16 values."""
    name = opcode.title().replace("_", "")
    plain_types = ORDERED + (("BOOL",) if equality else ())
    plain = type(name, (_Compare,), {"input_types": plain_types, "func": func})
    quantized_types = QUANTIZED if equality else ("INT8", "UINT8")
    quantized = type("Quantized" + name, (_QuantizedCompare,), {"input_types": quantized_types, "func": func})
    register(opcode, versions=versions)(plain)
    register(opcode, versions=versions, types=quantized_types, match=quantized_input)(quantized)
    return plain, quantized


Equal, QuantizedEqual = _comparison("EQUAL", (1, 5), np.equal, True)
NotEqual, QuantizedNotEqual = _comparison("NOT_EQUAL", (1, 4), np.not_equal, True)
Less, QuantizedLess = _comparison("LESS", (1, 3), np.less, False)
LessEqual, QuantizedLessEqual = _comparison("LESS_EQUAL", (1, 2), np.less_equal, False)
Greater, QuantizedGreater = _comparison("GREATER", (1, 2), np.greater, False)
GreaterEqual, QuantizedGreaterEqual = _comparison("GREATER_EQUAL", (1, 3), np.greater_equal, False)


# -- SELECT ------------------------------------------------------------------------------------

class _Select(Kernel):
    """condition ? x : y for any element type (the values are only moved)."""
    input_types = ("BOOL",)     # input 0 is the condition

    def prepare(self, node, inputs, outputs):
        arity(node, inputs, outputs, 3)
        cond, x, y = inputs
        if cond.type_name != "BOOL":
            raise node.error("condition must be BOOL, got %s" % cond.type_name)
        same_type(node, y, x, "y")
        same_type(node, outputs[0], x)
        shapes = tuple(cond.shape), tuple(x.shape), tuple(y.shape)
        if all(np.prod(s, dtype=np.int64) == 1 for s in shapes):
            # LiteRT treats three single-element operands as scalars, whatever their ranks
            # (and skips the version-1 shape rules): the output is a scalar.
            self.cond_shape = shapes[0]
            outputs[0].shape = ()
        else:
            outputs[0].shape = self.output_shape(node, *shapes)

    def eval(self, node, inputs, outputs):
        cond, x, y = inputs
        out = outputs[0]
        out[...] = np.where(cond.reshape(self.cond_shape), x, y).reshape(out.shape)


@register("SELECT", versions=(1, 4))
class Select(_Select):
    def output_shape(self, node, c, x, y):
        self.cond_shape = c
        if c == x == y:
            return x
        if x != y:
            raise node.error("x %s and y %s must have the same shape" % (x, y))
        if len(c) == 1 and len(x) >= 1 and c[0] == x[0]:
            # A rank-1 condition picks whole rows (slices along the first dimension).
            self.cond_shape = c + (1,) * (len(x) - 1)
        elif len(c) != 0:
            raise node.error("condition %s must match the inputs %s, be a scalar or a vector over "
                             "their first dimension" % (c, x))
        return x


@register("SELECT_V2", versions=(1, 2))
class SelectV2(_Select):
    def output_shape(self, node, c, x, y):
        self.cond_shape = c
        return broadcast_shape(node, broadcast_shape(node, c, x), y)
