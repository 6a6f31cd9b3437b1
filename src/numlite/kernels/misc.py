"""Less common ops met in converter output: ATAN2, SIGN, ONE_HOT, SPACE_TO_BATCH_ND, BATCH_TO_SPACE_ND."""
import numpy as np

from ..errors import ModelError
from .common import check_types, const_value
from .registry import Kernel, register


@register("ATAN2", versions=(1, 1))
class Atan2(Kernel):
    def prepare(self, inputs, outputs):
        check_types(self, inputs[0], ("FLOAT32",))
        # LiteRT's ATAN2 does not broadcast: both operands must have the same shape.
        if tuple(inputs[0].shape) != tuple(inputs[1].shape):
            raise ModelError("ATAN2 operands must have equal shapes, got %s and %s" % (inputs[0].shape, inputs[1].shape))
        outputs[0].shape = inputs[0].shape

    def eval(self, inputs, outputs):
        np.arctan2(inputs[0], inputs[1], out=outputs[0])


@register("SIGN", versions=(1, 2))
class Sign(Kernel):
    def prepare(self, inputs, outputs):
        check_types(self, inputs[0], ("FLOAT32", "FLOAT64", "INT32"))
        outputs[0].shape = inputs[0].shape

    def eval(self, inputs, outputs):
        np.sign(inputs[0], out=outputs[0])


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
