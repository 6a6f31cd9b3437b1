"""Reductions over an axis tensor: MEAN, SUM, REDUCE_PROD, REDUCE_MAX, REDUCE_MIN, REDUCE_ANY,
REDUCE_ALL, and the index reductions ARG_MAX, ARG_MIN.

int8/uint8/int16 inputs are handled by the specialised kernels in quantized_reduce.py; this module
refuses them cleanly should those not apply.
"""
import numpy as np

from ..schema.enums import TensorType
from .common import check_types
from .registry import register
from .shape import (INDEX_TYPES, QUANT_TYPES, ValueShapedKernel, expect_inputs, int_values,
                    model_error, norm_axis, require, same_type, unsupported)


def _reduce_axes(kernel, values, rank):
    """Axes from the axis tensor: negative ones wrap, duplicates collapse (as in LiteRT's ResolveAxis)."""
    return tuple(sorted({norm_axis(kernel, a, rank) for a in int_values(kernel, values, "axis")}))


class _Reduce(ValueShapedKernel):
    value_inputs = (1,)
    types = ("FLOAT32", "INT32", "INT64")

    def check(self, inputs, outputs):
        expect_inputs(self, inputs, (2,), outputs, 1)
        x = require(self, inputs[0], "input")
        # LiteRT's reductions take int32 axes only (ARG_MAX/ARG_MIN also accept int64).
        check_types(self, require(self, inputs[1], "axis"), ("INT32",), "axis")
        if x.type_name in QUANT_TYPES:
            raise unsupported(self, "quantized %s reduction is not implemented here" % x.type_name)
        check_types(self, x, self.types)
        same_type(self, outputs[0], x)
        self.keep_dims = bool(self.options.get("keep_dims", False))

    def plan(self, shapes, values):
        shape = shapes[0]
        axes = _reduce_axes(self, values[1], len(shape))
        if self.keep_dims:
            out = tuple(1 if i in axes else d for i, d in enumerate(shape))
        else:
            out = tuple(d for i, d in enumerate(shape) if i not in axes)
        return [out], (axes, out)

    def run(self, plan, inputs):
        axes, out = plan
        x = inputs[0]
        return [np.asarray(self.reduce(x, axes)).reshape(out)]


def _lowest(dtype):
    return np.finfo(dtype).min if dtype.kind == "f" else (False if dtype.kind == "b" else np.iinfo(dtype).min)


def _highest(dtype):
    return np.finfo(dtype).max if dtype.kind == "f" else (True if dtype.kind == "b" else np.iinfo(dtype).max)


@register("MEAN", versions=(1, 3))
class Mean(_Reduce):
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
class Sum(_Reduce):
    types = ("FLOAT32", "INT32", "INT64", "BOOL")

    def reduce(self, x, axes):
        if x.dtype == np.bool_:
            return np.any(x, axis=axes)
        return np.sum(x, axis=axes, dtype=x.dtype)


@register("REDUCE_PROD", versions=(1, 2))
class ReduceProd(_Reduce):
    types = ("FLOAT32", "INT32", "INT64", "BOOL")

    def reduce(self, x, axes):
        if x.dtype == np.bool_:
            return np.all(x, axis=axes)
        return np.prod(x, axis=axes, dtype=x.dtype)


@register("REDUCE_MAX", versions=(1, 3))
class ReduceMax(_Reduce):
    types = ("FLOAT32", "INT32", "INT64", "BOOL")

    def reduce(self, x, axes):
        # LiteRT starts from the type's lowest value, which is what an empty reduction returns.
        return np.max(x, axis=axes, initial=_lowest(x.dtype))


@register("REDUCE_MIN", versions=(1, 3))
class ReduceMin(_Reduce):
    types = ReduceMax.types

    def reduce(self, x, axes):
        return np.min(x, axis=axes, initial=_highest(x.dtype))


@register("REDUCE_ANY", versions=(1, 1))
class ReduceAny(_Reduce):
    types = ("BOOL",)

    def reduce(self, x, axes):
        return np.any(x, axis=axes)


@register("REDUCE_ALL", versions=(1, 1))
class ReduceAll(_Reduce):
    types = ("BOOL",)

    def reduce(self, x, axes):
        return np.all(x, axis=axes)


class _ArgReduce(ValueShapedKernel):
    value_inputs = (1,)

    def check(self, inputs, outputs):
        expect_inputs(self, inputs, (2,), outputs, 1)
        x = require(self, inputs[0], "input")
        check_types(self, x, ("FLOAT32", "UINT8", "INT8", "INT32", "BOOL"))
        ax = require(self, inputs[1], "axis")
        check_types(self, ax, INDEX_TYPES, "axis")
        if int(np.prod(ax.shape)) != 1:
            raise model_error(self, "axis must hold exactly one value")
        out_type = self.options.get("output_type", TensorType.INT64)
        if out_type not in (TensorType.INT32, TensorType.INT64):
            raise model_error(self, "output_type must be INT32 or INT64")
        if outputs[0].type_name != TensorType.name(out_type):
            raise model_error(self, "output tensor type %s differs from output_type %s"
                              % (outputs[0].type_name, TensorType.name(out_type)))
        if len(x.shape) == 0:
            raise model_error(self, "input must have rank >= 1")

    def plan(self, shapes, values):
        shape = shapes[0]
        axis = norm_axis(self, int_values(self, values[1], "axis")[0], len(shape))
        return [tuple(d for i, d in enumerate(shape) if i != axis)], axis

    def run(self, axis, inputs):
        # NumPy returns the first index among ties, as LiteRT's strict comparison does.
        return [type(self).func(inputs[0], axis=axis)]


@register("ARG_MAX", versions=(1, 3))
class ArgMax(_ArgReduce):
    func = staticmethod(np.argmax)


@register("ARG_MIN", versions=(1, 3))
class ArgMin(_ArgReduce):
    func = staticmethod(np.argmin)
