"""Padding: PAD, PADV2 (constant value input) and MIRROR_PAD (REFLECT / SYMMETRIC)."""
import numpy as np

from ..schema.enums import MirrorPadMode
from .common import check_types
from .registry import register
from .layout import (INDEX_TYPES, NUMERIC_BOOL, ValueShapedKernel, check_same_quant, expect_inputs,
                    int_values, model_error, quant_params, require, same_type)


class _PadBase(ValueShapedKernel):
    value_inputs = (1,)
    max_rank = 5

    def check_common(self, inputs, outputs, counts):
        expect_inputs(self, inputs, counts, outputs, 1)
        x = require(self, inputs[0], "input")
        p = require(self, inputs[1], "paddings")
        check_types(self, x, NUMERIC_BOOL)
        check_types(self, p, INDEX_TYPES, "paddings")
        same_type(self, outputs[0], x)
        if len(p.shape) != 2 or p.shape[1] != 2 or p.shape[0] != len(x.shape):
            raise model_error(self, "paddings shape %s does not fit input rank %d" % (p.shape, len(x.shape)))
        if len(x.shape) > self.max_rank:
            raise model_error(self, "rank %d exceeds %d" % (len(x.shape), self.max_rank))
        return x

    def pads(self, shape, values):
        flat = int_values(self, values[1], "paddings")
        pads = [(flat[2 * i], flat[2 * i + 1]) for i in range(len(shape))]
        if any(a < 0 or b < 0 for a, b in pads):
            raise model_error(self, "paddings must be non-negative, got %s" % pads)
        return pads

    def plan(self, shapes, values):
        pads = self.pads(shapes[0], values)
        return [tuple(d + a + b for d, (a, b) in zip(shapes[0], pads))], pads


@register(["PAD", "PADV2"], versions=(1, 6))
class Pad(_PadBase):
    def check(self, inputs, outputs):
        x = self.check_common(inputs, outputs, (2, 3))
        out = outputs[0]
        const = inputs[2] if len(inputs) == 3 else None
        if const is not None:
            same_type(self, const, x, "constant value")
            if int(np.prod(const.shape)) != 1:
                raise model_error(self, "constant value must hold one element")
        self.const_spec = const
        # Quantized tensors pad with the output zero point (the quantized 0.0). uint8 is always
        # treated as quantized; int8/int16 only when the input carries quantization.
        quantized = x.type_name == "UINT8" or (x.type_name in ("INT8", "INT16") and x.quantization is not None)
        self.fill = None
        if const is not None:
            if quantized:
                check_same_quant(self, out, const, "output and constant value")
        elif quantized:
            self.fill = quant_params(out)[1]
            info = np.iinfo(out.dtype)
            if not info.min <= self.fill <= info.max:
                raise model_error(self, "output zero point %d outside the %s range" % (self.fill, out.type_name))
        else:
            self.fill = 0

    def run(self, pads, inputs):
        x = inputs[0]
        value = inputs[2].reshape(-1)[0] if self.fill is None else self.fill
        return [np.pad(x, pads, mode="constant", constant_values=np.asarray(value).astype(x.dtype))]


@register("MIRROR_PAD", versions=(1, 3))
class MirrorPad(_PadBase):
    max_rank = 8

    def check(self, inputs, outputs):
        x = self.check_common(inputs, outputs, (2,))
        check_same_quant(self, x, outputs[0])
        if x.type_name == "INT16" and quant_params(x)[1] != 0:
            raise model_error(self, "int16 mirror pad needs a zero point of 0")
        mode = self.options.get("mode", MirrorPadMode.REFLECT)
        if mode not in (MirrorPadMode.REFLECT, MirrorPadMode.SYMMETRIC):
            raise model_error(self, "unknown mirror pad mode %d" % mode)
        self.np_mode = "reflect" if mode == MirrorPadMode.REFLECT else "symmetric"
        # REFLECT excludes the edge element, so it can add at most size - 1 elements per side.
        self.edge = 1 if mode == MirrorPadMode.REFLECT else 0

    def pads(self, shape, values):
        pads = super().pads(shape, values)
        for d, (a, b) in zip(shape, pads):
            if max(a, b) > d - self.edge:
                raise model_error(self, "%s paddings %s too large for dimension %d" % (self.np_mode, (a, b), d))
        return pads

    def run(self, pads, inputs):
        return [np.pad(inputs[0], pads, mode=self.np_mode)]
