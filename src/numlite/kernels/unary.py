"""Unary elementwise math: SQRT, RSQRT, EXP, LOG, ABS, NEG, SIN, COS, SQUARE, FLOOR, CEIL, ROUND,
CAST, ZEROS_LIKE (float kernels plus the plain integer variants LiteRT has)."""
import numpy as np

from .common import check_types
from .binary import (QUANTIZABLE, check_arity, check_output_type, quiet, refuse_quantized, unsupported,
                          work_dtype)
from .registry import Kernel, register


class UnaryKernel(Kernel):
    """One input, one output of the same type and shape.

    Subclasses set ``types``, ``plain_quantized`` (integer types whose quantization LiteRT
    ignores) and ``func`` (a ufunc) or override ``compute(x, out)``, which returns the result:
    ``out`` filled in place or a new array the executor casts into the output (``out`` is None
    when the op computes in a wider type: float32 for half inputs, float64 for ``wide`` ops).
    """
    types = ("FLOAT32", "FLOAT16")
    plain_quantized = ()
    func = None
    # LiteRT calls libm's float functions (expf, logf, …), which are (nearly) correctly
    # rounded; NumPy's float32 SIMD versions can be an ulp or more off, so transcendental
    # ops compute in float64 and round once.
    wide = False
    # Some LiteRT half kernels are Eigen expressions on Eigen::half, rounding to half after
    # every step; those ops compute in float16 directly (NumPy's half ufuncs do the same).
    half_steps = False

    def prepare(self, inputs, outputs):
        check_arity(self, inputs, outputs, 1)
        x = inputs[0]
        check_types(self, x, self.types)
        check_output_type(self, outputs[0], x.type_name)
        self.prepare_quantization(x, outputs[0])
        outputs[0].shape = x.shape
        if self.wide and x.dtype.kind == "f":
            self.work = np.dtype(np.float64)
        else:
            self.work = None if self.half_steps else work_dtype(x)

    def prepare_quantization(self, x, out):
        if x.type_name not in self.plain_quantized:
            refuse_quantized(self, x, out)

    def compute(self, x, out):
        return type(self).func(x, out=out)

    @quiet
    def eval(self, inputs, outputs):
        x, out = inputs[0], outputs[0]
        if self.work is not None:
            return [self.compute(x.astype(self.work), None)]
        res = self.compute(x, out)
        return None if res is out else [res]


@register("SQRT", versions=(1, 2))
class Sqrt(UnaryKernel):
    func = np.sqrt


@register("RSQRT", versions=(1, 3))
class Rsqrt(UnaryKernel):
    def compute(self, x, out):
        return np.divide(x.dtype.type(1), np.sqrt(x), out=out)


@register("EXP", versions=(1, 2))
class Exp(UnaryKernel):
    wide = True
    func = np.exp


@register("LOG", versions=(1, 2))
class Log(UnaryKernel):
    wide = True
    func = np.log


@register("SIN", versions=(1, 2))
class Sin(UnaryKernel):
    wide = True
    func = np.sin


@register("COS", versions=(1, 2))
class Cos(UnaryKernel):
    wide = True
    func = np.cos


@register("SQUARE", versions=(1, 1))
class Square(UnaryKernel):
    func = np.square


@register("FLOOR", versions=(1, 1))
class Floor(UnaryKernel):
    func = np.floor


@register("CEIL", versions=(1, 1))
class Ceil(UnaryKernel):
    func = np.ceil


@register("ROUND", versions=(1, 1))
class Round(UnaryKernel):
    # LiteRT's ROUND is round-half-to-even (TF semantics), i.e. rint.
    func = np.rint


@register("NEG", versions=(1, 1))
class Neg(UnaryKernel):
    types = ("FLOAT32", "FLOAT16", "INT32", "INT64", "INT16", "INT8")
    plain_quantized = QUANTIZABLE
    func = np.negative


@register("ABS", versions=(1, 5))
class Abs(UnaryKernel):
    # int16 without quantization is plain |x| (wrapping at -32768); quantized ABS is
    # quantized_elementwise's.
    types = ("FLOAT32", "FLOAT16", "INT32", "INT16")
    func = np.abs


@register("ZEROS_LIKE", versions=(1, 1))
class ZerosLike(UnaryKernel):
    types = ("FLOAT32", "INT32", "INT64")

    def compute(self, x, out):
        out.fill(0)
        return out


# -- CAST -------------------------------------------------------------------------------------
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
    def prepare(self, inputs, outputs):
        check_arity(self, inputs, outputs, 1)
        src, dst = inputs[0].type_name, outputs[0].type_name
        check_types(self, inputs[0], _CAST_TYPES + tuple(_PACKED_RANGE))
        check_types(self, outputs[0], _CAST_TYPES + tuple(_PACKED_RANGE), "output")
        if (src in _PACKED_RANGE or dst in _PACKED_RANGE) and "FLOAT32" not in (src, dst):
            raise unsupported(self, "CAST between %s and %s" % (src, dst))
        outputs[0].shape = inputs[0].shape
        self.dst = dst

    @quiet
    def eval(self, inputs, outputs):
        x, out = inputs[0], outputs[0]
        dt = out.dtype
        if x.dtype.kind == "c" and dt.kind != "c":
            x = x.real          # complex casts keep the real part
        if self.dst in _PACKED_RANGE:
            lo, hi = _PACKED_RANGE[self.dst]
            # std::max(lo, std::min(hi, v)): a NaN compares false and becomes hi.
            v = np.where(x < hi, x, hi)
            return [np.trunc(np.where(lo < v, v, lo))]
        if dt == np.bool_:
            return [x != 0]
        if dt.kind in "iu" and x.dtype.kind == "f":
            return [_float_to_int(x, dt)]
        if dt == np.float16 and x.dtype != np.float16:
            # LiteRT converts to half through float32 (fp16_ieee_from_fp32_value).
            x = x.astype(np.float32)
        np.copyto(out, x, casting="unsafe")
        return None
