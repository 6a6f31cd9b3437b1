"""Padding: PAD, PADV2 (constant value input) and MIRROR_PAD (REFLECT / SYMMETRIC).

Quantized tensors are padded raw; PAD without a value pads with the output zero point (the
quantized 0.0).
"""
import numpy as np

from ..schema.enums import MirrorPadMode
from .operands import INDEX_TYPES, NUMERIC_BOOL, ValueShapedKernel, check_type, data_operands, int_values, same_type
from .quant import check_same_params, tensor_params
from .registry import register


class _PadBase(ValueShapedKernel):
    value_inputs = (1,)
    max_rank = 5
    input_types = NUMERIC_BOOL

    def check_common(self, node, inputs, outputs, n_in):
        x, p = data_operands(node, inputs, outputs, n_in, self.input_types), inputs[1]
        check_type(node, p, INDEX_TYPES, "paddings")
        if len(p.shape) != 2 or p.shape[1] != 2 or p.shape[0] != len(x.shape):
            raise node.error("paddings shape %s does not fit input rank %d" % (p.shape, len(x.shape)))
        if len(x.shape) > self.max_rank:
            raise node.error("rank %d exceeds %d" % (len(x.shape), self.max_rank))
        return x

    def pads(self, node, shape, values):
        flat = int_values(node, values[1], "paddings")
        pads = [(flat[2 * i], flat[2 * i + 1]) for i in range(len(shape))]
        if any(a < 0 or b < 0 for a, b in pads):
            raise node.error("paddings must be non-negative, got %s" % pads)
        return pads

    def plan(self, node, shapes, values):
        pads = self.pads(node, shapes[0], values)
        return [tuple(d + a + b for d, (a, b) in zip(shapes[0], pads))], pads


@register(["PAD", "PADV2"], versions=(1, 6))
class Pad(_PadBase):
    def check(self, node, inputs, outputs):
        x = self.check_common(node, inputs, outputs, (2, 3))
        out = outputs[0]
        const = inputs[2] if len(inputs) == 3 else None
        if const is not None:
            same_type(node, const, x, "constant value")
            if int(np.prod(const.shape)) != 1:
                raise node.error("constant value must hold one element")
        # Quantized tensors pad with the output zero point (the quantized 0.0). uint8 is always
        # treated as quantized; int8/int16 only when the input carries quantization.
        quantized = x.type_name == "UINT8" or (x.type_name in ("INT8", "INT16") and x.quantization is not None)
        self.fill = None
        if const is not None:
            if quantized:
                check_same_params(node, out, const, "output and constant value")
        elif quantized:
            self.fill = tensor_params(out)[1]
            info = np.iinfo(out.dtype)
            if not info.min <= self.fill <= info.max:
                raise node.error("output zero point %d outside the %s range" % (self.fill, out.type_name))
        else:
            self.fill = 0

    def run(self, node, pads, inputs, outputs):
        x, out = inputs[0], outputs[0]
        value = inputs[2].reshape(-1)[0] if self.fill is None else self.fill
        interior = []
        for d, (before, after) in enumerate(pads):
            # The border, one slab per padded side (corners are written twice).
            index = [slice(None)] * out.ndim
            for side in ([slice(0, before)] if before else []) + ([slice(before + x.shape[d], None)] if after else []):
                index[d] = side
                out[tuple(index)] = value
            interior.append(slice(before, before + x.shape[d]))
        out[tuple(interior)] = x


@register("MIRROR_PAD", versions=(1, 3))
class MirrorPad(_PadBase):
    max_rank = 8

    def check(self, node, inputs, outputs):
        x = self.check_common(node, inputs, outputs, 2)
        check_same_params(node, x, outputs[0])
        if x.type_name == "INT16" and tensor_params(x)[1] != 0:
            raise node.error("int16 mirror pad needs a zero point of 0")
        mode = node.options.mode
        if mode not in (MirrorPadMode.REFLECT, MirrorPadMode.SYMMETRIC):
            raise node.error("unknown mirror pad mode %d" % mode)
        self.np_mode = "reflect" if mode == MirrorPadMode.REFLECT else "symmetric"
        # REFLECT excludes the edge element, so it can add at most size - 1 elements per side.
        self.edge = 1 if mode == MirrorPadMode.REFLECT else 0

    def pads(self, node, shape, values):
        pads = super().pads(node, shape, values)
        for d, (a, b) in zip(shape, pads):
            if max(a, b) > d - self.edge:
                raise node.error("%s paddings %s too large for dimension %d" % (self.np_mode, (a, b), d))
        return pads

    def run(self, node, pads, inputs, outputs):
        np.copyto(outputs[0], np.pad(inputs[0], pads, mode=self.np_mode))
