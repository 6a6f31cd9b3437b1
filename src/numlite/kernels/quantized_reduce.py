"""Reductions on int8 / uint8 / int16 data: MEAN, SUM, REDUCE_PROD, REDUCE_MAX, REDUCE_MIN
(LiteRT's reduce.cc with the kReference kernels).

MEAN and SUM go through reference_ops::QuantizedMeanOrSum, which is all-integer: an int32
(wrapping) sum of raw values, minus ``in_zp * count``, rescaled by QuantizeMultiplier(in_scale /
out_scale) with the int32 MultiplyByQuantizedMultiplier (double rounding). For MEAN the 1/count
factor is folded into that multiplier first (see ``_mean_multiplier``). REDUCE_PROD rescales after
every multiplication (QuantizedReduceProd); REDUCE_MAX / REDUCE_MIN select raw values and need
identical input and output quantization.
"""
import numpy as np

from . import fixedpoint as fp
from .registry import Kernel, register
from .requantize import (is_quantized, model_error, multiplier_for, node_io, qparams, require_zero_point_0,
                         same_type, unsupported)

QUANT = ("INT8", "UINT8", "INT16")


def resolve_axes(kernel, values, rank):
    """LiteRT's ResolveAxis: negative axes count from the end, duplicates are dropped, anything
    outside [-rank, rank) is an error. A scalar input ignores the axes."""
    if rank == 0:
        return ()
    axes = []
    for a in np.asarray(values).reshape(-1).tolist():
        a = int(a)
        cur = a + rank if a < 0 else a
        if not 0 <= cur < rank:
            raise model_error(kernel, "axis %d is out of range for rank %d" % (a, rank))
        if cur not in axes:
            axes.append(cur)
    return tuple(axes)


def reduced_shape(shape, axes, keep_dims):
    if keep_dims:
        return tuple(1 if d in axes else n for d, n in enumerate(shape))
    return tuple(n for d, n in enumerate(shape) if d not in axes)


class _QuantizedReduce(Kernel):
    def prepare(self, inputs, outputs):
        x, axis = node_io(self, inputs, outputs, 2)
        out = outputs[0]
        same_type(self, out, x)
        if axis.type_name != "INT32":
            raise model_error(self, "axis must be an int32 tensor, got %s" % axis.type_name)
        require_zero_point_0(self, x, out)
        (self.in_scale, self.in_zp), (self.out_scale, self.out_zp) = qparams(x), qparams(out)
        self.lo, self.hi = fp.dtype_range(x.dtype)
        self.dtype = x.dtype
        self.keep_dims = bool(self.options.get("keep_dims", False))
        self.check(x, out)
        if axis.data is None or x.shape is None:
            self.axes = None
            out.shape = None
            return
        self.axes = resolve_axes(self, axis.data, len(x.shape))
        out.shape = reduced_shape(x.shape, self.axes, self.keep_dims)
        self.setup(x.shape, self.axes)

    def check(self, x, out):
        pass

    def setup(self, shape, axes):
        pass

    def eval(self, inputs, outputs):
        x = inputs[0]
        axes = self.axes
        if axes is None:
            axes = resolve_axes(self, inputs[1], x.ndim)
            self.setup(x.shape, axes)
        shape = reduced_shape(x.shape, axes, self.keep_dims)
        count = int(np.prod([x.shape[a] for a in axes], dtype=np.int64))
        if x.size == 0 or count == 0:
            res = np.full(shape, self.empty_value(), self.dtype)
        else:
            res = self.reduce(x, axes, count).reshape(shape)
        if outputs[0] is None or outputs[0].shape != shape:
            return [np.asarray(res, self.dtype)]
        outputs[0][...] = res

    def empty_value(self):
        # The integer outputs of an empty MEAN / SUM / PROD are left at T() = 0 by LiteRT.
        return 0


class _MeanOrSum(_QuantizedReduce):
    compute_sum = False

    def check(self, x, out):
        self.mult, self.shift = multiplier_for(self, self.in_scale / self.out_scale if self.out_scale else np.inf)

    def reduce(self, x, axes, count):
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


@register("MEAN", versions=(1, 3), types=QUANT)
class QuantizedMean(_MeanOrSum):
    pass


@register("SUM", versions=(1, 2), types=QUANT)
class QuantizedSum(_MeanOrSum):
    """LiteRT quirk (ai-edge-litert 2.3, BUILTIN_REF): the reference SUM runs the uint8
    instantiation of QuantizedMeanOrSum for every quantized type. int8 data is therefore read as
    uint8 bytes, clamped to [0, 255] and stored back as bytes — numlite reproduces that, since it is
    deterministic. int16 data is read as the first half of its bytes and only the first half of the
    output bytes is written (the rest is left uninitialised), so numlite refuses int16 SUM."""

    compute_sum = True

    def check(self, x, out):
        if x.type_name == "INT16":
            raise unsupported(self, "int16 SUM: LiteRT's reference kernel reads int16 data as uint8 bytes "
                                    "and leaves half the output uninitialised")
        super().check(x, out)
        if x.type_name == "INT8":
            self.lo, self.hi = fp.dtype_range(np.uint8)

    def reduce(self, x, axes, count):
        if x.dtype == np.int8:
            return super().reduce(x.view(np.uint8), axes, count).astype(np.uint8).view(np.int8)
        return super().reduce(x, axes, count)


@register("REDUCE_PROD", versions=(1, 2), types=QUANT)
class QuantizedReduceProd(_QuantizedReduce):
    """reference_ops::QuantizedReduceProd. Each step multiplies the running int32 product by the
    next ``x - in_zp`` in int64 and rescales it with S = QuantizeMultiplier(in_scale /
    out_scale^(1/count)) through the int64 MultiplyByQuantizedMultiplier (16-bit reduced
    multiplier, one round-half-up shift); the final product is rescaled once more, so count
    factors of S give in_scale^count / out_scale. Elements are taken in row-major order.

    Without quantization LiteRT multiplies raw values in the tensor's own type (wrapping)."""

    def check(self, x, out):
        self.quantized = is_quantized(x)
        if self.quantized and x.type_name == "UINT8":
            raise unsupported(self, "quantized uint8 REDUCE_PROD is not supported by LiteRT")

    def setup(self, shape, axes):
        if not self.quantized:
            return
        in_size = int(np.prod(shape, dtype=np.int64))
        out_size = int(np.prod(reduced_shape(shape, axes, False), dtype=np.int64))
        if in_size and out_size:
            n = in_size // out_size
            self.mult, self.shift = multiplier_for(self, self.in_scale / self.out_scale ** (1.0 / n)
                                                   if self.out_scale else np.inf)

    def empty_value(self):
        return 0 if self.quantized else 1

    def reduce(self, x, axes, count):
        if not self.quantized:
            return np.prod(x, axis=axes, dtype=x.dtype)
        keep = [d for d in range(x.ndim) if d not in axes]
        cols = np.transpose(x, keep + sorted(axes)).reshape(-1, count).astype(np.int64) - self.in_zp
        acc = cols[:, 0]
        for k in range(1, count):
            acc = fp.multiply_by_quantized_multiplier_int64(acc * cols[:, k], self.mult, self.shift)
        res = fp.multiply_by_quantized_multiplier_int64(acc, self.mult, self.shift) + self.out_zp
        return np.clip(res, self.lo, self.hi)


class _Select(_QuantizedReduce):
    def check(self, x, out):
        if qparams(x) != qparams(out):
            raise model_error(self, "input and output quantization differ (%s vs %s)" % (qparams(x), qparams(out)))


@register("REDUCE_MAX", versions=(1, 3), types=QUANT)
class QuantizedReduceMax(_Select):
    def reduce(self, x, axes, count):
        return np.max(x, axis=axes)

    def empty_value(self):
        return fp.dtype_range(self.dtype)[0]


@register("REDUCE_MIN", versions=(1, 3), types=QUANT)
class QuantizedReduceMin(_Select):
    def reduce(self, x, axes, count):
        return np.min(x, axis=axes)

    def empty_value(self):
        return fp.dtype_range(self.dtype)[1]
