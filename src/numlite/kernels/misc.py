"""Less common ops met in converter output: L2_NORMALIZATION, LOCAL_RESPONSE_NORMALIZATION, CUMSUM,
ONE_HOT, TOPK_V2, SPACE_TO_BATCH_ND, BATCH_TO_SPACE_ND, DENSIFY."""
import numpy as np

from ..errors import ModelError
from ..schema.enums import ActivationFunctionType as Act
from .common import apply_activation, check_types, const_value
from .contract import MAX_TENSOR_BYTES
from .registry import Kernel, register


@register("L2_NORMALIZATION", versions=(1, 2))
class L2Normalization(Kernel):
    def prepare(self, inputs, outputs):
        check_types(self, inputs[0], ("FLOAT32",))
        outputs[0].shape = inputs[0].shape
        self.activation = self.options.get("fused_activation_function", Act.NONE)

    def eval(self, inputs, outputs):
        x = inputs[0]
        # LiteRT's reference: norm = max(sqrt(sum(x^2)), 1e-6) over the last axis, in float32.
        norm = np.sqrt(np.sum(x * x, axis=-1, keepdims=True, dtype=np.float32))
        np.divide(x, np.maximum(norm, np.float32(1e-6)), out=outputs[0])
        apply_activation(outputs[0], self.activation, out=outputs[0])


@register("LOCAL_RESPONSE_NORMALIZATION", versions=(1, 1))
class LocalResponseNormalization(Kernel):
    def prepare(self, inputs, outputs):
        check_types(self, inputs[0], ("FLOAT32",))
        if len(inputs[0].shape) != 4:
            raise ModelError("LOCAL_RESPONSE_NORMALIZATION needs a 4-D input")
        outputs[0].shape = inputs[0].shape
        o = self.options
        self.radius, self.bias = int(o.get("radius", 0)), np.float32(o.get("bias", 0.0))
        self.alpha, self.beta = np.float32(o.get("alpha", 0.0)), np.float32(o.get("beta", 0.0))

    def eval(self, inputs, outputs):
        x = inputs[0]
        depth = x.shape[-1]
        sq = x * x
        c = np.arange(depth)
        # LiteRT's reference sums channels [c - radius, c + radius): the upper end is exclusive
        # (so radius 0 sums nothing). Sum tap by tap as its loop does.
        window = np.zeros_like(x)
        r = min(self.radius, depth)
        for d in range(-r, r):
            src = c + d
            ok = (src >= 0) & (src < depth)
            window[..., ok] += sq[..., src[ok]]
        multiplier = np.power(self.bias + self.alpha * window, -self.beta, dtype=np.float32)
        np.multiply(x, multiplier, out=outputs[0])


@register("CUMSUM", versions=(1, 1))
class Cumsum(Kernel):
    def prepare(self, inputs, outputs):
        check_types(self, inputs[0], ("FLOAT32", "INT32", "INT64"))
        rank = len(inputs[0].shape)
        axis = int(np.asarray(const_value(self, inputs[1], "CUMSUM axis")).reshape(-1)[0])
        if not -rank <= axis < rank:
            raise ModelError("CUMSUM axis %d out of range for rank %d" % (axis, rank))
        self.axis = axis % rank
        self.exclusive = bool(self.options.get("exclusive", False))
        self.reverse = bool(self.options.get("reverse", False))
        outputs[0].shape = inputs[0].shape

    def eval(self, inputs, outputs):
        x = inputs[0]
        if self.reverse:
            x = np.flip(x, self.axis)
        c = np.cumsum(x, axis=self.axis, dtype=x.dtype)
        if self.exclusive:
            c = c - x
        if self.reverse:
            c = np.flip(c, self.axis)
        outputs[0][...] = c


@register("ONE_HOT", versions=(1, 1))
class OneHot(Kernel):
    def prepare(self, inputs, outputs):
        idx, depth = inputs[0], inputs[1]
        check_types(self, idx, ("INT32", "INT64"), "indices")
        # LiteRT's Prepare accepts int16 on/off values but its Eval has no int16 case and fails.
        check_types(self, inputs[2], ("FLOAT32", "INT32", "INT64", "INT8", "UINT8", "BOOL"), "on_value")
        d = int(np.asarray(const_value(self, depth, "ONE_HOT depth")).reshape(-1)[0])
        if d < 0:
            raise ModelError("ONE_HOT depth must be non-negative, got %d" % d)
        rank = len(idx.shape)
        axis = int(self.options.get("axis", -1))
        axis = rank if axis == -1 else axis
        if not 0 <= axis <= rank:
            raise ModelError("ONE_HOT axis %d out of range" % axis)
        self.depth, self.axis = d, axis
        outputs[0].shape = tuple(idx.shape[:axis]) + (d,) + tuple(idx.shape[axis:])

    def eval(self, inputs, outputs):
        idx, on, off = inputs[0], inputs[2], inputs[3]
        shape = [1] * outputs[0].ndim
        shape[self.axis] = self.depth
        classes = np.arange(self.depth).reshape(shape)
        hot = np.expand_dims(idx, self.axis) == classes
        outputs[0][...] = np.where(hot, on.reshape(()), off.reshape(()))


@register("TOPK_V2", versions=(1, 3))
class TopKV2(Kernel):
    def prepare(self, inputs, outputs):
        x = inputs[0]
        check_types(self, x, ("FLOAT32", "INT32", "INT64", "UINT8", "INT8", "INT16"))
        k = int(np.asarray(const_value(self, inputs[1], "TOPK_V2 k")).reshape(-1)[0])
        if not 0 <= k <= (x.shape[-1] if x.shape else 0):
            raise ModelError("TOPK_V2 k=%d exceeds the last dimension of %s" % (k, x.shape))
        self.k = k
        outputs[0].shape = tuple(x.shape[:-1]) + (k,)
        outputs[1].shape = tuple(x.shape[:-1]) + (k,)

    def eval(self, inputs, outputs):
        x = inputs[0]
        # Stable sort on the negated values: equal values keep ascending index order, as in LiteRT.
        key = -x.astype(np.float64) if x.dtype.kind == "f" else -x.astype(np.int64)
        order = np.argsort(key, axis=-1, kind="stable")[..., :self.k]
        outputs[0][...] = np.take_along_axis(x, order, axis=-1)
        outputs[1][...] = order


def _block_params(kernel, inputs, what):
    block = np.asarray(const_value(kernel, inputs[1], what + " block_shape"), np.int64).reshape(-1)
    pads = np.asarray(const_value(kernel, inputs[2], what + " paddings/crops"), np.int64).reshape(-1, 2)
    if np.any(block <= 0) or pads.shape[0] != block.size or len(inputs[0].shape) < 1 + block.size:
        raise ModelError("%s: invalid block_shape %s / paddings %s" % (what, block.tolist(), pads.tolist()))
    return block, pads


@register("SPACE_TO_BATCH_ND", versions=(1, 4))
class SpaceToBatchND(Kernel):
    def prepare(self, inputs, outputs):
        x = inputs[0]
        self.block, self.pads = _block_params(self, inputs, "SPACE_TO_BATCH_ND")
        m = self.block.size
        spatial = np.array(x.shape[1:1 + m]) + self.pads.sum(axis=1)
        if np.any(spatial % self.block):
            raise ModelError("SPACE_TO_BATCH_ND: padded spatial shape %s not divisible by %s" % (spatial.tolist(), self.block.tolist()))
        outputs[0].shape = (x.shape[0] * int(np.prod(self.block)),) + tuple((spatial // self.block).tolist()) + tuple(x.shape[1 + m:])
        # Quantized tensors pad with the zero point so padding stays "zero" in real terms.
        q = x.quantization
        self.pad_value = int(q.zero_point[0]) if q is not None and x.dtype.kind in "iu" else 0

    def eval(self, inputs, outputs):
        x = inputs[0]
        m = self.block.size
        pad = [(0, 0)] + [tuple(p) for p in self.pads.tolist()] + [(0, 0)] * (x.ndim - 1 - m)
        xp = np.pad(x, pad, constant_values=self.pad_value)
        b = x.shape[0]
        shape = [b]
        for s, bs in zip(xp.shape[1:1 + m], self.block):
            shape += [s // bs, bs]
        shape += list(xp.shape[1 + m:])
        y = xp.reshape(shape)
        # [b, s1/b1, b1, s2/b2, b2, ...] -> [b1, b2, ..., b, s1/b1, s2/b2, ..., rest]
        perm = [2 + 2 * i for i in range(m)] + [0] + [1 + 2 * i for i in range(m)] + list(range(1 + 2 * m, y.ndim))
        outputs[0][...] = y.transpose(perm).reshape(outputs[0].shape)


@register("BATCH_TO_SPACE_ND", versions=(1, 4))
class BatchToSpaceND(Kernel):
    def prepare(self, inputs, outputs):
        x = inputs[0]
        self.block, self.crops = _block_params(self, inputs, "BATCH_TO_SPACE_ND")
        m = self.block.size
        prod = int(np.prod(self.block))
        if x.shape[0] % prod:
            raise ModelError("BATCH_TO_SPACE_ND: batch %d not divisible by %d" % (x.shape[0], prod))
        spatial = np.array(x.shape[1:1 + m]) * self.block - self.crops.sum(axis=1)
        if np.any(spatial < 0):
            raise ModelError("BATCH_TO_SPACE_ND: crops larger than the output")
        outputs[0].shape = (x.shape[0] // prod,) + tuple(spatial.tolist()) + tuple(x.shape[1 + m:])

    def eval(self, inputs, outputs):
        x = inputs[0]
        m = self.block.size
        b = x.shape[0] // int(np.prod(self.block))
        y = x.reshape(list(self.block) + [b] + list(x.shape[1:]))
        # [b1, b2, ..., b, s1, s2, ..., rest] -> [b, s1, b1, s2, b2, ..., rest]
        perm = [m]
        for i in range(m):
            perm += [m + 1 + i, i]
        perm += list(range(2 * m + 1, y.ndim))
        y = y.transpose(perm).reshape([b] + [s * bs for s, bs in zip(x.shape[1:1 + m], self.block)] + list(x.shape[1 + m:]))
        sl = [slice(None)] + [slice(c0, y.shape[1 + i] - c1) for i, (c0, c1) in enumerate(self.crops.tolist())]
        outputs[0][...] = y[tuple(sl)]


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
    pos = np.zeros(1, np.int64)           # position in the previous level (CSR parent index)
    coords = [np.zeros(1, np.int64) for _ in order]
    for lvl_i, (dim, meta) in enumerate(zip(order, levels)):
        if meta.get("format", 0) == 0:     # DENSE
            n = int(meta.get("dense_size", 0))
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

    def prepare(self, inputs, outputs):
        x = inputs[0]
        sparsity = x.sparsity
        if x.data is None or not sparsity:
            raise ModelError("DENSIFY needs a constant sparse input tensor")
        dense_bytes = int(np.prod(x.shape, dtype=np.float64)) * x.dtype.itemsize
        if dense_bytes > MAX_TENSOR_BYTES:
            raise ModelError("DENSIFY: dense shape %s needs %d bytes, over the limit" % (x.shape, dense_bytes))
        self.dense = densify(np.asarray(x.data).reshape(-1), x.shape, sparsity)
        outputs[0].shape = x.shape

    def eval(self, inputs, outputs):
        outputs[0][...] = self.dense
