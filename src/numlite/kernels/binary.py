"""Binary elementwise arithmetic with broadcasting: ADD, SUB, MUL, DIV, MAXIMUM, MINIMUM,
SQUARED_DIFFERENCE, POW, FLOOR_DIV, FLOOR_MOD (float and plain integer variants).

Also holds the small helpers the unary, activation, logical and quantize kernels share.
FLOAT16 tensors are computed in float32 and rounded once to half, which is what LiteRT's
half kernels produce for single-step ops.
"""
import functools

import numpy as np

from ..errors import ModelError, UnsupportedOpError
from ..schema.enums import ActivationFunctionType as Act
from .common import broadcast_shape, check_types, invoke_error
from .fixedpoint import float_to_int32_x86
from .registry import Kernel, register

QUANTIZABLE = ("INT8", "UINT8", "INT16")


# -- shared helpers ---------------------------------------------------------------------------
def check_arity(kernel, inputs, outputs, n_in, n_out=1):
    """Refuse a node whose input/output counts (or omitted operands) do not fit the op."""
    if len(inputs) != n_in or len(outputs) != n_out or any(s is None for s in inputs):
        raise ModelError("%s (node %s): expects %d inputs and %d outputs, got %d and %d"
                         % (kernel.op.opcode, getattr(kernel, "node_index", None), n_in, n_out,
                            len(inputs), len(outputs)))


def check_output_type(kernel, spec, type_name):
    if spec.type_name != type_name:
        raise ModelError("%s (node %s): output type %s, expected %s"
                         % (kernel.op.opcode, getattr(kernel, "node_index", None), spec.type_name, type_name))


def same_type(kernel, a, b):
    if a.type_name != b.type_name:
        raise ModelError("%s (node %s): input types %s and %s differ"
                         % (kernel.op.opcode, getattr(kernel, "node_index", None), a.type_name, b.type_name))


def is_quantized(spec):
    """True for an 8/16-bit integer tensor carrying affine quantization parameters."""
    return spec.type_name in QUANTIZABLE and spec.quantization is not None


def unsupported(kernel, detail):
    return UnsupportedOpError(kernel.op.opcode, kernel.op.version, getattr(kernel, "node_index", None), detail)


def refuse_quantized(kernel, *specs):
    """Refuse quantized integer tensors in a float / plain-integer kernel: they reach it only
    when no quantized kernel (registered by type in the quantized_* modules) applies."""
    for s in specs:
        if is_quantized(s):
            raise unsupported(kernel, "quantized %s tensors are not supported yet" % s.type_name)


def work_dtype(spec):
    """The dtype eval computes in: float32 for half tensors, else None (the tensor's own)."""
    return np.dtype(np.float32) if spec.type_name == "FLOAT16" else None


def quiet(fn):
    """Run an eval with floating-point warnings silenced (log(0), 0/0 … are defined results)."""
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        with np.errstate(all="ignore"):
            return fn(*args, **kwargs)
    return wrapper


def fused_clamp(kernel, out_dtype):
    """(lo, hi) for the node's fused activation, or None when the clamp is a no-op.

    LiteRT's CalculateActivationRange treats every activation other than RELU, RELU6 and
    RELU_N1_TO_1 (including TANH and SIGN_BIT) as "none", and float kernels always clamp to
    [lowest, max] of the type, so an infinite float result becomes ±max.
    """
    act = kernel.options.get("fused_activation_function", Act.NONE)
    lo, hi = {Act.RELU: (0, None), Act.RELU6: (0, 6), Act.RELU_N1_TO_1: (-1, 1)}.get(act, (None, None))
    dt = np.dtype(out_dtype)
    info = np.finfo(dt) if dt.kind == "f" else np.iinfo(dt)
    if dt.kind != "f" and lo is None and hi is None:
        return None
    if dt.kind == "u" and lo is not None and lo < 0:
        # The int bound converts to the unsigned type: -1 becomes its maximum, and the clamp
        # min(max(x, lo), hi) then yields hi everywhere (np.clip does the same when lo > hi).
        lo += 1 << (8 * dt.itemsize)
    lo = info.min if lo is None else max(lo, info.min)
    hi = info.max if hi is None else min(hi, info.max)
    return dt.type(lo), dt.type(hi)


def division_by_zero(kernel):
    return invoke_error(kernel, "Division by 0")


# -- binary kernels ---------------------------------------------------------------------------
class BinaryKernel(Kernel):
    """Two same-typed inputs broadcast against each other, one output.

    Subclasses set ``types`` (accepted input types), ``fused`` (reads a fused activation),
    ``plain_quantized`` (integer types whose quantization LiteRT ignores for this op) and
    ``func`` (a ufunc) or override ``compute(a, b, out)``, which returns the result: ``out``
    filled in place or a new array the executor casts into the output (``out`` is None for
    half inputs). Quantized 8/16-bit inputs are refused here; their kernels live in
    quantized_elementwise and take precedence when they apply.
    """
    types = ("FLOAT32", "FLOAT16", "INT32", "INT64")
    fused = False
    plain_quantized = ()
    out_type = None          # None: same as the inputs
    func = None              # a ufunc, for the default compute

    def prepare(self, inputs, outputs):
        check_arity(self, inputs, outputs, 2)
        a, b = inputs
        check_types(self, a, self.types)
        same_type(self, a, b)
        self.prepare_quantization(a, b, outputs[0])
        check_output_type(self, outputs[0], self.out_type or a.type_name)
        outputs[0].shape = broadcast_shape(a.shape, b.shape, self.op.opcode)
        self.work = work_dtype(a)
        self.clamp = fused_clamp(self, outputs[0].dtype) if self.fused else None

    def prepare_quantization(self, a, b, out):
        if a.type_name not in self.plain_quantized:
            refuse_quantized(self, a, b, out)

    def compute(self, a, b, out):
        return type(self).func(a, b, out=out)

    @quiet
    def eval(self, inputs, outputs):
        a, b = inputs
        out = outputs[0]
        if self.work is not None:
            res = self.compute(a.astype(self.work), b.astype(self.work), None)
        else:
            res = self.compute(a, b, out)
        if self.clamp is not None:
            res = np.clip(res, self.clamp[0], self.clamp[1], out=res if res is out else None)
        if res is not out:
            return [res]
        return None


class _Arithmetic(BinaryKernel):
    """ADD/SUB/MUL/DIV: fused activation, float results clamped to the type's finite range."""
    fused = True


@register("ADD", versions=(1, 6))
class Add(_Arithmetic):
    types = ("FLOAT32", "FLOAT16", "INT32", "INT64", "INT16")
    func = np.add


@register("SUB", versions=(1, 5))
class Sub(_Arithmetic):
    func = np.subtract


@register("MUL", versions=(1, 8))
class Mul(_Arithmetic):
    types = ("FLOAT32", "FLOAT16", "INT32", "INT64", "INT16", "UINT32")
    func = np.multiply


@register("DIV", versions=(1, 2))
class Div(_Arithmetic):
    types = ("FLOAT32", "FLOAT16", "INT32")

    def compute(self, a, b, out):
        if a.dtype.kind == "f":
            return np.divide(a, b, out=out)
        if not np.all(b):
            raise division_by_zero(self)
        # C++ integer division truncates toward zero.
        q, r = np.divmod(a, b)
        return np.add(q, (r != 0) & ((a < 0) != (b < 0)), out=out, casting="unsafe")


class _Extremum(BinaryKernel):
    """MAXIMUM/MINIMUM: LiteRT picks ``a if a OP b else b``, so a NaN wins only as ``b``."""
    types = ("FLOAT32", "FLOAT16", "INT32", "INT64", "INT16", "INT8", "UINT8")
    plain_quantized = QUANTIZABLE
    pick = None

    def compute(self, a, b, out):
        return np.where(type(self).pick(a, b), a, b)


@register("MAXIMUM", versions=(1, 4))
class Maximum(_Extremum):
    pick = np.greater


@register("MINIMUM", versions=(1, 4))
class Minimum(_Extremum):
    pick = np.less


@register("SQUARED_DIFFERENCE", versions=(1, 2))
class SquaredDifference(BinaryKernel):
    types = ("FLOAT32", "FLOAT16", "INT32")

    def compute(self, a, b, out):
        d = np.subtract(a, b, out=out)
        return np.multiply(d, d, out=d)


@register("POW", versions=(1, 1))
class Pow(BinaryKernel):
    types = ("FLOAT32", "INT32")

    def compute(self, a, b, out):
        if a.dtype.kind == "f":
            # std::pow on floats is libm's (nearly correctly rounded) powf; a float64 power
            # rounded once reproduces it where NumPy's float32 power can be an ulp off.
            return np.power(a.astype(np.float64), b)
        if (b < 0).any():
            raise invoke_error(self, "POW does not support negative value for int32.")
        # LiteRT evaluates std::pow in double and converts the result to int32.
        return float_to_int32_x86(np.power(a.astype(np.float64), b.astype(np.float64)))


@register("FLOOR_DIV", versions=(1, 3))
class FloorDiv(BinaryKernel):
    types = ("FLOAT32", "INT32", "INT16", "INT8")
    plain_quantized = QUANTIZABLE

    def compute(self, a, b, out):
        # LiteRT refuses a zero divisor for every type, floats included.
        if not np.all(b):
            raise division_by_zero(self)
        if a.dtype.kind == "f":
            # floor(double(a) / double(b)): the double quotient can floor differently from
            # the float32 one when float32 rounding lands on an integer.
            return np.floor(a.astype(np.float64) / b.astype(np.float64)).astype(a.dtype)
        return np.floor_divide(a, b, out=out)


@register("FLOOR_MOD", versions=(1, 2))
class FloorMod(BinaryKernel):
    types = ("FLOAT32", "INT32", "INT64", "INT16", "INT8")
    plain_quantized = QUANTIZABLE

    def compute(self, a, b, out):
        if a.dtype.kind != "f" and not np.all(b):
            raise division_by_zero(self)
        # Truncated remainder, moved into the divisor's sign when they disagree (as LiteRT's
        # FloorMod does; a float remainder of x % 0 stays NaN).
        m = np.fmod(a, b, out=out)
        return np.add(m, b, out=m, where=(m != 0) & ((m < 0) != (b < 0)))
