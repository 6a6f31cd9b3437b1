"""Joining and splitting tensors: CONCATENATION, PACK, SPLIT, SPLIT_V, UNPACK.

Values are copied raw, with one exception: LiteRT requantizes uint8 CONCATENATION inputs whose
scale / zero point differ from the output's (reference_ops::ConcatenationWithScaling). int8
inputs must already share the output's quantization and int16 inputs are copied raw (zero points
0). The uint8 rescaling is done in float32, exactly as LiteRT writes it::

    scale = in_scale * (1.f / out_scale)            # float32
    bias  = -in_zp * scale                          # float32
    out   = clamp(int(round(x * scale + bias)) + out_zp, 0, 255)   # round half away from zero

Inputs whose scale and zero point equal the output's are copied unchanged.
"""
import numpy as np

from ..schema.enums import ActivationFunctionType as Act
from . import fixedpoint as fp
from .contract import Kernel
from .operands import (INDEX_TYPES, NUMERIC, NUMERIC_BOOL, ValueShapedKernel, arity, check_type, data_operands,
                       int_values, norm_axis, same_type)
from .quant import check_same_params, tensor_params
from .registry import register

MANY = (1, 1 << 31)   # operand counts: one or more
ANY = (0, 1 << 31)


def _same_typed(node, specs, ref, types):
    check_type(node, ref, types)
    for s in specs:
        same_type(node, s, ref, "tensor %r" % s.name)


# -- CONCATENATION, PACK ---------------------------------------------------------------------------

@register("CONCATENATION", versions=(1, 7))
class Concatenation(Kernel):
    input_types = NUMERIC_BOOL

    def prepare(self, node, inputs, outputs):
        arity(node, inputs, outputs, MANY, required=len(inputs))
        out = outputs[0]
        _same_typed(node, inputs[1:] + [out], inputs[0], self.input_types)
        act = node.options.fused_activation_function
        # LiteRT refuses any fused activation on CONCATENATION (its kernels never applied one).
        if act != Act.NONE:
            raise node.error("fused activation %s is not supported" % Act.name(act))
        first = inputs[0]
        rank = len(first.shape)
        self.maps = [None] * len(inputs)
        if rank == 0:
            # LiteRT joins constant scalars (axis 0) into a vector, raw whatever their
            # quantization, and refuses runtime ones.
            if int(node.options.axis) != 0 or any(s.data is None or s.shape != () for s in inputs):
                raise node.error("cannot concatenate non-constant scalars")
            self.axis = None
            out.shape = (len(inputs),)
            return
        axis = norm_axis(node, int(node.options.axis), rank)
        for s in inputs:
            if len(s.shape) != rank or any(a != b for d, (a, b) in enumerate(zip(s.shape, first.shape)) if d != axis):
                raise node.error("input shapes %s and %s do not match off axis %d" % (s.shape, first.shape, axis))
        t = out.type_name
        if t == "UINT8":
            self.rescale_maps(inputs, out)
        for s in inputs:
            if t == "INT8":
                check_same_params(node, s, out)
            elif t == "INT16" and (tensor_params(s)[1] != 0 or tensor_params(out)[1] != 0):
                # int16 is copied without rescaling, which LiteRT only allows for symmetric tensors.
                raise node.error("int16 concatenation needs zero points of 0")
        self.axis = axis
        out.shape = tuple(sum(s.shape[axis] for s in inputs) if d == axis else n for d, n in enumerate(first.shape))

    def rescale_maps(self, inputs, out):
        """Per uint8 input: None (copy) or the float32 (scale, bias) of its affine map to the output."""
        out_scale, self.out_zp = tensor_params(out)
        inv = np.float32(1) / np.float32(out_scale) if out_scale else np.float32(np.inf)
        for k, s in enumerate(inputs):
            in_scale, in_zp = tensor_params(s)
            if (in_scale, in_zp) != (out_scale, self.out_zp):
                scale = np.float32(in_scale) * inv
                self.maps[k] = (scale, np.float32(-in_zp) * scale)

    def eval(self, node, inputs, outputs):
        parts = [x if m is None else self.rescale(x, *m) for x, m in zip(inputs, self.maps)]
        if self.axis is None:
            np.stack(parts, out=outputs[0])
        else:
            np.concatenate(parts, axis=self.axis, out=outputs[0])

    def rescale(self, x, scale, bias):
        v = fp.round_half_away(x.astype(np.float32) * scale + bias).astype(np.int64) + self.out_zp
        return np.clip(v, 0, 255).astype(np.uint8)


@register("PACK", versions=(1, 5))
class Pack(Kernel):
    input_types = NUMERIC

    def prepare(self, node, inputs, outputs):
        arity(node, inputs, outputs, MANY, required=len(inputs))
        _same_typed(node, inputs[1:] + [outputs[0]], inputs[0], self.input_types)
        count = int(node.options.values_count)
        if count != len(inputs):
            raise node.error("values_count %d but %d inputs" % (count, len(inputs)))
        shape = inputs[0].shape
        for s in inputs:
            if s.shape != shape:
                raise node.error("input shapes %s and %s differ" % (s.shape, shape))
            check_same_params(node, s, outputs[0])
        self.axis = norm_axis(node, int(node.options.axis), len(shape) + 1)
        outputs[0].shape = tuple(shape[:self.axis]) + (len(inputs),) + tuple(shape[self.axis:])

    def eval(self, node, inputs, outputs):
        np.stack(inputs, axis=self.axis, out=outputs[0])


# -- SPLIT, SPLIT_V, UNPACK ------------------------------------------------------------------------

class _Split(ValueShapedKernel):
    """Planned as (axis, sizes): the outputs are consecutive pieces along the axis."""

    def axis_of(self, node, values, shape):
        ax = int_values(node, values, "axis")
        if len(ax) != 1:
            raise node.error("axis must hold one value")
        return norm_axis(node, ax[0], len(shape))

    def pieces(self, shape, axis, sizes):
        return [tuple(s if d == axis else v for d, v in enumerate(shape)) for s in sizes], (axis, sizes)

    def run(self, node, plan, inputs, outputs):
        axis, sizes = plan
        for out, part in zip(outputs, np.split(inputs[self.data_input], np.cumsum(sizes)[:-1], axis=axis)):
            np.copyto(out, part)


@register("SPLIT", versions=(1, 5))
class Split(_Split):
    value_inputs = (0,)
    data_input = 1
    input_types = ("INT32",)        # input 0 is the axis

    def check(self, node, inputs, outputs):
        arity(node, inputs, outputs, 2, ANY)
        ax, x = inputs
        check_type(node, ax, self.input_types, "axis")
        check_type(node, x, NUMERIC)
        for o in outputs:
            same_type(node, o, x)
        n = int(node.options.num_splits)
        if n != len(outputs) or n <= 0:
            raise node.error("num_splits %d but %d outputs" % (n, len(outputs)))

    def plan(self, node, shapes, values):
        shape = shapes[1]
        axis = self.axis_of(node, values[0], shape)
        n = int(node.options.num_splits)
        if shape[axis] % n:
            raise node.error("dimension %d of size %d not divisible into %d splits" % (axis, shape[axis], n))
        return self.pieces(shape, axis, [shape[axis] // n] * n)


@register("SPLIT_V", versions=(1, 3))
class SplitV(_Split):
    value_inputs = (1, 2)
    data_input = 0
    input_types = NUMERIC

    def check(self, node, inputs, outputs):
        data_operands(node, inputs, outputs, 3, self.input_types, ANY)
        sizes, axis = inputs[1], inputs[2]
        check_type(node, sizes, INDEX_TYPES, "size_splits")
        check_type(node, axis, ("INT32",), "axis")
        if len(sizes.shape) != 1 or sizes.shape[0] != len(outputs):
            raise node.error("size_splits shape %s for %d outputs" % (sizes.shape, len(outputs)))

    def plan(self, node, shapes, values):
        shape = shapes[0]
        axis = self.axis_of(node, values[2], shape)
        sizes = int_values(node, values[1], "size_splits")
        unknown = [i for i, s in enumerate(sizes) if s == -1]
        if len(unknown) > 1 or any(s < -1 for s in sizes):
            raise node.error("invalid size_splits %s" % sizes)
        if unknown:
            sizes[unknown[0]] = shape[axis] - (sum(sizes) + 1)
        if sum(sizes) != shape[axis] or any(s < 0 for s in sizes):
            raise node.error("size_splits %s do not add up to dimension size %d" % (sizes, shape[axis]))
        return self.pieces(shape, axis, sizes)


@register("UNPACK", versions=(1, 6))
class Unpack(Kernel):
    input_types = ("FLOAT32", "INT8", "UINT8", "INT16", "INT32", "BOOL")

    def prepare(self, node, inputs, outputs):
        x = data_operands(node, inputs, outputs, 1, self.input_types, ANY)
        axis = norm_axis(node, int(node.options.axis), len(x.shape))
        num = int(node.options.num)
        if num != len(outputs) or x.shape[axis] != num:
            raise node.error("num %d, %d outputs, dimension %d of size %d" % (num, len(outputs), axis, x.shape[axis]))
        for o in outputs:
            check_same_params(node, x, o)
            o.shape = tuple(d for i, d in enumerate(x.shape) if i != axis)
        self.axis = axis

    def eval(self, node, inputs, outputs):
        for out, part in zip(outputs, np.moveaxis(inputs[0], self.axis, 0)):
            np.copyto(out, part)
