"""Sparse tensors: DENSIFY, which expands a sparse constant (TFLite SparsityParameters) into its
dense form once, at prepare."""
import numpy as np

from ..errors import ModelError
from .contract import Kernel
from .operands import arity, check_type
from .registry import register


def densify(values, shape, sparsity):
    """Expand a sparse constant (TFLite SparsityParameters: traversal_order, block_map and per-level
    DENSE / SPARSE_CSR dim_metadata) into a dense array, without per-element Python loops."""
    shape = list(shape)
    rank = len(shape)
    order = list(sparsity.get("traversal_order") or range(rank))
    block_map = list(sparsity.get("block_map") or [])
    levels = sparsity.get("dim_metadata") or []
    if len(levels) != len(order) or sorted(order) != list(range(len(order))):
        raise ModelError("sparse tensor: traversal_order/dim_metadata inconsistent")
    block_sizes = {}
    for k, d in enumerate(block_map):
        lvl = levels[order.index(rank + k)]
        block_sizes[d] = int(lvl.get("dense_size", 0))
        if not 0 <= d < rank or block_sizes[d] <= 0 or shape[d] % block_sizes[d]:
            raise ModelError("sparse tensor: block size %d does not fit dimension %d of %s"
                             % (block_sizes[d], d, shape))
    pos = np.zeros(1, np.int64)           # position in the previous level (CSR parent index)
    coords = [np.zeros(1, np.int64) for _ in order]
    for lvl_i, (dim, meta) in enumerate(zip(order, levels)):
        if meta.get("format", 0) == 0:     # DENSE
            n = int(meta.get("dense_size", 0))
            # (Checked first: a wrong size would only be caught after expanding that many positions.)
            if dim < rank and n != shape[dim] // block_sizes.get(dim, 1):
                raise ModelError("sparse tensor: dense_size %d for dimension %d of %s" % (n, dim, shape))
            coords = [np.repeat(c, n) for c in coords]
            here = np.tile(np.arange(n, dtype=np.int64), pos.size)
            pos = np.repeat(pos, n) * n + here
        else:                              # SPARSE_CSR
            seg = np.asarray((meta.get("array_segments") or {}).get("values") or [], np.int64)
            ind = np.asarray((meta.get("array_indices") or {}).get("values") or [], np.int64)
            if seg.size < pos.max(initial=0) + 2 or (seg.size and (seg[-1] > ind.size or np.any(np.diff(seg) < 0))):
                raise ModelError("sparse tensor: CSR segments inconsistent")
            start, stop = seg[pos], seg[pos + 1]
            counts = stop - start
            coords = [np.repeat(c, counts) for c in coords]
            offs = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
            pos = np.repeat(start, counts) + offs
            here = ind[pos]
        coords[lvl_i] = here
    if pos.size != values.size:
        raise ModelError("sparse tensor: %d stored values but metadata describes %d" % (values.size, pos.size))
    dense_idx = [None] * rank
    for lvl_i, dim in enumerate(order):
        if dim < rank:
            dense_idx[dim] = coords[lvl_i] * block_sizes.get(dim, 1)
    for k, d in enumerate(block_map):
        dense_idx[d] = dense_idx[d] + coords[order.index(rank + k)]
    out = np.zeros(shape, values.dtype)
    try:
        out[tuple(dense_idx)] = values
    except IndexError:
        raise ModelError("sparse tensor: indices outside the dense shape %s" % shape) from None
    return out


@register("DENSIFY", versions=(1, 1))
class Densify(Kernel):
    accepts_sparse = True
    input_types = ("FLOAT32", "FLOAT16", "INT8")     # LiteRT's DENSIFY fails the invoke on the others

    def prepare(self, node, inputs, outputs):
        arity(node, inputs, outputs, 1)
        x = inputs[0]
        check_type(node, x, self.input_types)
        sparsity = x.sparsity
        if x.data is None or not sparsity:
            raise node.error("needs a constant sparse input tensor")
        dense_bytes = int(np.prod(x.shape, dtype=np.float64)) * x.dtype.itemsize
        node.check_bytes(dense_bytes, "dense shape %s" % (x.shape,))
        # The dense values are the op's persistent data: the output lives in the shared arena and
        # is rewritten at every eval.
        self.dense = densify(np.asarray(x.data).reshape(-1), x.shape, sparsity)
        outputs[0].shape = x.shape

    def eval(self, node, inputs, outputs):
        np.copyto(outputs[0], self.dense)
