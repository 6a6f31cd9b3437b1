"""Selecting parts of tensors: STRIDED_SLICE, SLICE, GATHER, GATHER_ND, SPLIT, SPLIT_V, UNPACK,
REVERSE_V2."""
import numpy as np

from .common import check_types
from .registry import Kernel, register
from .layout import (ALL_TYPES, INDEX_TYPES, NUMERIC, NUMERIC_BOOL, ValueShapedKernel, check_same_quant,
                    expect_inputs, int_values, model_error, norm_axis, num_elements, require, same_type)

_POSITION_TYPES = ("INT16", "INT32", "INT64")


def _bit(mask, i):
    return (mask >> i) & 1


def _clamp(v, lo, hi):
    return hi if v > hi else lo if v < lo else v


# -- STRIDED_SLICE --------------------------------------------------------------------------------

def _expand_spec(kernel, in_shape, begin, end, strides, opts):
    """LiteRT's BuildStridedSliceParams: fold ellipsis_mask and new_axis_mask into an 'effective'
    input shape (new axes inserted as size-1 dims) with per-dim begin/end/stride and masks."""
    bm, em = opts["begin_mask"], opts["end_mask"]
    ellipsis, new_axis, shrink = opts["ellipsis_mask"], opts["new_axis_mask"], opts["shrink_axis_mask"]
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
            raise model_error(kernel, "new_axis_mask %d does not fit %d index entries" % (new_axis, n))
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

    def check(self, inputs, outputs):
        expect_inputs(self, inputs, (4,), outputs, 1)
        x = require(self, inputs[0], "input")
        check_types(self, x, ALL_TYPES)
        same_type(self, outputs[0], x)
        for k, what in ((1, "begin"), (2, "end"), (3, "strides")):
            s = require(self, inputs[k], what)
            check_types(self, s, ("INT32",), what)
            if len(s.shape) != 1:
                raise model_error(self, "%s must be a vector" % what)
        if inputs[1].shape != inputs[2].shape:
            raise model_error(self, "begin and end differ in length")
        if len(x.shape) > 5:
            raise model_error(self, "input rank %d exceeds 5" % len(x.shape))
        o = self.options
        self.opts = {k: int(o.get(k, 0) or 0) for k in
                     ("begin_mask", "end_mask", "ellipsis_mask", "new_axis_mask", "shrink_axis_mask")}
        self.offset = bool(o.get("offset", False))

    def plan(self, shapes, values):
        begin, end, strides = (int_values(self, values[k], w) for k, w in ((1, "begin"), (2, "end"), (3, "strides")))
        if len(strides) < len(begin):
            raise model_error(self, "strides shorter than begin")
        dims = _expand_spec(self, shapes[0], begin, end, strides, self.opts)
        if len(dims) > 5:
            raise model_error(self, "%d dimensions including new axes exceeds 5" % len(dims))
        eff_shape, index, out_shape = [], [], []
        for size, b, e, st, bmask, emask, shrink, orig in dims:
            if st == 0:
                raise model_error(self, "stride must be non-zero")
            start = _start_for_axis(size, b, st, bmask)
            stop = _stop_for_axis(size, start, e, st, emask, shrink, self.offset)
            count = max(0, _ceil_div(stop - start, st))
            if shrink:
                if count != 1:
                    raise model_error(self, "shrink index %d out of range for dimension of size %d" % (b, size))
            else:
                if self.offset and orig is not None and not emask:
                    # With offset=True LiteRT sizes the output from the raw end value (a length).
                    declared = max(0, _ceil_div(e, st))
                    if declared != count:
                        raise model_error(self, "offset slice [%d, %d+%d) leaves dimension of size %d" % (b, b, e, size))
                out_shape.append(count)
            eff_shape.append(size)
            # Python slice stop -1 would mean "last"; a backward slice running to the front needs None.
            index.append(slice(start, stop if stop >= 0 else None, st))
        return [tuple(out_shape)], (tuple(eff_shape), tuple(index), tuple(out_shape))

    def run(self, plan, inputs):
        eff_shape, index, out_shape = plan
        return [inputs[0].reshape(eff_shape)[index].reshape(out_shape)]


# -- SLICE ------------------------------------------------------------------------------------------

@register("SLICE", versions=(1, 8))
class Slice(ValueShapedKernel):
    value_inputs = (1, 2)

    def check(self, inputs, outputs):
        expect_inputs(self, inputs, (3,), outputs, 1)
        x = require(self, inputs[0], "input")
        check_types(self, x, ALL_TYPES)
        same_type(self, outputs[0], x)
        b, s = require(self, inputs[1], "begin"), require(self, inputs[2], "size")
        check_types(self, b, INDEX_TYPES, "begin")
        same_type(self, s, b, "size")
        if len(b.shape) != 1 or b.shape != s.shape or b.shape[0] != len(x.shape):
            raise model_error(self, "begin %s / size %s do not fit input rank %d" % (b.shape, s.shape, len(x.shape)))
        if len(x.shape) > 5:
            raise model_error(self, "input rank %d exceeds 5" % len(x.shape))

    def plan(self, shapes, values):
        begin, size = int_values(self, values[1], "begin"), int_values(self, values[2], "size")
        index, out = [], []
        for d, b, n in zip(shapes[0], begin, size):
            if n == -1:
                n = d - b
            if b < 0 or n < 0 or b + n > d:
                raise model_error(self, "slice begin %s size %s out of range for shape %s" % (begin, size, shapes[0]))
            index.append(slice(b, b + n))
            out.append(n)
        return [tuple(out)], tuple(index)

    def run(self, index, inputs):
        return [inputs[0][index]]


# -- GATHER / GATHER_ND -----------------------------------------------------------------------------

@register("GATHER", versions=(1, 8))
class Gather(Kernel):
    def prepare(self, inputs, outputs):
        expect_inputs(self, inputs, (2,), outputs, 1)
        x, pos = require(self, inputs[0], "input"), require(self, inputs[1], "positions")
        check_types(self, x, ALL_TYPES)
        check_types(self, pos, _POSITION_TYPES, "positions")
        same_type(self, outputs[0], x)
        rank, prank = len(x.shape), len(pos.shape)
        if x.type_name == "STRING" and rank != 1:
            raise model_error(self, "string gather needs a 1-D input")
        axis = norm_axis(self, int(self.options.get("axis", 0)), rank)
        bd = int(self.options.get("batch_dims", 0))
        if bd < 0:
            bd += prank
        if not (0 <= bd <= axis and bd < rank and bd <= prank):
            raise model_error(self, "batch_dims %d invalid for axis %d, ranks %d/%d" % (bd, axis, rank, prank))
        if tuple(x.shape[:bd]) != tuple(pos.shape[:bd]):
            raise model_error(self, "batch dims of input %s and positions %s differ" % (x.shape, pos.shape))
        self.axis, self.bd = axis, bd
        outputs[0].shape = tuple(x.shape[:axis]) + tuple(pos.shape[bd:]) + tuple(x.shape[axis + 1:])
        if pos.data is not None:
            self._check_positions(pos.data, x.shape[axis])

    def _check_positions(self, pos, size):
        if pos.size and (pos.min() < 0 or pos.max() >= size):
            raise ValueError("%s (node %s): gather index out of bounds (axis size %d)"
                             % (self.op.opcode, self.node_index, size))

    def eval(self, inputs, outputs):
        x, pos = inputs
        axis, bd = self.axis, self.bd
        self._check_positions(pos, x.shape[axis])
        nb = num_elements(x.shape[:bd])
        outer = num_elements(x.shape[bd:axis])
        inner = num_elements(x.shape[axis + 1:])
        x4 = x.reshape(nb, outer, x.shape[axis], inner)
        p2 = pos.reshape(nb, -1).astype(np.intp)
        # Advanced indices separated by a slice put their broadcast dims first: (nb, P, outer, inner).
        got = x4[np.arange(nb)[:, None], :, p2]
        out_shape = tuple(x.shape[:axis]) + tuple(pos.shape[bd:]) + tuple(x.shape[axis + 1:])
        return [got.transpose(0, 2, 1, 3).reshape(out_shape)]


@register("GATHER_ND", versions=(1, 6))
class GatherNd(Kernel):
    def prepare(self, inputs, outputs):
        expect_inputs(self, inputs, (2,), outputs, 1)
        x, idx = require(self, inputs[0], "params"), require(self, inputs[1], "indices")
        check_types(self, x, ALL_TYPES)
        check_types(self, idx, _POSITION_TYPES, "indices")
        same_type(self, outputs[0], x)
        if len(x.shape) < 1 or len(idx.shape) < 1:
            raise model_error(self, "params and indices need rank >= 1")
        nd = idx.shape[-1]
        if nd > len(x.shape):
            raise model_error(self, "index depth %d exceeds params rank %d" % (nd, len(x.shape)))
        self.nd = nd
        outputs[0].shape = tuple(idx.shape[:-1]) + tuple(x.shape[nd:])

    def eval(self, inputs, outputs):
        x, idx = inputs
        nd = self.nd
        coords = idx.reshape(num_elements(idx.shape[:-1]), nd).astype(np.int64)
        if coords.size and (coords.min() < 0 or (coords >= np.array(x.shape[:nd])).any()):
            raise ValueError("%s (node %s): gather_nd index out of bounds" % (self.op.opcode, self.node_index))
        got = x[tuple(coords.T)]
        return [got.reshape(tuple(idx.shape[:-1]) + tuple(x.shape[nd:]))]


# -- SPLIT / SPLIT_V / UNPACK -------------------------------------------------------------------------

def _split(x, axis, sizes):
    return np.split(x, np.cumsum(sizes)[:-1], axis=axis)


@register("SPLIT", versions=(1, 5))
class Split(ValueShapedKernel):
    value_inputs = (0,)

    def check(self, inputs, outputs):
        expect_inputs(self, inputs, (2,), None)
        ax, x = require(self, inputs[0], "axis"), require(self, inputs[1], "input")
        check_types(self, ax, ("INT32",), "axis")
        check_types(self, x, NUMERIC)
        for o in outputs:
            same_type(self, o, x)
        n = int(self.options.get("num_splits", len(outputs)))
        if n != len(outputs) or n <= 0:
            raise model_error(self, "num_splits %d but %d outputs" % (n, len(outputs)))

    def plan(self, shapes, values):
        ax = int_values(self, values[0], "axis")
        if len(ax) != 1:
            raise model_error(self, "axis must hold one value")
        shape = shapes[1]
        axis = norm_axis(self, ax[0], len(shape))
        n = self.options.get("num_splits", 1)
        if shape[axis] % n:
            raise model_error(self, "dimension %d of size %d not divisible into %d splits" % (axis, shape[axis], n))
        sizes = [shape[axis] // n] * n
        return ([tuple(s if d == axis else v for d, v in enumerate(shape)) for s in sizes], (axis, sizes))

    def run(self, plan, inputs):
        return _split(inputs[1], *plan)


@register("SPLIT_V", versions=(1, 3))
class SplitV(ValueShapedKernel):
    value_inputs = (1, 2)

    def check(self, inputs, outputs):
        expect_inputs(self, inputs, (3,), None)
        x = require(self, inputs[0], "input")
        check_types(self, x, NUMERIC)
        check_types(self, require(self, inputs[1], "size_splits"), INDEX_TYPES, "size_splits")
        check_types(self, require(self, inputs[2], "axis"), ("INT32",), "axis")
        for o in outputs:
            same_type(self, o, x)
        if len(inputs[1].shape) != 1 or inputs[1].shape[0] != len(outputs):
            raise model_error(self, "size_splits shape %s for %d outputs" % (inputs[1].shape, len(outputs)))

    def plan(self, shapes, values):
        ax = int_values(self, values[2], "axis")
        if len(ax) != 1:
            raise model_error(self, "axis must hold one value")
        shape = shapes[0]
        axis = norm_axis(self, ax[0], len(shape))
        sizes = int_values(self, values[1], "size_splits")
        unknown = [i for i, s in enumerate(sizes) if s == -1]
        if len(unknown) > 1 or any(s < -1 for s in sizes):
            raise model_error(self, "invalid size_splits %s" % sizes)
        if unknown:
            sizes[unknown[0]] = shape[axis] - (sum(sizes) + 1)
        if sum(sizes) != shape[axis] or any(s < 0 for s in sizes):
            raise model_error(self, "size_splits %s do not add up to dimension size %d" % (sizes, shape[axis]))
        return ([tuple(s if d == axis else v for d, v in enumerate(shape)) for s in sizes], (axis, sizes))

    def run(self, plan, inputs):
        return _split(inputs[0], *plan)


@register("UNPACK", versions=(1, 6))
class Unpack(Kernel):
    def prepare(self, inputs, outputs):
        expect_inputs(self, inputs, (1,), None)
        x = require(self, inputs[0], "input")
        check_types(self, x, ("FLOAT32", "INT8", "UINT8", "INT16", "INT32", "BOOL"))
        rank = len(x.shape)
        axis = norm_axis(self, int(self.options.get("axis", 0)), rank)
        num = int(self.options.get("num", len(outputs)))
        if num != len(outputs) or x.shape[axis] != num:
            raise model_error(self, "num %d, %d outputs, dimension %d of size %d" % (num, len(outputs), axis, x.shape[axis]))
        for o in outputs:
            same_type(self, o, x)
            check_same_quant(self, x, o)
            o.shape = tuple(d for i, d in enumerate(x.shape) if i != axis)
        self.axis = axis

    def eval(self, inputs, outputs):
        return list(np.moveaxis(inputs[0], self.axis, 0))


# -- REVERSE_V2 -----------------------------------------------------------------------------------

@register("REVERSE_V2", versions=(1, 4))
class ReverseV2(Kernel):
    def prepare(self, inputs, outputs):
        expect_inputs(self, inputs, (2,), outputs, 1)
        x, ax = require(self, inputs[0], "input"), require(self, inputs[1], "axis")
        check_types(self, x, NUMERIC_BOOL)
        check_types(self, ax, ("INT32",), "axis")
        same_type(self, outputs[0], x)
        if len(ax.shape) != 1 or ax.shape[0] == 0:
            raise model_error(self, "axis must be a vector")
        self.axes = None if ax.data is None else self._axes(ax.data, len(x.shape))
        outputs[0].shape = x.shape

    def _axes(self, values, rank):
        axes = tuple(norm_axis(self, a, rank) for a in int_values(self, values, "axis"))
        if len(set(axes)) != len(axes):
            raise model_error(self, "repeated axis in %s" % (axes,))
        return axes

    def eval(self, inputs, outputs):
        axes = self.axes if self.axes is not None else self._axes(inputs[1], inputs[0].ndim)
        return [np.flip(inputs[0], axes) if axes else inputs[0]]
