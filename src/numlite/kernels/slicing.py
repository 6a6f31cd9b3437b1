"""Selecting parts of tensors: SLICE, STRIDED_SLICE, GATHER, GATHER_ND, WHERE and ONE_HOT (the
inverse selection: a class index to a one-hot row).

Values are selected raw: quantized tensors keep their input quantization. SLICE, STRIDED_SLICE and
WHERE have output shapes that depend on input values
(:class:`~numlite.kernels.operands.ValueShapedKernel`).
"""
import numpy as np

from .contract import Kernel
from .operands import (ALL_TYPES, INDEX_TYPES, ValueShapedKernel, arity, check_type, const_value, data_operands,
                       int_values, norm_axis, num_elements, same_type)
from .registry import register

_POSITION_TYPES = ("INT16", "INT32", "INT64")


def _bit(mask, i):
    return (mask >> i) & 1


def _clamp(v, lo, hi):
    return hi if v > hi else lo if v < lo else v


# -- STRIDED_SLICE --------------------------------------------------------------------------------

def _expand_spec(node, in_shape, begin, end, strides):
    """LiteRT's BuildStridedSliceParams: fold ellipsis_mask and new_axis_mask into an 'effective'
    input shape (new axes inserted as size-1 dims) with per-dim begin/end/stride and masks."""
    opts = node.options
    bm, em = int(opts.begin_mask), int(opts.end_mask)
    ellipsis, new_axis, shrink = int(opts.ellipsis_mask), int(opts.new_axis_mask), int(opts.shrink_axis_mask)
    n, rank = len(begin), len(in_shape)
    num_add = sum(1 for i in range(n) if not _bit(ellipsis, i) and _bit(new_axis, i))
    eff_dims = rank + num_add
    eff_ellipsis = eff_new = 0
    ell_start, expanded = eff_dims, 0
    i = 0
    while i < eff_dims:
        if _bit(ellipsis, i):
            ell_start = i
            ell_end = max(i + 1, min(i + 1 + num_add + rank - n, eff_dims))
            expanded = ell_end - ell_start - 1
            for j in range(i, ell_end):
                eff_ellipsis |= 1 << j
            i = ell_end
            continue
        # A new_axis bit sharing its position with the ellipsis bit has no effect.
        if _bit(new_axis, i - expanded):
            eff_new |= 1 << i
        i += 1

    dims = []   # per effective dim: (size, start, stop, stride, begin_masked, end_masked, shrink, orig)
    added_ellipsis = added_axes = 0
    for i in range(eff_dims):
        src = i - added_axes
        if src >= rank and not _bit(eff_new, i):
            # new_axis bits beyond the effective dims are counted but never placed.
            raise node.error("new_axis_mask %d does not fit %d index entries" % (new_axis, n))
        if _bit(eff_ellipsis, i):
            added_ellipsis = max(0, i - ell_start)
            dims.append([in_shape[src], 0, 0, 1, True, True, False, None])
        elif _bit(eff_new, i):
            dims.append([1, 0, 1, 1, False, False, False, None])
            added_axes += 1
        elif i >= n + expanded:
            dims.append([in_shape[src], 0, 0, 1, True, True, False, None])
        else:
            o = i - added_ellipsis
            dims.append([in_shape[src], begin[o], end[o], strides[o], bool(_bit(bm, o)), bool(_bit(em, o)),
                         bool(_bit(shrink, o)), o])
    return dims


def _start_for_axis(size, start, stride, masked):
    if start < 0:
        start += size
    start = _clamp(start, 0, size) if stride > 0 else _clamp(start, -1, size - 1)
    if masked:
        start = 0 if stride > 0 else size - 1
    return start


def _stop_for_axis(size, start, stop, stride, masked, shrink, offset):
    if shrink:
        return start if start >= size else start + 1
    if offset:
        stop += start
    if stop < 0:
        stop += size
    stop = _clamp(stop, 0, size) if stride > 0 else _clamp(stop, -1, size - 1)
    if masked:
        stop = size if stride > 0 else -1
    return stop


def _ceil_div(a, b):
    return -(-a // b)




@register("STRIDED_SLICE", versions=(1, 8))
class StridedSlice(ValueShapedKernel):
    value_inputs = (1, 2, 3)
    input_types = ALL_TYPES

    def check(self, node, inputs, outputs):
        x = data_operands(node, inputs, outputs, 4, self.input_types)
        for k, what in ((1, "begin"), (2, "end"), (3, "strides")):
            check_type(node, inputs[k], ("INT32",), what)
            if len(inputs[k].shape) != 1:
                raise node.error("%s must be a vector" % what)
        if inputs[1].shape != inputs[2].shape:
            raise node.error("begin and end differ in length")
        if len(x.shape) > 5:
            raise node.error("input rank %d exceeds 5" % len(x.shape))
        self.offset = bool(node.options.offset)

    def plan(self, node, shapes, values):
        begin, end, strides = (int_values(node, values[k], w) for k, w in ((1, "begin"), (2, "end"), (3, "strides")))
        if len(strides) < len(begin):
            raise node.error("strides shorter than begin")
        dims = _expand_spec(node, shapes[0], begin, end, strides)
        if len(dims) > 5:
            raise node.error("%d dimensions including new axes exceeds 5" % len(dims))
        eff_shape, index, out_shape = [], [], []
        for size, b, e, st, bmask, emask, shrink, orig in dims:
            if st == 0:
                raise node.error("stride must be non-zero")
            start = _start_for_axis(size, b, st, bmask)
            stop = _stop_for_axis(size, start, e, st, emask, shrink, self.offset)
            count = max(0, _ceil_div(stop - start, st))
            if shrink:
                if count != 1:
                    raise node.error("shrink index %d out of range for dimension of size %d" % (b, size))
            else:
                if self.offset and orig is not None and not emask:
                    # With offset=True LiteRT sizes the output from the raw end value (a length).
                    declared = max(0, _ceil_div(e, st))
                    if declared != count:
                        raise node.error("offset slice [%d, %d+%d) leaves dimension of size %d" % (b, b, e, size))
                out_shape.append(count)
            eff_shape.append(size)
            # Python slice stop -1 would mean "last"; a backward slice running to the front needs None.
            index.append(slice(start, stop if stop >= 0 else None, st))
        return [tuple(out_shape)], (tuple(eff_shape), tuple(index))

    def run(self, node, plan, inputs, outputs):
        eff_shape, index = plan
        out = outputs[0]
        np.copyto(out, inputs[0].reshape(eff_shape)[index].reshape(out.shape))


# -- SLICE ------------------------------------------------------------------------------------------

@register("SLICE", versions=(1, 8))
class Slice(ValueShapedKernel):
    value_inputs = (1, 2)
    input_types = ALL_TYPES

    def check(self, node, inputs, outputs):
        x, b, s = data_operands(node, inputs, outputs, 3, self.input_types), inputs[1], inputs[2]
        check_type(node, b, INDEX_TYPES, "begin")
        same_type(node, s, b, "size")
        if len(b.shape) != 1 or b.shape != s.shape or b.shape[0] != len(x.shape):
            raise node.error("begin %s / size %s do not fit input rank %d" % (b.shape, s.shape, len(x.shape)))
        if len(x.shape) > 5:
            raise node.error("input rank %d exceeds 5" % len(x.shape))

    def plan(self, node, shapes, values):
        begin, size = int_values(node, values[1], "begin"), int_values(node, values[2], "size")
        index, out = [], []
        for d, b, n in zip(shapes[0], begin, size):
            if n == -1:
                n = d - b
            if b < 0 or n < 0 or b + n > d:
                raise node.error("slice begin %s size %s out of range for shape %s" % (begin, size, shapes[0]))
            index.append(slice(b, b + n))
            out.append(n)
        return [tuple(out)], tuple(index)

    def run(self, node, index, inputs, outputs):
        np.copyto(outputs[0], inputs[0][index])


# -- GATHER / GATHER_ND -----------------------------------------------------------------------------

@register("GATHER", versions=(1, 8))
class Gather(Kernel):
    input_types = ALL_TYPES

    def prepare(self, node, inputs, outputs):
        x, pos = data_operands(node, inputs, outputs, 2, self.input_types), inputs[1]
        check_type(node, pos, _POSITION_TYPES, "positions")
        rank, prank = len(x.shape), len(pos.shape)
        if x.type_name == "STRING" and rank != 1:
            raise node.error("string gather needs a 1-D input")
        axis = norm_axis(node, int(node.options.axis), rank)
        bd = int(node.options.batch_dims)
        if bd < 0:
            bd += prank
        if not (0 <= bd <= axis and bd < rank and bd <= prank):
            raise node.error("batch_dims %d invalid for axis %d, ranks %d/%d" % (bd, axis, rank, prank))
        if tuple(x.shape[:bd]) != tuple(pos.shape[:bd]):
            raise node.error("batch dims of input %s and positions %s differ" % (x.shape, pos.shape))
        self.axis, self.bd = axis, bd
        # The output viewed as (batch, outer, positions, inner).
        self.view = (num_elements(x.shape[:bd]), num_elements(x.shape[bd:axis]), num_elements(pos.shape[bd:]),
                     num_elements(x.shape[axis + 1:]))
        outputs[0].shape = tuple(x.shape[:axis]) + tuple(pos.shape[bd:]) + tuple(x.shape[axis + 1:])
        if pos.data is not None:
            self.check_positions(node, pos.data, x.shape[axis])

    def check_positions(self, node, pos, size):
        if pos.size and (pos.min() < 0 or pos.max() >= size):
            raise node.error("gather index out of bounds (axis size %d)" % size)

    def eval(self, node, inputs, outputs):
        x, pos = inputs
        nb, outer, _, inner = self.view
        self.check_positions(node, pos, x.shape[self.axis])
        x4 = x.reshape(nb, outer, x.shape[self.axis], inner)
        p2 = pos.reshape(nb, -1).astype(np.intp)
        # Advanced indices separated by a slice put their broadcast dims first: (nb, P, outer, inner).
        got = x4[np.arange(nb)[:, None], :, p2]
        outputs[0].reshape(self.view)[...] = got.transpose(0, 2, 1, 3)


@register("GATHER_ND", versions=(1, 6))
class GatherNd(Kernel):
    input_types = ALL_TYPES

    def prepare(self, node, inputs, outputs):
        x, idx = data_operands(node, inputs, outputs, 2, self.input_types), inputs[1]
        check_type(node, idx, _POSITION_TYPES, "indices")
        if len(x.shape) < 1 or len(idx.shape) < 1:
            raise node.error("params and indices need rank >= 1")
        nd = idx.shape[-1]
        if nd > len(x.shape):
            raise node.error("index depth %d exceeds params rank %d" % (nd, len(x.shape)))
        self.nd = nd
        outputs[0].shape = tuple(idx.shape[:-1]) + tuple(x.shape[nd:])

    def eval(self, node, inputs, outputs):
        x, idx = inputs
        nd = self.nd
        coords = idx.reshape(num_elements(idx.shape[:-1]), nd).astype(np.int64)
        if coords.size and (coords.min() < 0 or (coords >= np.array(x.shape[:nd])).any()):
            raise node.error("gather_nd index out of bounds")
        out = outputs[0]
        out[...] = x[tuple(coords.T)].reshape(out.shape)


# -- WHERE ------------------------------------------------------------------------------------------

@register("WHERE", versions=(1, 2))
class Where(ValueShapedKernel):
    """The coordinates of the true (non-zero) elements: its output shape is their count."""

    value_inputs = (0,)
    input_types = ("BOOL", "FLOAT32", "INT8", "UINT8", "INT32", "INT64")

    def check(self, node, inputs, outputs):
        arity(node, inputs, outputs, 1)
        check_type(node, inputs[0], self.input_types, "condition")
        check_type(node, outputs[0], ("INT64",), "output")

    def plan(self, node, shapes, values):
        coords = np.argwhere(np.asarray(values[0]))
        return [coords.shape], coords

    def run(self, node, coords, inputs, outputs):
        np.copyto(outputs[0], coords)


# -- ONE_HOT ----------------------------------------------------------------------------------------

@register("ONE_HOT", versions=(1, 1))
class OneHot(Kernel):
    input_types = INDEX_TYPES       # input 0 is the indices

    def prepare(self, node, inputs, outputs):
        arity(node, inputs, outputs, 4)
        idx, depth = inputs[0], inputs[1]
        check_type(node, idx, self.input_types, "indices")
        # LiteRT's Prepare accepts int16 on/off values but its Eval has no int16 case and fails.
        check_type(node, inputs[2], ("FLOAT32", "INT32", "INT64", "INT8", "UINT8", "BOOL"), "on_value")
        d = int(np.asarray(const_value(node, depth, "depth")).reshape(-1)[0])
        if d < 0:
            raise node.error("depth must be non-negative, got %d" % d)
        rank = len(idx.shape)
        # axis -1 is the new last axis. (The schema's default is 0, and LiteRT reads an op without
        # options as axis 0 too.)
        axis = int(node.options.axis)
        axis = rank if axis == -1 else axis
        if not 0 <= axis <= rank:
            raise node.error("axis %d out of range" % axis)
        self.depth, self.axis = d, axis
        outputs[0].shape = tuple(idx.shape[:axis]) + (d,) + tuple(idx.shape[axis:])

    def eval(self, node, inputs, outputs):
        idx, on, off = inputs[0], inputs[2], inputs[3]
        shape = [1] * outputs[0].ndim
        shape[self.axis] = self.depth
        classes = np.arange(self.depth).reshape(shape)
        hot = np.expand_dims(idx, self.axis) == classes
        outputs[0][...] = np.where(hot, on.reshape(()), off.reshape(()))
