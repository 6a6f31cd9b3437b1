"""Layout: ops that move data without looking at it. RESHAPE, SQUEEZE, EXPAND_DIMS, SHAPE, FILL,
BROADCAST_TO, TILE, TRANSPOSE, REVERSE_V2, DEPTH_TO_SPACE, SPACE_TO_DEPTH, SPACE_TO_BATCH_ND,
BATCH_TO_SPACE_ND, RANGE.

Quantized tensors are moved raw: none of these ops requantizes. Ops whose output shape depends
on an input's values (a shape, an axis, multiples, a permutation) derive from
:class:`~numlite.kernels.operands.ValueShapedKernel`: planned once when those inputs are constant,
at every eval otherwise.
"""
import numpy as np

from ..schema.enums import TensorType
from .contract import Kernel
from .operands import (ALL_TYPES, INDEX_TYPES, NUMERIC_BOOL, ValueShapedKernel, arity, check_type, const_value,
                       data_operands, int_values, norm_axis, num_elements, same_type)
from .quant import check_same_params
from .registry import register


def _copy(outputs, result):
    np.copyto(outputs[0], result)


# -- RESHAPE, SQUEEZE, EXPAND_DIMS, SHAPE ---------------------------------------------------------

def _resolve_new_shape(node, in_shape, new_shape):
    """TFLite Reshape: one -1 dimension is inferred; element counts must agree."""
    new_shape = list(new_shape)
    stretch = [i for i, d in enumerate(new_shape) if d == -1]
    if len(stretch) > 1:
        raise node.error("more than one -1 in new shape %s" % new_shape)
    if any(d < -1 for d in new_shape):
        raise node.error("invalid new shape %s" % new_shape)
    n_in = num_elements(in_shape)
    known = num_elements([d for d in new_shape if d != -1])
    if stretch:
        if known == 0:
            # Zero-sized tensors: like TensorFlow, infer -1 from the non-zero dimensions only.
            nonzero_in = num_elements([d for d in in_shape if d])
            nonzero_out = num_elements([d for d in new_shape if d not in (0, -1)])
            new_shape[stretch[0]] = nonzero_in // nonzero_out
        else:
            new_shape[stretch[0]] = n_in // known
    if num_elements(new_shape) != n_in:
        raise node.error("cannot reshape %s (%d elements) to %s" % (tuple(in_shape), n_in, new_shape))
    return tuple(new_shape)


class _Reshaped(ValueShapedKernel):
    """The output is the input's data under another shape (the plan)."""

    def run(self, node, plan, inputs, outputs):
        _copy(outputs, inputs[0].reshape(plan))


@register("RESHAPE", versions=(1, 1))
class Reshape(_Reshaped):
    value_inputs = (1,)
    input_types = ALL_TYPES

    def check(self, node, inputs, outputs):
        data_operands(node, inputs, outputs, (1, 2), self.input_types)
        shape_in = inputs[1] if len(inputs) == 2 else None
        # LiteRT takes the shape from the second input only when it is an int32 vector; anything
        # else (scalar, int64, missing) falls back to the new_shape option.
        self.use_tensor = shape_in is not None and len(shape_in.shape) == 1 and shape_in.type_name == "INT32"
        self.value_inputs = (1,) if self.use_tensor else ()

    def plan(self, node, shapes, values):
        if self.use_tensor:
            new_shape = int_values(node, values[1], "shape")
        else:
            # (An absent vector option reads as None.)
            new_shape = list(node.options.new_shape or [])
            # Legacy converters wrote [0] for a scalar.
            if new_shape == [0]:
                new_shape = []
        out = _resolve_new_shape(node, shapes[0], new_shape)
        return [out], out


@register("SQUEEZE", versions=(1, 2))
class Squeeze(_Reshaped):
    input_types = ALL_TYPES

    def check(self, node, inputs, outputs):
        data_operands(node, inputs, outputs, 1, self.input_types)

    def plan(self, node, shapes, values):
        shape = shapes[0]
        dims = node.options.squeeze_dims or []
        if dims:
            drop = {norm_axis(node, int(d), len(shape), "squeeze dim") for d in dims}
            for d in drop:
                if shape[d] != 1:
                    raise node.error("cannot squeeze dim %d of size %d" % (d, shape[d]))
        else:
            drop = {i for i, d in enumerate(shape) if d == 1}
        out = tuple(d for i, d in enumerate(shape) if i not in drop)
        return [out], out


@register("EXPAND_DIMS", versions=(1, 1))
class ExpandDims(_Reshaped):
    value_inputs = (1,)
    input_types = ALL_TYPES

    def check(self, node, inputs, outputs):
        data_operands(node, inputs, outputs, 2, self.input_types)
        check_type(node, inputs[1], INDEX_TYPES, "axis")
        check_same_params(node, inputs[0], outputs[0])

    def plan(self, node, shapes, values):
        axis = int_values(node, values[1], "axis")
        if len(axis) != 1:
            raise node.error("axis must hold one value, got %d" % len(axis))
        a = norm_axis(node, axis[0], len(shapes[0]) + 1)
        out = tuple(shapes[0][:a]) + (1,) + tuple(shapes[0][a:])
        return [out], out


@register("SHAPE", versions=(1, 1))
class Shape(Kernel):
    # Any tensor with data (LiteRT reads only the shape), packed sub-byte constants included.
    input_types = ALL_TYPES + ("FLOAT16", "FLOAT64", "UINT16", "UINT32", "UINT64", "COMPLEX64", "COMPLEX128",
                               "INT4", "UINT4", "INT2")

    def prepare(self, node, inputs, outputs):
        arity(node, inputs, outputs, 1)
        check_type(node, inputs[0], self.input_types)
        # The schema's default out_type is FLOAT32 (0), which LiteRT refuses like any type other
        # than INT32 / INT64.
        out_type = node.options.out_type
        if out_type not in (TensorType.INT32, TensorType.INT64):
            raise node.error("out_type must be INT32 or INT64, got %s" % TensorType.name(out_type))
        if outputs[0].type_name != TensorType.name(out_type):
            raise node.error("output tensor type %s differs from out_type %s"
                             % (outputs[0].type_name, TensorType.name(out_type)))
        outputs[0].shape = (len(inputs[0].shape),)

    def eval(self, node, inputs, outputs):
        outputs[0][...] = inputs[0].shape


# -- FILL, BROADCAST_TO, TILE ----------------------------------------------------------------------

@register("FILL", versions=(1, 5))
class Fill(ValueShapedKernel):
    value_inputs = (0,)
    input_types = INDEX_TYPES       # input 0 is the output shape

    def check(self, node, inputs, outputs):
        arity(node, inputs, outputs, 2)
        dims, value = inputs
        check_type(node, dims, self.input_types, "dims")
        check_type(node, value, ALL_TYPES, "value")
        if len(dims.shape) != 1:
            raise node.error("dims must be a vector")
        if len(value.shape) != 0:
            raise node.error("value must be a scalar")
        same_type(node, outputs[0], value, "output")
        check_same_params(node, value, outputs[0], "value and output")

    def plan(self, node, shapes, values):
        dims = int_values(node, values[0], "dims")
        if any(d < 0 for d in dims):
            raise node.error("negative dimension in %s" % dims)
        return [dims], None

    def run(self, node, plan, inputs, outputs):
        outputs[0][...] = inputs[1].reshape(())


class _IndexVectorDriven(ValueShapedKernel):
    """Ops driven by an int32 / int64 vector, input 1: BROADCAST_TO's shape, TILE's multiples,
    TRANSPOSE's perm."""

    value_inputs = (1,)

    def check(self, node, inputs, outputs):
        data_operands(node, inputs, outputs, 2, self.input_types)
        check_type(node, inputs[1], INDEX_TYPES, self.what)

    def per_dimension(self, node, shape, values):
        """The vector's values, one per input dimension."""
        v = int_values(node, values[1], self.what)
        if len(v) != len(shape):
            raise node.error("%s has %d entries for rank %d" % (self.what, len(v), len(shape)))
        return v


@register("BROADCAST_TO", versions=(2, 4))
class BroadcastTo(_IndexVectorDriven):
    input_types, what = NUMERIC_BOOL, "shape"

    def check(self, node, inputs, outputs):
        super().check(node, inputs, outputs)
        if len(inputs[1].shape) != 1:
            raise node.error("shape must be a vector")

    def plan(self, node, shapes, values):
        target = tuple(int_values(node, values[1], "shape"))
        src = tuple(shapes[0])
        if len(target) > 8:
            raise node.error("output rank %d exceeds 8" % len(target))
        if len(src) > len(target) or any(s != 1 and s != t for s, t in zip(src[::-1], target[::-1])) \
                or any(d < 0 for d in target):
            raise node.error("cannot broadcast %s to %s" % (src, target))
        return [target], None

    def run(self, node, plan, inputs, outputs):
        _copy(outputs, inputs[0])


@register("TILE", versions=(1, 3))
class Tile(_IndexVectorDriven):
    input_types, what = ALL_TYPES, "multiples"

    def plan(self, node, shapes, values):
        mult = self.per_dimension(node, shapes[0], values)
        if any(m < 0 for m in mult):
            raise node.error("negative multiple in %s" % mult)
        return [tuple(d * m for d, m in zip(shapes[0], mult))], tuple(mult)

    def run(self, node, plan, inputs, outputs):
        _copy(outputs, np.tile(inputs[0], plan) if plan else inputs[0])


# -- TRANSPOSE, REVERSE_V2 ---------------------------------------------------------------------------

@register("TRANSPOSE", versions=(1, 9))
class Transpose(_IndexVectorDriven):
    input_types, what = NUMERIC_BOOL, "perm"

    def plan(self, node, shapes, values):
        rank = len(shapes[0])
        # LiteRT accepts negative perm entries, counting from the end.
        perm = tuple(norm_axis(node, p, rank, "perm entry") for p in self.per_dimension(node, shapes[0], values))
        if sorted(perm) != list(range(rank)):
            raise node.error("perm %s is not a permutation" % (perm,))
        return [tuple(shapes[0][p] for p in perm)], perm

    def run(self, node, plan, inputs, outputs):
        _copy(outputs, np.transpose(inputs[0], plan))


@register("REVERSE_V2", versions=(1, 4))
class ReverseV2(Kernel):
    input_types = NUMERIC_BOOL

    def prepare(self, node, inputs, outputs):
        x, ax = data_operands(node, inputs, outputs, 2, self.input_types), inputs[1]
        check_type(node, ax, ("INT32",), "axis")
        if len(ax.shape) != 1 or ax.shape[0] == 0:
            raise node.error("axis must be a vector")
        # The output shape is the input's whatever the axes: runtime axes are read at eval.
        self.axes = None if ax.data is None else self.axes_of(node, ax.data, len(x.shape))
        outputs[0].shape = x.shape

    def axes_of(self, node, values, rank):
        axes = tuple(norm_axis(node, a, rank) for a in int_values(node, values, "axis"))
        if len(set(axes)) != len(axes):
            raise node.error("repeated axis in %s" % (axes,))
        return axes

    def eval(self, node, inputs, outputs):
        x = inputs[0]
        axes = self.axes if self.axes is not None else self.axes_of(node, inputs[1], x.ndim)
        _copy(outputs, np.flip(x, axes) if axes else x)


# -- DEPTH_TO_SPACE, SPACE_TO_DEPTH ------------------------------------------------------------------

class _BlockRearrange(Kernel):
    """DEPTH_TO_SPACE / SPACE_TO_DEPTH on NHWC tensors (TensorFlow's DCR channel order). Both are
    one 6-D transpose that swaps axes 2 and 3 between an input view and an output view."""

    input_types = ("FLOAT32", "UINT8", "INT8", "INT32", "INT64")

    def prepare(self, node, inputs, outputs):
        x = data_operands(node, inputs, outputs, 1, self.input_types)
        if len(x.shape) != 4:
            raise node.error("input must be 4-D (NHWC), got shape %s" % (x.shape,))
        bs = int(node.options.block_size)
        if bs <= 0:
            raise node.error("block_size must be positive, got %d" % bs)
        outputs[0].shape, self.in6, self.out6 = self.geometry(node, x.shape, bs)

    def eval(self, node, inputs, outputs):
        outputs[0].reshape(self.out6)[...] = inputs[0].reshape(self.in6).transpose(0, 1, 3, 2, 4, 5)


@register("DEPTH_TO_SPACE", versions=(1, 2))
class DepthToSpace(_BlockRearrange):
    def geometry(self, node, shape, bs):
        n, h, w, c = shape
        if c % (bs * bs):
            raise node.error("depth %d not divisible by block_size^2 = %d" % (c, bs * bs))
        d = c // (bs * bs)
        return (n, h * bs, w * bs, d), (n, h, w, bs, bs, d), (n, h, bs, w, bs, d)


@register("SPACE_TO_DEPTH", versions=(1, 2))
class SpaceToDepth(_BlockRearrange):
    def geometry(self, node, shape, bs):
        n, h, w, c = shape
        if h % bs or w % bs:
            raise node.error("height %d / width %d not divisible by block_size %d" % (h, w, bs))
        return (n, h // bs, w // bs, c * bs * bs), (n, h // bs, bs, w // bs, bs, c), (n, h // bs, w // bs, bs, bs, c)


# -- SPACE_TO_BATCH_ND, BATCH_TO_SPACE_ND ------------------------------------------------------------

class _BatchSpace(Kernel):
    """SPACE_TO_BATCH_ND / BATCH_TO_SPACE_ND: constant block_shape and paddings / crops."""

    # LiteRT moves elements of 1, 2, 4 or 8 bytes (so not COMPLEX128, nor strings).
    input_types = NUMERIC_BOOL + ("FLOAT16", "FLOAT64", "UINT16", "UINT32", "UINT64", "COMPLEX64")

    def prepare(self, node, inputs, outputs):
        arity(node, inputs, outputs, 3)
        x = inputs[0]
        check_type(node, x, self.input_types)
        block = np.asarray(const_value(node, inputs[1], "block_shape"), np.int64).reshape(-1)
        pads = np.asarray(const_value(node, inputs[2], "paddings/crops"), np.int64).reshape(-1, 2)
        if np.any(block <= 0) or pads.shape[0] != block.size or len(x.shape) < 1 + block.size:
            raise node.error("invalid block_shape %s / paddings %s" % (block.tolist(), pads.tolist()))
        self.block, self.pads, self.m = block, pads, block.size
        outputs[0].shape = self.geometry(node, x)


@register("SPACE_TO_BATCH_ND", versions=(1, 4))
class SpaceToBatchND(_BatchSpace):
    def geometry(self, node, x):
        m, block = self.m, self.block
        spatial = np.array(x.shape[1:1 + m], np.int64) + self.pads.sum(axis=1)
        if np.any(spatial % block):
            raise node.error("padded spatial shape %s not divisible by %s" % (spatial.tolist(), block.tolist()))
        # Quantized tensors pad with the zero point so padding stays "zero" in real terms.
        q = x.quantization
        self.pad_value = int(q.zero_point[0]) if q is not None and x.dtype.kind in "iu" else 0
        padded = (x.shape[0],) + tuple(spatial.tolist()) + tuple(x.shape[1 + m:])
        self.padded = node.scratch(padded, x.dtype)
        self.interior = (slice(None),) + tuple(slice(a, a + d) for (a, _), d in zip(self.pads.tolist(), x.shape[1:1 + m]))
        # [b, s1/b1, b1, s2/b2, b2, ..., rest] -> [b1, b2, ..., b, s1/b1, s2/b2, ..., rest]
        self.split = [x.shape[0]]
        for s, bs in zip(spatial.tolist(), block.tolist()):
            self.split += [s // bs, bs]
        self.split += list(x.shape[1 + m:])
        self.perm = [2 + 2 * i for i in range(m)] + [0] + [1 + 2 * i for i in range(m)] \
            + list(range(1 + 2 * m, len(self.split)))
        self.out_view = [self.split[p] for p in self.perm]
        return (x.shape[0] * int(np.prod(block)),) + tuple((spatial // block).tolist()) + tuple(x.shape[1 + m:])

    def eval(self, node, inputs, outputs):
        padded = self.padded.array   # scratch: the border is written at every eval
        padded.fill(self.pad_value)
        padded[self.interior] = inputs[0]
        outputs[0].reshape(self.out_view)[...] = padded.reshape(self.split).transpose(self.perm)


@register("BATCH_TO_SPACE_ND", versions=(1, 4))
class BatchToSpaceND(_BatchSpace):
    def geometry(self, node, x):
        m, block = self.m, self.block
        prod = int(np.prod(block))
        if x.shape[0] % prod:
            raise node.error("batch %d not divisible by %d" % (x.shape[0], prod))
        spatial = np.array(x.shape[1:1 + m], np.int64) * block - self.pads.sum(axis=1)
        if np.any(spatial < 0):
            raise node.error("crops larger than the output")
        b = x.shape[0] // prod
        self.split = list(block) + [b] + list(x.shape[1:])
        # [b1, b2, ..., b, s1, s2, ..., rest] -> [b, s1, b1, s2, b2, ..., rest]
        self.perm = [m]
        for i in range(m):
            self.perm += [m + 1 + i, i]
        self.perm += list(range(2 * m + 1, len(self.split)))
        self.uncropped = [b] + [s * bs for s, bs in zip(x.shape[1:1 + m], block.tolist())] + list(x.shape[1 + m:])
        self.crop = (slice(None),) + tuple(slice(c0, n - c1) for (c0, c1), n in
                                           zip(self.pads.tolist(), self.uncropped[1:1 + m]))
        return (b,) + tuple(spatial.tolist()) + tuple(x.shape[1 + m:])

    def eval(self, node, inputs, outputs):
        y = inputs[0].reshape(self.split).transpose(self.perm).reshape(self.uncropped)
        outputs[0][...] = y[self.crop]


# -- RANGE -----------------------------------------------------------------------------------------

@register("RANGE", versions=(1, 2))
class Range(ValueShapedKernel):
    value_inputs = (0, 1, 2)
    input_types = ("INT32", "FLOAT32", "INT64")

    def check(self, node, inputs, outputs):
        start = data_operands(node, inputs, outputs, 3, self.input_types)
        for s, what in ((inputs[1], "limit"), (inputs[2], "delta")):
            same_type(node, s, start, what)

    def plan(self, node, shapes, values):
        start, limit, delta = (np.asarray(values[i]).reshape(-1) for i in range(3))
        if start.size != 1 or limit.size != 1 or delta.size != 1:
            raise node.error("start, limit and delta must be scalars")
        start, limit, delta = start[0], limit[0], delta[0]
        if delta == 0:
            raise node.error("delta must be non-zero")
        if (start > limit and delta > 0) or (start < limit and delta < 0):
            raise node.error("range from %s to %s never ends with delta %s" % (start, limit, delta))
        if start.dtype.kind == "f":
            n = int(np.ceil(np.abs((limit - start) / delta)))
        else:
            n = (abs(int(limit) - int(start)) + abs(int(delta)) - 1) // abs(int(delta))
        return [(n,)], (start, delta)

    def run(self, node, plan, inputs, outputs):
        start, delta = plan
        out = outputs[0]
        # LiteRT accumulates (value += delta) rather than computing start + i * delta; a
        # sequential cumulative sum reproduces its float rounding exactly.
        out.fill(delta)
        if out.size:
            out[0] = start
        np.cumsum(out, dtype=out.dtype, out=out)
