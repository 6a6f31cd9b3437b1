"""Reductions: MEAN, SUM, REDUCE_PROD, REDUCE_MAX, REDUCE_MIN, REDUCE_ANY, REDUCE_ALL over an axis
tensor; the index reductions ARG_MAX, ARG_MIN; CUMSUM and TOPK_V2 along one axis.

One shared prepare (operands, axes, output shape) and per-op math on raw values (float, int32,
int64, bool) and, for MEAN, SUM, REDUCE_PROD, on quantized int8 / uint8 / int16 values as
LiteRT's reduce.cc computes them with the kReference kernels:

* MEAN and SUM go through reference_ops::QuantizedMeanOrSum, which is all-integer: an int32
  (wrapping) sum of raw values, minus ``in_zp * count``, rescaled by QuantizeMultiplier(in_scale /
  out_scale) with the int32 MultiplyByQuantizedMultiplier (double rounding). For MEAN the 1/count
  factor is folded into that multiplier first (see ``_mean_multiplier``).
* REDUCE_PROD rescales after every multiplication (QuantizedReduceProd).
* REDUCE_MAX / REDUCE_MIN select raw values and need identical input and output quantization.
"""
import numpy as np

from ..schema.enums import TensorType
from . import fixedpoint as fp
from .contract import Kernel
from .operands import INDEX_TYPES, ValueShapedKernel, arity, check_type, const_value, int_values, norm_axis, same_type
from .quant import QUANTIZED, is_quantized, multiplier, tensor_params
from .registry import register


def resolve_axes(node, values, rank):
    """LiteRT's ResolveAxis: negative axes count from the end, duplicates are dropped, anything
    outside [-rank, rank) is an error. A scalar input ignores the axes."""
    if rank == 0:
        return ()
    axes = []
    for a in int_values(node, values, "axis"):
        cur = a + rank if a < 0 else a
        if not 0 <= cur < rank:
            raise node.error("axis %d is out of range for rank %d" % (a, rank))
        if cur not in axes:
            axes.append(cur)
    return tuple(axes)


def reduced_shape(shape, axes, keep_dims):
    if keep_dims:
        return tuple(1 if d in axes else n for d, n in enumerate(shape))
    return tuple(n for d, n in enumerate(shape) if d not in axes)


def _lowest(dtype):
    return np.finfo(dtype).min if dtype.kind == "f" else (False if dtype.kind == "b" else np.iinfo(dtype).min)


def _highest(dtype):
    return np.finfo(dtype).max if dtype.kind == "f" else (True if dtype.kind == "b" else np.iinfo(dtype).max)


class _Reduce(ValueShapedKernel):
    """Shared prepare of the axis-tensor reductions. ``input_types``: the input types the op
    runs; ``reduce(x, axes)`` is the math on raw values; ops with LiteRT integer kernels list
    their ``quantized_types`` (also in ``input_types``) and implement ``check_quantized`` (does
    the integer math apply?) and ``reduce_quantized(x, axes, count)``."""

    value_inputs = (1,)
    input_types = ("FLOAT32", "INT32", "INT64", "BOOL")
    quantized_types = ()

    def check(self, node, inputs, outputs):
        arity(node, inputs, outputs, 2)
        x, out = inputs[0], outputs[0]
        # LiteRT's reductions take int32 axes only (ARG_MAX/ARG_MIN also accept int64).
        check_type(node, inputs[1], ("INT32",), "axis")
        if x.type_name in QUANTIZED and not self.quantized_types:
            raise node.unsupported("quantized %s reduction is not implemented" % x.type_name)
        check_type(node, x, self.input_types)
        same_type(node, out, x)
        self.keep_dims = bool(node.options.keep_dims)
        self.integer = False
        if x.type_name in QUANTIZED:
            # LiteRT's int16 kernels are symmetric.
            for s in (x, out):
                if s.type_name == "INT16" and tensor_params(s)[1] != 0:
                    raise node.error("int16 tensor %r needs zero point 0, has %d" % (s.name, tensor_params(s)[1]))
            (self.in_scale, self.in_zp), (self.out_scale, self.out_zp) = tensor_params(x), tensor_params(out)
            self.lo, self.hi = fp.dtype_range(x.dtype)
            self.integer = self.check_quantized(node, x, out)

    def plan(self, node, shapes, values):
        axes = resolve_axes(node, values[1], len(shapes[0]))
        if self.integer:
            self.setup(node, shapes[0], axes)
        return [reduced_shape(shapes[0], axes, self.keep_dims)], axes

    def setup(self, node, shape, axes):
        pass

    def run(self, node, axes, inputs, outputs):
        x, out = inputs[0], outputs[0]
        if not self.integer:
            with np.errstate(over="ignore", invalid="ignore"):  # float sums / products of ±inf or huge values
                out[...] = np.asarray(self.reduce(x, axes)).reshape(out.shape)
            return
        count = int(np.prod([x.shape[a] for a in axes], dtype=np.int64))
        if x.size == 0 or count == 0:
            # The integer outputs of an empty MEAN / SUM / PROD are left at T() = 0 by LiteRT.
            out.fill(0)
        else:
            out[...] = self.reduce_quantized(x, axes, count).reshape(out.shape)


class _MeanOrSum(_Reduce):
    quantized_types = QUANTIZED
    input_types = _Reduce.input_types + QUANTIZED

    def check_quantized(self, node, x, out):
        if not self.out_scale:
            raise node.unsupported("%s output without quantization parameters" % x.type_name)
        self.mult, self.shift = multiplier(node, self.in_scale / self.out_scale)
        return True

    def reduce_quantized(self, x, axes, count):
        total = fp.wrap_int32(np.sum(x, axis=axes, dtype=np.int64))
        shifted = fp.wrap_int32(total - np.int64(self.in_zp) * count)
        mult, shift = (self.mult, self.shift) if self.compute_sum else _mean_multiplier(self.mult, self.shift, count)
        res = fp.multiply_by_quantized_multiplier(shifted, mult, shift) + self.out_zp
        return np.clip(res, self.lo, self.hi)


def _mean_multiplier(mult, shift, count):
    """QuantizedMeanOrSum folds 1/count into the output multiplier: with s = floor(log2(count))
    (capped at 32 and at 31 + shift), ``mult' = (mult << s) / count`` (int64, truncating) and
    ``shift' = shift - s``."""
    s = min(count.bit_length() - 1, 32, 31 + shift)
    return (mult << s) // count, shift - s


@register("MEAN", versions=(1, 3))
class Mean(_MeanOrSum):
    input_types = ("FLOAT32", "INT32", "INT64") + QUANTIZED
    compute_sum = False

    def reduce(self, x, axes):
        count = int(np.prod([x.shape[a] for a in axes], dtype=np.int64))
        if x.dtype.kind == "f":
            return (np.sum(x, axis=axes, dtype=np.float32) / np.float32(count)).astype(x.dtype)
        # Integer means accumulate in 64 bits and divide with C truncation toward zero.
        total = np.sum(x, axis=axes, dtype=np.int64)
        if count == 0:
            return np.zeros_like(total).astype(x.dtype)
        q = np.abs(total) // count
        return (np.sign(total) * q).astype(x.dtype)


@register("SUM", versions=(1, 2))
class Sum(_MeanOrSum):
    """LiteRT quirk (ai-edge-litert 2.3, BUILTIN_REF): the reference SUM runs the uint8
    instantiation of QuantizedMeanOrSum for every quantized type. int8 data is therefore read as
    uint8 bytes, clamped to [0, 255] and stored back as bytes — numlite reproduces that, since it is
    deterministic. int16 data is read as the first half of its bytes and only the first half of the
    output bytes is written (the rest is left uninitialised), so numlite refuses int16 SUM."""

    compute_sum = True
    input_types = ("FLOAT32", "INT32", "INT64", "BOOL", "INT8", "UINT8")     # not INT16 (above)

    def prepare(self, node, inputs, outputs):
        if inputs and inputs[0] is not None and inputs[0].type_name == "INT16":
            raise node.unsupported("int16 SUM: LiteRT's reference kernel reads int16 data as uint8 bytes and "
                                   "leaves half the output uninitialised")
        super().prepare(node, inputs, outputs)

    def check_quantized(self, node, x, out):
        super().check_quantized(node, x, out)
        if x.type_name == "INT8":
            self.lo, self.hi = fp.dtype_range(np.uint8)
        return True

    def reduce(self, x, axes):
        if x.dtype == np.bool_:
            return np.any(x, axis=axes)
        return np.sum(x, axis=axes, dtype=x.dtype)

    def reduce_quantized(self, x, axes, count):
        if x.dtype == np.int8:
            return super().reduce_quantized(x.view(np.uint8), axes, count).astype(np.uint8).view(np.int8)
        return super().reduce_quantized(x, axes, count)


@register("REDUCE_PROD", versions=(1, 2))
class ReduceProd(_Reduce):
    """reference_ops::QuantizedReduceProd. Each step multiplies the running int32 product by the
    next ``x - in_zp`` in int64 and rescales it with S = QuantizeMultiplier(in_scale /
    out_scale^(1/count)) through the int64 MultiplyByQuantizedMultiplier (16-bit reduced
    multiplier, one round-half-up shift); the final product is rescaled once more, so count
    factors of S give in_scale^count / out_scale. Elements are taken in row-major order.

    Without quantization LiteRT multiplies raw values in the tensor's own type (wrapping)."""

    quantized_types = QUANTIZED
    input_types = _Reduce.input_types + QUANTIZED

    def check_quantized(self, node, x, out):
        if not is_quantized(x):
            return False
        if x.type_name == "UINT8":
            raise node.unsupported("quantized uint8 REDUCE_PROD is not supported by LiteRT")
        return True

    def setup(self, node, shape, axes):
        in_size = int(np.prod(shape, dtype=np.int64))
        out_size = int(np.prod(reduced_shape(shape, axes, False), dtype=np.int64))
        if in_size and out_size:
            n = in_size // out_size
            self.mult, self.shift = multiplier(node, self.in_scale / self.out_scale ** (1.0 / n)
                                               if self.out_scale else np.inf)

    def reduce(self, x, axes):
        if x.dtype == np.bool_:
            return np.all(x, axis=axes)
        return np.prod(x, axis=axes, dtype=x.dtype)

    def reduce_quantized(self, x, axes, count):
        keep = [d for d in range(x.ndim) if d not in axes]
        cols = np.transpose(x, keep + sorted(axes)).reshape(-1, count).astype(np.int64) - self.in_zp
        acc = cols[:, 0]
        for k in range(1, count):
            acc = fp.multiply_by_quantized_multiplier_int64(acc * cols[:, k], self.mult, self.shift)
        res = fp.multiply_by_quantized_multiplier_int64(acc, self.mult, self.shift) + self.out_zp
        return np.clip(res, self.lo, self.hi)


class _Select(_Reduce):
    """REDUCE_MAX / REDUCE_MIN pick raw values, quantized ones included: LiteRT starts from the
    type's extreme value (what an empty reduction returns) and needs identical input and output
    quantization."""

    quantized_types = QUANTIZED
    input_types = _Reduce.input_types + QUANTIZED

    def check_quantized(self, node, x, out):
        if tensor_params(x) != tensor_params(out):
            raise node.error("input and output quantization differ (%s vs %s)" % (tensor_params(x), tensor_params(out)))
        return False


@register("REDUCE_MAX", versions=(1, 3))
class ReduceMax(_Select):
    def reduce(self, x, axes):
        return np.max(x, axis=axes, initial=_lowest(x.dtype))


@register("REDUCE_MIN", versions=(1, 3))
class ReduceMin(_Select):
    def reduce(self, x, axes):
        return np.min(x, axis=axes, initial=_highest(x.dtype))


@register("REDUCE_ANY", versions=(1, 1))
class ReduceAny(_Reduce):
    input_types = ("BOOL",)

    def reduce(self, x, axes):
        return np.any(x, axis=axes)


@register("REDUCE_ALL", versions=(1, 1))
class ReduceAll(_Reduce):
    input_types = ("BOOL",)

    def reduce(self, x, axes):
        return np.all(x, axis=axes)


# -- ARG_MAX, ARG_MIN ------------------------------------------------------------------------------

class _ArgReduce(ValueShapedKernel):
    value_inputs = (1,)
    input_types = ("FLOAT32", "UINT8", "INT8", "INT32", "BOOL")

    def check(self, node, inputs, outputs):
        arity(node, inputs, outputs, 2)
        x, ax = inputs
        check_type(node, x, self.input_types)
        check_type(node, ax, INDEX_TYPES, "axis")
        if int(np.prod(ax.shape)) != 1:
            raise node.error("axis must hold exactly one value")
        # The schema's default output_type is FLOAT32 (0), which LiteRT refuses.
        out_type = node.options.output_type
        if out_type not in (TensorType.INT32, TensorType.INT64):
            raise node.error("output_type must be INT32 or INT64")
        if outputs[0].type_name != TensorType.name(out_type):
            raise node.error("output tensor type %s differs from output_type %s"
                             % (outputs[0].type_name, TensorType.name(out_type)))
        if len(x.shape) == 0:
            raise node.error("input must have rank >= 1")

    def plan(self, node, shapes, values):
        shape = shapes[0]
        axis = norm_axis(node, int_values(node, values[1], "axis")[0], len(shape))
        return [tuple(d for i, d in enumerate(shape) if i != axis)], axis

    def run(self, node, axis, inputs, outputs):
        # NumPy returns the first index among ties, as LiteRT's strict comparison does.
        np.copyto(outputs[0], type(self).func(inputs[0], axis=axis))


@register("ARG_MAX", versions=(1, 3))
class ArgMax(_ArgReduce):
    func = staticmethod(np.argmax)


@register("ARG_MIN", versions=(1, 3))
class ArgMin(_ArgReduce):
    func = staticmethod(np.argmin)


# -- CUMSUM, TOPK_V2 -------------------------------------------------------------------------------

@register("CUMSUM", versions=(1, 1))
class Cumsum(Kernel):
    input_types = ("FLOAT32", "INT32", "INT64")

    def prepare(self, node, inputs, outputs):
        arity(node, inputs, outputs, 2)
        x = inputs[0]
        check_type(node, x, self.input_types)
        rank = len(x.shape)
        axis = int(np.asarray(const_value(node, inputs[1], "axis")).reshape(-1)[0])
        if not -rank <= axis < rank:
            raise node.error("axis %d out of range for rank %d" % (axis, rank))
        self.axis = axis % rank
        self.exclusive = bool(node.options.exclusive)
        self.reverse = bool(node.options.reverse)
        outputs[0].shape = x.shape

    def eval(self, node, inputs, outputs):
        x, out = inputs[0], outputs[0]
        if self.reverse:
            # A reversed sum is the forward sum of the flipped input, written through a flipped view.
            x, out = np.flip(x, self.axis), np.flip(out, self.axis)
        np.cumsum(x, axis=self.axis, dtype=x.dtype, out=out)
        if self.exclusive:
            np.subtract(out, x, out=out)


@register("TOPK_V2", versions=(1, 3))
class TopKV2(Kernel):
    input_types = ("FLOAT32", "INT32", "INT64", "UINT8", "INT8", "INT16")

    def prepare(self, node, inputs, outputs):
        arity(node, inputs, outputs, 2, 2)
        x = inputs[0]
        check_type(node, x, self.input_types)
        k = int(np.asarray(const_value(node, inputs[1], "k")).reshape(-1)[0])
        if not 0 <= k <= (x.shape[-1] if x.shape else 0):
            raise node.error("k=%d exceeds the last dimension of %s" % (k, x.shape))
        self.k = k
        outputs[0].shape = outputs[1].shape = tuple(x.shape[:-1]) + (k,)

    def eval(self, node, inputs, outputs):
        x = inputs[0]
        # Stable sort on the negated values: equal values keep ascending index order, as in LiteRT.
        key = -x.astype(np.float64) if x.dtype.kind == "f" else -x.astype(np.int64)
        order = np.argsort(key, axis=-1, kind="stable")[..., :self.k]
        outputs[0][...] = np.take_along_axis(x, order, axis=-1)
        outputs[1][...] = order
