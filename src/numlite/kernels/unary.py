"""One-input elementwise math: float, plain-integer and quantized variants side by side.

SQRT, RSQRT, EXP, LOG, ABS, NEG, SIN, COS, SQUARE, FLOOR, CEIL, ROUND, SIGN, ZEROS_LIKE,
LOGICAL_NOT and CAST (float kernels plus the plain integer variants LiteRT has), and the quantized
variants, bit-exact with LiteRT's reference kernels:

* ABS (int8 / int16): the centred value, rescaled (MultiplyByQuantizedMultiplier, double rounding)
  when the scales differ.
* RSQRT int8: 1/sqrt from TFLite's Newton-Raphson GetInvSqrtQuantizedMultiplierExp; int16: a
  513-entry interpolated table (LUTPopulate<int16_t>); a zero / non-positive input maps to the
  largest output.
* SQRT (int8 / int16): dequantize, float32 sqrt, then a *truncating* requantization
  (``static_cast<int>(sqrt / output_scale) + zero_point``), unlike every other quantized op.
* EXP, LOG: a 256-entry table built in float32 at prepare time (int8), a 513-entry interpolated
  table (int16).
"""
import numpy as np

from .contract import Kernel
from .fixedpoint import float_to_int32_x86, multiply_by_quantized_multiplier, quantize_multiplier_scalar, wrap_int32
from .fixedpoint_nonlinear import INT16_MIN, inv_sqrt_quantized_multiplier, libm
from .operands import arity, check_type, refuse_quantized, unary_operands
from .quant import centred, dtype_limits, elementwise_params, lut, lut_lookup, quantized_input
from .registry import register

F32 = np.float32


# -- float and plain-integer variants ----------------------------------------------------------

class _Plain(Kernel):
    """One input, one output of the same type and shape.

    Subclasses set ``input_types`` (the input types it runs, as `numlite ops` lists them),
    ``plain_quantized`` (integer types whose quantization LiteRT ignores) and ``func`` (a ufunc)
    or override ``compute(x, out)``, which returns the result:
    ``out`` filled in place or a new array (``out`` is None when the op computes in a wider type:
    float32 for half inputs, float64 for ``wide`` ops).
    """
    # FLOAT16 only where LiteRT's reference kernel has a half version (it refuses the others).
    input_types = ("FLOAT32",)
    plain_quantized = ()
    func = None
    # LiteRT calls libm's float functions (expf, logf, …), which are (nearly) correctly
    # rounded; NumPy's float32 SIMD versions can be an ulp or more off, so transcendental
    # ops compute in float64 and round once.
    wide = False

    def prepare(self, node, inputs, outputs):
        x = unary_operands(node, inputs, outputs, self.input_types)
        if x.type_name not in self.plain_quantized:
            refuse_quantized(node, x, outputs[0])
        if self.wide and x.dtype.kind == "f":
            self.work = np.dtype(np.float64)
        else:
            self.work = np.dtype(np.float32) if x.type_name == "FLOAT16" else None

    def compute(self, x, out):
        return type(self).func(x, out=out)

    def eval(self, node, inputs, outputs):
        x, out = inputs[0], outputs[0]
        with np.errstate(all="ignore"):       # log(0), sqrt(-1) … are defined results
            res = self.compute(x, out) if self.work is None else self.compute(x.astype(self.work), None)
            if res is not out:
                np.copyto(out, res, casting="unsafe")


@register("SQRT", versions=(1, 2))
class Sqrt(_Plain):
    func = np.sqrt


@register("RSQRT", versions=(1, 3))
class Rsqrt(_Plain):
    def compute(self, x, out):
        return np.divide(x.dtype.type(1), np.sqrt(x), out=out)


@register("EXP", versions=(1, 2))
class Exp(_Plain):
    wide = True
    func = np.exp


@register("LOG", versions=(1, 2))
class Log(_Plain):
    wide = True
    func = np.log


@register("SIN", versions=(1, 2))
class Sin(_Plain):
    input_types = ("FLOAT32", "FLOAT16")
    wide = True
    func = np.sin


@register("COS", versions=(1, 2))
class Cos(_Plain):
    input_types = ("FLOAT32", "FLOAT16")
    wide = True
    func = np.cos


@register("SQUARE", versions=(1, 1))
class Square(_Plain):
    func = np.square


@register("FLOOR", versions=(1, 1))
class Floor(_Plain):
    input_types = ("FLOAT32", "FLOAT16")
    func = np.floor


@register("CEIL", versions=(1, 1))
class Ceil(_Plain):
    func = np.ceil


@register("ROUND", versions=(1, 1))
class Round(_Plain):
    # LiteRT's ROUND is round-half-to-even (TF semantics), i.e. rint.
    input_types = ("FLOAT32", "FLOAT16")
    func = np.rint


@register("NEG", versions=(1, 1))
class Neg(_Plain):
    input_types = ("FLOAT32", "FLOAT16", "INT32", "INT64", "INT16", "INT8")
    plain_quantized = ("INT8", "UINT8", "INT16")
    func = np.negative


@register("ABS", versions=(1, 5))
class Abs(_Plain):
    # int16 without quantization is plain |x| (wrapping at -32768); quantized ABS is
    # QuantizedAbs.
    input_types = ("FLOAT32", "INT32", "INT16")
    func = np.abs


@register("SIGN", versions=(1, 2))
class Sign(_Plain):
    input_types = ("FLOAT32", "FLOAT64", "INT32")
    func = np.sign


@register("ZEROS_LIKE", versions=(1, 1))
class ZerosLike(_Plain):
    input_types = ("FLOAT32", "INT32", "INT64")

    def compute(self, x, out):
        out.fill(0)
        return out


@register("LOGICAL_NOT", versions=(1, 1))
class LogicalNot(_Plain):
    input_types = ("BOOL",)
    func = np.logical_not


# -- quantized variants ------------------------------------------------------------------------

class _Quantized(Kernel):
    """One 8/16-bit input with quantization, one output of the same type and shape (registered
    by type, taking precedence over the float kernels when they apply); int16 zero points 0."""
    input_types = ("INT8", "INT16")

    def prepare(self, node, inputs, outputs):
        x = unary_operands(node, inputs, outputs, self.input_types)
        self.qi, self.qo = elementwise_params(node, x, outputs[0])
        self.qmin, self.qmax = dtype_limits(x.type_name)
        self.prepare_quantized(node, x)

    def prepare_quantized(self, node, x):
        pass

    def store(self, out, values):
        np.copyto(out, np.clip(values, self.qmin, self.qmax), casting="unsafe")


@register("ABS", versions=(1, 3), types=("INT8", "INT16"), match=quantized_input)
class QuantizedAbs(_Quantized):
    def prepare_quantized(self, node, x):
        self.rescale = self.qi[0] != self.qo[0]
        self.m = quantize_multiplier_scalar(float(self.qi[0] / self.qo[0]))

    def eval(self, node, inputs, outputs):
        v = np.abs(centred(inputs[0], self.qi[1]))
        if self.rescale:
            v = multiply_by_quantized_multiplier(v, *self.m)
        self.store(outputs[0], v + self.qo[1])


def _rsqrt_f32(output_scale):
    """The int16 RSQRT table function: 1/sqrt(v) in float32; v <= 0 gives INT16_MAX * output_scale."""
    ceiling = F32(32767) * F32(output_scale)

    def transform(v):
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(v <= 0, ceiling, F32(1) / np.sqrt(v)).astype(F32)
    return transform


@register("RSQRT", versions=(1, 3), types=("INT8", "INT16"), match=quantized_input)
class QuantizedRsqrt(_Quantized):
    """int8 RSQRT: 1/sqrt(q - zp) from TFLite's Newton-Raphson GetInvSqrtQuantizedMultiplierExp,
    then rescaled by 1 / (sqrt(input_scale) * output_scale); 20 extra bits keep it an integer.
    int16 RSQRT (elementwise.cc): LUTPopulate<int16_t> of 1/sqrt in float32, then LUTLookup's
    interpolation."""
    _SHIFT = 20

    def prepare_quantized(self, node, x):
        self.table = None
        if x.type_name == "INT16":
            self.table = lut(_rsqrt_f32(self.qo[0]), self.qi, self.qo, "INT16")
        else:
            # 1. / (std::sqrt(float) * float): the product is float32, the division double.
            self.m = quantize_multiplier_scalar(1.0 / float(np.sqrt(self.qi[0]) * self.qo[0]))

    def eval(self, node, inputs, outputs):
        x = inputs[0]
        # LiteRT checks the raw values against the input zero point (0 for int16) and fails the
        # invoke; numlite's int8 kernel has always reported it as a ModelError.
        if np.any(x < self.qi[1]):
            fail = node.invoke_error if self.table is not None else node.error
            raise fail("Rsqrt is only defined for positive values")
        if self.table is not None:
            self.store(outputs[0], lut_lookup(self.table, x))
            return
        v = centred(x, self.qi[1])
        inv_sqrt, shift = inv_sqrt_quantized_multiplier(v)
        data = multiply_by_quantized_multiplier(1, inv_sqrt, shift + self._SHIFT)
        out = multiply_by_quantized_multiplier(data, self.m[0], self.m[1] - self._SHIFT) + self.qo[1]
        # A zero input stands for "close to 0": the largest output.
        np.copyto(outputs[0], np.where(v == 0, self.qmax, np.clip(out, self.qmin, self.qmax)), casting="unsafe")


@register("SQRT", versions=(1, 2), types=("INT8", "INT16"), match=quantized_input)
class QuantizedSqrt(_Quantized):
    """elementwise.cc SqrtEvalQuantized: float32 arithmetic throughout and a truncating
    float→int conversion (x86 semantics: out-of-range quotients become INT32_MIN before the zero
    point is added) — no TfLiteRound, so results sit up to one step below the rounded value."""

    def eval(self, node, inputs, outputs):
        # scale * (q - zero_point) in float32, as LiteRT writes it: the centred integer is
        # converted to float (exact for 8/16-bit data) and multiplied once.
        deq = self.qi[0] * centred(inputs[0], self.qi[1]).astype(F32)
        if not np.all(deq >= 0):
            raise node.invoke_error("Sqrt is only defined for non-negative values")
        with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
            quotient = np.sqrt(deq) / self.qo[0]
        self.store(outputs[0], wrap_int32(float_to_int32_x86(quotient, np.int64) + self.qo[1]))


class _QuantizedTable(_Quantized):
    """A function tabulated at prepare: 256 entries (int8), 513 interpolated ones (int16)."""

    def prepare_quantized(self, node, x):
        self.table = lut(self.transform(x.type_name), self.qi, self.qo, x.type_name)

    def eval(self, node, inputs, outputs):
        self.store(outputs[0], lut_lookup(self.table, inputs[0]))


@register("EXP", versions=(1, 2), types=("INT8", "INT16"), match=quantized_input)
class QuantizedExp(_QuantizedTable):
    def transform(self, type_name):
        return lambda v: libm("expf", v)


@register("LOG", versions=(1, 2), types=("INT8", "INT16"), match=quantized_input)
class QuantizedLog(_QuantizedTable):
    def transform(self, type_name):
        # log of a non-positive input is the lowest representable output.
        qmin = -128 if type_name == "INT8" else INT16_MIN
        output_min = F32(qmin - self.qo[1]) * self.qo[0]
        return lambda v: np.where(v <= 0, output_min, libm("logf", np.maximum(v, F32(1e-30)))).astype(F32)


# -- CAST --------------------------------------------------------------------------------------
_CAST_TYPES = ("BOOL", "UINT8", "INT8", "INT16", "UINT16", "INT32", "UINT32", "INT64",
               "FLOAT16", "FLOAT32", "FLOAT64", "COMPLEX64")
# Sub-byte types arrive unpacked (one value per int8/uint8); LiteRT casts them only to and
# from FLOAT32, clamping float values into the type's range.
_PACKED_RANGE = {"INT4": (-8, 7), "UINT4": (0, 15), "INT2": (-2, 1)}


def _float_to_int(x, dtype):
    """LiteRT's float → integer cast: truncation toward zero, saturating at the type's range,
    NaN → the maximum."""
    info = np.iinfo(dtype)
    t = np.trunc(x.astype(np.float64))
    high = ~(t < float(info.max))          # NaN and values at or past the top
    low = t <= float(info.min)
    safe = np.where(high | low, 0, t).astype(dtype)
    return np.where(high, info.max, np.where(low, info.min, safe)).astype(dtype)


@register("CAST", versions=(1, 9))
class Cast(Kernel):
    input_types = _CAST_TYPES + tuple(_PACKED_RANGE)

    def prepare(self, node, inputs, outputs):
        arity(node, inputs, outputs, 1)
        src, dst = inputs[0].type_name, outputs[0].type_name
        check_type(node, inputs[0], self.input_types)
        check_type(node, outputs[0], _CAST_TYPES + tuple(_PACKED_RANGE), "output")
        if (src in _PACKED_RANGE or dst in _PACKED_RANGE) and "FLOAT32" not in (src, dst):
            raise node.unsupported("CAST between %s and %s" % (src, dst))
        outputs[0].shape = inputs[0].shape
        self.dst = dst

    def eval(self, node, inputs, outputs):
        x, out = inputs[0], outputs[0]
        dt = out.dtype
        if x.dtype.kind == "c" and dt.kind != "c":
            x = x.real          # complex casts keep the real part
        with np.errstate(all="ignore"):
            if self.dst in _PACKED_RANGE:
                lo, hi = _PACKED_RANGE[self.dst]
                # std::max(lo, std::min(hi, v)): a NaN compares false and becomes hi.
                v = np.where(x < hi, x, hi)
                x = np.trunc(np.where(lo < v, v, lo))
            elif dt == np.bool_:
                x = x != 0
            elif dt.kind in "iu" and x.dtype.kind == "f":
                x = _float_to_int(x, dt)
            elif dt == np.float16 and x.dtype != np.float16:
                # LiteRT converts to half through float32 (fp16_ieee_from_fp32_value).
                x = x.astype(np.float32)
            np.copyto(out, x, casting="unsafe")
